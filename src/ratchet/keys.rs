//! Root, chain and message keys of the Double Ratchet.
//!
//! Sending and receiving chains are distinct types so that a receiving chain
//! key can never be used to encrypt, nor a sending one to decrypt. Every key
//! type zeroizes on drop and prints nothing secret.

use core::fmt;

use hmac::Mac;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::{self, WipedBytes, label, wipe_as_slice};

/// The root key: input to every DH-ratchet step.
#[derive(Clone)]
pub(crate) struct RootKey(pub(crate) [u8; 32]);

impl RootKey {
    /// `KDF_RK(rk, dh_out)`: HKDF-SHA256 with the root key as salt and the DH
    /// output as input keying material, 64 bytes split into the next root key
    /// and a new chain key.
    pub(crate) fn step(&self, dh_out: &[u8; 32]) -> (RootKey, ChainKey) {
        self.derive(dh_out, label::ROOT)
    }

    /// The step that mixes a post-quantum epoch secret: `KDF_RK(rk, dh_out
    /// || ss)` under its own label.
    pub(crate) fn step_hybrid(&self, dh_out: &[u8; 32], epoch_secret: &[u8; 32]) -> (RootKey, ChainKey) {
        let mut ikm = WipedBytes::<64>::zeroed();
        let (dh, ss) = ikm.0.split_at_mut(32);
        dh.copy_from_slice(dh_out);
        ss.copy_from_slice(epoch_secret);
        self.derive(&ikm.0, label::ROOT_BRAID)
    }

    fn derive(&self, ikm: &[u8], info: &[u8]) -> (RootKey, ChainKey) {
        let mut okm = WipedBytes::<64>::zeroed();
        crypto::hkdf_sha256(&self.0, ikm, info, &mut okm.0);
        let (rk, ck) = okm.0.split_at(32);
        let mut root = [0u8; 32];
        let mut chain = [0u8; 32];
        root.copy_from_slice(rk);
        chain.copy_from_slice(ck);
        (RootKey(root), ChainKey(chain))
    }
}

/// A symmetric-ratchet chain key.
#[derive(Clone)]
pub(crate) struct ChainKey(pub(crate) [u8; 32]);

impl ChainKey {
    /// `KDF_CK(ck)`: message key = HMAC(ck, 0x01), next chain key =
    /// HMAC(ck, 0x02) (Signal's recommendation).
    pub(crate) fn step(&self) -> (MessageKey, ChainKey) {
        // Key the HMAC once and clone the keyed state for the second input.
        let keyed = crypto::keyed_hmac(&self.0);
        let mut m = keyed.clone();
        m.update(&[label::CHAIN_MESSAGE]);
        let mut n = keyed;
        n.update(&[label::CHAIN_NEXT]);
        (MessageKey(m.finalize().into_bytes().into()), ChainKey(n.finalize().into_bytes().into()))
    }
}

/// A sending chain and the number of the next message it will key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SendingChain {
    pub(crate) key: ChainKey,
    pub(crate) index: u32,
}

/// A receiving chain and the number of the next message expected on it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct ReceivingChain {
    pub(crate) key: ChainKey,
    pub(crate) index: u32,
}

/// A single-use message key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct MessageKey(pub(crate) [u8; 32]);

/// The AEAD key and nonce a message key expands to.
pub(crate) struct AeadKey {
    pub(crate) key: [u8; 32],
    pub(crate) nonce: [u8; 12],
}

impl Zeroize for AeadKey {
    fn zeroize(&mut self) {
        self.key.as_mut_slice().zeroize();
        self.nonce.as_mut_slice().zeroize();
    }
}

impl Drop for AeadKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for AeadKey {}

wipe_as_slice!(RootKey, ChainKey, MessageKey);

impl MessageKey {
    /// HKDF-SHA256(salt = the message's random header salt, ikm = mk,
    /// info = label) -> 32-byte ChaCha20-Poly1305 key || 12-byte nonce.
    ///
    /// The chain gives the same `mk` to whoever holds the same state, so a
    /// state restored from an old export would otherwise encrypt again
    /// under the key and nonce it already used; the sender's fresh salt
    /// makes every encryption's key and nonce new.
    pub(crate) fn expand(&self, salt: &[u8; 16]) -> AeadKey {
        let mut okm = WipedBytes::<44>::zeroed();
        crypto::hkdf_sha256(salt, &self.0, label::MESSAGE_KEY, &mut okm.0);
        let mut out = AeadKey { key: [0; 32], nonce: [0; 12] };
        let (k, n) = okm.0.split_at(32);
        out.key.copy_from_slice(k);
        out.nonce.copy_from_slice(n);
        out
    }
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), "(<redacted>)"))
            }
        }
    )*};
}
redacted_debug!(RootKey, ChainKey, SendingChain, ReceivingChain, MessageKey, AeadKey);

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written wipes (through the slice, in one pass) clear every
    /// byte of every key type, the AEAD key's nonce included.
    #[test]
    fn every_key_type_wipes_all_its_bytes() {
        let (mut root, mut chain, mut message) = (RootKey([1; 32]), ChainKey([2; 32]), MessageKey([3; 32]));
        root.zeroize();
        chain.zeroize();
        message.zeroize();
        assert_eq!((root.0, chain.0, message.0), ([0; 32], [0; 32], [0; 32]));
        let mut aead = MessageKey([4; 32]).expand(&[5; 16]);
        assert!(aead.key != [0; 32] && aead.nonce != [0; 12]);
        aead.zeroize();
        assert_eq!((aead.key, aead.nonce), ([0; 32], [0; 12]));
        let mut sending = SendingChain { key: ChainKey([6; 32]), index: 7 };
        sending.zeroize();
        assert_eq!((sending.key.0, sending.index), ([0; 32], 0));
    }
}

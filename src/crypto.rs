//! Thin wrappers around the primitives, and every domain-separation label.
//!
//! All key derivation in sealpost goes through the functions here so that
//! the labels below are the complete list, with one exception: the
//! safety-number label lives with its hash chain in `identity.rs`. Every
//! label is listed in [PROTOCOL](crate::docs::protocol). Changing any label
//! changes every derived key: the test vectors in `tests/integration/vectors.rs` catch
//! that.

use chacha20poly1305::aead::{self, AeadInOut, KeyInit, KeySizeUser};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};
use hkdf::Hkdf;
use hmac::Hmac;
use sha2::Sha256;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Domain-separation labels (HKDF `info` strings and HMAC inputs).
pub(crate) mod label {
    /// X3DH: `HKDF(salt = 0^32, ikm = 0xFF^32 || DH1 || DH2 || DH3 [|| DH4], info)`.
    pub(crate) const X3DH: &[u8] = b"sealpost v1 X3DH";
    /// Root-chain step: `HKDF(salt = root key, ikm = DH output, info)` -> 64 bytes.
    pub(crate) const ROOT: &[u8] = b"sealpost v1 root ratchet";
    /// HKDF info of a root step that mixes a post-quantum epoch secret:
    /// `ikm = DH output || ML-KEM-768 shared secret`.
    pub(crate) const ROOT_BRAID: &[u8] = b"sealpost v1 root ratchet with ML-KEM-768 braid";
    /// Message-key expansion: `HKDF(salt = 0^32, ikm = message key, info)` -> key || nonce.
    pub(crate) const MESSAGE_KEY: &[u8] = b"sealpost v1 message key";
    /// Signed-prekey signature prefix.
    pub(crate) const SIGNED_PREKEY: &[u8] = b"sealpost v1 signed prekey";
    /// Ed25519 input for a KEM prekey signature (PQXDH).
    pub(crate) const KEM_PREKEY: &[u8] = b"sealpost v1 KEM prekey";
    /// PQXDH: `HKDF(salt = 0^32, ikm = 0xFF^32 || DH1 || DH2 || DH3 [|| DH4] || SS, info)`,
    /// `SS` the ML-KEM-1024 shared secret.
    pub(crate) const PQXDH: &[u8] = b"sealpost v1 PQXDH X25519 SHA-256 ML-KEM-1024";
    /// Prefix of every application signature made with an identity key
    /// (`IdentityKeyPair::sign`): keeps them apart from the library's own.
    pub(crate) const APP_SIGNATURE: &[u8] = b"sealpost v1 application signature";
    /// Chain step: message key = `HMAC(chain key, 0x01)`.
    pub(crate) const CHAIN_MESSAGE: u8 = 0x01;
    /// Chain step: next chain key = `HMAC(chain key, 0x02)`.
    pub(crate) const CHAIN_NEXT: u8 = 0x02;
    /// Ed25519 input of a device list's signature by the user key:
    /// `label || the list's encoding up to its signature`.
    pub(crate) const DEVICE_LIST: &[u8] = b"sealpost v1 device list";
    /// Ed25519 input of a device's membership signature, by its identity
    /// key: `label || user key`.
    pub(crate) const DEVICE_MEMBERSHIP: &[u8] = b"sealpost v1 device membership";
    /// Device linking transcript hash: `SHA-256(label || code || offer's
    /// ephemeral key)`.
    pub(crate) const LINK_TRANSCRIPT: &[u8] = b"sealpost v1 device link transcript";
    /// Device linking keys: `HKDF(salt = the code's secret, ikm = X25519
    /// of the two ephemeral keys, info = label || transcript hash)` -> the
    /// existing-to-new key, the new-to-existing key, the short string's key.
    pub(crate) const LINK_KEYS: &[u8] = b"sealpost v1 device link keys";
    /// Ed25519 input of the new device's acceptance, by its identity key:
    /// `label || transcript hash || existing device's identity || user key`.
    pub(crate) const LINK_ACCEPT: &[u8] = b"sealpost v1 device link accept";
    /// Encrypted state export: AEAD associated-data prefix.
    pub(crate) const EXPORT: &[u8] = b"sealpost v1 state export";
    /// Group sender-key ratchet: part `k` (0..=2) is re-derived as
    /// `HMAC(source part, GROUP_RATCHET_PART[k])` (one byte, as in Megolm);
    /// a new block's key-tree root is `HMAC(source part, GROUP_RATCHET_PART[3])`.
    pub(crate) const GROUP_RATCHET_PART: [u8; 4] = [0x00, 0x01, 0x02, 0x03];
    /// Group key tree, inside a block: a child of a node of level `l >= 2`
    /// is `HMAC(node, label || l-1 || bit)` (bit 0 left, 1 right).
    pub(crate) const GROUP_TREE_NODE: &[u8] = b"sealpost v2 group key tree node";
    /// Group message key, a leaf of the key tree:
    /// `HMAC(level-1 node, label || iteration (u32 BE))`.
    pub(crate) const GROUP_MESSAGE_KEY: &[u8] = b"sealpost v1 group message key";
    /// HKDF info expanding a group message key, with the message's salt,
    /// into its ChaCha20 key, nonce and key commitment (format version 3:
    /// the payload is ChaCha20 under the signature, no Poly1305; version 2
    /// used "sealpost v1 group message expand" for a ChaCha20-Poly1305 key).
    pub(crate) const GROUP_MESSAGE_EXPAND: &[u8] = b"sealpost v3 group message expand";
    /// BLAKE3 key-derivation context hashing a group message's ciphertext
    /// into the digest its signature covers (format version 3).
    pub(crate) const GROUP_CIPHERTEXT_DIGEST: &str = "sealpost v3 group message ciphertext digest";
    /// Prefix of what a group sender signs: the header and the digest of
    /// the encrypted payload.
    pub(crate) const GROUP_SIGNATURE: &[u8] = b"sealpost v1 group message signature";
    /// Forkout body keys: `HKDF(salt = forkout id, ikm = body key, info)` ->
    /// 32-byte AEAD key || 32-byte public key check.
    pub(crate) const FORKOUT_BODY_KEY: &[u8] = b"sealpost v1 forkout body key";
    /// BLAKE3 key-derivation context of the Forkout body commitment
    /// (format version 2): over `version || forkout id || key check ||
    /// ciphertext`. Version 1 was SHA-256 with the prefix
    /// "sealpost v1 forkout commitment".
    pub(crate) const FORKOUT_COMMITMENT: &str = "sealpost v2 forkout commitment";
}

/// Length of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// `N` secret bytes on the stack, wiped in one pass when dropped.
///
/// zeroize wipes a *slice* with a fill behind an optimization barrier, but
/// an *array* (`Zeroizing<[u8; N]>`, or `#[derive(Zeroize)]` over an array
/// field) one volatile byte write at a time: on the message path that was
/// about a thousand single-byte stores per 1:1 round trip. The key types
/// and scratch buffers of the message path use this type, or
/// [`wipe_as_slice!`](crate::crypto::wipe_as_slice), instead.
pub(crate) struct WipedBytes<const N: usize>(pub(crate) [u8; N]);

impl<const N: usize> WipedBytes<N> {
    pub(crate) fn zeroed() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> Drop for WipedBytes<N> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.0.as_mut_slice());
    }
}

/// `Zeroize` (through the slice, in one pass; see [`WipedBytes`]) and
/// zeroize-on-drop for newtypes over one byte array.
macro_rules! wipe_as_slice {
    ($($t:ty),* $(,)?) => {$(
        impl zeroize::Zeroize for $t {
            fn zeroize(&mut self) {
                zeroize::Zeroize::zeroize(self.0.as_mut_slice());
            }
        }
        impl Drop for $t {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(self);
            }
        }
        impl zeroize::ZeroizeOnDrop for $t {}
    )*};
}
pub(crate) use wipe_as_slice;

/// An HMAC-SHA256 instance keyed with a 32-byte key.
///
/// HMAC pads keys shorter than the 64-byte block with zeros, so keying with
/// the zero-padded block is exactly HMAC under the 32-byte key, and
/// infallible.
pub(crate) fn keyed_hmac(key: &[u8; 32]) -> HmacSha256 {
    let mut block = WipedBytes::<64>::zeroed();
    let (head, _) = block.0.split_at_mut(32);
    head.copy_from_slice(key);
    <HmacSha256 as hmac::KeyInit>::new(&block.0.into())
}

/// `HKDF-SHA256(salt, ikm, info)` filling `out` (at most 255 * 32 bytes; all
/// callers ask for 64 or fewer).
pub(crate) fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    // Only fails for outputs over 8160 bytes, which no caller requests.
    let _ = hk.expand(info, out);
}

/// X25519 with the all-zero (non-contributory) result refused.
pub(crate) fn dh(secret: &StaticSecret, public: &X25519Public) -> Result<Zeroizing<[u8; 32]>> {
    let shared = secret.diffie_hellman(public);
    if !shared.was_contributory() {
        return Err(Error::WeakKey);
    }
    Ok(Zeroizing::new(shared.to_bytes()))
}

/// Seals `buf` in place with any of the ChaCha20-Poly1305 family; returns
/// the tag.
fn seal_with<A>(key: &[u8; 32], nonce: &aead::Nonce<A>, ad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN]
where
    A: AeadInOut + KeyInit + KeySizeUser<KeySize = chacha20poly1305::consts::U32>,
    aead::Tag<A>: Into<[u8; TAG_LEN]>,
{
    let cipher = A::new(key.into());
    // Only fails for messages over 256 GiB, far past every limit.
    match cipher.encrypt_inout_detached(nonce, ad, buf.into()) {
        Ok(tag) => tag.into(),
        Err(_) => [0u8; TAG_LEN],
    }
}

/// Opens `buf` in place; on failure `buf` holds garbage and must be
/// discarded.
fn open_with<A>(key: &[u8; 32], nonce: &aead::Nonce<A>, ad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> Result<()>
where
    A: AeadInOut + KeyInit + KeySizeUser<KeySize = chacha20poly1305::consts::U32>,
    for<'t> &'t aead::Tag<A>: From<&'t [u8; TAG_LEN]>,
{
    let cipher = A::new(key.into());
    cipher.decrypt_inout_detached(nonce, ad, buf.into(), tag.into()).map_err(|_| Error::AuthenticationFailed)
}

/// ChaCha20-Poly1305 seal in place; returns the tag.
pub(crate) fn seal_in_place(key: &[u8; 32], nonce: &[u8; 12], ad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
    seal_with::<ChaCha20Poly1305>(key, nonce.into(), ad, buf)
}

/// ChaCha20-Poly1305 open in place.
pub(crate) fn open_in_place(
    key: &[u8; 32],
    nonce: &[u8; 12],
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    open_with::<ChaCha20Poly1305>(key, nonce.into(), ad, buf, tag)
}

/// XChaCha20-Poly1305 seal in place (random 24-byte nonces: state exports).
pub(crate) fn xseal_in_place(key: &[u8; 32], nonce: &[u8; 24], ad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
    seal_with::<XChaCha20Poly1305>(key, nonce.into(), ad, buf)
}

/// XChaCha20-Poly1305 open in place.
pub(crate) fn xopen_in_place(
    key: &[u8; 32],
    nonce: &[u8; 24],
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    open_with::<XChaCha20Poly1305>(key, nonce.into(), ad, buf, tag)
}

/// Splits `bytes` into `(body, tag)` where the tag is the last 16 bytes.
pub(crate) fn split_tag(bytes: &[u8]) -> Result<(&[u8], [u8; TAG_LEN])> {
    let at = bytes
        .len()
        .checked_sub(TAG_LEN)
        .ok_or_else(|| crate::error::WireError::Truncated { needed: TAG_LEN.saturating_sub(bytes.len()) })?;
    let (body, tag) = bytes.split_at(at);
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(tag);
    Ok((body, t))
}

/// ChaCha20 (RFC 8439, 96-bit nonce, block counter from 0) applied in
/// place: encrypts or decrypts. No authentication: only for data whose
/// integrity is checked otherwise (the Forkout body, against the
/// authenticated commitment in its key slot; a group message, under its
/// signature). Inputs are far below the 256 GiB keystream limit.
pub(crate) fn chacha20_in_place(key: &[u8; 32], nonce: &[u8; 12], buf: &mut [u8]) {
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    chacha20::ChaCha20::new(key.into(), nonce.into()).apply_keystream(buf);
}

/// [`chacha20_in_place`] of the concatenation `input || tail`, written to
/// `out` (as long as both) in one pass: `input` is read where it is, not
/// copied first; `tail` (a few trailing bytes) is copied and encrypted
/// in place after it. `out` longer than `input || tail` is refused.
pub(crate) fn chacha20_to(key: &[u8; 32], nonce: &[u8; 12], input: &[u8], tail: &[u8], out: &mut [u8]) -> Result<()> {
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    let length = Error::InvalidState("keystream output length");
    if out.len() != input.len() + tail.len() {
        return Err(length);
    }
    let (head, rest) = out.split_at_mut(input.len());
    let mut cipher = chacha20::ChaCha20::new(key.into(), nonce.into());
    cipher.try_apply_keystream_b2b(input, head).map_err(|_| length.clone())?;
    rest.copy_from_slice(tail);
    cipher.try_apply_keystream(rest).map_err(|_| length)
}

/// The 32-byte BLAKE3 digest of `parts[0] || parts[1] || ...` in its
/// key-derivation mode under `context` (a label of its own per use): the
/// collision-resistant digest that a signature (group messages) or an
/// authenticated commitment (Forkout bodies) covers instead of bulk data.
pub(crate) fn bulk_digest(context: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// `SHA-256(parts[0] || parts[1] || ...)`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

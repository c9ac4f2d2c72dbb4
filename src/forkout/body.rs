//! The Forkout body cryptography and the key-slot payload.
//!
//! See the [module documentation](super) for the formulas. Everything here
//! is pure: no session state is touched.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{FORKOUT_ID_LEN, ForkoutId};
use crate::crypto::{self, label};
use crate::error::WireError;
use crate::wire::codec::{Reader, Writer};

/// Length of the public key check that travels with the sealed body.
pub(crate) const KEY_CHECK_LEN: usize = 32;

/// Length of the body commitment.
pub(crate) const COMMITMENT_LEN: usize = 32;

/// Length of the slot payload before the optional envelope.
pub(crate) const SLOT_LEN: usize = 1 + FORKOUT_ID_LEN + 32 + COMMITMENT_LEN + 8;

const SLOT_FLAG_ENVELOPE: u8 = 0x01;

/// A body key and what it expands to.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct BodyKeys {
    /// The random 32-byte body key that travels in every slot.
    pub(crate) key: [u8; 32],
    /// The ChaCha20 key derived from it.
    enc: [u8; 32],
    /// The public key check derived from it.
    pub(crate) check: [u8; KEY_CHECK_LEN],
}

impl BodyKeys {
    /// Expands a body key for the Forkout `id`.
    pub(crate) fn derive(key: [u8; 32], id: &ForkoutId) -> Self {
        let mut okm = Zeroizing::new([0u8; 64]);
        crypto::hkdf_sha256(id.as_bytes(), &key, label::FORKOUT_BODY_KEY, okm.as_mut());
        let (e, c) = okm.split_at(32);
        let mut out = Self { key, enc: [0; 32], check: [0; KEY_CHECK_LEN] };
        out.enc.copy_from_slice(e);
        out.check.copy_from_slice(c);
        out
    }

    /// Encrypts `body` in place (ChaCha20, nonce 0: the key is used once).
    /// Integrity comes from the commitment, checked before decryption.
    pub(crate) fn encrypt(&self, body: &mut [u8]) {
        crypto::chacha20_in_place(&self.enc, &[0u8; 12], body);
    }

    /// Decrypts a ciphertext (whose commitment was checked) into a new,
    /// zeroizing buffer.
    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut buf = Zeroizing::new(vec![0u8; ciphertext.len()]);
        // One pass from the ciphertext into the buffer; the lengths are
        // equal, so this cannot fail (and would leave zeros if it did).
        let _ = crypto::chacha20_to(&self.enc, &[0u8; 12], ciphertext, &[], &mut buf);
        buf
    }
}

impl core::fmt::Debug for BodyKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BodyKeys(<redacted>)")
    }
}

/// The version byte inside the commitment hash (the body construction of
/// format version 2).
const COMMITMENT_VERSION: u8 = 2;

/// `BLAKE3-derive-key(label, version || id || key check || ciphertext)`.
pub(crate) fn commitment(id: &ForkoutId, check: &[u8; KEY_CHECK_LEN], ciphertext: &[u8]) -> [u8; 32] {
    crypto::bulk_digest(label::FORKOUT_COMMITMENT, &[&[COMMITMENT_VERSION], id.as_bytes(), check, ciphertext])
}

/// The fixed fields of a decoded key-slot payload (the optional envelope
/// after them is split and checked by [`crate::burnout::payload`]).
pub(crate) struct Slot {
    pub(crate) has_envelope: bool,
    pub(crate) id: ForkoutId,
    pub(crate) keys: BodyKeys,
    pub(crate) commitment: [u8; COMMITMENT_LEN],
    pub(crate) body_len: u64,
}

/// Encodes the fixed slot fields; the 1:1 layer appends the envelope (if
/// `has_envelope`) and the payload kind after them.
pub(crate) fn encode_slot(
    id: &ForkoutId,
    key: &[u8; 32],
    commitment: &[u8; COMMITMENT_LEN],
    body_len: u64,
    has_envelope: bool,
) -> Zeroizing<[u8; SLOT_LEN]> {
    let mut w = Writer::with_capacity(SLOT_LEN);
    w.u8(if has_envelope { SLOT_FLAG_ENVELOPE } else { 0 });
    w.bytes(id.as_bytes()).bytes(key).bytes(commitment).u64(body_len);
    let mut out = Zeroizing::new([0u8; SLOT_LEN]);
    out.copy_from_slice(w.as_slice());
    let mut v = w.into_vec();
    v.zeroize();
    out
}

/// Parses the fixed slot fields (exactly [`SLOT_LEN`] bytes).
pub(crate) fn decode_slot(fixed: &[u8]) -> core::result::Result<Slot, WireError> {
    let mut r = Reader::new(fixed);
    let flags = r.u8()?;
    if flags & !SLOT_FLAG_ENVELOPE != 0 {
        return Err(WireError::InvalidField("unknown Forkout slot flags"));
    }
    let id = ForkoutId::from_bytes(r.array()?);
    let key = Zeroizing::new(r.array::<32>()?);
    let commitment = r.array()?;
    let body_len = r.u64()?;
    r.finish()?;
    Ok(Slot {
        has_envelope: flags & SLOT_FLAG_ENVELOPE != 0,
        keys: BodyKeys::derive(*key, &id),
        id,
        commitment,
        body_len,
    })
}

/// Constant-time equality of two 32-byte values.
pub(crate) fn ct_eq32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn slot_round_trips_and_refuses_unknown_flags_and_wrong_lengths() {
        let id = ForkoutId::from_bytes([3; 32]);
        for has_envelope in [false, true] {
            let slot = encode_slot(&id, &[4; 32], &[5; 32], 77, has_envelope);
            let parsed = decode_slot(slot.as_ref()).unwrap();
            assert_eq!(parsed.id, id);
            assert_eq!(parsed.keys.key, [4; 32]);
            assert_eq!(parsed.commitment, [5; 32]);
            assert_eq!(parsed.body_len, 77);
            assert_eq!(parsed.has_envelope, has_envelope);
        }
        let slot = encode_slot(&id, &[4; 32], &[5; 32], 77, false);
        let mut bad_flags = slot.to_vec();
        bad_flags[0] = 0x02;
        assert!(decode_slot(&bad_flags).is_err());
        assert!(decode_slot(&slot[..SLOT_LEN - 1]).is_err());
        let mut longer = slot.to_vec();
        longer.push(0);
        assert!(decode_slot(&longer).is_err());
    }

    #[test]
    fn body_round_trips_and_keys_depend_on_key_and_id() {
        let id = ForkoutId::from_bytes([1; 32]);
        let keys = BodyKeys::derive([9; 32], &id);
        let mut body = b"hello forkout".to_vec();
        keys.encrypt(&mut body);
        assert_ne!(body, b"hello forkout");
        assert_eq!(keys.decrypt(&body).as_slice(), b"hello forkout");
        // Another id or key: another keystream and another key check.
        let other = ForkoutId::from_bytes([2; 32]);
        assert_ne!(BodyKeys::derive([9; 32], &other).decrypt(&body).as_slice(), b"hello forkout");
        assert_ne!(BodyKeys::derive([9; 32], &other).check, keys.check);
        assert_ne!(BodyKeys::derive([8; 32], &id).check, keys.check);
        // The commitment covers id, key check and every ciphertext byte.
        let c = commitment(&id, &keys.check, &body);
        assert_ne!(commitment(&other, &keys.check, &body), c);
        assert_ne!(commitment(&id, &[0; 32], &body), c);
        let mut flipped = body.clone();
        flipped[3] ^= 1;
        assert_ne!(commitment(&id, &keys.check, &flipped), c);
        assert_ne!(commitment(&id, &keys.check, &body[..body.len() - 1]), c);
    }

    #[test]
    fn the_commitment_is_the_documented_blake3_digest() {
        // FORKOUT.md, "Keys and commitment" (format version 2), rebuilt from
        // the blake3 crate: key-derivation mode, its own context, over
        // version | id | key check | ciphertext.
        let id = ForkoutId::from_bytes([3; 32]);
        let (check, ciphertext) = ([4u8; KEY_CHECK_LEN], [5u8; 100]);
        let mut h = blake3::Hasher::new_derive_key("sealpost v2 forkout commitment");
        h.update(&[2]).update(&[3; 32]).update(&check).update(&ciphertext);
        assert_eq!(commitment(&id, &check, &ciphertext), *h.finalize().as_bytes());
    }

    #[test]
    fn body_keys_debug_shows_no_key() {
        let keys = BodyKeys::derive([0xab; 32], &ForkoutId::from_bytes([1; 32]));
        let shown = format!("{keys:?}");
        assert_eq!(shown, "BodyKeys(<redacted>)");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, ab"));
    }
}

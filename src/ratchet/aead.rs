//! ChaCha20-Poly1305 (RFC 8439) for ratchet messages, composed from the
//! `chacha20` and `poly1305` crates so that it can take the associated
//! data in two parts.
//!
//! The output is byte for byte the AEAD of the `chacha20poly1305` crate
//! (the unit tests compare the two on every length up to a few blocks past
//! each boundary) over the associated data `session AD || message prefix`.
//! Two things differ in how it is computed, not in what:
//!
//! * **No concatenation.** The session's associated data (both identity
//!   keys, [`AD_LEN`] = 64 bytes) is a whole number of Poly1305 blocks, so
//!   MACing it and then the message prefix (padded) is MACing their
//!   concatenation (padded). The associated data is never copied.
//! * **One keystream call for a short message.** RFC 8439 takes the
//!   Poly1305 key from ChaCha20 block 0 and encrypts from block 1 on. The
//!   crate's AEAD makes two keystream calls (block 0, then the payload);
//!   for a payload of at most [`ONE_CALL_MAX`] bytes this module makes one
//!   over four blocks in a zeroized stack buffer (block 0 and the payload
//!   behind it), which the SIMD backends compute in a single pass. The
//!   keystream past the payload is never used and is wiped with the
//!   buffer. On decryption the plaintext stays in that buffer until the
//!   tag has been checked.
//!
//! Tags are compared in constant time (`subtle`). The Poly1305 state and
//! the cipher wipe their keys on drop (their `zeroize` features).

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use poly1305::Poly1305;
use poly1305::universal_hash::{KeyInit, UniversalHash};
use subtle::ConstantTimeEq;

use super::AD_LEN;
use crate::crypto::{TAG_LEN, WipedBytes};
use crate::error::{Error, Result};

/// A ChaCha20 block.
const BLOCK: usize = 64;

/// Longest payload sealed or opened with a single keystream call: three
/// blocks.
const ONE_CALL_MAX: usize = 3 * BLOCK;

/// The keystream one call computes for a short message: block 0 (the
/// Poly1305 key) and the payload's blocks, four blocks, one pass of the
/// 4-way SIMD backends.
const ONE_CALL_LEN: usize = BLOCK + ONE_CALL_MAX;

// MACing the session AD on its own pads nothing only if it is whole
// Poly1305 blocks.
const _: () = assert!(AD_LEN.is_multiple_of(16));

/// The associated data of a ratchet message, authenticated as
/// `session || prefix`.
#[derive(Clone, Copy)]
pub(crate) struct Ad<'a> {
    /// Both identity keys (initiator first).
    pub(crate) session: &'a [u8; AD_LEN],
    /// Every byte of the message before its ciphertext.
    pub(crate) prefix: &'a [u8],
}

/// Encrypts `buf` in place; returns the tag.
pub(crate) fn seal_in_place(key: &[u8; 32], nonce: &[u8; 12], ad: Ad<'_>, buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
    let mut cipher = ChaCha20::new(key.into(), nonce.into());
    let mut keystream = WipedBytes::<ONE_CALL_LEN>::zeroed();
    match start(&mut cipher, &mut keystream, buf)? {
        Some(sealed) => buf.copy_from_slice(sealed),
        None => apply(&mut cipher, buf)?,
    }
    Ok(tag(&keystream.0, ad, buf))
}

/// Decrypts `sealed` into `out` (of the same length) after checking `tag`;
/// on failure `out` is untouched.
pub(crate) fn open_to(
    key: &[u8; 32],
    nonce: &[u8; 12],
    ad: Ad<'_>,
    sealed: &[u8],
    out: &mut [u8],
    expected: &[u8; TAG_LEN],
) -> Result<()> {
    if out.len() != sealed.len() {
        return Err(Error::InvalidState("output length"));
    }
    let mut cipher = ChaCha20::new(key.into(), nonce.into());
    let mut keystream = WipedBytes::<ONE_CALL_LEN>::zeroed();
    let short = start(&mut cipher, &mut keystream, sealed)?.is_some();
    if !bool::from(tag(&keystream.0, ad, sealed).ct_eq(expected)) {
        return Err(Error::AuthenticationFailed);
    }
    match keystream.0.get(BLOCK..BLOCK + sealed.len()).filter(|_| short) {
        Some(plain) => {
            out.copy_from_slice(plain);
            Ok(())
        }
        None => cipher.try_apply_keystream_b2b(sealed, out).map_err(|_| Error::InvalidState("keystream output length")),
    }
}

/// Writes ChaCha20 block 0 (the Poly1305 key) into `keystream`. A `text`
/// of at most [`ONE_CALL_MAX`] bytes is copied behind it and ciphered in
/// the same call: the result is returned, and the cipher is done. For a
/// longer one, `None`: the cipher stands at block 1, ready for `text`.
fn start<'k>(
    cipher: &mut ChaCha20,
    keystream: &'k mut WipedBytes<ONE_CALL_LEN>,
    text: &[u8],
) -> Result<Option<&'k [u8]>> {
    match keystream.0.get_mut(BLOCK..BLOCK + text.len()) {
        Some(behind_block0) => {
            behind_block0.copy_from_slice(text);
            apply(cipher, &mut keystream.0)?;
            Ok(keystream.0.get(BLOCK..BLOCK + text.len()))
        }
        None => {
            apply(cipher, keystream.0.get_mut(..BLOCK).unwrap_or_default())?;
            Ok(None)
        }
    }
}

/// Applies the next keystream bytes to `buf`. Fails only past ChaCha20's
/// 256 GiB keystream, far beyond every message bound.
fn apply(cipher: &mut ChaCha20, buf: &mut [u8]) -> Result<()> {
    cipher.try_apply_keystream(buf).map_err(|_| Error::InvalidState("ChaCha20 keystream exhausted"))
}

/// The Poly1305 tag of RFC 8439 over `ad` and `ciphertext`, keyed with the
/// first 32 bytes of `keystream` (ChaCha20 block 0).
fn tag(keystream: &[u8; ONE_CALL_LEN], ad: Ad<'_>, ciphertext: &[u8]) -> [u8; TAG_LEN] {
    let mut key = poly1305::Key::default();
    if let Some(first) = keystream.get(..32) {
        key.copy_from_slice(first);
    }
    let mut mac = Poly1305::new(&key);
    zeroize::Zeroize::zeroize(key.as_mut_slice());
    mac.update_padded(ad.session);
    mac.update_padded(ad.prefix);
    mac.update_padded(ciphertext);
    let mut lengths = poly1305::Block::default();
    let (ad_len, text_len) = lengths.split_at_mut(8);
    ad_len.copy_from_slice(&((AD_LEN + ad.prefix.len()) as u64).to_le_bytes());
    text_len.copy_from_slice(&(ciphertext.len() as u64).to_le_bytes());
    mac.update(&[lengths]);
    mac.finalize().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use chacha20poly1305::ChaCha20Poly1305;
    use chacha20poly1305::aead::{AeadInOut, KeyInit as _};

    use super::*;

    fn reference(key: &[u8; 32], nonce: &[u8; 12], ad: &[u8], plain: &[u8]) -> (Vec<u8>, [u8; TAG_LEN]) {
        let mut buf = plain.to_vec();
        let tag = ChaCha20Poly1305::new(key.into()).encrypt_inout_detached(nonce.into(), ad, buf.as_mut_slice().into());
        (buf, tag.map(Into::into).unwrap_or_default())
    }

    /// Every payload length through both paths and across their boundary,
    /// with prefixes of every padding: the same ciphertext and tag as the
    /// `chacha20poly1305` crate over the concatenated associated data, and
    /// the round trip.
    #[test]
    fn matches_the_chacha20poly1305_crate() {
        let (key, nonce, session) = ([7u8; 32], [9u8; 12], [3u8; AD_LEN]);
        for len in (0..=ONE_CALL_MAX + 2 * BLOCK + 1).chain([1000, 4096, 65_537]) {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 + 5) as u8).collect();
            for prefix_len in [0, 1, 15, 16, 17, 63, 200] {
                let prefix = vec![0x5au8; prefix_len];
                let full_ad = [&session[..], &prefix].concat();
                let (want, want_tag) = reference(&key, &nonce, &full_ad, &plain);
                let ad = Ad { session: &session, prefix: &prefix };
                let mut buf = plain.clone();
                let tag = seal_in_place(&key, &nonce, ad, &mut buf).unwrap();
                assert_eq!((&buf, tag), (&want, want_tag), "payload {len}, prefix {prefix_len}");
                let mut out = vec![0u8; len];
                open_to(&key, &nonce, ad, &buf, &mut out, &tag).unwrap();
                assert_eq!(out, plain);
            }
        }
    }

    /// The reference above is RFC 8439's AEAD: section 2.8.2's test vector.
    /// (The vector's 12-byte associated data has no 64-byte session part,
    /// so this module is checked against the reference, the reference
    /// against the RFC.)
    #[test]
    fn rfc8439_vector_through_the_crate() {
        let key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
        let ad = [0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7];
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let (_, tag) = reference(&key, &nonce, &ad, plain);
        assert_eq!(
            tag,
            [0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91]
        );
    }

    /// A flipped bit anywhere (session AD, prefix, ciphertext, tag), a
    /// wrong key or nonce: refused, and the output buffer untouched.
    #[test]
    fn every_tamper_is_refused_and_writes_nothing() {
        let (key, nonce, session, prefix) = ([1u8; 32], [2u8; 12], [4u8; AD_LEN], [6u8; 40]);
        for len in [0, 1, 100, ONE_CALL_MAX, ONE_CALL_MAX + 1, 1000] {
            let mut sealed = vec![0x33u8; len];
            let ad = Ad { session: &session, prefix: &prefix };
            let tag = seal_in_place(&key, &nonce, ad, &mut sealed).unwrap();
            let untouched = vec![0xeeu8; len];
            let refused = |key: &[u8; 32], nonce: &[u8; 12], ad: Ad<'_>, sealed: &[u8], tag: &[u8; TAG_LEN]| {
                let mut out = untouched.clone();
                let r = open_to(key, nonce, ad, sealed, &mut out, tag);
                assert_eq!(r, Err(Error::AuthenticationFailed));
                assert_eq!(out, untouched);
            };
            for i in 0..AD_LEN {
                let mut s = session;
                s[i] ^= 1;
                refused(&key, &nonce, Ad { session: &s, prefix: &prefix }, &sealed, &tag);
            }
            for i in 0..prefix.len() {
                let mut p = prefix;
                p[i] ^= 0x80;
                refused(&key, &nonce, Ad { session: &session, prefix: &p }, &sealed, &tag);
            }
            refused(&key, &nonce, Ad { session: &session, prefix: &prefix[..39] }, &sealed, &tag);
            for i in 0..len {
                let mut c = sealed.clone();
                c[i] ^= 1;
                refused(&key, &nonce, ad, &c, &tag);
            }
            for i in 0..TAG_LEN {
                let mut t = tag;
                t[i] ^= 1;
                refused(&key, &nonce, ad, &sealed, &t);
            }
            refused(&[9u8; 32], &nonce, ad, &sealed, &tag);
            refused(&key, &[8u8; 12], ad, &sealed, &tag);
        }
    }

    #[test]
    fn output_of_another_length_is_refused() {
        let (key, nonce, session) = ([1u8; 32], [2u8; 12], [4u8; AD_LEN]);
        let ad = Ad { session: &session, prefix: &[] };
        let mut sealed = [5u8; 10];
        let tag = seal_in_place(&key, &nonce, ad, &mut sealed).unwrap();
        let mut out = [0u8; 9];
        assert!(matches!(open_to(&key, &nonce, ad, &sealed, &mut out, &tag), Err(Error::InvalidState(_))));
    }
}

//! Versioned, encrypted export and import of state.
//!
//! Every stateful type ([`Account`](crate::Account),
//! [`Session`](crate::Session), ...) implements [`Persist`]: `to_bytes`
//! gives a versioned plaintext serialization (secrets included, returned in
//! a zeroizing buffer), and [`Persist::export_encrypted`] seals it under a
//! caller-supplied 32-byte key so state at rest is never plaintext.
//!
//! An export (type byte `0x3f`) is the inner state's type byte, a random
//! nonce and the XChaCha20-Poly1305 ciphertext of the serialization, with a
//! labelled associated data; the layout is specified in
//! [PROTOCOL](crate::docs::protocol).
//!
//! The nonce is random (24 bytes, so random nonces are safe for any
//! realistic number of exports under one key). A wrong key, a corrupted
//! byte, or an export of another type is a typed error.
//!
//! ```
//! use sealpost::{Account, Persist};
//! let mut rng = rand::rng();
//! let account = Account::new(&mut rng, 0);
//! let key = [7u8; 32];
//! let sealed = account.export_encrypted(&key, &mut rng);
//! let restored = Account::import_encrypted(&key, &sealed)?;
//! assert_eq!(restored.identity(), account.identity());
//! assert!(Account::import_encrypted(&[8u8; 32], &sealed).is_err());
//! # Ok::<(), sealpost::Error>(())
//! ```

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, TAG_LEN, label};
use crate::error::{Error, Result, WireError};
use crate::limits::MAX_STATE;
use crate::wire::MessageType;
use crate::wire::codec::Reader;

/// Largest encrypted export: a [`MAX_STATE`] serialization plus the export
/// header (3), nonce (24) and tag (16).
const MAX_EXPORT: usize = MAX_STATE + 3 + 24 + TAG_LEN;

/// State that can be saved and restored.
pub trait Persist: Sized {
    /// The type byte of the plaintext serialization.
    const STATE_TYPE: MessageType;

    /// Versioned plaintext serialization, secrets included.
    fn to_bytes(&self) -> Zeroizing<Vec<u8>>;

    /// Restores from [`Self::to_bytes`].
    fn from_bytes(bytes: &[u8]) -> Result<Self>;

    /// Serializes and seals under `key`.
    fn export_encrypted<R: CryptoRng + ?Sized>(&self, key: &[u8; 32], rng: &mut R) -> Vec<u8> {
        seal(key, Self::STATE_TYPE, &self.to_bytes(), rng)
    }

    /// Opens an export made by [`Self::export_encrypted`] and restores it.
    fn import_encrypted(key: &[u8; 32], export: &[u8]) -> Result<Self> {
        let plain = open(key, Self::STATE_TYPE, export)?;
        Self::from_bytes(&plain)
    }
}

fn associated_data(inner: u8) -> Vec<u8> {
    let mut ad = label::EXPORT.to_vec();
    ad.extend_from_slice(&[MessageType::EncryptedExport.version(), MessageType::EncryptedExport as u8, inner]);
    ad
}

/// Seals serialized state of type `inner` under `key`.
pub(crate) fn seal<R: CryptoRng + ?Sized>(
    key: &[u8; 32],
    inner: MessageType,
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    seal_with_nonce(key, inner, plaintext, &nonce)
}

/// [`seal`] with a given nonce. Crate-internal: the fuzz targets use it to
/// check that an export is the canonical sealing of its plaintext.
pub(crate) fn seal_with_nonce(key: &[u8; 32], inner: MessageType, plaintext: &[u8], nonce: &[u8; 24]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + 24 + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&[MessageType::EncryptedExport.version(), MessageType::EncryptedExport as u8, inner as u8]);
    out.extend_from_slice(nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    if let Some(body) = out.get_mut(start..) {
        let tag = crypto::xseal_in_place(key, nonce, &associated_data(inner as u8), body);
        out.extend_from_slice(&tag);
    }
    out
}

/// Opens an export of type `inner`.
pub(crate) fn open(key: &[u8; 32], inner: MessageType, export: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if export.len() > MAX_EXPORT {
        return Err(WireError::TooLarge { what: "state export", len: export.len(), max: MAX_EXPORT }.into());
    }
    let mut r = Reader::new(export);
    r.header(MessageType::EncryptedExport)?;
    let found = r.u8()?;
    if found != inner as u8 {
        return Err(WireError::UnexpectedType { found, expected: inner as u8 }.into());
    }
    let nonce: [u8; 24] = r.array()?;
    let (body, tag) = crypto::split_tag(r.rest())?;
    let mut buf = Zeroizing::new(body.to_vec());
    crypto::xopen_in_place(key, &nonce, &associated_data(found), &mut buf, &tag).map_err(|_| Error::ExportCorrupted)?;
    Ok(buf)
}

/// Implements [`Persist`] for a type that has inherent `to_bytes` and
/// `from_bytes` (so callers need not import the trait for those two): used
/// beside each such type.
macro_rules! persist_via_inherent {
    ($ty:ty, $state:expr) => {
        impl $crate::persist::Persist for $ty {
            const STATE_TYPE: $crate::wire::MessageType = $state;
            fn to_bytes(&self) -> ::zeroize::Zeroizing<Vec<u8>> {
                <$ty>::to_bytes(self)
            }
            fn from_bytes(bytes: &[u8]) -> $crate::error::Result<Self> {
                <$ty>::from_bytes(bytes)
            }
        }
    };
}
pub(crate) use persist_via_inherent;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_export_reports_the_real_limit() {
        let export = vec![0u8; MAX_EXPORT + 1];
        let err = open(&[0; 32], MessageType::AccountState, &export).err();
        let expected = WireError::TooLarge { what: "state export", len: MAX_EXPORT + 1, max: MAX_EXPORT };
        assert_eq!(err, Some(Error::Wire(expected)));
        // At the limit, the size check passes (and the bytes are refused for
        // what they are).
        let at_limit = vec![0u8; MAX_EXPORT];
        assert!(matches!(
            open(&[0; 32], MessageType::AccountState, &at_limit),
            Err(Error::Wire(WireError::UnexpectedType { found: 0, .. }))
        ));
    }
}

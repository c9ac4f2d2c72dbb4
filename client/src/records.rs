//! What a store holds, and how it is protected at rest.
//!
//! From the app's 32-byte **store key** two keys are derived with
//! HKDF-SHA256 (no salt):
//!
//! | info | use |
//! |---|---|
//! | `sealpost-client v1 lookup` | record keys: `HMAC-SHA256(lookup, table name \|\| 0x00 \|\| name)` |
//! | `sealpost-client v1 seal` | record values |
//!
//! A record's key is a keyed hash of what it names (a peer's name, the
//! account), so a copied database file shows neither peer names nor how
//! they relate; its value is sealed with XChaCha20-Poly1305 under the seal
//! key, a random 24-byte nonce, and associated data
//! `"sealpost-client v1 record" || table name || record key`, so a value
//! cannot be moved to another record or table. sealpost's own objects (the
//! account, sessions) are stored as their encrypted exports
//! ([`Persist::export_encrypted_for`](sealpost::Persist::export_encrypted_for))
//! under the seal key with that associated data as their context, which adds
//! their export generation.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sealpost::Persist;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::ClientError;
use crate::store::{Key, Table};

/// Labels of the client's key derivations and records.
mod label {
    pub(super) const LOOKUP: &[u8] = b"sealpost-client v1 lookup";
    pub(super) const SEAL: &[u8] = b"sealpost-client v1 seal";
    pub(super) const RECORD: &[u8] = b"sealpost-client v1 record";
}

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The keys derived from the app's store key. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct RecordKeys {
    lookup: [u8; 32],
    seal: [u8; 32],
}

impl RecordKeys {
    pub(crate) fn derive(store_key: &[u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(None, store_key);
        let mut keys = Self { lookup: [0; 32], seal: [0; 32] };
        // Both outputs are 32 bytes, far below HKDF's limit.
        let _ = hk.expand(label::LOOKUP, &mut keys.lookup);
        let _ = hk.expand(label::SEAL, &mut keys.seal);
        keys
    }

    /// The key of the record of `table` named `name`.
    pub(crate) fn key(&self, table: Table, name: &[u8]) -> Key {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.lookup).unwrap_or_else(|_| unreachable_hmac());
        mac.update(table.name().as_bytes());
        mac.update(&[0]);
        mac.update(name);
        mac.finalize().into_bytes().into()
    }

    /// The associated data (and export context) binding a value to its
    /// record.
    fn binding(table: Table, key: &Key) -> Vec<u8> {
        [label::RECORD, table.name().as_bytes(), &key[..]].concat()
    }

    /// Seals plain record bytes.
    pub(crate) fn seal<R: CryptoRng + ?Sized>(&self, table: Table, key: &Key, plain: &[u8], rng: &mut R) -> Vec<u8> {
        use chacha20poly1305::aead::AeadInOut;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.seal).into());
        let ad = Self::binding(table, key);
        let body = out.get_mut(NONCE_LEN..).unwrap_or_default();
        // Only fails for values over 256 GiB.
        let tag: [u8; TAG_LEN] = match cipher.encrypt_inout_detached((&nonce).into(), &ad, body.into()) {
            Ok(tag) => tag.into(),
            Err(_) => [0; TAG_LEN],
        };
        out.extend_from_slice(&tag);
        out
    }

    /// Opens what [`Self::seal`] made for this record.
    pub(crate) fn open(&self, table: Table, key: &Key, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        use chacha20poly1305::aead::AeadInOut;
        let corrupted = || ClientError::Corrupted { table: table.name() };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(corrupted());
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupted())?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| corrupted())?;
        let mut buf = Zeroizing::new(body.to_vec());
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.seal).into());
        let ad = Self::binding(table, key);
        cipher
            .decrypt_inout_detached((&nonce).into(), &ad, buf.as_mut_slice().into(), (&tag).into())
            .map_err(|_| corrupted())?;
        Ok(buf)
    }

    /// Stores a sealpost object as its encrypted export bound to this record.
    pub(crate) fn export<T: Persist, R: CryptoRng + ?Sized>(
        &self,
        table: Table,
        key: &Key,
        object: &mut T,
        rng: &mut R,
    ) -> Vec<u8> {
        object.export_encrypted_for(&self.seal, &Self::binding(table, key), rng)
    }

    /// Loads what [`Self::export`] stored.
    pub(crate) fn import<T: Persist>(&self, table: Table, key: &Key, export: &[u8]) -> Result<T, ClientError> {
        T::import_encrypted_for(&self.seal, export, &Self::binding(table, key), 0)
            .map_err(|_| ClientError::Corrupted { table: table.name() })
    }
}

/// HMAC-SHA256 takes keys of any length: `new_from_slice` cannot fail.
#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new(&Default::default())
}

impl core::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RecordKeys(<redacted>)")
    }
}

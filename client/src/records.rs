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
//! A record's key is a keyed hash of what it names (a peer's name, a group
//! id, the account), so a copied database file shows neither peer names nor
//! how they relate. Its value is `generation (u64) || sealed`, where
//! `generation` is the store generation of the commit that wrote it and
//! `sealed` is the plain record sealed with XChaCha20-Poly1305 under the
//! seal key, a random 24-byte nonce, and associated data
//! `"sealpost-client v1 record" || table name || record key || generation`:
//! a value cannot be moved to another record or table, nor its generation
//! changed. sealpost's own objects (the account, sessions, groups, the
//! vault) are stored as their encrypted exports
//! ([`Persist::export_encrypted_for`](sealpost::Persist::export_encrypted_for))
//! under the seal key with that associated data as their context, which adds
//! their export generation.
//!
//! **Rollback.** A record written after the store's generation record is
//! impossible in a store the client wrote (both go in one transaction): a
//! record newer than the generation it is read under means the file was
//! pieced together from different times (the generation and account
//! records put back from an old copy while newer records stayed), and
//! reading it fails with [`ClientError::RolledBack`]. The account, the
//! vault, the own user, the burn origins and the user index are checked
//! more tightly: the generation record also names the generation that
//! last wrote each, and anything else is refused, so an old copy of one
//! put back alone (consumed one-time prekeys, a burned message, an older
//! device list coming back) is detected too; user records must match the
//! index's digest. A whole file put
//! back from an old copy is consistent in itself; the app detects it by
//! keeping the generation
//! ([`Client::open_at_least`](crate::Client::open_at_least)). An older
//! copy of one session, group or trust record put back alone is not
//! detected (see the crate documentation, "At rest").

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

const GENERATION_LEN: usize = 8;
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
    /// record and the generation that wrote it.
    fn binding(table: Table, key: &Key, generation: u64) -> Vec<u8> {
        [label::RECORD, table.name().as_bytes(), &key[..], &generation.to_be_bytes()].concat()
    }

    /// Seals plain record bytes written at `generation`.
    pub(crate) fn seal<R: CryptoRng + ?Sized>(
        &self,
        table: Table,
        key: &Key,
        generation: u64,
        plain: &[u8],
        rng: &mut R,
    ) -> Vec<u8> {
        use chacha20poly1305::aead::AeadInOut;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(GENERATION_LEN + NONCE_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(&generation.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.seal).into());
        let ad = Self::binding(table, key, generation);
        let body = out.get_mut(GENERATION_LEN + NONCE_LEN..).unwrap_or_default();
        // Only fails for values over 256 GiB.
        let tag: [u8; TAG_LEN] = match cipher.encrypt_inout_detached((&nonce).into(), &ad, body.into()) {
            Ok(tag) => tag.into(),
            Err(_) => [0; TAG_LEN],
        };
        out.extend_from_slice(&tag);
        out
    }

    /// Opens what [`Self::seal`] made for this record: the generation that
    /// wrote it and the plain bytes.
    pub(crate) fn open(
        &self,
        table: Table,
        key: &Key,
        sealed: &[u8],
    ) -> Result<(u64, Zeroizing<Vec<u8>>), ClientError> {
        use chacha20poly1305::aead::AeadInOut;
        let corrupted = || ClientError::Corrupted { table: table.name() };
        let (generation, sealed) = split_generation(sealed).ok_or_else(corrupted)?;
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(corrupted());
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupted())?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| corrupted())?;
        let mut buf = Zeroizing::new(body.to_vec());
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.seal).into());
        let ad = Self::binding(table, key, generation);
        cipher
            .decrypt_inout_detached((&nonce).into(), &ad, buf.as_mut_slice().into(), (&tag).into())
            .map_err(|_| corrupted())?;
        Ok((generation, buf))
    }

    /// Stores a sealpost object, written at `generation`, as its encrypted
    /// export bound to this record.
    pub(crate) fn export<T: Persist, R: CryptoRng + ?Sized>(
        &self,
        table: Table,
        key: &Key,
        generation: u64,
        object: &mut T,
        rng: &mut R,
    ) -> Vec<u8> {
        let export = object.export_encrypted_for(&self.seal, &Self::binding(table, key, generation), rng);
        [&generation.to_be_bytes()[..], &export].concat()
    }

    /// Loads what [`Self::export`] stored: the generation that wrote it and
    /// the object.
    pub(crate) fn import<T: Persist>(&self, table: Table, key: &Key, stored: &[u8]) -> Result<(u64, T), ClientError> {
        let corrupted = || ClientError::Corrupted { table: table.name() };
        let (generation, export) = split_generation(stored).ok_or_else(corrupted)?;
        let object = T::import_encrypted_for(&self.seal, export, &Self::binding(table, key, generation), 0)
            .map_err(|_| corrupted())?;
        Ok((generation, object))
    }
}

/// The generation prefix of a stored value, and the rest.
fn split_generation(stored: &[u8]) -> Option<(u64, &[u8])> {
    let (generation, rest) = stored.split_at_checked(GENERATION_LEN)?;
    Some((u64::from_be_bytes(generation.try_into().ok()?), rest))
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

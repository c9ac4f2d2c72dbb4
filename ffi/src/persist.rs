//! Encrypted export and import, shared by every stateful object.
//!
//! Each object's own file exposes `export_encrypted(key)` and an
//! `import_encrypted(key, export)` constructor built on [`export`] and
//! [`import`] here, so a new object type needs no change in this file.
//! The 32-byte key comes from the platform's key store (Android Keystore,
//! iOS Keychain); [`generate_export_key`] makes one for apps that need a
//! fresh key to store there.

use sealpost::Persist;
use zeroize::Zeroizing;

use crate::error::{Result, fixed};

/// Length of the key for `export_encrypted` / `import_encrypted`.
pub(crate) const EXPORT_KEY_LEN: usize = 32;

/// Parses an export key into a zeroizing array; our copy of the argument
/// is wiped too (the caller's copy is the caller's to manage).
pub(crate) fn export_key(key: Vec<u8>) -> Result<Zeroizing<[u8; EXPORT_KEY_LEN]>> {
    let key = Zeroizing::new(key);
    fixed::<EXPORT_KEY_LEN>(&key, "export key").map(Zeroizing::new)
}

/// Seals `state` under `key` (XChaCha20-Poly1305, random nonce).
pub(crate) fn export<T: Persist>(state: &T, key: Vec<u8>) -> Result<Vec<u8>> {
    let key = export_key(key)?;
    Ok(state.export_encrypted(&key, &mut rand::rng()))
}

/// Opens an export made by [`export`] for the same type.
pub(crate) fn import<T: Persist>(key: Vec<u8>, export: &[u8]) -> Result<T> {
    let key = export_key(key)?;
    Ok(T::import_encrypted(&key, export)?)
}

/// A fresh random 32-byte key for encrypted exports, from the operating
/// system's random source. Keep it in the platform key store, never next
/// to the exports it opens.
#[uniffi::export]
pub fn generate_export_key() -> Vec<u8> {
    let mut key = vec![0u8; EXPORT_KEY_LEN];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut key);
    key
}

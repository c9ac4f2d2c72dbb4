//! Saving and restoring, shared by every stateful object.
//!
//! `persist_exports!(Object, "when to save it")` exports, for an object
//! whose core type is [`sealpost::Persist`] (see [`Locked`]), the
//! constructors `from_bytes(state)` and `import_encrypted(key, export)`
//! and the methods `export_encrypted(key)` and `to_bytes()`, so a new
//! object type needs no change in this file. The 32-byte [`Key32`] comes
//! from the platform's key store (Android Keystore, iOS Keychain);
//! [`generate_export_key`] makes one for apps that need a fresh key to
//! store there.
//!
//! [`Locked`]: crate::locked::Locked
//! [`Key32`]: crate::keys::Key32

use crate::keys::Key32;

/// Exports the save/restore functions of `$object`, whose `Locked::Core`
/// is `sealpost::Persist` and which has an inherent `wrap(core)`. `$save`
/// ends the doc of `export_encrypted` ("Store it ..."): when the app
/// should save it.
macro_rules! persist_exports {
    ($object:ident, $save:literal) => {
        #[uniffi::export]
        impl $object {
            /// Restores it from `to_bytes` (plaintext state).
            #[uniffi::constructor]
            pub fn from_bytes(state: Vec<u8>) -> $crate::error::Result<std::sync::Arc<Self>> {
                Ok(Self::wrap(sealpost::Persist::from_bytes(&state)?))
            }

            /// Restores it from `export_encrypted` with the same 32-byte key.
            /// A wrong key or corrupted bytes throw `ExportCorrupted`.
            #[uniffi::constructor]
            pub fn import_encrypted(
                key: $crate::keys::Key32,
                export: Vec<u8>,
            ) -> $crate::error::Result<std::sync::Arc<Self>> {
                Ok(Self::wrap(sealpost::Persist::import_encrypted(key.as_bytes(), &export)?))
            }

            /// Restores it from `export_encrypted_for` with the same key and
            /// context. Throws `ExportContextMismatch` for an export made for
            /// another context and `ExportRolledBack` when its generation is
            /// below `min_generation` (the last generation the app wrote, kept
            /// where a restore cannot roll it back; 0 accepts any).
            #[uniffi::constructor]
            pub fn import_encrypted_for(
                key: $crate::keys::Key32,
                export: Vec<u8>,
                context: Vec<u8>,
                min_generation: u64,
            ) -> $crate::error::Result<std::sync::Arc<Self>> {
                Ok(Self::wrap(sealpost::Persist::import_encrypted_for(
                    key.as_bytes(),
                    &export,
                    &context,
                    min_generation,
                )?))
            }

            /// Its state sealed under a 32-byte key (XChaCha20-Poly1305,
            /// random nonce): what to store on disk. Store it
            #[doc = $save]
            pub fn export_encrypted(&self, key: $crate::keys::Key32) -> $crate::error::Result<Vec<u8>> {
                $crate::locked::Locked::with(self, |state| {
                    Ok(sealpost::Persist::export_encrypted(&mut *state, key.as_bytes(), &mut rand::rng()))
                })
            }

            /// `export_encrypted` bound to `context` (which object, which
            /// peer), with the next export generation.
            pub fn export_encrypted_for(
                &self,
                key: $crate::keys::Key32,
                context: Vec<u8>,
            ) -> $crate::error::Result<Vec<u8>> {
                $crate::locked::Locked::with(self, |state| {
                    Ok(sealpost::Persist::export_encrypted_for(&mut *state, key.as_bytes(), &context, &mut rand::rng()))
                })
            }

            /// How many encrypted exports of this object were made: the
            /// generation the newest carries.
            pub fn export_generation(&self) -> $crate::error::Result<u64> {
                $crate::locked::Locked::with(self, |state| Ok(sealpost::Persist::export_generation(&*state)))
            }

            /// Its state in plaintext, secrets included. Store it only inside
            /// encrypted storage; prefer `export_encrypted`.
            pub fn to_bytes(&self) -> $crate::error::Result<Vec<u8>> {
                $crate::locked::Locked::with(self, |state| Ok(sealpost::Persist::to_bytes(&*state).to_vec()))
            }
        }
    };
}
pub(crate) use persist_exports;

/// A fresh random 32-byte key for encrypted exports, from the operating
/// system's random source. Keep it in the platform key store, never next
/// to the exports it opens.
#[uniffi::export]
pub fn generate_export_key() -> Key32 {
    Key32::random()
}

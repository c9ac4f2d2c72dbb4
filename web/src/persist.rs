//! Saving and restoring, shared by every stateful object.
//!
//! `persist_exports!(Object, "Name")` exports, for an object whose core
//! type is [`sealpost::Persist`] and which has `Object::wrap(core)` and a
//! `state: Shared<Core>` field, the static `fromBytes(state)`,
//! `importEncrypted(key, export)` and `importEncryptedFor(key, export,
//! context, minGeneration)`, and the methods `exportEncrypted(key)`,
//! `exportEncryptedFor(key, context)`, `exportGeneration()` and
//! `toBytes()`. Apps keep the exports in IndexedDB (or anywhere): they are
//! sealed with XChaCha20-Poly1305 under a 32-byte key that the app keeps
//! apart from them (for example a non-extractable Web Crypto key wrapping
//! it, or one derived from the user's passphrase).

use wasm_bindgen::prelude::wasm_bindgen;

/// Exports the save/restore methods of `$object` (see the module docs).
macro_rules! persist_exports {
    ($object:ident, $name:literal) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $object {
            /// Restores it from `toBytes` (plaintext state). Throws
            /// `Malformed` or `InvalidState` for bytes that are not one.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = fromBytes)]
            pub fn from_bytes(state: &js_sys::Uint8Array) -> $crate::error::JsResult<$object> {
                Ok(Self::wrap(sealpost::Persist::from_bytes(&$crate::error::secret_in(state, "state")?)?))
            }

            /// Restores it from `exportEncrypted` with the same 32-byte key.
            /// A wrong key or corrupted bytes throw `ExportCorrupted`.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = importEncrypted)]
            pub fn import_encrypted(
                key: &js_sys::Uint8Array,
                exported: &js_sys::Uint8Array,
            ) -> $crate::error::JsResult<$object> {
                let exported = &$crate::error::bytes(exported, "exported")?;
                let key = $crate::error::key32(key, "an export key")?;
                Ok(Self::wrap(sealpost::Persist::import_encrypted(&key, exported)?))
            }

            /// Restores it from `exportEncryptedFor` with the same key and
            /// context. Throws `ExportContextMismatch` for an export made for
            /// another context, and `ExportRolledBack` when its generation is
            /// below `minGeneration` (the last generation the app wrote, kept
            /// where a restore cannot roll it back; 0 accepts any).
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = importEncryptedFor)]
            pub fn import_encrypted_for(
                key: &js_sys::Uint8Array,
                exported: &js_sys::Uint8Array,
                context: &js_sys::Uint8Array,
                #[wasm_bindgen(js_name = minGeneration)] min_generation: f64,
            ) -> $crate::error::JsResult<$object> {
                let exported = &$crate::error::bytes(exported, "exported")?;
                let context = &$crate::error::bytes(context, "context")?;
                let key = $crate::error::key32(key, "an export key")?;
                let min_generation = $crate::error::millis(min_generation, "minGeneration")?;
                Ok(Self::wrap(sealpost::Persist::import_encrypted_for(&key, exported, context, min_generation)?))
            }

            /// Its state sealed under a 32-byte key (XChaCha20-Poly1305,
            /// random nonce from Web Crypto): what to store. Save it after
            /// every call that changes it, before acting on that call's
            /// result (sending its output, showing what it opened).
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = exportEncrypted)]
            pub fn export_encrypted(&self, key: &js_sys::Uint8Array) -> $crate::error::JsResult<Vec<u8>> {
                let key = $crate::error::key32(key, "an export key")?;
                self.state.with($name, |state| {
                    Ok(sealpost::Persist::export_encrypted(state, &key, &mut sealpost::default_rng()))
                })
            }

            /// `exportEncrypted` bound to `context` (which object, which
            /// peer), with the next export generation.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = exportEncryptedFor)]
            pub fn export_encrypted_for(
                &self,
                key: &js_sys::Uint8Array,
                context: &js_sys::Uint8Array,
            ) -> $crate::error::JsResult<Vec<u8>> {
                let context = &$crate::error::bytes(context, "context")?;
                let key = $crate::error::key32(key, "an export key")?;
                self.state.with($name, |state| {
                    Ok(sealpost::Persist::export_encrypted_for(state, &key, context, &mut sealpost::default_rng()))
                })
            }

            /// How many encrypted exports of it were made: the generation
            /// the newest carries.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = exportGeneration)]
            pub fn export_generation(&self) -> $crate::error::JsResult<f64> {
                self.state
                    .with($name, |state| Ok($crate::error::to_number(sealpost::Persist::export_generation(&*state))))
            }

            /// Its state in plaintext, secrets included. Keep it only inside
            /// encrypted storage; prefer `exportEncrypted`.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = toBytes)]
            pub fn to_bytes(&self) -> $crate::error::JsResult<js_sys::Uint8Array> {
                self.state.with($name, |state| Ok($crate::error::secret_out(&sealpost::Persist::to_bytes(&*state))))
            }
        }
    };
}
pub(crate) use persist_exports;

/// A fresh random 32-byte key for encrypted exports, from Web Crypto
/// (`crypto.getRandomValues`). Keep it apart from the exports it opens.
#[wasm_bindgen(js_name = generateExportKey)]
pub fn generate_export_key() -> crate::error::JsResult<js_sys::Uint8Array> {
    crate::error::randomness()?;
    Ok(crate::error::secret_out(sealpost::generate_export_key().as_slice()))
}

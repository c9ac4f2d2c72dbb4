//! # sealpost for JavaScript and TypeScript
//!
//! The npm package `sealpost`: the core crate compiled to WebAssembly with
//! `wasm-bindgen`, for browsers and Node.js. It wraps [`sealpost`] the way
//! the UniFFI bindings (`ffi/`) do for Kotlin, Swift and Python:
//!
//! * classes `Account`, `Session`, `Group`, `Vault`, `Envelope`, and the
//!   results they return, with camelCase methods and TypeScript types
//!   generated from this crate's documentation;
//! * bytes in and out as `Uint8Array`; 32-byte values (identity keys,
//!   group ids, export keys) are `Uint8Array`s checked on arrival; times
//!   are `number`s of milliseconds since the Unix epoch (`Date.now()`);
//!   vault entry ids are decimal strings;
//! * every failure this crate or the core detects throws an `Error` named
//!   `SealpostError` with a `code` (see [`Failure`] for the codes), and no
//!   call panics; what wasm-bindgen's glue refuses before this crate runs
//!   (an object of the wrong class, a freed handle, a `BigInt` where a
//!   `number` goes) throws its own plain `Error`;
//! * randomness comes from Web Crypto (`crypto.getRandomValues`, through
//!   `getrandom`'s `wasm_js` backend), in browsers and in Node.js 20+;
//! * persistence: every stateful class has `exportEncrypted(key)` (the
//!   `Vault`: `exportEncrypted(key, nowMs)`) and a static
//!   `importEncrypted(key, bytes)` (XChaCha20-Poly1305); apps keep
//!   the bytes in IndexedDB or files. The SQLite-backed `Client` of the
//!   native bindings is not part of this package.
//!
//! Objects are handles to state inside the WebAssembly instance. Call
//! `free()` on those you drop early if you like; the finalizer frees the
//! others.
//!
//! ## Layout
//!
//! One file per wrapped concept: `account.rs`, `session.rs`, `group.rs`,
//! `forkout.rs`, `burnout.rs` (envelope, opened messages, vault, and the
//! Burnout methods of `Session` and `Account`); shared: the error and the
//! argument checks in `error.rs`, the shared object state in `shared.rs`,
//! save/restore (`persist_exports!`) in `persist.rs`. The package itself
//! (package.json, README, tests) is in `web/`; `web/scripts/build.sh`
//! builds it and `web/scripts/test.sh` tests it in Node and in headless
//! Chromium. See `web/README.md`.

mod account;
mod burnout;
mod error;
mod forkout;
mod group;
mod persist;
mod session;
mod shared;

pub use account::{Account, InboundSession, verify_prekey_bundle};
pub use burnout::{BurnoutMessage, Envelope, InboundOpened, Opened, Vault};
pub use error::{Failure, JsResult};
pub use forkout::{
    ForkoutDelivery, ForkoutDeliveryInfo, ForkoutRecipients, OpenedForkout, SealedForkout, UnreachableRecipient,
    forkout_split, forkout_split_all, inspect_forkout_delivery,
};
pub use group::{Group, GroupList, GroupPlaintext, GroupRotation, InstalledSenderKey, generate_group_id};
pub use persist::generate_export_key;
pub use session::Session;

use wasm_bindgen::prelude::wasm_bindgen;

/// The version of the package (this crate's version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The 60-digit safety number (12 groups of 5, space separated) of two
/// identity keys; the order of the arguments does not matter. Users
/// compare it out of band to rule out a man in the middle.
#[wasm_bindgen(js_name = safetyNumber)]
pub fn safety_number(
    #[wasm_bindgen(js_name = identityKeyA)] identity_key_a: &js_sys::Uint8Array,
    #[wasm_bindgen(js_name = identityKeyB)] identity_key_b: &js_sys::Uint8Array,
) -> error::JsResult<String> {
    let identity_key_a = &crate::error::bytes(identity_key_a, "identityKeyA")?;
    let identity_key_b = &crate::error::bytes(identity_key_b, "identityKeyB")?;
    let (a, b) = (error::identity(identity_key_a)?, error::identity(identity_key_b)?);
    Ok(sealpost::SafetyNumber::new(&a, &b).to_string())
}

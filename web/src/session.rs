//! A 1:1 end-to-end encrypted session with one peer.

use sealpost::IdentityKey;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{JsResult, count};
use crate::persist::persist_exports;
use crate::shared::Shared;

/// An end-to-end encrypted session with one peer (PQXDH, the Double
/// Ratchet and the post-quantum ratchet).
///
/// Made by `Account.createOutboundSession` or
/// `Account.createInboundSession`, or restored from an export. A `Session`
/// object is a handle: two handles to one session (as `InboundSession.session`
/// read twice returns) share its state.
///
/// ```js
/// const wire = toBob.encrypt(new TextEncoder().encode("see you at 9"));
/// const text = new TextDecoder().decode(bob.decrypt(toAlice, wire));
/// ```
#[wasm_bindgen]
pub struct Session {
    /// Our identity key; never changes.
    local: IdentityKey,
    /// The peer's identity key; never changes either.
    peer: IdentityKey,
    pub(crate) state: Shared<sealpost::Session>,
}

persist_exports!(Session, "session");

impl Session {
    pub(crate) fn wrap(session: sealpost::Session) -> Self {
        Self { local: *session.local_identity(), peer: *session.peer_identity(), state: Shared::new(session) }
    }

    /// The peer's identity key.
    pub(crate) fn peer(&self) -> IdentityKey {
        self.peer
    }

    /// Another handle to the same session.
    pub(crate) fn handle(&self) -> Self {
        Self { local: self.local, peer: self.peer, state: self.state.clone() }
    }

    /// Borrows this session for a call.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut sealpost::Session) -> JsResult<R>) -> JsResult<R> {
        self.state.with("session", f)
    }
}

#[wasm_bindgen]
impl Session {
    /// Encrypts an application message for the peer.
    pub fn encrypt(&self, plaintext: &js_sys::Uint8Array) -> JsResult<Vec<u8>> {
        let plaintext = &crate::error::bytes(plaintext, "plaintext")?;
        self.with(|s| Ok(s.encrypt(plaintext, &mut sealpost::default_rng())?))
    }

    /// Decrypts a message from the peer. A setup message that starts a new
    /// state throws `UnknownSessionSetup`: use `Account.decrypt`, which
    /// handles every case. A replay throws `DuplicateMessage`, a forgery
    /// `AuthenticationFailed`; on any error the session is unchanged.
    pub fn decrypt(&self, message: &js_sys::Uint8Array) -> JsResult<js_sys::Uint8Array> {
        let message = &crate::error::bytes(message, "message")?;
        let plaintext = zeroize::Zeroizing::new(self.with(|s| Ok(s.decrypt(message)?))?);
        Ok(crate::error::secret_out(&plaintext))
    }

    /// The peer's 32-byte identity key.
    #[wasm_bindgen(getter, js_name = peerIdentityKey)]
    pub fn peer_identity_key(&self) -> Vec<u8> {
        self.peer.to_bytes().to_vec()
    }

    /// Our own 32-byte identity key.
    #[wasm_bindgen(getter, js_name = localIdentityKey)]
    pub fn local_identity_key(&self) -> Vec<u8> {
        self.local.to_bytes().to_vec()
    }

    /// 32 bytes naming the current state, equal on both sides once they
    /// have converged.
    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> JsResult<Vec<u8>> {
        self.with(|s| Ok(s.session_id().to_vec()))
    }

    /// Whether a message from the peer has arrived in the current state
    /// (our messages no longer carry setup data).
    #[wasm_bindgen(js_name = isConfirmed)]
    pub fn is_confirmed(&self) -> JsResult<bool> {
        self.with(|s| Ok(s.is_confirmed()))
    }

    /// Whether the current state was set up post-quantum (PQXDH): always,
    /// unless the account allows classical peers.
    #[wasm_bindgen(js_name = isPostQuantum)]
    pub fn is_post_quantum(&self) -> JsResult<bool> {
        self.with(|s| Ok(s.is_post_quantum()))
    }

    /// How many fresh ML-KEM-768 secrets the post-quantum ratchet has mixed
    /// into the current state (it advances by itself while both sides
    /// send).
    #[wasm_bindgen(js_name = postQuantumEpoch)]
    pub fn post_quantum_epoch(&self) -> JsResult<u32> {
        self.with(|s| Ok(s.post_quantum_epoch()))
    }

    /// Message keys kept for messages that have not arrived yet (bounded).
    #[wasm_bindgen(js_name = skippedKeyCount)]
    pub fn skipped_key_count(&self) -> JsResult<u32> {
        self.with(|s| Ok(count(s.skipped_key_count())))
    }
}

//! A 1:1 end-to-end encrypted session with one peer.

use std::sync::{Arc, Mutex};

use sealpost::IdentityKey;

use crate::error::Result;
use crate::keys::Key32;
use crate::locked::{Locked, locked};
use crate::persist::persist_exports;

/// An end-to-end encrypted session with one peer (PQXDH, the Double
/// Ratchet and the post-quantum ratchet).
///
/// Created by `Account.create_outbound_session` or
/// `Account.create_inbound_session`, or restored from an export.
/// Thread-safe: calls on one session are serialized by an internal lock.
#[derive(uniffi::Object)]
pub struct Session {
    /// Our identity key; never changes, so it is readable without the lock.
    local: IdentityKey,
    /// The peer's identity key; never changes either.
    peer: IdentityKey,
    inner: Mutex<sealpost::Session>,
}

locked!(Session, sealpost::Session);
persist_exports!(Session, "after every encrypt and decrypt (the ratchet moves on each message).");

impl Session {
    pub(crate) fn wrap(session: sealpost::Session) -> Arc<Self> {
        Arc::new(Self { local: *session.local_identity(), peer: *session.peer_identity(), inner: Mutex::new(session) })
    }
}

#[uniffi::export]
impl Session {
    /// Encrypts an application message for the peer.
    pub fn encrypt(&self, plaintext: Vec<u8>) -> Result<Vec<u8>> {
        self.with(|s| Ok(s.encrypt(&plaintext, &mut rand::rng())?))
    }

    /// Decrypts a message from the peer. A setup message that starts a new
    /// state throws `UnknownSessionSetup`: use `Account.decrypt`, which
    /// handles every case. On any error the session is unchanged.
    pub fn decrypt(&self, message: Vec<u8>) -> Result<Vec<u8>> {
        self.with(|s| Ok(s.decrypt(&message)?))
    }

    /// The peer's 32-byte identity key.
    pub fn peer_identity_key(&self) -> IdentityKey {
        self.peer
    }

    /// Our own 32-byte identity key.
    pub fn local_identity_key(&self) -> IdentityKey {
        self.local
    }

    /// 32 bytes naming the current state, equal on both sides once they
    /// have converged.
    pub fn session_id(&self) -> Result<Key32> {
        self.with(|s| Ok(s.session_id().into()))
    }

    /// Whether we have received a message in the current state (our
    /// messages no longer carry setup data).
    pub fn is_confirmed(&self) -> Result<bool> {
        self.with(|s| Ok(s.is_confirmed()))
    }

    /// Whether the current state was set up post-quantum (PQXDH): always,
    /// unless the account's setup policy allows classical peers.
    pub fn is_post_quantum(&self) -> Result<bool> {
        self.with(|s| Ok(s.is_post_quantum()))
    }

    /// How many fresh ML-KEM-768 secrets the post-quantum ratchet has mixed
    /// into the current state since setup (it advances by itself while
    /// both sides send).
    pub fn post_quantum_epoch(&self) -> Result<u32> {
        self.with(|s| Ok(s.post_quantum_epoch()))
    }

    /// Message keys kept for messages that have not arrived yet.
    pub fn skipped_key_count(&self) -> Result<u32> {
        self.with(|s| Ok(crate::count(s.skipped_key_count())))
    }
}

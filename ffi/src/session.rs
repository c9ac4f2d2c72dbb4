//! A 1:1 end-to-end encrypted session with one peer.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Result, lock, lock_all};
use crate::persist;

/// An end-to-end encrypted session with one peer (X3DH + Double Ratchet).
///
/// Created by `Account.create_outbound_session` or
/// `Account.create_inbound_session`, or restored from an export.
/// Thread-safe: calls on one session are serialized by an internal lock.
#[derive(uniffi::Object)]
pub struct Session {
    /// Our identity key; never changes, so it is readable without the lock.
    local: sealpost::IdentityKey,
    /// The peer's identity key; never changes either.
    peer: sealpost::IdentityKey,
    inner: Mutex<sealpost::Session>,
}

impl Session {
    pub(crate) fn wrap(session: sealpost::Session) -> Arc<Self> {
        Arc::new(Self { local: *session.local_identity(), peer: *session.peer_identity(), inner: Mutex::new(session) })
    }

    /// Runs `f` with the session locked. Callers that also hold an
    /// [`Account`](crate::account::Account) lock must have taken it first.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut sealpost::Session) -> Result<T>) -> Result<T> {
        let mut guard = lock(&self.inner, "Session")?;
        f(&mut guard)
    }

    /// The lock itself, for calls that lock several sessions at once
    /// (through [`lock_all`](crate::error::lock_all), after any account).
    pub(crate) fn mutex(&self) -> &Mutex<sealpost::Session> {
        &self.inner
    }

    /// Locks several sessions (address order, no duplicates) and returns
    /// the guards in the order given.
    pub(crate) fn lock_all(sessions: &[Arc<Self>]) -> Result<Vec<MutexGuard<'_, sealpost::Session>>> {
        let mutexes: Vec<&Mutex<sealpost::Session>> = sessions.iter().map(|s| s.mutex()).collect();
        lock_all(&mutexes, "Session")
    }
}

#[uniffi::export]
impl Session {
    /// Restores a session from `to_bytes` (plaintext state).
    #[uniffi::constructor]
    pub fn from_bytes(state: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Self::wrap(sealpost::Session::from_bytes(&state)?))
    }

    /// Restores a session from `export_encrypted` with the same
    /// 32-byte key. A wrong key or corrupted bytes throw `ExportCorrupted`.
    #[uniffi::constructor]
    pub fn import_encrypted(key: Vec<u8>, export: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Self::wrap(persist::import(key, &export)?))
    }

    /// The session's state sealed under a 32-byte key: store it after every
    /// encrypt and decrypt (the ratchet moves on each message).
    pub fn export_encrypted(&self, key: Vec<u8>) -> Result<Vec<u8>> {
        self.with(|s| persist::export(&*s, key))
    }

    /// The session's state in plaintext, secrets included. Store it only
    /// inside encrypted storage; prefer `export_encrypted`.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.with(|s| Ok(s.to_bytes().to_vec()))
    }

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
    pub fn peer_identity_key(&self) -> Vec<u8> {
        self.peer.to_bytes().to_vec()
    }

    /// Our own 32-byte identity key.
    pub fn local_identity_key(&self) -> Vec<u8> {
        self.local.to_bytes().to_vec()
    }

    /// 32 bytes naming the current state, equal on both sides once they
    /// have converged.
    pub fn session_id(&self) -> Result<Vec<u8>> {
        self.with(|s| Ok(s.session_id().to_vec()))
    }

    /// Whether we have received a message in the current state (our
    /// messages no longer carry setup data).
    pub fn is_confirmed(&self) -> Result<bool> {
        self.with(|s| Ok(s.is_confirmed()))
    }

    /// Message keys kept for messages that have not arrived yet.
    pub fn skipped_key_count(&self) -> Result<u32> {
        self.with(|s| Ok(u32::try_from(s.skipped_key_count()).unwrap_or(u32::MAX)))
    }
}

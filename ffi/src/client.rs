//! `Client`: one device's 1:1 state on a SQLite file (crate
//! `sealpost-client`), every change committed before anything leaves it.
//!
//! Foreign code opens a client at a file path with its 32-byte store key
//! (from the platform keychain), sends and receives bytes, and gets typed
//! events. The client is safe to share between threads.

use std::sync::Arc;

use sealpost::IdentityKey;
use sealpost_client::store::SqliteStore;

use crate::burnout::BurnoutMessage;
use crate::error::Result;
use crate::keys::Key32;

/// A message sealed for a peer and committed to the outbox: send `bytes`,
/// then `acknowledge(id)`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientOutgoing {
    /// The outbox entry.
    pub id: u64,
    /// The peer.
    pub peer: String,
    /// The wire bytes.
    pub bytes: Vec<u8>,
}

/// A received message not yet acknowledged (`Client.inbox`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientReceived {
    /// The inbox entry: `acknowledge_received(id)` once stored or shown.
    pub id: u64,
    /// The peer.
    pub peer: String,
    /// The content.
    pub plaintext: Vec<u8>,
}

/// What an incoming message was, once its effect is committed.
// The identity variants hold two parsed keys inline; the value only crosses
// the boundary once (UniFFI has no boxed fields).
#[allow(clippy::large_enum_variant)]
#[derive(uniffi::Enum)]
pub enum ClientEvent {
    /// A message; `acknowledge_received(id)` once the app stored it.
    Message {
        /// The inbox entry.
        id: u64,
        /// The peer.
        from: String,
        /// The content.
        plaintext: Vec<u8>,
        /// Whether it set up a new session state.
        new_session: bool,
    },
    /// A Burnout message (its envelope already checked).
    Burnout {
        /// The peer.
        from: String,
        /// The message.
        message: Arc<BurnoutMessage>,
    },
    /// Already received: ignored.
    Duplicate,
    /// An authentic setup message under another identity than the recorded
    /// one: ask the user, then `accept_identity_change` and deliver again.
    IdentityChanged {
        /// The peer.
        from: String,
        /// The recorded identity.
        recorded: IdentityKey,
        /// The identity the message comes from.
        offered: IdentityKey,
    },
    /// As `IdentityChanged` for a verified peer: blocked until
    /// `verify_identity`.
    Blocked {
        /// The peer.
        from: String,
        /// The identity the message comes from.
        offered: IdentityKey,
    },
}

/// What the client records of a peer's identity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientPeerTrust {
    /// The recorded identity.
    pub identity: IdentityKey,
    /// Whether the user verified it.
    pub verified: bool,
    /// Another identity seen and not accepted yet.
    pub pending: Option<IdentityKey>,
    /// Verified and changed: nothing goes to or comes from the peer.
    pub blocked: bool,
}

/// One device's state on a SQLite file.
#[derive(uniffi::Object)]
pub struct Client {
    inner: sealpost_client::Client<SqliteStore>,
}

#[uniffi::export]
impl Client {
    /// Creates a client (a new account) in a new database file at `path`.
    /// Throws `StoreAlreadyExists` if the file holds one.
    #[uniffi::constructor]
    pub fn create(path: String, store_key: Key32, now_ms: u64) -> Result<Arc<Self>> {
        let store = SqliteStore::open(&path).map_err(sealpost_client::ClientError::from)?;
        let inner = sealpost_client::Client::create(store, store_key.as_bytes(), &mut sealpost::default_rng(), now_ms)?;
        Ok(Arc::new(Self { inner }))
    }

    /// Opens the client in the database file at `path`. Throws
    /// `StoreNotFound` (no client there) or `StoreCorrupted` (wrong key).
    #[uniffi::constructor]
    pub fn open(path: String, store_key: Key32) -> Result<Arc<Self>> {
        let store = SqliteStore::open(&path).map_err(sealpost_client::ClientError::from)?;
        Ok(Arc::new(Self { inner: sealpost_client::Client::open(store, store_key.as_bytes())? }))
    }

    /// This device's identity key.
    pub fn identity(&self) -> Result<IdentityKey> {
        Ok(self.inner.identity()?)
    }

    /// The store generation (keep it to detect a rolled-back file).
    pub fn generation(&self) -> Result<u64> {
        Ok(self.inner.generation()?)
    }

    /// Bundles to publish after the rotation and refill policy ran.
    pub fn prekey_bundles(&self, now_ms: u64) -> Result<Vec<Vec<u8>>> {
        let bundles = self.inner.prekey_bundles(&mut sealpost::default_rng(), now_ms)?;
        Ok(bundles.iter().map(sealpost::PreKeyBundle::to_bytes).collect())
    }

    /// Starts a session with `peer` from its bundle bytes.
    pub fn start_session(&self, peer: String, bundle: Vec<u8>, now_ms: u64) -> Result<()> {
        let bundle = sealpost::PreKeyBundle::from_bytes(&bundle)?;
        Ok(self.inner.start_session(&peer, &bundle, now_ms, &mut sealpost::default_rng())?)
    }

    /// Encrypts for `peer`; the result is committed to the outbox first.
    pub fn send(&self, peer: String, plaintext: Vec<u8>) -> Result<ClientOutgoing> {
        let out = self.inner.send(&peer, &plaintext, &mut sealpost::default_rng())?;
        Ok(ClientOutgoing { id: out.id, peer: out.peer, bytes: out.bytes })
    }

    /// Accepts one incoming message from `from` at `now_ms`.
    pub fn receive(&self, from: String, bytes: Vec<u8>, now_ms: u64) -> Result<ClientEvent> {
        use sealpost_client::Event;
        Ok(match self.inner.receive(&from, &bytes, now_ms)? {
            Event::Message { id, from, plaintext, new_session } => {
                ClientEvent::Message { id, from, plaintext, new_session }
            }
            Event::Burnout { from, message } => ClientEvent::Burnout { from, message: BurnoutMessage::wrap(message) },
            Event::Duplicate => ClientEvent::Duplicate,
            Event::IdentityChanged { from, recorded, offered } => {
                ClientEvent::IdentityChanged { from, recorded, offered }
            }
            Event::Blocked { from, offered } => ClientEvent::Blocked { from, offered },
            // Event kinds added later: nothing the app must act on yet.
            _ => ClientEvent::Duplicate,
        })
    }

    /// Sealed messages not acknowledged yet, oldest first.
    pub fn outbox(&self) -> Result<Vec<ClientOutgoing>> {
        Ok(self
            .inner
            .outbox()?
            .into_iter()
            .map(|o| ClientOutgoing { id: o.id, peer: o.peer, bytes: o.bytes })
            .collect())
    }

    /// Removes an outbox entry.
    pub fn acknowledge(&self, id: u64) -> Result<()> {
        Ok(self.inner.acknowledge(id)?)
    }

    /// Received messages not acknowledged yet, oldest first.
    pub fn inbox(&self) -> Result<Vec<ClientReceived>> {
        Ok(self
            .inner
            .inbox()?
            .into_iter()
            .map(|o| ClientReceived { id: o.id, peer: o.peer, plaintext: o.bytes })
            .collect())
    }

    /// Removes an inbox entry.
    pub fn acknowledge_received(&self, id: u64) -> Result<()> {
        Ok(self.inner.acknowledge_received(id)?)
    }

    /// What the client records of `peer`'s identity.
    pub fn peer_trust(&self, peer: String) -> Result<Option<ClientPeerTrust>> {
        Ok(self.inner.peer_trust(&peer)?.map(|t| ClientPeerTrust {
            identity: t.identity,
            verified: t.verified,
            pending: t.pending,
            blocked: t.blocked,
        }))
    }

    /// The safety number with `peer`, as 60 digits in groups of five.
    pub fn safety_number(&self, peer: String) -> Result<Option<String>> {
        Ok(self.inner.safety_number(&peer)?.map(|n| n.to_string()))
    }

    /// The user verified `peer` under `identity`.
    pub fn verify_identity(&self, peer: String, identity: IdentityKey) -> Result<()> {
        Ok(self.inner.verify_identity(&peer, &identity)?)
    }

    /// The user accepts `identity` as `peer`'s new identity.
    pub fn accept_identity_change(&self, peer: String, identity: IdentityKey) -> Result<()> {
        Ok(self.inner.accept_identity_change(&peer, &identity)?)
    }
}

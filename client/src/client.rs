//! [`Client`]: a device's whole 1:1 state on a [`Store`], one committed
//! transaction per operation.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use rand_core::CryptoRng;
use sealpost::burnout::{BurnoutMessage, Opened};
use sealpost::wire::SessionMessage;
use sealpost::{Account, IdentityKey, PreKeyBundle, SafetyNumber, Session};
use zeroize::Zeroizing;

use crate::error::ClientError;
use crate::records::RecordKeys;
use crate::store::{Batch, Key, Store, Table};
use crate::trust::{PeerTrust, TrustRecord};

/// Unused one-time prekeys the client keeps at least (refilled by
/// [`Client::prekey_bundles`]).
pub const ONE_TIME_PREKEY_LOW: usize = 25;

/// How many unused one-time prekeys a refill brings the account up to.
pub const ONE_TIME_PREKEY_TARGET: usize = 100;

/// Age after which [`Client::prekey_bundles`] rotates the signed prekey (7
/// days, in ms); the old one keeps opening setups for
/// [`SIGNED_PREKEY_GRACE_MS`](sealpost::limits::SIGNED_PREKEY_GRACE_MS).
pub const SIGNED_PREKEY_ROTATION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Names of the client-wide records (table [`Table::Meta`]).
const ACCOUNT: &[u8] = b"account";
const GENERATION: &[u8] = b"generation";

/// A message sealed for a peer, committed to the outbox: hand
/// [`bytes`](Self::bytes) to the transport, then
/// [`acknowledge`](Client::acknowledge) it once the transport has taken it.
/// Until then [`Client::outbox`] offers it again (after a crash too).
#[derive(Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The outbox entry (increasing with every send).
    pub id: u64,
    /// The peer it is for.
    pub peer: String,
    /// The wire bytes.
    pub bytes: Vec<u8>,
}

impl core::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outgoing")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What an incoming message was, once its effect is committed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A message from `from`. `new_session`: it started a session (the
    /// peer's first message, or a re-initiation).
    Message {
        /// The inbox entry: [`Client::acknowledge_received`] it once the
        /// app has stored or shown the message; until then
        /// [`Client::inbox`] offers it again (after a crash too).
        id: u64,
        /// The peer (as the transport named it; its identity is the
        /// recorded one).
        from: String,
        /// The content.
        plaintext: Vec<u8>,
        /// Whether this message set up a new session state.
        new_session: bool,
    },
    /// A Burnout message from `from`: its envelope was checked at the clock
    /// passed to [`Client::receive`]; read it with
    /// [`BurnoutMessage::into_plaintext`] (the app may keep it in a
    /// [`Vault`](sealpost::burnout::Vault)).
    Burnout {
        /// The peer.
        from: String,
        /// The message.
        message: BurnoutMessage,
    },
    /// A message already received (a replay, or the transport delivered it
    /// twice): ignored, nothing changed.
    Duplicate,
    /// An authentic setup message from `from` under an identity other than
    /// the recorded one. Nothing was accepted; the new identity is recorded
    /// as pending. Ask the user, then
    /// [`Client::accept_identity_change`] and deliver the message again.
    IdentityChanged {
        /// The peer.
        from: String,
        /// The recorded identity.
        recorded: IdentityKey,
        /// The identity the message comes from.
        offered: IdentityKey,
    },
    /// As [`Event::IdentityChanged`] for a peer the user had verified: the
    /// peer is blocked (nothing is sent to it or accepted from it) until the
    /// user verifies the new identity ([`Client::verify_identity`]).
    Blocked {
        /// The peer.
        from: String,
        /// The identity the message comes from.
        offered: IdentityKey,
    },
}

/// One device's state, on a [`Store`].
///
/// * Every operation is one transaction: it reads what it needs, computes
///   every change, commits them together, and only then returns wire bytes
///   or an event. An error (or a crash) anywhere before the commit leaves
///   the store as it was; after it, everything returned is durable. So no
///   message key is ever used for two messages that left the client, no
///   accepted message is lost or delivered twice, and a consumed one-time
///   prekey never comes back.
/// * Opening reads two records (the store generation and the account),
///   whatever the number of sessions; an operation loads only the records
///   it touches.
/// * `Client` is `Send + Sync`: operations from several threads run one at
///   a time.
/// * Randomness: what the protocol draws (X3DH and ratchet keys, message
///   salts, prekeys) comes from the caller's `rng`; the nonces that seal
///   records in the store come from the operating system
///   ([`sealpost::default_rng`]), so the calls that only commit
///   (acknowledgements, receiving) need none.
///
/// ```
/// use sealpost_client::{Client, Event, store::MemoryStore};
/// let mut rng = rand::rng();
/// let now = 1_700_000_000_000;
/// let alice = Client::create(MemoryStore::new(), &[1; 32], &mut rng, now)?;
/// let bob = Client::create(MemoryStore::new(), &[2; 32], &mut rng, now)?;
///
/// let bundle = bob.prekey_bundles(&mut rng, now)?.remove(0); // via the server
/// alice.start_session("bob", &bundle, now, &mut rng)?;
/// let out = alice.send("bob", b"hi bob", &mut rng)?;
/// match bob.receive("alice", &out.bytes, now)? {
///     Event::Message { from, plaintext, .. } => assert_eq!((from.as_str(), &plaintext[..]), ("alice", &b"hi bob"[..])),
///     other => panic!("{other:?}"),
/// }
/// alice.acknowledge(out.id)?;
/// assert!(alice.outbox()?.is_empty());
/// # Ok::<(), sealpost_client::ClientError>(())
/// ```
pub struct Client<S: Store> {
    inner: Mutex<Inner<S>>,
}

struct Inner<S> {
    store: S,
    keys: RecordKeys,
    /// The account, as last committed.
    account: Account,
    /// The store generation, as last committed.
    generation: u64,
    /// Committed sessions and trust records of recently touched peers (at
    /// most [`CACHE_LIMIT`] each), so a hot conversation does not reopen
    /// its records (decoding a session's identity keys) every call.
    sessions: HashMap<String, Session>,
    trust: HashMap<String, Option<TrustRecord>>,
    /// What the batch being built will have committed, for the caches.
    staged_sessions: Vec<(String, Session)>,
    staged_trust: Vec<(String, TrustRecord)>,
    /// A commit failed: the store may or may not hold it (a backend can
    /// fail after writing), so every cached value is dropped and the account
    /// reloaded before the next operation.
    stale: bool,
}

/// Most cached sessions (and trust records) a client keeps in memory.
pub const CACHE_LIMIT: usize = 1024;

impl<S: Store> Client<S> {
    /// Creates a client (a new account) in an empty store, sealed under the
    /// app's 32-byte `store_key` (keep it in the platform's keychain).
    /// Fails with [`ClientError::AlreadyExists`] if the store holds one,
    /// under any key.
    pub fn create<R: CryptoRng + ?Sized>(
        store: S,
        store_key: &[u8; 32],
        rng: &mut R,
        now_ms: u64,
    ) -> Result<Self, ClientError> {
        let keys = RecordKeys::derive(store_key);
        // Any client-wide record, under this key or another: one store holds
        // one client.
        if !store.scan(Table::Meta)?.is_empty() {
            return Err(ClientError::AlreadyExists);
        }
        let mut account = Account::new(rng, now_ms);
        account.generate_one_time_prekeys(ONE_TIME_PREKEY_TARGET, rng)?;
        let mut inner = Inner::new(store, keys, account.clone(), 0);
        let mut batch = Batch::new();
        inner.put_account(&mut batch, &mut account, rng);
        inner.commit(batch, rng)?;
        inner.account = account;
        Ok(Self { inner: Mutex::new(inner) })
    }

    /// Opens the client in `store`. Fails with [`ClientError::NotFound`] if
    /// there is none and [`ClientError::Corrupted`] under the wrong key.
    /// Reads two records (three when the store is empty or the key wrong).
    pub fn open(store: S, store_key: &[u8; 32]) -> Result<Self, ClientError> {
        Self::open_at_least(store, store_key, 0)
    }

    /// Opens the client and refuses a store whose
    /// [`generation`](Self::generation) is below `min_generation`
    /// ([`ClientError::RolledBack`]): for apps that keep the generation
    /// where a restore cannot roll it back (a keychain item, a counter
    /// on a server).
    pub fn open_at_least(store: S, store_key: &[u8; 32], min_generation: u64) -> Result<Self, ClientError> {
        let keys = RecordKeys::derive(store_key);
        let key = keys.key(Table::Meta, GENERATION);
        let Some(sealed) = store.get(Table::Meta, &key)? else {
            // Records under another store key are a wrong key, not an
            // empty store.
            return Err(if store.scan(Table::Meta)?.is_empty() {
                ClientError::NotFound
            } else {
                ClientError::Corrupted { table: "meta" }
            });
        };
        let plain = keys.open(Table::Meta, &key, &sealed)?;
        let bytes: [u8; 8] = plain.as_slice().try_into().map_err(|_| ClientError::Corrupted { table: "meta" })?;
        let generation = u64::from_be_bytes(bytes);
        if generation < min_generation {
            return Err(ClientError::RolledBack { generation, minimum: min_generation });
        }
        let key = keys.key(Table::Meta, ACCOUNT);
        let export = store.get(Table::Meta, &key)?.ok_or(ClientError::Corrupted { table: "meta" })?;
        let account = keys.import(Table::Meta, &key, &export)?;
        Ok(Self { inner: Mutex::new(Inner::new(store, keys, account, generation)) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner<S>>, ClientError> {
        let mut inner = self.inner.lock().map_err(|_| ClientError::Poisoned)?;
        if inner.stale {
            inner.reload()?;
        }
        // Staging is per operation: what an operation that returned early
        // staged was never committed.
        inner.staged_sessions.clear();
        inner.staged_trust.clear();
        Ok(inner)
    }

    /// This device's identity key.
    pub fn identity(&self) -> Result<IdentityKey, ClientError> {
        Ok(*self.lock()?.account.identity())
    }

    /// The store generation: how many transactions this client committed.
    /// An app that keeps it (see [`Self::open_at_least`]) detects a rolled
    /// back store.
    pub fn generation(&self) -> Result<u64, ClientError> {
        Ok(self.lock()?.generation)
    }

    /// Bundles to publish, one per unused one-time prekey, after the
    /// policy ran at `now_ms`: the signed prekey is rotated once it is
    /// [`SIGNED_PREKEY_ROTATION_MS`] old (old ones expire after their grace
    /// period), and one-time prekeys are refilled to
    /// [`ONE_TIME_PREKEY_TARGET`] once fewer than [`ONE_TIME_PREKEY_LOW`]
    /// are left. Publish the returned set in place of the previous one.
    pub fn prekey_bundles<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        now_ms: u64,
    ) -> Result<Vec<PreKeyBundle>, ClientError> {
        let mut inner = self.lock()?;
        let mut account = inner.account.clone();
        let current = account.prekey_bundle()?.signed_prekey_created_at();
        let mut changed = false;
        if now_ms.saturating_sub(current) >= SIGNED_PREKEY_ROTATION_MS {
            account.rotate_signed_prekey(rng, now_ms)?;
            changed = true;
        }
        account.expire_signed_prekeys(now_ms);
        let left = account.remaining_one_time_prekeys();
        if left < ONE_TIME_PREKEY_LOW {
            account.generate_one_time_prekeys(ONE_TIME_PREKEY_TARGET - left, rng)?;
            changed = true;
        }
        if changed {
            let mut batch = Batch::new();
            inner.put_account(&mut batch, &mut account, rng);
            inner.commit(batch, rng)?;
            inner.account = account;
        }
        Ok(inner.account.prekey_bundles()?)
    }

    /// Starts a session with `peer` from its prekey bundle (fetched from the
    /// server at `now_ms`). The bundle's identity is recorded for the peer on
    /// first use; a bundle under another identity than the recorded one is
    /// refused with [`ClientError::IdentityChanged`] (or
    /// [`ClientError::Blocked`] for a verified peer) until the user accepts
    /// it. An existing session with the peer is replaced.
    pub fn start_session<R: CryptoRng + ?Sized>(
        &self,
        peer: &str,
        bundle: &PreKeyBundle,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        let mut inner = self.lock()?;
        let trust = inner.trust(peer)?;
        let mut batch = Batch::new();
        match trust {
            Some(t) if t.is_blocked() => return Err(ClientError::Blocked { peer: peer.into() }),
            Some(t) if t.identity != *bundle.identity() => {
                return Err(ClientError::IdentityChanged {
                    peer: peer.into(),
                    recorded: Box::new(t.identity),
                    offered: Box::new(*bundle.identity()),
                });
            }
            Some(_) => {}
            None => inner.put_trust(
                &mut batch,
                peer,
                &TrustRecord::first_use(*bundle.identity()),
                &mut sealpost::default_rng(),
            ),
        }
        let mut session = inner.account.create_outbound_session_at(bundle, now_ms, rng)?;
        inner.put_session(&mut batch, peer, &mut session, rng);
        inner.commit(batch, rng)?;
        Ok(())
    }

    /// Whether a session with `peer` exists.
    pub fn has_session(&self, peer: &str) -> Result<bool, ClientError> {
        let inner = self.lock()?;
        let key = inner.keys.key(Table::Session, peer.as_bytes());
        Ok(inner.store.get(Table::Session, &key)?.is_some())
    }

    /// Encrypts `plaintext` for `peer` and commits the new session state
    /// and the outbox entry together; only then are the bytes returned.
    /// [`ClientError::NoSession`] without a session
    /// ([`start_session`](Self::start_session) first).
    pub fn send<R: CryptoRng + ?Sized>(
        &self,
        peer: &str,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        let mut inner = self.lock()?;
        if inner.trust(peer)?.is_some_and(|t| t.is_blocked()) {
            return Err(ClientError::Blocked { peer: peer.into() });
        }
        let mut session = inner.session(peer)?.ok_or_else(|| ClientError::NoSession { peer: peer.into() })?;
        let bytes = session.encrypt(plaintext, rng)?;
        let mut batch = Batch::new();
        inner.put_session(&mut batch, peer, &mut session, rng);
        let id = inner.generation + 1;
        inner.put_record(&mut batch, Table::Outbox, id, peer, &bytes, rng);
        inner.commit(batch, rng)?;
        Ok(Outgoing { id, peer: peer.into(), bytes })
    }

    /// Every sealed message not yet acknowledged, oldest first.
    pub fn outbox(&self) -> Result<Vec<Outgoing>, ClientError> {
        self.lock()?.entries(Table::Outbox)
    }

    /// Removes an outbox entry once the transport has taken it (unknown ids
    /// are ignored).
    pub fn acknowledge(&self, id: u64) -> Result<(), ClientError> {
        self.lock()?.acknowledge(Table::Outbox, id)
    }

    /// Every received message not yet acknowledged, oldest first, as
    /// `(id, peer, plaintext)` in an [`Outgoing`]-shaped record (`bytes` is
    /// the plaintext): what [`Event::Message`] handed out before a crash
    /// that the app may not have stored.
    pub fn inbox(&self) -> Result<Vec<Outgoing>, ClientError> {
        self.lock()?.entries(Table::Inbox)
    }

    /// Removes an inbox entry once the app has stored or shown the message
    /// (unknown ids are ignored).
    pub fn acknowledge_received(&self, id: u64) -> Result<(), ClientError> {
        self.lock()?.acknowledge(Table::Inbox, id)
    }

    /// Accepts one incoming 1:1 message that the transport says comes from
    /// `from`, at the local clock `now_ms`, and commits its effect (session,
    /// account, trust) before returning the event. A replay is
    /// [`Event::Duplicate`]; any other refusal is an error and changes
    /// nothing.
    pub fn receive(&self, from: &str, bytes: &[u8], now_ms: u64) -> Result<Event, ClientError> {
        let mut inner = self.lock()?;
        let mut rng = sealpost::default_rng();
        let trust = inner.trust(from)?;
        if trust.as_ref().is_some_and(TrustRecord::is_blocked) {
            return Err(ClientError::Blocked { peer: from.into() });
        }
        let mut batch = Batch::new();
        let existing = inner.session(from)?;
        // The common case first: a message for a state the session holds
        // (its peer's identity is the recorded one). It needs neither the
        // account nor a parse of its own.
        if let Some(mut session) = existing.clone() {
            match session.open(bytes, now_ms) {
                Ok(opened) => return inner.accepted(batch, from, session, None, opened, false, &mut rng),
                Err(sealpost::Error::DuplicateMessage) => return Ok(Event::Duplicate),
                // A setup for a state it does not hold, or from another
                // identity: the account path below decides.
                Err(sealpost::Error::Session(
                    sealpost::SessionError::UnknownSessionSetup | sealpost::SessionError::PeerMismatch,
                )) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // A setup message for a new state: the account's prekeys, and the
        // identity it claims checked against the recorded one.
        let parsed = SessionMessage::parse(bytes).map_err(sealpost::Error::from)?;
        let Some(claimed) = parsed.claimed_sender() else {
            return Err(ClientError::NoSession { peer: from.into() });
        };
        let mut account = inner.account.clone();
        if let Some(t) = trust.as_ref().filter(|t| t.identity != claimed) {
            // Authentic? Decrypt on copies; nothing of it is kept.
            let (_, opened) = account.create_inbound_session_at(bytes, now_ms)?;
            opened?;
            let mut pending = t.clone();
            pending.pending = Some(claimed);
            inner.put_trust(&mut batch, from, &pending, &mut rng);
            inner.commit(batch, &mut rng)?;
            return Ok(if t.verified {
                Event::Blocked { from: from.into(), offered: claimed }
            } else {
                Event::IdentityChanged { from: from.into(), recorded: t.identity, offered: claimed }
            });
        }
        if trust.is_none() {
            inner.put_trust(&mut batch, from, &TrustRecord::first_use(claimed), &mut rng);
        }
        let (session, opened) = match existing {
            Some(mut session) => match account.open(&mut session, bytes, now_ms) {
                Err(sealpost::Error::DuplicateMessage) => return Ok(Event::Duplicate),
                other => (session, other?),
            },
            None => match account.create_inbound_session_at(bytes, now_ms) {
                Err(sealpost::Error::Session(sealpost::SessionError::OneTimePreKeyReused(_))) => {
                    return Ok(Event::Duplicate);
                }
                other => {
                    let (session, opened) = other?;
                    (session, opened?)
                }
            },
        };
        inner.accepted(batch, from, session, Some(account), opened, true, &mut rng)
    }

    /// What the client records of `peer`'s identity.
    pub fn peer_trust(&self, peer: &str) -> Result<Option<PeerTrust>, ClientError> {
        Ok(self.lock()?.trust(peer)?.map(|t| t.public()))
    }

    /// The safety number of this device and `peer`'s recorded identity, for
    /// the users to compare; then [`verify_identity`](Self::verify_identity).
    pub fn safety_number(&self, peer: &str) -> Result<Option<SafetyNumber>, ClientError> {
        let mut inner = self.lock()?;
        let ours = *inner.account.identity();
        Ok(inner.trust(peer)?.map(|t| SafetyNumber::new(&ours, &t.identity)))
    }

    /// The user compared safety numbers with `peer` under `identity`:
    /// records it as verified (unblocking the peer if it was blocked). If
    /// that is a new identity, the session with the old one is deleted:
    /// start a new one, or deliver the peer's setup message again.
    pub fn verify_identity(&self, peer: &str, identity: &IdentityKey) -> Result<(), ClientError> {
        self.set_identity(peer, identity, true)
    }

    /// The user accepts `identity` as `peer`'s new identity (unverified).
    /// Refused with [`ClientError::Blocked`] for a verified peer (verify
    /// instead). The session with the old identity is deleted.
    pub fn accept_identity_change(&self, peer: &str, identity: &IdentityKey) -> Result<(), ClientError> {
        self.set_identity(peer, identity, false)
    }

    fn set_identity(&self, peer: &str, identity: &IdentityKey, verified: bool) -> Result<(), ClientError> {
        let mut inner = self.lock()?;
        let mut rng = sealpost::default_rng();
        let current = inner.trust(peer)?;
        if !verified && current.as_ref().is_some_and(|t| t.verified && t.identity != *identity) {
            return Err(ClientError::Blocked { peer: peer.into() });
        }
        let mut batch = Batch::new();
        if current.as_ref().is_some_and(|t| t.identity != *identity) {
            inner.delete_session(&mut batch, peer);
        }
        inner.put_trust(&mut batch, peer, &TrustRecord { identity: *identity, verified, pending: None }, &mut rng);
        inner.commit(batch, &mut rng)?;
        Ok(())
    }
}

impl<S: Store> Inner<S> {
    fn new(store: S, keys: RecordKeys, account: Account, generation: u64) -> Self {
        Self {
            store,
            keys,
            account,
            generation,
            sessions: HashMap::new(),
            trust: HashMap::new(),
            staged_sessions: Vec::new(),
            staged_trust: Vec::new(),
            stale: false,
        }
    }

    /// After a failed commit: reads the generation and the account again
    /// and forgets every cached record.
    fn reload(&mut self) -> Result<(), ClientError> {
        let key = self.keys.key(Table::Meta, GENERATION);
        let sealed = self.store.get(Table::Meta, &key)?.ok_or(ClientError::Corrupted { table: "meta" })?;
        let plain = self.keys.open(Table::Meta, &key, &sealed)?;
        let bytes: [u8; 8] = plain.as_slice().try_into().map_err(|_| ClientError::Corrupted { table: "meta" })?;
        let key = self.keys.key(Table::Meta, ACCOUNT);
        let export = self.store.get(Table::Meta, &key)?.ok_or(ClientError::Corrupted { table: "meta" })?;
        self.account = self.keys.import(Table::Meta, &key, &export)?;
        self.generation = u64::from_be_bytes(bytes);
        self.sessions.clear();
        self.trust.clear();
        self.stale = false;
        Ok(())
    }

    fn trust(&mut self, peer: &str) -> Result<Option<TrustRecord>, ClientError> {
        if let Some(t) = self.trust.get(peer) {
            return Ok(t.clone());
        }
        let key = self.keys.key(Table::Trust, peer.as_bytes());
        let record = match self.store.get(Table::Trust, &key)? {
            Some(sealed) => Some(TrustRecord::decode(&self.keys.open(Table::Trust, &key, &sealed)?)?),
            None => None,
        };
        cache_insert(&mut self.trust, peer, record.clone());
        Ok(record)
    }

    fn put_trust<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, peer: &str, t: &TrustRecord, rng: &mut R) {
        let key = self.keys.key(Table::Trust, peer.as_bytes());
        batch.put(Table::Trust, key, self.keys.seal(Table::Trust, &key, &t.encode(), rng));
        self.staged_trust.push((peer.into(), t.clone()));
    }

    fn session(&mut self, peer: &str) -> Result<Option<Session>, ClientError> {
        if let Some(s) = self.sessions.get(peer) {
            return Ok(Some(s.clone()));
        }
        let key = self.keys.key(Table::Session, peer.as_bytes());
        let Some(export) = self.store.get(Table::Session, &key)? else { return Ok(None) };
        let session: Session = self.keys.import(Table::Session, &key, &export)?;
        cache_insert(&mut self.sessions, peer, session.clone());
        Ok(Some(session))
    }

    fn put_session<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, peer: &str, s: &mut Session, rng: &mut R) {
        let key = self.keys.key(Table::Session, peer.as_bytes());
        batch.put(Table::Session, key, self.keys.export(Table::Session, &key, s, rng));
        self.staged_sessions.push((peer.into(), s.clone()));
    }

    /// Commits an accepted message: the session, the account if it
    /// changed, and an inbox entry; then hands out the event.
    #[allow(clippy::too_many_arguments)]
    fn accepted<R: CryptoRng + ?Sized>(
        &mut self,
        mut batch: Batch,
        from: &str,
        mut session: Session,
        account: Option<Account>,
        opened: Opened,
        new_session: bool,
        rng: &mut R,
    ) -> Result<Event, ClientError> {
        self.put_session(&mut batch, from, &mut session, rng);
        let mut account = account;
        if let Some(account) = account.as_mut() {
            self.put_account(&mut batch, account, rng);
        }
        let id = self.generation + 1;
        if let Opened::Message(plaintext) = &opened {
            self.put_record(&mut batch, Table::Inbox, id, from, plaintext, rng);
        }
        self.commit(batch, rng)?;
        if let Some(account) = account {
            self.account = account;
        }
        Ok(match opened {
            Opened::Message(plaintext) => Event::Message { id, from: from.into(), plaintext, new_session },
            Opened::Burnout(message) => Event::Burnout { from: from.into(), message },
        })
    }

    fn delete_session(&mut self, batch: &mut Batch, peer: &str) {
        batch.delete(Table::Session, self.keys.key(Table::Session, peer.as_bytes()));
        self.sessions.remove(peer);
    }

    fn put_account<R: CryptoRng + ?Sized>(&self, batch: &mut Batch, account: &mut Account, rng: &mut R) {
        let key = self.keys.key(Table::Meta, ACCOUNT);
        batch.put(Table::Meta, key, self.keys.export(Table::Meta, &key, account, rng));
    }

    /// An outbox or inbox entry.
    fn put_record<R: CryptoRng + ?Sized>(
        &self,
        batch: &mut Batch,
        table: Table,
        id: u64,
        peer: &str,
        bytes: &[u8],
        rng: &mut R,
    ) {
        let key: Key = self.keys.key(table, &id.to_be_bytes());
        let plain = Zeroizing::new(encode_outgoing(id, peer, bytes));
        batch.put(table, key, self.keys.seal(table, &key, &plain, rng));
    }

    /// Every outbox or inbox entry, oldest first.
    fn entries(&self, table: Table) -> Result<Vec<Outgoing>, ClientError> {
        let mut out = Vec::new();
        for (key, sealed) in self.store.scan(table)? {
            let plain = self.keys.open(table, &key, &sealed)?;
            out.push(decode_outgoing(&plain)?);
        }
        out.sort_by_key(|o| o.id);
        Ok(out)
    }

    /// Deletes an outbox or inbox entry (unknown ids are ignored).
    fn acknowledge(&mut self, table: Table, id: u64) -> Result<(), ClientError> {
        let key = self.keys.key(table, &id.to_be_bytes());
        if self.store.get(table, &key)?.is_none() {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.delete(table, key);
        self.commit(batch, &mut sealpost::default_rng())
    }

    /// Commits `batch` together with the next store generation; then the
    /// caches take what it staged. On failure the client goes stale (see
    /// [`Inner::stale`]).
    fn commit<R: CryptoRng + ?Sized>(&mut self, mut batch: Batch, rng: &mut R) -> Result<(), ClientError> {
        let generation = self.generation + 1;
        let key = self.keys.key(Table::Meta, GENERATION);
        batch.put(Table::Meta, key, self.keys.seal(Table::Meta, &key, &generation.to_be_bytes(), rng));
        let sessions = core::mem::take(&mut self.staged_sessions);
        let trust = core::mem::take(&mut self.staged_trust);
        if let Err(e) = self.store.commit(batch) {
            self.stale = true;
            return Err(e.into());
        }
        self.generation = generation;
        for (peer, s) in sessions {
            cache_insert(&mut self.sessions, &peer, s);
        }
        for (peer, t) in trust {
            cache_insert(&mut self.trust, &peer, Some(t));
        }
        Ok(())
    }
}

/// Inserts into a cache of at most [`CACHE_LIMIT`] entries (emptied when
/// full: the records are in the store).
fn cache_insert<T>(cache: &mut HashMap<String, T>, peer: &str, value: T) {
    if cache.len() >= CACHE_LIMIT && !cache.contains_key(peer) {
        cache.clear();
    }
    cache.insert(peer.into(), value);
}

fn encode_outgoing(id: u64, peer: &str, bytes: &[u8]) -> Vec<u8> {
    let peer_len = u32::try_from(peer.len()).unwrap_or(u32::MAX);
    [&id.to_be_bytes()[..], &peer_len.to_be_bytes(), peer.as_bytes(), bytes].concat()
}

fn decode_outgoing(plain: &[u8]) -> Result<Outgoing, ClientError> {
    let corrupted = || ClientError::Corrupted { table: "outbox" };
    let (id, rest) = plain.split_at_checked(8).ok_or_else(corrupted)?;
    let (len, rest) = rest.split_at_checked(4).ok_or_else(corrupted)?;
    let len = u32::from_be_bytes(len.try_into().map_err(|_| corrupted())?) as usize;
    let (peer, bytes) = rest.split_at_checked(len).ok_or_else(corrupted)?;
    Ok(Outgoing {
        id: u64::from_be_bytes(id.try_into().map_err(|_| corrupted())?),
        peer: String::from_utf8(peer.to_vec()).map_err(|_| corrupted())?,
        bytes: bytes.to_vec(),
    })
}

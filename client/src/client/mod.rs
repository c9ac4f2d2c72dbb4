//! [`Client`]: a device's whole state on a [`Store`], one committed
//! transaction per operation.
//!
//! The operations are grouped by what they touch: `direct.rs` (1:1
//! sessions, and the entry point [`Client::receive`]), `group.rs` (sender-key
//! groups), `forkout.rs`, `vault.rs` (Burnout content), `mailbox.rs` (the
//! outbox and the inbox). This file holds what they share: opening, the
//! record caches, and the one commit every operation ends with.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use rand_core::CryptoRng;
use sealpost::group::GroupId;
use sealpost::{Account, IdentityKey, PreKeyBundle, SafetyNumber, Session};

use crate::error::ClientError;
use crate::records::RecordKeys;
use crate::store::{Batch, Key, Store, Table};
use crate::trust::{PeerTrust, TrustRecord};

mod devices;
mod direct;
pub(crate) mod event;
mod forkout;
mod group;
pub(crate) mod mailbox;
mod vault;

use group::GroupEntry;
use mailbox::{Destination, Outgoing, Received, Via};
pub use vault::MAX_BURNED_ORIGINS;

/// Unused one-time prekeys the client keeps at least (refilled by
/// [`Client::prekey_bundles`]).
pub const ONE_TIME_PREKEY_LOW: usize = 25;

/// How many unused one-time prekeys a refill brings the account up to.
pub const ONE_TIME_PREKEY_TARGET: usize = 100;

/// Age after which [`Client::prekey_bundles`] rotates the signed prekey (7
/// days, in ms); the old one keeps opening setups for
/// [`SIGNED_PREKEY_GRACE_MS`](sealpost::limits::SIGNED_PREKEY_GRACE_MS).
pub const SIGNED_PREKEY_ROTATION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Most cached sessions, trust records and groups a client keeps in memory
/// (each).
pub const CACHE_LIMIT: usize = 1024;

/// Outbox and inbox entries one operation can write: an entry id is the
/// commit's generation times this, plus the entry's index in the commit.
const ENTRIES_PER_COMMIT: u64 = 1 << 20;

/// Names of the client-wide records (table [`Table::Meta`]).
const ACCOUNT: &[u8] = b"account";
const GENERATION: &[u8] = b"generation";

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
///   whatever the number of sessions and groups; an operation loads only
///   the records it touches.
/// * `Client` is `Send + Sync`: operations from several threads run one at
///   a time.
/// * Randomness: what the protocol draws (X3DH and ratchet keys, message
///   salts, prekeys, sender keys) comes from the caller's `rng`; the nonces
///   that seal records in the store come from the operating system
///   ([`sealpost::default_rng`]), so the calls that only commit
///   (acknowledgements, receiving) need none.
///
/// ```
/// use sealpost_client::{Client, Event, store::MemoryStore};
/// let mut rng = sealpost::default_rng();
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

/// What the lock guards. Every operation runs on it from `lock` to
/// `commit`.
pub(crate) struct Inner<S> {
    store: S,
    keys: RecordKeys,
    /// The account, as last committed.
    account: Account,
    /// The store generation, as last committed.
    generation: u64,
    /// The generation record as last committed.
    meta: Meta,
    /// Which of the records the generation record pins the batch being
    /// built writes.
    writes: Pinned,
    /// Committed records of recently touched peers and groups (at most
    /// [`CACHE_LIMIT`] each), so a hot conversation does not reopen its
    /// records (decoding identity keys) every call.
    sessions: HashMap<String, Session>,
    trust: HashMap<String, Option<TrustRecord>>,
    groups: HashMap<GroupId, GroupEntry>,
    /// What the batch being built will have committed, for the caches.
    staged: Vec<Staged>,
    /// The index of user records as this operation changed it (devices.rs).
    user_index: Option<devices::UserIndex>,
    /// Outbox and inbox entries the batch being built holds.
    entries: u64,
    /// A commit failed: the store may or may not hold it (a backend can
    /// fail after writing), so every cached value is dropped and the account
    /// reloaded before the next operation.
    stale: bool,
}

/// A record the batch being built writes, as the caches take it after the
/// commit.
enum Staged {
    Account(Box<Account>),
    Session(String, Box<Session>),
    /// A session deleted (of a device that left its user's list).
    SessionDeleted(String),
    Trust(String, Box<TrustRecord>),
    Group(GroupId, Box<GroupEntry>),
}

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
        let mut inner = Inner::new(store, keys, account.clone(), Meta::default());
        let mut batch = Batch::new();
        inner.put_account(&mut batch, account, rng);
        inner.commit(batch, rng)?;
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
        let Some((account, meta)) = load_meta(&store, &keys)? else {
            // Records under another store key are a wrong key, not an
            // empty store.
            return Err(if store.scan(Table::Meta)?.is_empty() {
                ClientError::NotFound
            } else {
                ClientError::Corrupted { table: "meta" }
            });
        };
        if meta.generation < min_generation {
            return Err(ClientError::RolledBack { generation: meta.generation, minimum: min_generation });
        }
        Ok(Self { inner: Mutex::new(Inner::new(store, keys, account, meta)) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner<S>>, ClientError> {
        let mut inner = self.inner.lock().map_err(|_| ClientError::Poisoned)?;
        if inner.stale {
            inner.reload()?;
        }
        // Staging is per operation: what an operation that returned early
        // staged was never committed.
        inner.staged.clear();
        inner.entries = 0;
        inner.writes = Pinned::default();
        inner.user_index = None;
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
        let before = account.to_bytes();
        account.expire_signed_prekeys(now_ms);
        // Expired signed prekeys leave the store now, not at the next rotation.
        changed |= account.to_bytes() != before;
        let left = account.remaining_one_time_prekeys();
        if left < ONE_TIME_PREKEY_LOW {
            account.generate_one_time_prekeys(ONE_TIME_PREKEY_TARGET - left, rng)?;
            changed = true;
        }
        if changed {
            let mut batch = Batch::new();
            inner.put_account(&mut batch, account, rng);
            inner.commit(batch, rng)?;
        }
        Ok(inner.account.prekey_bundles()?)
    }

    /// Every sealed message not yet acknowledged, oldest first.
    pub fn outbox(&self) -> Result<Vec<Outgoing>, ClientError> {
        let inner = self.lock()?;
        let mut out = Vec::new();
        for (key, sealed) in inner.store.scan(Table::Outbox)? {
            out.push(mailbox::decode_outgoing(&inner.open(Table::Outbox, &key, &sealed)?)?);
        }
        out.sort_by_key(|o| o.id);
        Ok(out)
    }

    /// Removes an outbox entry once the transport has taken it (unknown ids
    /// are ignored).
    pub fn acknowledge(&self, id: u64) -> Result<(), ClientError> {
        self.lock()?.acknowledge(Table::Outbox, id)
    }

    /// Every received message not yet acknowledged, oldest first: what an
    /// [`Event`](crate::Event) handed out before a crash that the app may not
    /// have stored.
    pub fn inbox(&self) -> Result<Vec<Received>, ClientError> {
        let inner = self.lock()?;
        let mut out = Vec::new();
        for (key, sealed) in inner.store.scan(Table::Inbox)? {
            out.push(mailbox::decode_received(&inner.open(Table::Inbox, &key, &sealed)?)?);
        }
        out.sort_by_key(|o| o.id);
        Ok(out)
    }

    /// Removes an inbox entry once the app has stored or shown the message
    /// (unknown ids are ignored).
    pub fn acknowledge_received(&self, id: u64) -> Result<(), ClientError> {
        self.lock()?.acknowledge(Table::Inbox, id)
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
        devices::check_name(peer)?;
        self.set_identity(peer, identity, true)
    }

    /// The user accepts `identity` as `peer`'s new identity (unverified).
    /// Refused with [`ClientError::Blocked`] for a verified peer (verify
    /// instead). The session with the old identity is deleted. Accepting the
    /// recorded identity again (dismissing a pending change) keeps it as it
    /// was, verified or not.
    pub fn accept_identity_change(&self, peer: &str, identity: &IdentityKey) -> Result<(), ClientError> {
        devices::check_name(peer)?;
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
        // Accepting the recorded identity again keeps it verified.
        let verified = verified || current.as_ref().is_some_and(|t| t.verified && t.identity == *identity);
        inner.put_trust(&mut batch, peer, TrustRecord { identity: *identity, verified, pending: None }, &mut rng);
        inner.commit(batch, &mut rng)?;
        Ok(())
    }
}

/// What the generation record holds: the store generation, and the
/// generations that last wrote the records it pins (0: not written yet):
/// the account, the vault, the own user (devices.rs), the burn origins
/// (vault.rs) and the index of other users' device lists (devices.rs).
/// Each of those must have been written exactly then, so an old copy of
/// one put back alone is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Meta {
    generation: u64,
    account_written: u64,
    vault_written: u64,
    own_user_written: u64,
    origins_written: u64,
    user_index_written: u64,
}

/// The records a commit writes, of those the generation record pins.
#[derive(Default)]
struct Pinned {
    account: bool,
    vault: bool,
    own_user: bool,
    origins: bool,
    user_index: bool,
}

impl Meta {
    fn fields(&self) -> [u64; 6] {
        [
            self.generation,
            self.account_written,
            self.vault_written,
            self.own_user_written,
            self.origins_written,
            self.user_index_written,
        ]
    }

    fn encode(&self) -> Vec<u8> {
        self.fields().iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// Reads six fields, or the first three of a store written before
    /// users with several devices (which has none of the other records).
    fn decode(plain: &[u8]) -> Option<Self> {
        let mut r = mailbox::Cursor(plain);
        let mut meta =
            Self { generation: r.u64()?, account_written: r.u64()?, vault_written: r.u64()?, ..Self::default() };
        if !r.0.is_empty() {
            meta.own_user_written = r.u64()?;
            meta.origins_written = r.u64()?;
            meta.user_index_written = r.u64()?;
        }
        r.0.is_empty().then_some(meta)
    }

    /// Every pinned generation is at most the store's.
    fn is_consistent(&self) -> bool {
        self.fields().iter().all(|written| *written <= self.generation)
    }
}

impl<S: Store> Inner<S> {
    /// Opens a record the generation record pins at `expected`: it must
    /// have been written exactly then (`None` if it was never written).
    fn open_pinned(
        &self,
        table: Table,
        name: &[u8],
        expected: u64,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, ClientError> {
        let key = self.keys.key(table, name);
        match self.store.get(table, &key)? {
            Some(sealed) => {
                let (written, plain) = self.keys.open(table, &key, &sealed)?;
                exactly(&self.meta, expected, written)?;
                Ok(Some(plain))
            }
            None if expected == 0 => Ok(None),
            None => Err(ClientError::RolledBack { generation: 0, minimum: expected }),
        }
    }
}

/// A record the generation record says was written at `expected` but says
/// itself it was written at `written`: an old (or newer) copy of it was put
/// back.
fn exactly(meta: &Meta, expected: u64, written: u64) -> Result<(), ClientError> {
    if written != expected {
        return Err(ClientError::RolledBack { generation: written.min(meta.generation), minimum: expected });
    }
    Ok(())
}

/// Reads the generation record and the account (`None`: no generation
/// record under this store key).
fn load_meta<S: Store>(store: &S, keys: &RecordKeys) -> Result<Option<(Account, Meta)>, ClientError> {
    let corrupted = || ClientError::Corrupted { table: "meta" };
    let key = keys.key(Table::Meta, GENERATION);
    let Some(sealed) = store.get(Table::Meta, &key)? else { return Ok(None) };
    let (written, plain) = keys.open(Table::Meta, &key, &sealed)?;
    let meta = Meta::decode(&plain).ok_or_else(corrupted)?;
    if written != meta.generation || !meta.is_consistent() {
        return Err(corrupted());
    }
    let key = keys.key(Table::Meta, ACCOUNT);
    let export = store.get(Table::Meta, &key)?.ok_or_else(corrupted)?;
    let (written, account) = keys.import(Table::Meta, &key, &export)?;
    exactly(&meta, meta.account_written, written)?;
    Ok(Some((account, meta)))
}

/// A record written at `written` read under the store generation
/// `generation`: newer means the file was pieced together from different
/// times (see `records.rs`).
fn fresh(generation: u64, written: u64) -> Result<(), ClientError> {
    if written > generation {
        return Err(ClientError::RolledBack { generation, minimum: written });
    }
    Ok(())
}

impl<S: Store> Inner<S> {
    /// Seals a plain record for the commit being built.
    fn seal<R: CryptoRng + ?Sized>(&self, table: Table, key: &Key, plain: &[u8], rng: &mut R) -> Vec<u8> {
        self.keys.seal(table, key, self.generation + 1, plain, rng)
    }

    /// Opens a plain record, refusing one newer than the store.
    fn open(&self, table: Table, key: &Key, sealed: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, ClientError> {
        let (written, plain) = self.keys.open(table, key, sealed)?;
        fresh(self.generation, written)?;
        Ok(plain)
    }

    /// Exports a sealpost object for the commit being built.
    fn export<T: sealpost::Persist, R: CryptoRng + ?Sized>(
        &self,
        table: Table,
        key: &Key,
        object: &mut T,
        rng: &mut R,
    ) -> Vec<u8> {
        self.keys.export(table, key, self.generation + 1, object, rng)
    }

    /// Imports a sealpost object, refusing one newer than the store.
    fn import<T: sealpost::Persist>(&self, table: Table, key: &Key, stored: &[u8]) -> Result<T, ClientError> {
        let (written, object) = self.keys.import(table, key, stored)?;
        fresh(self.generation, written)?;
        Ok(object)
    }

    fn new(store: S, keys: RecordKeys, account: Account, meta: Meta) -> Self {
        Self {
            store,
            keys,
            account,
            generation: meta.generation,
            meta,
            writes: Pinned::default(),
            sessions: HashMap::new(),
            trust: HashMap::new(),
            groups: HashMap::new(),
            staged: Vec::new(),
            user_index: None,
            entries: 0,
            stale: false,
        }
    }

    /// After a failed commit: reads the generation and the account again
    /// and forgets every cached record.
    fn reload(&mut self) -> Result<(), ClientError> {
        let (account, meta) = load_meta(&self.store, &self.keys)?.ok_or(ClientError::Corrupted { table: "meta" })?;
        (self.account, self.generation, self.meta) = (account, meta.generation, meta);
        self.sessions.clear();
        self.trust.clear();
        self.groups.clear();
        self.stale = false;
        Ok(())
    }

    fn trust(&mut self, peer: &str) -> Result<Option<TrustRecord>, ClientError> {
        if let Some(t) = self.trust.get(peer) {
            return Ok(t.clone());
        }
        let key = self.keys.key(Table::Trust, peer.as_bytes());
        let record = match self.store.get(Table::Trust, &key)? {
            Some(sealed) => Some(TrustRecord::decode(&self.open(Table::Trust, &key, &sealed)?)?),
            None => None,
        };
        cache_insert(&mut self.trust, peer.into(), record.clone());
        Ok(record)
    }

    /// The recorded identity of `peer`, refusing a blocked peer.
    fn usable_identity(&mut self, peer: &str) -> Result<Option<IdentityKey>, ClientError> {
        match self.trust(peer)? {
            Some(t) if t.is_blocked() => Err(ClientError::Blocked { peer: peer.into() }),
            t => Ok(t.map(|t| t.identity)),
        }
    }

    fn put_trust<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, peer: &str, t: TrustRecord, rng: &mut R) {
        let key = self.keys.key(Table::Trust, peer.as_bytes());
        batch.put(Table::Trust, key, self.seal(Table::Trust, &key, &t.encode(), rng));
        self.staged.push(Staged::Trust(peer.into(), Box::new(t)));
    }

    fn session(&mut self, peer: &str) -> Result<Option<Session>, ClientError> {
        // What this operation already staged for the peer comes first: a
        // session used twice in one commit (a device in two groups being
        // rotated) must continue from its first use, never repeat a key.
        for staged in self.staged.iter().rev() {
            match staged {
                Staged::Session(p, s) if p == peer => return Ok(Some((**s).clone())),
                Staged::SessionDeleted(p) if p == peer => return Ok(None),
                _ => {}
            }
        }
        if let Some(s) = self.sessions.get(peer) {
            return Ok(Some(s.clone()));
        }
        let key = self.keys.key(Table::Session, peer.as_bytes());
        let Some(export) = self.store.get(Table::Session, &key)? else { return Ok(None) };
        let session: Session = self.import(Table::Session, &key, &export)?;
        cache_insert(&mut self.sessions, peer.into(), session.clone());
        Ok(Some(session))
    }

    /// The session with `peer`, refusing a blocked peer or none.
    fn usable_session(&mut self, peer: &str) -> Result<Session, ClientError> {
        self.usable_identity(peer)?;
        self.session(peer)?.ok_or_else(|| ClientError::NoSession { peer: peer.into() })
    }

    fn put_session<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, peer: &str, mut s: Session, rng: &mut R) {
        let key = self.keys.key(Table::Session, peer.as_bytes());
        batch.put(Table::Session, key, self.export(Table::Session, &key, &mut s, rng));
        self.staged.push(Staged::Session(peer.into(), Box::new(s)));
    }

    fn delete_session(&mut self, batch: &mut Batch, peer: &str) {
        batch.delete(Table::Session, self.keys.key(Table::Session, peer.as_bytes()));
        self.sessions.remove(peer);
        self.staged.push(Staged::SessionDeleted(peer.into()));
    }

    /// Deletes a peer's trust record (a device that left its user's list).
    fn delete_trust(&mut self, batch: &mut Batch, peer: &str) {
        batch.delete(Table::Trust, self.keys.key(Table::Trust, peer.as_bytes()));
        self.trust.remove(peer);
    }

    fn put_account<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, mut account: Account, rng: &mut R) {
        let key = self.keys.key(Table::Meta, ACCOUNT);
        batch.put(Table::Meta, key, self.export(Table::Meta, &key, &mut account, rng));
        self.writes.account = true;
        self.staged.push(Staged::Account(Box::new(account)));
    }

    /// The id the next outbox or inbox entry of this commit gets.
    fn next_entry_id(&mut self) -> u64 {
        let id = self.generation.saturating_add(1).saturating_mul(ENTRIES_PER_COMMIT).saturating_add(self.entries);
        self.entries = self.entries.saturating_add(1);
        id
    }

    /// Adds an outbox entry; returns what the operation hands out.
    fn put_outgoing<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        to: Destination,
        bytes: Vec<u8>,
        rng: &mut R,
    ) -> Outgoing {
        self.put_outgoing_with(batch, to, None, bytes, rng)
    }

    /// [`Self::put_outgoing`], keeping what sealing it again needs (a
    /// message to users).
    fn put_outgoing_with<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        to: Destination,
        resend: Option<&mailbox::Resend>,
        bytes: Vec<u8>,
        rng: &mut R,
    ) -> Outgoing {
        // The transport routes a device's entry to the device.
        let to = match to {
            Destination::Peer(name) => match devices::parse_device_peer(&name) {
                Some((device, user)) => Destination::Device { user: user.to_owned(), device: Box::new(device) },
                None => Destination::Peer(name),
            },
            other => other,
        };
        let id = self.next_entry_id();
        let key: Key = self.keys.key(Table::Outbox, &id.to_be_bytes());
        let plain = zeroize::Zeroizing::new(mailbox::encode_outgoing_with(id, &to, resend, &bytes));
        batch.put(Table::Outbox, key, self.seal(Table::Outbox, &key, &plain, rng));
        Outgoing { id, to, bytes }
    }

    /// Adds an inbox entry; returns its id.
    fn put_received<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        from: &str,
        via: Via,
        plaintext: &[u8],
        rng: &mut R,
    ) -> u64 {
        let id = self.next_entry_id();
        let key: Key = self.keys.key(Table::Inbox, &id.to_be_bytes());
        let plain = mailbox::encode_received(id, devices::display_name(from), via, plaintext);
        batch.put(Table::Inbox, key, self.seal(Table::Inbox, &key, &plain, rng));
        id
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
    /// caches (and the account) take what it staged. On failure the client
    /// goes stale (see [`Inner::stale`]).
    fn commit<R: CryptoRng + ?Sized>(&mut self, mut batch: Batch, rng: &mut R) -> Result<(), ClientError> {
        let generation = self.generation + 1;
        let w = core::mem::take(&mut self.writes);
        self.user_index = None;
        let at = |writes: bool, before: u64| if writes { generation } else { before };
        let m = &self.meta;
        let meta = Meta {
            generation,
            account_written: at(w.account, m.account_written),
            vault_written: at(w.vault, m.vault_written),
            own_user_written: at(w.own_user, m.own_user_written),
            origins_written: at(w.origins, m.origins_written),
            user_index_written: at(w.user_index, m.user_index_written),
        };
        let key = self.keys.key(Table::Meta, GENERATION);
        batch.put(Table::Meta, key, self.seal(Table::Meta, &key, &meta.encode(), rng));
        let staged = core::mem::take(&mut self.staged);
        if let Err(e) = self.store.commit(batch) {
            self.stale = true;
            return Err(e.into());
        }
        self.generation = generation;
        self.meta = meta;
        for record in staged {
            match record {
                Staged::Account(a) => self.account = *a,
                Staged::Session(peer, s) => cache_insert(&mut self.sessions, peer, *s),
                Staged::SessionDeleted(peer) => {
                    self.sessions.remove(&peer);
                }
                Staged::Trust(peer, t) => cache_insert(&mut self.trust, peer, Some(*t)),
                Staged::Group(id, g) => cache_insert(&mut self.groups, id, *g),
            }
        }
        Ok(())
    }
}

/// Inserts into a cache of at most [`CACHE_LIMIT`] entries (emptied when
/// full: the records are in the store).
fn cache_insert<K: Hash + Eq, T>(cache: &mut HashMap<K, T>, key: K, value: T) {
    if cache.len() >= CACHE_LIMIT && !cache.contains_key(&key) {
        cache.clear();
    }
    cache.insert(key, value);
}

//! The storage interface: typed tables of opaque records, read one at a
//! time and written **all or nothing**.
//!
//! A [`Client`](crate::Client) operation reads what it needs with
//! [`Store::get`], computes every change in memory, and hands the whole set
//! to [`Store::commit`] as one [`Batch`]: either every write of the batch is
//! durable afterwards or none is. Nothing the operation produces (wire
//! bytes, events) leaves the client before `commit` returned `Ok`.
//!
//! The keys and values a store sees are already protected: keys are keyed
//! hashes, values are sealed (see `records.rs`). A store needs no
//! cryptography of its own, only atomicity; an app can bring its own (Core
//! Data, IndexedDB, Room) by implementing [`Store`].
//!
//! Two stores come with the crate: [`MemoryStore`] (tests, and targets
//! without SQLite) and, with the default `sqlite` feature,
//! [`SqliteStore`].

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{Durability, SCHEMA_VERSION, SqliteStore};

/// The tables of a client's store. Each holds records under 32-byte keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Table {
    /// Client-wide records: the store generation, the account.
    Meta,
    /// One 1:1 session per peer.
    Session,
    /// What the client knows of each peer's identity (trust on first use,
    /// or verified).
    Trust,
    /// Sealed messages not yet acknowledged by the app's transport.
    Outbox,
    /// Received messages not yet acknowledged by the app.
    Inbox,
    /// Two records per group: its state (with every member's sender key)
    /// and the names the app gave its members.
    Group,
    /// The Burnout vault: one record.
    Vault,
    /// One record per user (a person with several devices): the newest
    /// device list seen for them, and whether their user key is verified.
    User,
}

impl Table {
    /// Every table, in a fixed order (a table's index in it is its stored
    /// number: new tables are only ever appended).
    pub const ALL: [Table; 8] = [
        Table::Meta,
        Table::Session,
        Table::Trust,
        Table::Outbox,
        Table::Inbox,
        Table::Group,
        Table::Vault,
        Table::User,
    ];

    /// The table's stable name (SQL table name, context label).
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Session => "session",
            Table::Trust => "trust",
            Table::Outbox => "outbox",
            Table::Inbox => "inbox",
            Table::Group => "group",
            Table::Vault => "vault",
            Table::User => "user",
        }
    }
}

/// A record key: 32 bytes (a keyed hash of what it names).
pub type Key = [u8; 32];

/// One write of a [`Batch`]: a record put (`Some`) or deleted (`None`).
#[derive(Clone, PartialEq, Eq)]
pub struct Write {
    /// The table.
    pub table: Table,
    /// The record key.
    pub key: Key,
    /// The new sealed value, or `None` to delete.
    pub value: Option<Vec<u8>>,
}

impl core::fmt::Debug for Write {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Write")
            .field("table", &self.table)
            .field("value_len", &self.value.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// The writes of one client operation, committed together.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    writes: Vec<Write>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `value` under `key` (a later write of the same record wins).
    pub fn put(&mut self, table: Table, key: Key, value: Vec<u8>) {
        self.writes.push(Write { table, key, value: Some(value) });
    }

    /// Deletes the record.
    pub fn delete(&mut self, table: Table, key: Key) {
        self.writes.push(Write { table, key, value: None });
    }

    /// The writes, in order.
    pub fn writes(&self) -> &[Write] {
        &self.writes
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// What this batch writes to a record, if anything (the last write
    /// wins): `Some(None)` for a delete.
    pub fn pending(&self, table: Table, key: &Key) -> Option<Option<&[u8]>> {
        self.writes.iter().rev().find(|w| w.table == table && &w.key == key).map(|w| w.value.as_deref())
    }
}

/// Why a store operation failed. The client reports it as
/// [`ClientError::Store`](crate::ClientError::Store); nothing of the
/// operation took effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, a full disk, a locked database): retry the
    /// operation later; nothing of it was written.
    #[error("store backend failed: {0}")]
    Backend(String),
    /// The store was written by a newer version of this crate (its schema
    /// version is higher than any this version knows): upgrade the app.
    #[error("store schema version {found} is newer than this version supports ({supported})")]
    SchemaTooNew {
        /// The version found in the store.
        found: u32,
        /// The newest version this crate migrates to.
        supported: u32,
    },
}

/// A transactional record store.
///
/// Contract, relied upon by the client's crash-safety guarantees:
///
/// * [`commit`](Self::commit) is atomic and durable: after `Ok`, every write
///   of the batch survives a crash; after `Err` (or a crash during the
///   call), none does;
/// * [`get`](Self::get) and [`scan`](Self::scan) see every committed batch
///   and nothing else.
///
/// The client serializes its own operations (one at a time per client), so
/// a store needs no isolation beyond that.
pub trait Store: Send {
    /// The record under `key`, if any.
    fn get(&self, table: Table, key: &Key) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every record of `table`, in key order. Used for the outbox and the
    /// inbox (which the app keeps short by acknowledging) and for the
    /// client-wide records.
    fn scan(&self, table: Table) -> Result<Vec<(Key, Vec<u8>)>, StoreError>;

    /// Writes the whole batch, or nothing.
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError>;
}

impl<S: Store + ?Sized> Store for Box<S> {
    fn get(&self, table: Table, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(table, key)
    }
    fn scan(&self, table: Table) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        (**self).scan(table)
    }
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
}

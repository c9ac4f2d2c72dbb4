//! The SQLite [`Store`] (rusqlite, SQLite bundled).
//!
//! Schema (version 1, in `PRAGMA user_version`):
//!
//! ```sql
//! CREATE TABLE records (
//!     tbl   INTEGER NOT NULL,   -- Table, as its index in Table::ALL
//!     key   BLOB    NOT NULL,   -- 32 bytes, a keyed hash
//!     value BLOB    NOT NULL,   -- a sealed record
//!     PRIMARY KEY (tbl, key)
//! ) WITHOUT ROWID;
//! ```
//!
//! One batch is one `BEGIN IMMEDIATE ... COMMIT` transaction. The journal is
//! WAL. [`Durability::Normal`] (`synchronous = NORMAL`, the default) survives
//! any crash of the app or the OS process; a power loss or OS crash can lose
//! the last few committed batches but never corrupts the database or
//! half-applies one. [`Durability::Full`] (`synchronous = FULL`) also keeps
//! every committed batch across a power loss, at the cost of an fsync per
//! batch. Opening a database written by a newer schema version is refused
//! ([`StoreError::SchemaTooNew`]); older versions are migrated in place, in
//! one transaction.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Batch, Key, Store, StoreError, Table};

/// The newest schema version this crate writes.
pub const SCHEMA_VERSION: u32 = 1;

/// How much of what was committed survives a power loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = NORMAL` in WAL mode: every committed batch survives an
    /// app or process crash; a power loss may lose the last few.
    #[default]
    Normal,
    /// `synchronous = FULL`: every committed batch survives a power loss
    /// too (one fsync per batch).
    Full,
}

/// A store in one SQLite database file.
///
/// ```
/// use sealpost_client::store::{Batch, SqliteStore, Store, Table};
/// let dir = std::env::temp_dir().join(format!("sealpost-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("device.db");
/// let mut store = SqliteStore::open(&path)?;
/// let mut batch = Batch::new();
/// batch.put(Table::Meta, [1; 32], b"sealed".to_vec());
/// store.commit(batch)?;
/// drop(store);
/// assert_eq!(SqliteStore::open(&path)?.get(Table::Meta, &[1; 32])?.as_deref(), Some(&b"sealed"[..]));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), sealpost_client::store::StoreError>(())
/// ```
pub struct SqliteStore {
    conn: Connection,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn table_index(table: Table) -> i64 {
    Table::ALL.iter().position(|t| *t == table).map_or(-1, |i| i as i64)
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` with [`Durability::Normal`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::Normal)
    }

    /// Opens (or creates) the database at `path`.
    pub fn open_with(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        Self::setup(Connection::open(path).map_err(backend)?, durability)
    }

    /// A database in memory (lost when dropped): SQLite's behaviour without
    /// a file, for tests and benchmarks.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory().map_err(backend)?, Durability::Normal)
    }

    fn setup(mut conn: Connection, durability: Durability) -> Result<Self, StoreError> {
        // `journal_mode` answers with the mode in force (in memory: "memory").
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(backend)?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.execute_batch(&format!("PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;")).map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        user_version(&self.conn)
    }
}

fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(backend)?;
    u32::try_from(v).map_err(|_| StoreError::Backend(format!("invalid schema version {v}")))
}

/// Brings the schema to [`SCHEMA_VERSION`], one step per version, all in one
/// transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction().map_err(backend)?;
    for version in found + 1..=SCHEMA_VERSION {
        match version {
            1 => tx
                .execute_batch(
                    "CREATE TABLE records (
                         tbl   INTEGER NOT NULL,
                         key   BLOB    NOT NULL,
                         value BLOB    NOT NULL,
                         PRIMARY KEY (tbl, key)
                     ) WITHOUT ROWID;",
                )
                .map_err(backend)?,
            _ => return Err(StoreError::Backend(format!("no migration to schema version {version}"))),
        }
    }
    tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};")).map_err(backend)?;
    tx.commit().map_err(backend)
}

fn to_key(bytes: Vec<u8>) -> Result<Key, StoreError> {
    bytes.try_into().map_err(|_| StoreError::Backend("record key is not 32 bytes".into()))
}

impl Store for SqliteStore {
    fn get(&self, table: Table, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT value FROM records WHERE tbl = ?1 AND key = ?2").map_err(backend)?;
        stmt.query_row(params![table_index(table), &key[..]], |row| row.get(0)).optional().map_err(backend)
    }

    fn scan(&self, table: Table) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT key, value FROM records WHERE tbl = ?1 ORDER BY key").map_err(backend)?;
        let rows = stmt
            .query_map(params![table_index(table)], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)))
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (key, value) = row.map_err(backend)?;
            out.push((to_key(key)?, value));
        }
        Ok(out)
    }

    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
        {
            let mut put = tx
                .prepare_cached("INSERT OR REPLACE INTO records (tbl, key, value) VALUES (?1, ?2, ?3)")
                .map_err(backend)?;
            let mut delete = tx.prepare_cached("DELETE FROM records WHERE tbl = ?1 AND key = ?2").map_err(backend)?;
            for w in batch.writes() {
                match &w.value {
                    Some(v) => put.execute(params![table_index(w.table), &w.key[..], v]).map_err(backend)?,
                    None => delete.execute(params![table_index(w.table), &w.key[..]]).map_err(backend)?,
                };
            }
        }
        // Dropping `tx` without commit (on any error above) rolls back.
        tx.commit().map_err(backend)
    }
}

impl core::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.conn.path()).finish_non_exhaustive()
    }
}

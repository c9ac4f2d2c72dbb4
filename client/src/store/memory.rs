//! An in-memory [`Store`]: for tests, and for targets without SQLite.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Batch, Key, Store, StoreError, Table};

/// Every record, by table and key.
type Records = BTreeMap<(Table, Key), Vec<u8>>;

/// Records in memory. Clones share the same records (like two connections
/// to one database), so a test can "restart" a client by opening a new one
/// on a clone while the old one is dropped.
///
/// ```
/// use sealpost_client::store::{Batch, MemoryStore, Store, Table};
/// let mut store = MemoryStore::new();
/// let mut batch = Batch::new();
/// batch.put(Table::Meta, [1; 32], b"sealed".to_vec());
/// store.commit(batch)?;
/// assert_eq!(store.clone().get(Table::Meta, &[1; 32])?.as_deref(), Some(&b"sealed"[..]));
/// # Ok::<(), sealpost_client::store::StoreError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<Records>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of records in every table.
    pub fn len(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.len())
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.lock()?.is_empty())
    }

    /// A copy of every record (for tests that inspect what is stored).
    pub fn dump(&self) -> Result<Vec<(Table, Key, Vec<u8>)>, StoreError> {
        Ok(self.lock()?.iter().map(|((t, k), v)| (*t, *k, v.clone())).collect())
    }

    /// Replaces every record (for tests that roll a store back to a copy).
    pub fn restore(&self, records: Vec<(Table, Key, Vec<u8>)>) -> Result<(), StoreError> {
        *self.lock()? = records.into_iter().map(|(t, k, v)| ((t, k), v)).collect();
        Ok(())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Records>, StoreError> {
        self.records.lock().map_err(|_| StoreError::Backend("memory store lock poisoned".into()))
    }
}

impl Store for MemoryStore {
    fn get(&self, table: Table, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.get(&(table, *key)).cloned())
    }

    fn scan(&self, table: Table) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        let records = self.lock()?;
        Ok(records.range((table, [0u8; 32])..=(table, [0xff; 32])).map(|((_, k), v)| (*k, v.clone())).collect())
    }

    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        let mut records = self.lock()?;
        for w in batch.writes() {
            match &w.value {
                Some(v) => {
                    records.insert((w.table, w.key), v.clone());
                }
                None => {
                    records.remove(&(w.table, w.key));
                }
            }
        }
        Ok(())
    }
}

//! The client's Burnout vault: every Burnout message received (1:1, group,
//! Forkout) is kept here, in one record of [`Table::Vault`], and only here:
//! its content never goes to the inbox, so the vault's rules (expiry, burn
//! after reading, the size bounds of [`sealpost::limits`]) are the only way
//! to it.
//!
//! Every call that takes a clock purges what expired at that time and
//! commits the purge, so an expired entry's content leaves the store at the
//! first call after its expiry (and the vault record never holds an entry
//! expired at its own clock). Apps that want content gone on time call
//! [`Client::vault_purge`] when [`Client::vault_next_expiry`] says.

use sealpost::burnout::{BurnoutMessage, EntryInfo, Vault, VaultId};
use zeroize::Zeroizing;

use super::{Client, Inner};
use crate::error::ClientError;
use crate::store::{Batch, Store, Table};

/// The vault's record name.
const VAULT: &[u8] = b"vault";

impl<S: Store> Client<S> {
    /// Reads a vault entry at `now_ms` (see
    /// [`Vault::read`](sealpost::burnout::Vault::read)): a burn-after-reading
    /// entry is erased from the store by this read, committed before the
    /// content is returned; a second read is
    /// [`VaultError::BurnedAfterReading`](sealpost::VaultError::BurnedAfterReading).
    pub fn vault_read(&self, entry: VaultId, now_ms: u64) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let mut inner = self.lock()?;
        let mut vault = inner.vault()?;
        let before = vault.len();
        let text = vault.read(entry, now_ms);
        // An error may still have purged expired entries: commit that too.
        let result = text.map(|t| Zeroizing::new(t.to_vec()));
        if vault.len() != before {
            let mut batch = Batch::new();
            inner.put_vault(&mut batch, vault);
            inner.commit(batch, &mut sealpost::default_rng())?;
        }
        Ok(result?)
    }

    /// The entries the vault holds at `now_ms` (purging first), oldest
    /// first, without reading (nothing burns).
    pub fn vault_entries(&self, now_ms: u64) -> Result<Vec<(VaultId, EntryInfo)>, ClientError> {
        let mut inner = self.lock()?;
        let mut vault = inner.vault()?;
        if vault.purge(now_ms) > 0 {
            let entries = list(&vault);
            let mut batch = Batch::new();
            inner.put_vault(&mut batch, vault);
            inner.commit(batch, &mut sealpost::default_rng())?;
            return Ok(entries);
        }
        Ok(list(&vault))
    }

    /// Erases an entry now (the user deleted it). Returns whether the vault
    /// held it.
    pub fn vault_remove(&self, entry: VaultId) -> Result<bool, ClientError> {
        let mut inner = self.lock()?;
        let mut vault = inner.vault()?;
        if !vault.remove(entry) {
            return Ok(false);
        }
        let mut batch = Batch::new();
        inner.put_vault(&mut batch, vault);
        inner.commit(batch, &mut sealpost::default_rng())?;
        Ok(true)
    }

    /// Erases every entry expired at `now_ms`; returns how many.
    pub fn vault_purge(&self, now_ms: u64) -> Result<usize, ClientError> {
        let mut inner = self.lock()?;
        let mut vault = inner.vault()?;
        let purged = vault.purge(now_ms);
        if purged > 0 {
            let mut batch = Batch::new();
            inner.put_vault(&mut batch, vault);
            inner.commit(batch, &mut sealpost::default_rng())?;
        }
        Ok(purged)
    }

    /// When the next vault entry expires (ms), if any: call
    /// [`vault_purge`](Self::vault_purge) then.
    pub fn vault_next_expiry(&self) -> Result<Option<u64>, ClientError> {
        Ok(self.lock()?.vault()?.next_expiry())
    }
}

fn list(vault: &Vault) -> Vec<(VaultId, EntryInfo)> {
    vault.ids().filter_map(|id| vault.info(id).map(|info| (id, info))).collect()
}

impl<S: Store> Inner<S> {
    /// The vault, as last committed (empty if none was stored yet).
    /// The vault record must be the one the generation record names: an
    /// older copy put back (a burned message coming back) is refused.
    fn vault(&self) -> Result<Vault, ClientError> {
        let key = self.keys.key(Table::Vault, VAULT);
        let expected = self.meta.vault_written;
        match self.store.get(Table::Vault, &key)? {
            Some(export) => {
                let (written, vault) = self.keys.import(Table::Vault, &key, &export)?;
                super::exactly(&self.meta, expected, written)?;
                Ok(vault)
            }
            None if expected == 0 => Ok(Vault::new()),
            None => Err(ClientError::RolledBack { generation: 0, minimum: expected }),
        }
    }

    fn put_vault(&mut self, batch: &mut Batch, mut vault: Vault) {
        let key = self.keys.key(Table::Vault, VAULT);
        batch.put(Table::Vault, key, self.export(Table::Vault, &key, &mut vault, &mut sealpost::default_rng()));
        self.writes_vault = true;
    }

    /// Puts a received Burnout message in the vault, in `batch`. A vault
    /// that is full refuses it (and the whole receive: deliver the message
    /// again once entries were read or removed).
    pub(super) fn store_burnout(
        &mut self,
        batch: &mut Batch,
        message: BurnoutMessage,
        now_ms: u64,
    ) -> Result<VaultId, ClientError> {
        let mut vault = self.vault()?;
        let entry = vault.insert(message, now_ms)?;
        self.put_vault(batch, vault);
        Ok(entry)
    }
}

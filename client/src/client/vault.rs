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

use std::collections::VecDeque;

use sealpost::burnout::{BurnoutMessage, EntryInfo, Vault, VaultId};
use zeroize::Zeroizing;

use super::mailbox::{Cursor, Resend};
use super::{Client, Inner};
use crate::error::ClientError;
use crate::store::{Batch, Store, Table};

/// The vault's record name.
const VAULT: &[u8] = b"vault";

/// The record naming where vault entries came from (table [`Table::Vault`]).
const ORIGINS: &[u8] = b"origins";

/// Burned messages remembered (by origin) so that a copy arriving after
/// another own device burned it is dropped on arrival.
pub const MAX_BURNED_ORIGINS: usize = 1024;

/// Names one received message the same way on every own device that got
/// it, for burning it everywhere: `SHA-256("sealpost client burn origin" |
/// route (0x01 Forkout, 0x02 group) | sender's device identity | id)`, the
/// id being the Forkout's id or the group message's hash. The sender's
/// identity is part of it, so no other sender can name (and so burn or
/// pre-empt) a message of this one's, whatever id it puts in its own.
pub(super) fn burn_origin(route: u8, sender: &sealpost::IdentityKey, id: &[u8; 32]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"sealpost client burn origin");
    h.update([route]);
    h.update(sender.as_bytes());
    h.update(id);
    h.finalize().into()
}

/// [`burn_origin`]'s route of a Forkout.
pub(super) const ORIGIN_FORKOUT: u8 = 0x01;
/// [`burn_origin`]'s route of a group message.
pub(super) const ORIGIN_GROUP: u8 = 0x02;

/// Where vault entries came from, across the user's devices
/// ([`burn_origin`]). Kept for entries in the vault, and for the last
/// [`MAX_BURNED_ORIGINS`] messages burned on this or another own device.
#[derive(Default)]
pub(super) struct Origins {
    entries: Vec<(u64, [u8; 32])>,
    burned: VecDeque<[u8; 32]>,
}

impl Origins {
    /// `count (u32) | (entry (u64) | origin (32))* | count (u32) | origin*`.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.entries.len() * 40 + self.burned.len() * 32);
        out.extend_from_slice(&u32::try_from(self.entries.len()).unwrap_or(u32::MAX).to_be_bytes());
        for (id, origin) in &self.entries {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(origin);
        }
        out.extend_from_slice(&u32::try_from(self.burned.len()).unwrap_or(u32::MAX).to_be_bytes());
        for origin in &self.burned {
            out.extend_from_slice(origin);
        }
        out
    }

    fn decode(plain: &[u8]) -> Result<Self, ClientError> {
        let corrupted = || ClientError::Corrupted { table: "vault" };
        let mut r = Cursor(plain);
        let count = r.u32().ok_or_else(corrupted)? as usize;
        if count > r.0.len() / 40 {
            return Err(corrupted());
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            entries.push((r.u64().ok_or_else(corrupted)?, r.array::<32>().ok_or_else(corrupted)?));
        }
        let count = r.u32().ok_or_else(corrupted)? as usize;
        if count > r.0.len() / 32 || count > MAX_BURNED_ORIGINS {
            return Err(corrupted());
        }
        let burned = (0..count).map(|_| r.array::<32>()).collect::<Option<VecDeque<_>>>().ok_or_else(corrupted)?;
        if !r.0.is_empty() {
            return Err(corrupted());
        }
        Ok(Self { entries, burned })
    }

    fn is_burned(&self, origin: &[u8; 32]) -> bool {
        self.burned.contains(origin)
    }

    fn burn(&mut self, origin: [u8; 32]) {
        if !self.is_burned(&origin) {
            if self.burned.len() >= MAX_BURNED_ORIGINS {
                self.burned.pop_front();
            }
            self.burned.push_back(origin);
        }
    }

    /// Removes and returns the origin of `entry`.
    fn take(&mut self, entry: VaultId) -> Option<[u8; 32]> {
        let at = self.entries.iter().position(|(id, _)| *id == entry.to_u64())?;
        Some(self.entries.swap_remove(at).1)
    }

    /// The entry that came from `origin`.
    fn entry_of(&self, origin: &[u8; 32]) -> Option<VaultId> {
        self.entries.iter().find(|(_, o)| o == origin).map(|(id, _)| VaultId::from_u64(*id))
    }

    /// Forgets origins of entries the vault no longer holds.
    fn prune(&mut self, vault: &Vault) {
        self.entries.retain(|(id, _)| vault.info(VaultId::from_u64(*id)).is_some());
    }
}

impl<S: Store> Client<S> {
    /// Reads a vault entry at `now_ms` (see
    /// [`Vault::read`](sealpost::burnout::Vault::read)): a burn-after-reading
    /// entry is erased from the store by this read, committed before the
    /// content is returned; a second read is
    /// [`VaultError::BurnedAfterReading`](sealpost::VaultError::BurnedAfterReading).
    ///
    /// **Several devices.** For a user with other devices, a
    /// burn-after-reading message that came to all of them (a message to
    /// the user, or in a group of people) burns everywhere: this read also
    /// commits a burn notice to the outbox, for the other own devices
    /// ([`Destination::Users`](crate::Destination::Users), sealed with the
    /// operating system's randomness like the store's records): hand it to
    /// the transport with the rest of the outbox. A device that gets the
    /// notice erases its copy ([`Event::Burned`](crate::Event::Burned)), or
    /// drops the message when it arrives later.
    pub fn vault_read(&self, entry: VaultId, now_ms: u64) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let mut inner = self.lock()?;
        let mut vault = inner.vault()?;
        let before = vault.len();
        let burns = vault.info(entry).is_some_and(|i| i.envelope.is_burn_after_reading());
        let text = vault.read(entry, now_ms);
        // An error may still have purged expired entries: commit that too.
        let result = text.map(|t| Zeroizing::new(t.to_vec()));
        if vault.len() != before {
            let mut rng = sealpost::default_rng();
            let mut batch = Batch::new();
            let mut origins = inner.origins()?;
            if let Some(origin) = origins.take(entry).filter(|_| burns && result.is_ok()) {
                origins.burn(origin);
                let notice = super::devices::burn_notice_body(&origin);
                inner.notify_own_devices(&mut batch, notice, &mut rng)?;
            }
            origins.prune(&vault);
            inner.put_origins(&mut batch, &origins, &mut rng);
            inner.put_vault(&mut batch, vault);
            inner.commit(batch, &mut rng)?;
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
        self.writes.vault = true;
    }

    /// Puts a received Burnout message in the vault, in `batch`, and
    /// records where it came from (`origin`). A vault that is full refuses
    /// it (and the whole receive: deliver the message again once entries
    /// were read or removed). `None`: another own device burned the message
    /// already; nothing is stored.
    pub(super) fn store_burnout(
        &mut self,
        batch: &mut Batch,
        message: BurnoutMessage,
        origin: Option<[u8; 32]>,
        now_ms: u64,
    ) -> Result<Option<VaultId>, ClientError> {
        let mut origins = self.origins()?;
        if origin.is_some_and(|o| origins.is_burned(&o)) {
            return Ok(None);
        }
        let mut vault = self.vault()?;
        let entry = vault.insert(message, now_ms)?;
        if let Some(origin) = origin {
            origins.prune(&vault);
            origins.entries.push((entry.to_u64(), origin));
            self.put_origins(batch, &origins, &mut sealpost::default_rng());
        }
        self.put_vault(batch, vault);
        Ok(Some(entry))
    }

    /// Another own device burned the message `origin`: erases the copy
    /// here, or remembers it to drop the message on arrival, in `batch`.
    pub(super) fn burn_elsewhere(
        &mut self,
        batch: &mut Batch,
        origin: [u8; 32],
    ) -> Result<Option<VaultId>, ClientError> {
        let mut rng = sealpost::default_rng();
        let mut origins = self.origins()?;
        let entry = origins.entry_of(&origin);
        if let Some(entry) = entry {
            let mut vault = self.vault()?;
            vault.remove(entry);
            origins.prune(&vault);
            self.put_vault(batch, vault);
        }
        origins.burn(origin);
        self.put_origins(batch, &origins, &mut rng);
        Ok(entry)
    }

    /// The burn origins, pinned by the generation record: an old copy put
    /// back (burned messages forgotten) is refused.
    fn origins(&self) -> Result<Origins, ClientError> {
        match self.open_pinned(Table::Vault, ORIGINS, self.meta.origins_written)? {
            Some(plain) => Origins::decode(&plain),
            None => Ok(Origins::default()),
        }
    }

    fn put_origins<R: rand_core::CryptoRng + ?Sized>(&mut self, batch: &mut Batch, origins: &Origins, rng: &mut R) {
        let key = self.keys.key(Table::Vault, ORIGINS);
        batch.put(Table::Vault, key, self.seal(Table::Vault, &key, &origins.encode(), rng));
        self.writes.origins = true;
    }

    /// Seals `body` (already framed) to the own user's other devices with a
    /// session, into `batch`; nothing when there are none.
    fn notify_own_devices<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        body: Vec<u8>,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        let Some(own) = self.own_user()? else { return Ok(()) };
        let resend = Resend { plaintext: Zeroizing::new(body), envelope: None };
        match self.seal_to_users(batch, std::slice::from_ref(&own.name), &resend, rng) {
            Ok(_) | Err(ClientError::NoSession { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

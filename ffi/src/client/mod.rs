//! `Client`: one device's whole state on a SQLite file (crate
//! `sealpost-client`): 1:1 sessions, groups, Forkout, the Burnout vault,
//! every change committed before anything leaves it.
//!
//! Foreign code opens a client at a file path with its 32-byte store key
//! (from the platform keychain), sends and receives bytes, and gets typed
//! events. The client is safe to share between threads.

use std::sync::Arc;

use sealpost::IdentityKey;
use sealpost::group::GroupId;
use sealpost_client::store::SqliteStore;

use crate::burnout::{Envelope, VaultEntryInfo};
use crate::error::Result;
use crate::keys::Key32;

mod devices;
mod records;

pub use devices::{ClientDeviceListChange, ClientDeviceRemoved, ClientLinkCompletion, ClientLinkStart, ClientUser};
pub use records::{
    ClientDestination, ClientEvent, ClientGroupCreated, ClientOutgoing, ClientPeerTrust, ClientReceived, ClientVia,
};
use records::{outgoing, vault_entry};

fn group_id(id: &Key32) -> GroupId {
    GroupId::from_bytes(*id.as_bytes())
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
        Ok(self.inner.send(&peer, &plaintext, &mut sealpost::default_rng())?.into())
    }

    /// Encrypts for `peer` inside a Burnout `envelope`.
    pub fn send_burnout(&self, peer: String, plaintext: Vec<u8>, envelope: Envelope) -> Result<ClientOutgoing> {
        Ok(self.inner.send_burnout(&peer, &plaintext, &envelope.into(), &mut sealpost::default_rng())?.into())
    }

    /// Accepts one incoming message of any kind (1:1, sender key, group,
    /// Forkout delivery) from `from` at `now_ms`.
    pub fn receive(&self, from: String, bytes: Vec<u8>, now_ms: u64) -> Result<ClientEvent> {
        Ok(self.inner.receive(&from, &bytes, now_ms)?.into())
    }

    /// Sealed messages not acknowledged yet, oldest first.
    pub fn outbox(&self) -> Result<Vec<ClientOutgoing>> {
        Ok(outgoing(self.inner.outbox()?))
    }

    /// Removes an outbox entry.
    pub fn acknowledge(&self, id: u64) -> Result<()> {
        Ok(self.inner.acknowledge(id)?)
    }

    /// Received messages not acknowledged yet, oldest first.
    pub fn inbox(&self) -> Result<Vec<ClientReceived>> {
        Ok(self.inner.inbox()?.into_iter().map(ClientReceived::from).collect())
    }

    /// Removes an inbox entry.
    pub fn acknowledge_received(&self, id: u64) -> Result<()> {
        Ok(self.inner.acknowledge_received(id)?)
    }

    /// What the client records of `peer`'s identity.
    pub fn peer_trust(&self, peer: String) -> Result<Option<ClientPeerTrust>> {
        Ok(self.inner.peer_trust(&peer)?.map(ClientPeerTrust::from))
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

    /// Creates a group with the peers named `members` (each needs a
    /// session). Tell them the id and the member list; they call
    /// `join_group`.
    pub fn create_group(&self, members: Vec<String>) -> Result<ClientGroupCreated> {
        let names: Vec<&str> = members.iter().map(String::as_str).collect();
        let (id, out) = self.inner.create_group(&names, &mut sealpost::default_rng())?;
        Ok(ClientGroupCreated { group_id: (*id.as_bytes()).into(), outgoing: outgoing(out) })
    }

    /// Joins the group `group_id` with the other members named `members`.
    pub fn join_group(&self, group_id: Key32, members: Vec<String>) -> Result<Vec<ClientOutgoing>> {
        let names: Vec<&str> = members.iter().map(String::as_str).collect();
        Ok(outgoing(self.inner.join_group(&self::group_id(&group_id), &names, &mut sealpost::default_rng())?))
    }

    /// Adds `peer` (it needs a session): our sender key goes to it.
    pub fn add_group_member(&self, group_id: Key32, peer: String) -> Result<Vec<ClientOutgoing>> {
        Ok(outgoing(self.inner.add_group_member(&self::group_id(&group_id), &peer, &mut sealpost::default_rng())?))
    }

    /// Removes `peer`: our sender key is rotated and goes to the others.
    pub fn remove_group_member(&self, group_id: Key32, peer: String) -> Result<Vec<ClientOutgoing>> {
        Ok(outgoing(self.inner.remove_group_member(&self::group_id(&group_id), &peer, &mut sealpost::default_rng())?))
    }

    /// Rotates our sender key (after restoring a backup) and hands it out.
    pub fn rotate_group_key(&self, group_id: Key32) -> Result<Vec<ClientOutgoing>> {
        Ok(outgoing(self.inner.rotate_group_key(&self::group_id(&group_id), &mut sealpost::default_rng())?))
    }

    /// Encrypts once for the whole group, in a Burnout `envelope` if given.
    pub fn send_group(
        &self,
        group_id: Key32,
        plaintext: Vec<u8>,
        envelope: Option<Envelope>,
    ) -> Result<ClientOutgoing> {
        let envelope = envelope.map(sealpost::burnout::Envelope::from);
        Ok(self
            .inner
            .send_group(&self::group_id(&group_id), &plaintext, envelope.as_ref(), &mut sealpost::default_rng())?
            .into())
    }

    /// Members our current sender key did not reach at the last rotation:
    /// `add_group_member` each once reachable.
    pub fn group_members_missing_key(&self, group_id: Key32) -> Result<Vec<String>> {
        Ok(self.inner.group_members_missing_key(&self::group_id(&group_id))?)
    }

    /// The names of the group's other members.
    pub fn group_members(&self, group_id: Key32) -> Result<Vec<String>> {
        Ok(self.inner.group_members(&self::group_id(&group_id))?)
    }

    /// Seals `body` once for every peer in `peers` (each needs a session):
    /// one bundle for the relay.
    pub fn send_forkout(
        &self,
        peers: Vec<String>,
        body: Vec<u8>,
        envelope: Option<Envelope>,
    ) -> Result<ClientOutgoing> {
        let names: Vec<&str> = peers.iter().map(String::as_str).collect();
        let envelope = envelope.map(sealpost::burnout::Envelope::from);
        Ok(self.inner.send_forkout(&names, &body, envelope.as_ref(), &mut sealpost::default_rng())?.into())
    }

    /// Reads a vault entry at `now_ms` (a burn-after-reading entry is
    /// erased by this read).
    pub fn vault_read(&self, entry: u64, now_ms: u64) -> Result<Vec<u8>> {
        Ok(self.inner.vault_read(sealpost::burnout::VaultId::from_u64(entry), now_ms)?.to_vec())
    }

    /// The vault's entries at `now_ms`, oldest first (nothing burns).
    pub fn vault_entries(&self, now_ms: u64) -> Result<Vec<VaultEntryInfo>> {
        Ok(self.inner.vault_entries(now_ms)?.into_iter().map(|(id, info)| vault_entry(id, info)).collect())
    }

    /// Erases a vault entry now; whether it was there.
    pub fn vault_remove(&self, entry: u64) -> Result<bool> {
        Ok(self.inner.vault_remove(sealpost::burnout::VaultId::from_u64(entry))?)
    }

    /// Erases every entry expired at `now_ms`; how many.
    pub fn vault_purge(&self, now_ms: u64) -> Result<u64> {
        Ok(crate::len(self.inner.vault_purge(now_ms)?))
    }

    /// When the next vault entry expires, if any.
    pub fn vault_next_expiry(&self) -> Result<Option<u64>> {
        Ok(self.inner.vault_next_expiry()?)
    }
}

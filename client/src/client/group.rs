//! Sender-key groups inside the client.
//!
//! A group is stored as two records of [`Table::Group`]: its
//! [`Group`] state (our sender key and every member's) and the names the app
//! gave its members, each with the identity recorded for that name when it
//! joined. Sender keys travel as 1:1 messages ([`Destination::Peer`]
//! outbox entries); a group message is one ciphertext for everyone
//! ([`Destination::Group`]).
//!
//! Membership itself is the app's: sealpost carries no membership messages.
//! The creator calls [`Client::create_group`] and tells the members (the id
//! and the member names) through the app's own channel; each member calls
//! [`Client::join_group`] with them. Each side's call hands its own sender
//! key to every other member, so everyone reads everyone once the
//! distributions arrive.
//!
//! A member whose identity changes (the app accepted an
//! [`Event::IdentityChanged`](crate::Event::IdentityChanged), or the user
//! verified a new identity) stays in the group under its old identity until
//! the app adds it again ([`Client::add_group_member`] with a session under
//! the new identity): that removes the old identity, rotates our sender key
//! and hands the new one to every member. Until then the new identity's
//! group messages are refused (not a member). A rotation
//! ([`Client::rotate_group_key`], [`Client::remove_group_member`]) always
//! takes effect: the new key goes to every member that can be reached
//! (a usable session under the identity it joined with), never to an
//! identity that did not join, and the others are listed by
//! [`Client::group_members_missing_key`] until
//! [`Client::add_group_member`] reaches them.
//!
//! A group state loaded from the store needs no rotation before sending
//! (see [`Group::needs_rotation`]): the client only ever loads its newest
//! committed state, and commits before any message leaves it. A store put
//! back from a backup is the exception: rotate every group then
//! ([`Client::rotate_group_key`]), or members refuse the repeated
//! iterations as replays (no key and nonce is reused either way: every group
//! message has a fresh salt).

use std::collections::HashMap;

use rand_core::CryptoRng;
use sealpost::burnout::Envelope;
use sealpost::device::DeviceList;
use sealpost::group::{Group, GroupId, GroupMessage, InstalledSenderKey};
use sealpost::{Account, BurnoutError, GroupError, IdentityKey, Session};

use super::devices::{device_peer, display_name};
use super::event::Event;
use super::mailbox::{self, Cursor, Destination, Outgoing, Via};
use super::{Client, Inner, Staged};
use crate::error::ClientError;
use crate::store::{Batch, Store, Table};

/// A group as the client keeps it: the state and the member names.
#[derive(Clone)]
pub(crate) struct GroupEntry {
    group: Group,
    /// `(name, identity)` of every other member, in the order they joined.
    names: Vec<(String, IdentityKey)>,
    /// Members our current sender key has not been handed to (they could
    /// not be reached at the last rotation).
    missing_key: Vec<String>,
}

impl GroupEntry {
    fn name_of(&self, identity: &IdentityKey) -> Option<&str> {
        self.names.iter().find(|(_, id)| id == identity).map(|(name, _)| name.as_str())
    }

    fn identity_of(&self, name: &str) -> Option<IdentityKey> {
        self.names.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    /// `count (u32) | (identity (32) | name)* | count (u32) | name*` (the
    /// members, then those missing our current key).
    fn encode_names(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&u32::try_from(self.names.len()).unwrap_or(u32::MAX).to_be_bytes());
        for (name, identity) in &self.names {
            out.extend_from_slice(identity.as_bytes());
            mailbox::put_name(&mut out, name);
        }
        out.extend_from_slice(&u32::try_from(self.missing_key.len()).unwrap_or(u32::MAX).to_be_bytes());
        for name in &self.missing_key {
            mailbox::put_name(&mut out, name);
        }
        out
    }

    #[allow(clippy::type_complexity)]
    fn decode_names(plain: &[u8]) -> Result<(Vec<(String, IdentityKey)>, Vec<String>), ClientError> {
        let corrupted = || ClientError::Corrupted { table: "group" };
        let mut r = Cursor(plain);
        let count = r.u32().ok_or_else(corrupted)? as usize;
        if count > r.0.len() / 36 {
            return Err(corrupted());
        }
        let mut names = Vec::with_capacity(count);
        for _ in 0..count {
            let identity = IdentityKey::from_bytes(&r.array::<32>().ok_or_else(corrupted)?).map_err(|_| corrupted())?;
            names.push((r.name().ok_or_else(corrupted)?, identity));
        }
        let count = r.u32().ok_or_else(corrupted)? as usize;
        if count > r.0.len() / 4 {
            return Err(corrupted());
        }
        let missing = (0..count).map(|_| r.name()).collect::<Option<Vec<_>>>().ok_or_else(corrupted)?;
        if !r.0.is_empty() {
            return Err(corrupted());
        }
        Ok((names, missing))
    }

    /// Refuses a second name for an identity already in the group.
    fn check_new_identity(&self, name: &str, identity: &IdentityKey) -> Result<(), ClientError> {
        match self.names.iter().find(|(n, id)| id == identity && n != name) {
            Some((other, _)) => Err(ClientError::SameIdentity { peer: name.into(), other: other.clone() }),
            None => Ok(()),
        }
    }
}

/// SHA-256 of a group message: its name across the devices that got it.
fn sealpost_sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The record names of a group's state and member names.
fn state_name(id: &GroupId) -> Vec<u8> {
    [&b"state "[..], id.as_bytes()].concat()
}

fn names_name(id: &GroupId) -> Vec<u8> {
    [&b"names "[..], id.as_bytes()].concat()
}

impl<S: Store> Client<S> {
    /// Creates a group with the peers named `members` (each needs a session
    /// already: [`start_session`](Self::start_session)) and a fresh random
    /// id. Returns the id and one outbox entry per member carrying our
    /// sender key. Tell the members the id and the member list through the
    /// app's channel; they call [`join_group`](Self::join_group).
    pub fn create_group<R: CryptoRng + ?Sized>(
        &self,
        members: &[&str],
        rng: &mut R,
    ) -> Result<(GroupId, Vec<Outgoing>), ClientError> {
        let id = GroupId::random(rng);
        Ok((id, self.join_group(&id, members, rng)?))
    }

    /// Joins the group `id` that another member created, with the other
    /// members named `members` (each needs a session): our fresh sender key
    /// goes to each of them (the returned outbox entries). Refused with
    /// [`ClientError::GroupExists`] for a group this client is in.
    pub fn join_group<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        members: &[&str],
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut inner = self.lock()?;
        if inner.group(id)?.is_some() {
            return Err(ClientError::GroupExists { group: *id });
        }
        let mut names: Vec<(String, IdentityKey)> = Vec::with_capacity(members.len());
        let mut sessions = Vec::with_capacity(members.len());
        for &name in members {
            if names.iter().any(|(n, _)| n == name) {
                continue;
            }
            let session = inner.usable_session(name)?;
            let identity = *session.peer_identity();
            if let Some((other, _)) = names.iter().find(|(_, id)| *id == identity) {
                return Err(ClientError::SameIdentity { peer: name.into(), other: other.clone() });
            }
            names.push((name.into(), identity));
            sessions.push((name.to_owned(), session));
        }
        let own = *inner.account.identity();
        let group = Group::new(*id, own, names.iter().map(|(_, identity)| *identity), rng)?;
        let mut entry = GroupEntry { group, names, missing_key: Vec::new() };
        let mut batch = Batch::new();
        let out = inner.distribute(&mut batch, &mut entry, sessions, rng)?;
        inner.put_group(&mut batch, entry, true, rng);
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Adds the peer named `peer` (it needs a session) to the group: it can
    /// read what we send from now on (our sender key goes to it: the
    /// returned entries). The new member joins with
    /// [`join_group`](Self::join_group); every other member adds it too.
    pub fn add_group_member<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        peer: &str,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut inner = self.lock()?;
        let mut entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let session = inner.usable_session(peer)?;
        let identity = *session.peer_identity();
        entry.check_new_identity(peer, &identity)?;
        match entry.identity_of(peer) {
            // Already a member: our key goes to it again.
            Some(known) if known == identity => {}
            // The name's identity changed since it joined (the user accepted
            // the change): the old identity leaves, our key rotates, and
            // every member gets the new one.
            Some(old) => {
                let _rotated = entry.group.remove_member(&old, rng)?;
                entry.names.retain(|(n, _)| n != peer);
                entry.group.add_member(identity)?;
                entry.names.push((peer.into(), identity));
                return inner.redistribute(entry, rng);
            }
            None => {
                entry.group.add_member(identity)?;
                entry.names.push((peer.into(), identity));
            }
        }
        let mut batch = Batch::new();
        let out = inner.distribute(&mut batch, &mut entry, vec![(peer.to_owned(), session)], rng)?;
        inner.put_group(&mut batch, entry, true, rng);
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Removes `peer` from the group: our sender key is rotated and the new
    /// one goes to every remaining member that can be reached (the returned
    /// entries; the others: [`group_members_missing_key`](Self::group_members_missing_key)),
    /// so the removed member reads nothing we send from now on, even while
    /// someone else is unreachable. Every other member removes it too.
    pub fn remove_group_member<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        peer: &str,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut inner = self.lock()?;
        let mut entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let identity = entry.identity_of(peer).ok_or_else(|| ClientError::NotGroupMember { peer: peer.into() })?;
        let _rotated = entry.group.remove_member(&identity, rng)?;
        entry.names.retain(|(n, _)| n != peer);
        inner.redistribute(entry, rng)
    }

    /// Rotates our sender key in the group and hands the new one to every
    /// member that can be reached (the returned entries; see
    /// [`group_members_missing_key`](Self::group_members_missing_key)). Needed after the store was put back
    /// from a backup; harmless otherwise.
    pub fn rotate_group_key<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut inner = self.lock()?;
        let mut entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let _rotated = entry.group.rotate(rng);
        inner.redistribute(entry, rng)
    }

    /// Encrypts `plaintext` once for the whole group, inside a Burnout
    /// `envelope` if one is given, and commits the group state with the
    /// outbox entry ([`Destination::Group`]) before returning it.
    pub fn send_group<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        plaintext: &[u8],
        envelope: Option<&Envelope>,
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        let mut inner = self.lock()?;
        let mut entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let bytes = match envelope {
            Some(envelope) => entry.group.encrypt_with_envelope(plaintext, envelope, rng)?,
            None => entry.group.encrypt(plaintext, rng)?,
        };
        let mut batch = Batch::new();
        inner.put_group(&mut batch, entry, false, rng);
        let out = inner.put_outgoing(&mut batch, Destination::Group(*id), bytes, rng);
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// The names of the group's other members, in the order they joined.
    pub fn group_members(&self, id: &GroupId) -> Result<Vec<String>, ClientError> {
        let mut inner = self.lock()?;
        let entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        Ok(entry.names.into_iter().map(|(name, _)| name).collect())
    }

    /// The members our current sender key did not reach at the last
    /// rotation (no usable session then, blocked, or a new identity): once
    /// each is reachable, [`add_group_member`](Self::add_group_member)
    /// hands it the key (for a new identity, after removing the old one).
    pub fn group_members_missing_key(&self, id: &GroupId) -> Result<Vec<String>, ClientError> {
        let mut inner = self.lock()?;
        let entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        Ok(entry.missing_key)
    }

    /// Whether we hold `peer`'s sender key for the group (its messages can
    /// be read).
    pub fn has_sender_key(&self, id: &GroupId, peer: &str) -> Result<bool, ClientError> {
        let mut inner = self.lock()?;
        let entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let identity = entry.identity_of(peer).ok_or_else(|| ClientError::NotGroupMember { peer: peer.into() })?;
        Ok(entry.group.member_key_id(&identity).is_some())
    }

    /// Creates a group of people: every device of each of `users` and the
    /// own user's other devices that this client has a session with are
    /// members (one per device), with a fresh random id. Returns the id and
    /// the entries carrying our sender key to each device. Devices that get
    /// a session later join on their own
    /// ([`start_device_session`](Self::start_device_session)); devices that
    /// leave their user's list leave the group
    /// ([`accept_device_list`](Self::accept_device_list)). Tell the other
    /// members the id and the users; each calls
    /// [`join_user_group`](Self::join_user_group).
    pub fn create_user_group<R: CryptoRng + ?Sized>(
        &self,
        users: &[&str],
        rng: &mut R,
    ) -> Result<(GroupId, Vec<Outgoing>), ClientError> {
        let id = GroupId::random(rng);
        Ok((id, self.join_user_group(&id, users, rng)?))
    }

    /// Joins the group of people `id` another member created, with the
    /// other members `users` (see [`create_user_group`](Self::create_user_group)).
    pub fn join_user_group<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        users: &[&str],
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let names = self.lock()?.device_names(users, true)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.join_group(id, &names, rng)
    }

    /// Adds the person `user` to a group: each of their devices this client
    /// has a session with becomes a member and gets our current sender key
    /// (the returned entries): they read what we send from now on.
    pub fn add_user_to_group<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        user: &str,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut inner = self.lock()?;
        let mut entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let names = inner.device_names(&[user], false)?;
        let mut batch = Batch::new();
        let out = inner.add_devices(&mut batch, &mut entry, &names, rng)?;
        inner.put_group(&mut batch, entry, true, rng);
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Removes the person `user` (every device of theirs) from a group: our
    /// sender key is rotated and handed to the remaining members (the
    /// returned entries), so none of their devices reads what we send from
    /// now on.
    pub fn remove_user_from_group<R: CryptoRng + ?Sized>(
        &self,
        id: &GroupId,
        user: &str,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        super::devices::check_name(user)?;
        let mut inner = self.lock()?;
        let mut entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let leaving: Vec<(String, IdentityKey)> =
            entry.names.iter().filter(|(n, _)| n != user && display_name(n) == user).cloned().collect();
        if leaving.is_empty() {
            return Err(ClientError::NotGroupMember { peer: user.into() });
        }
        for (name, identity) in &leaving {
            let _rotated = entry.group.remove_member(identity, rng)?;
            entry.names.retain(|(n, _)| n != name);
            entry.missing_key.retain(|n| n != name);
        }
        inner.redistribute(entry, rng)
    }

    /// Every group this client is in (for example to pass the groups of
    /// people, with [`group_users`](Self::group_users), to a newly linked
    /// own device as app data: it then
    /// [`join_user_group`](Self::join_user_group)s each). Reads every group
    /// record.
    pub fn groups(&self) -> Result<Vec<GroupId>, ClientError> {
        self.lock()?.all_group_ids()
    }

    /// The people in a group: each member by its user's name (a device's
    /// user, once), in the order they joined.
    pub fn group_users(&self, id: &GroupId) -> Result<Vec<String>, ClientError> {
        let mut inner = self.lock()?;
        let entry = inner.group(id)?.ok_or(ClientError::UnknownGroup { group: *id })?;
        let mut users: Vec<String> = Vec::new();
        for (name, _) in &entry.names {
            let user = display_name(name);
            if !users.iter().any(|u| u == user) {
                users.push(user.to_owned());
            }
        }
        Ok(users)
    }
}

impl<S: Store> Inner<S> {
    /// The group `id`, if the client is in it.
    pub(super) fn group(&mut self, id: &GroupId) -> Result<Option<GroupEntry>, ClientError> {
        if let Some(entry) = self.groups.get(id) {
            return Ok(Some(entry.clone()));
        }
        let Some(entry) = self.load_group(id)? else { return Ok(None) };
        super::cache_insert(&mut self.groups, *id, entry.clone());
        Ok(Some(entry))
    }

    /// Reads a group's records (no cache).
    fn load_group(&self, id: &GroupId) -> Result<Option<GroupEntry>, ClientError> {
        let key = self.keys.key(Table::Group, &state_name(id));
        let Some(export) = self.store.get(Table::Group, &key)? else { return Ok(None) };
        let mut group: Group = self.import(Table::Group, &key, &export)?;
        // The newest committed state: nothing it could send has left the
        // client yet (see the module documentation).
        group.resume_without_rotation();
        let key = self.keys.key(Table::Group, &names_name(id));
        let sealed = self.store.get(Table::Group, &key)?.ok_or(ClientError::Corrupted { table: "group" })?;
        let (names, missing_key) = GroupEntry::decode_names(&self.open(Table::Group, &key, &sealed)?)?;
        Ok(Some(GroupEntry { group, names, missing_key }))
    }

    /// Writes the group state (and its member names when they changed).
    fn put_group<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, mut entry: GroupEntry, names: bool, rng: &mut R) {
        let id = *entry.group.id();
        let key = self.keys.key(Table::Group, &state_name(&id));
        batch.put(Table::Group, key, self.export(Table::Group, &key, &mut entry.group, rng));
        if names {
            let key = self.keys.key(Table::Group, &names_name(&id));
            batch.put(Table::Group, key, self.seal(Table::Group, &key, &entry.encode_names(), rng));
        }
        self.staged.push(Staged::Group(id, Box::new(entry)));
    }

    /// Hands our sender key to the members whose `(name, session)` pairs
    /// are given: their sessions and one outbox entry each go into `batch`.
    fn distribute<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        entry: &mut GroupEntry,
        sessions: Vec<(String, Session)>,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let (names, mut sessions): (Vec<String>, Vec<Session>) = sessions.into_iter().unzip();
        let sent = entry.group.distribute(sessions.iter_mut(), rng)?;
        let mut out = Vec::with_capacity(sent.len());
        for ((name, session), (_, bytes)) in names.into_iter().zip(sessions).zip(sent) {
            entry.missing_key.retain(|n| *n != name);
            self.put_session(batch, &name, session, rng);
            out.push(self.put_outgoing(batch, Destination::Peer(name), bytes, rng));
        }
        Ok(out)
    }

    /// After a rotation: the new sender key to every member that can be
    /// reached (a usable session under the identity it joined with),
    /// committed with the group whatever the others: a removal takes effect
    /// even if someone is offline. The members skipped are recorded
    /// ([`Client::group_members_missing_key`]).
    fn redistribute<R: CryptoRng + ?Sized>(
        &mut self,
        entry: GroupEntry,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut batch = Batch::new();
        let out = self.redistribute_in(&mut batch, entry, rng)?;
        self.commit(batch, rng)?;
        Ok(out)
    }

    /// [`Self::redistribute`] into `batch`, not committed.
    fn redistribute_in<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        mut entry: GroupEntry,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut sessions = Vec::with_capacity(entry.names.len());
        let mut missing = Vec::new();
        let mut lists: HashMap<String, Option<DeviceList>> = HashMap::new();
        for (name, identity) in &entry.names {
            // A device member off its user's current list gets nothing,
            // whatever records say (say, some put back at rest).
            if let Some((device, user)) = super::devices::parse_device_peer(name) {
                if !lists.contains_key(user) {
                    let list = self.user_devices_or_own(user)?;
                    lists.insert(user.to_owned(), list);
                }
                if !lists.get(user).and_then(Option::as_ref).is_some_and(|l| l.contains(&device)) {
                    missing.push(name.clone());
                    continue;
                }
            }
            match self.usable_session(name) {
                Ok(session) if session.peer_identity() == identity => sessions.push((name.clone(), session)),
                Ok(_) | Err(ClientError::NoSession { .. } | ClientError::Blocked { .. }) => missing.push(name.clone()),
                Err(e) => return Err(e),
            }
        }
        entry.missing_key = missing;
        let out = self.distribute(batch, &mut entry, sessions, rng)?;
        self.put_group(batch, entry, true, rng);
        Ok(out)
    }

    /// The id of every group this client is in (reads every group record:
    /// for the rare changes that touch all groups, such as a device leaving
    /// its user's list).
    fn all_group_ids(&self) -> Result<Vec<GroupId>, ClientError> {
        let mut ids = Vec::new();
        for (key, stored) in self.store.scan(Table::Group)? {
            // Two records per group: the state (an export) and the names
            // (a sealed record, which does not import as a group).
            if let Ok(group) = self.import::<Group>(Table::Group, &key, &stored) {
                ids.push(*group.id());
            }
        }
        ids.sort_unstable_by_key(|id| *id.as_bytes());
        Ok(ids)
    }

    /// Devices that left `user`'s list: their sessions and trust records
    /// deleted, and each removed from every group, our sender key rotated
    /// there and handed to the remaining members, all into `batch`.
    pub(super) fn drop_devices<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        user: &str,
        removed: &[IdentityKey],
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        if removed.is_empty() {
            return Ok(Vec::new());
        }
        let peers: Vec<String> = removed.iter().map(|d| device_peer(user, d)).collect();
        let mut out = Vec::new();
        for id in self.all_group_ids()? {
            let Some(mut entry) = self.group(&id)? else { continue };
            let leaving: Vec<(String, IdentityKey)> =
                entry.names.iter().filter(|(name, _)| peers.contains(name)).cloned().collect();
            if leaving.is_empty() {
                continue;
            }
            for (name, identity) in &leaving {
                let _rotated = entry.group.remove_member(identity, rng)?;
                entry.names.retain(|(n, _)| n != name);
                entry.missing_key.retain(|n| n != name);
            }
            out.extend(self.redistribute_in(batch, entry, rng)?);
        }
        for peer in &peers {
            self.delete_session(batch, peer);
            self.delete_trust(batch, peer);
        }
        Ok(out)
    }

    /// A device of `user` this client just started a session with (its
    /// session staged as `peer`): it joins every group one of `user`'s
    /// devices is in (every group, for the own user's devices) and gets our
    /// current sender key there, into `batch`.
    pub(super) fn join_user_groups<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        user: &str,
        peer: &str,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let own = self.own_user()?.is_some_and(|u| u.name == user);
        let mut out = Vec::new();
        for id in self.all_group_ids()? {
            let Some(mut entry) = self.group(&id)? else { continue };
            // A group of people (some member is a device); for a new own
            // device, every such group.
            let of_user = entry.names.iter().any(|(name, _)| display_name(name) == user && name != user);
            let of_people = entry.names.iter().any(|(name, _)| display_name(name) != name);
            if (of_user || (own && of_people)) && entry.identity_of(peer).is_none() {
                out.extend(self.add_devices(batch, &mut entry, &[peer.to_owned()], rng)?);
                self.put_group(batch, entry, true, rng);
            }
        }
        Ok(out)
    }

    /// Adds the devices named `peers` (each with a session) to the group
    /// and hands them our current sender key, into `batch`.
    fn add_devices<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        entry: &mut GroupEntry,
        peers: &[String],
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut sessions = Vec::with_capacity(peers.len());
        for peer in peers {
            let session = self.usable_session(peer)?;
            let identity = *session.peer_identity();
            entry.check_new_identity(peer, &identity)?;
            if entry.identity_of(peer).is_none() {
                entry.group.add_member(identity)?;
                entry.names.push((peer.clone(), identity));
            }
            sessions.push((peer.clone(), session));
        }
        self.distribute(batch, entry, sessions, rng)
    }

    /// The names of every device of `users` (and of the own user's other
    /// devices, with `own`) this client has a session with.
    fn device_names(&mut self, users: &[&str], own: bool) -> Result<Vec<String>, ClientError> {
        let me = *self.account.identity();
        let mut all: Vec<String> = users.iter().map(|u| (*u).to_owned()).collect();
        if let Some(name) = self.own_user()?.map(|u| u.name).filter(|n| own && !all.contains(n)) {
            all.push(name);
        }
        let mut names = Vec::new();
        for user in &all {
            super::devices::check_name(user)?;
            let list =
                self.user_devices_or_own(user)?.ok_or_else(|| ClientError::UnknownUser { user: user.clone() })?;
            for device in list.devices().iter().filter(|d| **d != me) {
                let peer = device_peer(user, device);
                if self.session(&peer)?.is_some() && !names.contains(&peer) {
                    names.push(peer);
                }
            }
        }
        Ok(names)
    }

    /// A group message.
    pub(super) fn receive_group(&mut self, bytes: &[u8], now_ms: u64) -> Result<Event, ClientError> {
        let parsed = GroupMessage::parse(bytes).map_err(sealpost::Error::from)?;
        let id = *parsed.group_id();
        let mut entry = self.group(&id)?.ok_or(ClientError::UnknownGroup { group: id })?;
        let sender = parsed.sender()?;
        let from = entry.name_of(&sender).map(str::to_owned);
        let mut batch = Batch::new();
        let mut rng = sealpost::default_rng();
        match entry.group.decrypt(bytes, now_ms) {
            Ok(plaintext) => {
                let from = from.ok_or(ClientError::Corrupted { table: "group" })?;
                self.put_group(&mut batch, entry, false, &mut rng);
                // Every device receives the same bytes: their hash and the
                // sender name the message on all of them (for burning it
                // everywhere).
                let origin =
                    Some(super::vault::burn_origin(super::vault::ORIGIN_GROUP, &sender, &sealpost_sha256(bytes)));
                self.deliver(
                    batch,
                    &from,
                    Via::Group(id),
                    origin,
                    plaintext.into_opened(),
                    now_ms,
                    |entry_id, plaintext| Event::GroupMessage {
                        id: entry_id,
                        group: id,
                        from: from.clone(),
                        plaintext,
                    },
                )
            }
            Err(sealpost::Error::DuplicateMessage) => Ok(Event::Duplicate),
            Err(sealpost::Error::Burnout(BurnoutError::Expired { .. } | BurnoutError::MalformedEnvelope(_))) => {
                // Authentic; its key is used up in `entry`.
                let from = from.ok_or(ClientError::Corrupted { table: "group" })?;
                self.put_group(&mut batch, entry, false, &mut rng);
                self.commit(batch, &mut rng)?;
                Ok(Event::Expired { from, via: Via::Group(id) })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A 1:1 message that carries a sender-key distribution: installed in
    /// its group, committed with the session (and the account, for a
    /// distribution that set up a new session).
    pub(super) fn install_distribution(
        &mut self,
        mut batch: Batch,
        from: &str,
        session: Option<Session>,
        account: Option<Account>,
        bytes: &[u8],
    ) -> Result<Event, ClientError> {
        let mut rng = sealpost::default_rng();
        let mut slot: Option<GroupEntry> = None;
        let mut asked: Option<GroupId> = None;
        let mut load_error = None;
        let (this, slot_ref, asked_ref, error_ref) = (&*self, &mut slot, &mut asked, &mut load_error);
        // Called once, with the group id the decrypted distribution names.
        let find = move |id: &GroupId| {
            // Moving the borrows in makes the closure `FnOnce`, so the group
            // it returns may outlive the call.
            let slot_ref = slot_ref;
            *asked_ref = Some(*id);
            let loaded = match this.groups.get(id) {
                Some(entry) => Ok(Some(entry.clone())),
                None => this.load_group(id),
            };
            match loaded {
                Ok(entry) => *slot_ref = entry,
                Err(e) => *error_ref = Some(e),
            }
            match slot_ref {
                Some(entry) => Some(&mut entry.group),
                None => None,
            }
        };
        let new_session = account.is_some();
        let mut account = account.unwrap_or_else(|| self.account.clone());
        let result: sealpost::Result<(Session, InstalledSenderKey)> = match session {
            Some(mut session) => {
                sealpost::group::receive_distribution(&mut account, &mut session, bytes, find).map(|i| (session, i))
            }
            None => sealpost::group::receive_distribution_new_session(&mut account, bytes, find),
        };
        let (session, installed) = match result {
            Ok(done) => done,
            Err(e) => {
                return Err(match (load_error, asked) {
                    (Some(load), _) => load,
                    (None, Some(group)) if e == sealpost::Error::Group(GroupError::GroupMismatch) => {
                        ClientError::UnknownGroup { group }
                    }
                    _ => e.into(),
                });
            }
        };
        let entry = slot.ok_or(ClientError::Corrupted { table: "group" })?;
        self.put_session(&mut batch, from, session, &mut rng);
        if new_session {
            self.put_account(&mut batch, account, &mut rng);
        }
        self.put_group(&mut batch, entry, false, &mut rng);
        self.commit(batch, &mut rng)?;
        Ok(Event::SenderKeyInstalled { group: installed.group_id, from: from.into(), new_session })
    }
}

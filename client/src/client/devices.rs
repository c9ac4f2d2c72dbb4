//! Users with several devices inside the client.
//!
//! A **user** is a person: a user key, and a signed list of their devices
//! ([`sealpost::device`]). This client's own user (if it has one) lives in
//! one record of [`Table::Meta`]: its name, the user key and the own device
//! list. Every other user the client knows lives in one record of
//! [`Table::User`] under the name the app gave them: the newest device list
//! accepted for them (whose signer is the trusted user key) and whether the
//! user verified that key.
//!
//! Sessions stay **per device**, stored like any peer's under a name of the
//! client's own, `U+001F | device identity (hex) | U+001F | user`, so each
//! is kept per (user, device), and everything the client does with
//! sessions (1:1, sender keys, Forkout) works for devices unchanged. Names
//! starting with U+001F are refused where the app names a peer
//! ([`ClientError::ReservedName`]); events and inbox entries name the user.
//!
//! Trust is per user: a device is trusted while the list the client holds
//! names it, and only then ([`ClientError::UnknownDevice`]). A list that
//! removes a device drops the session with it (Sesame-style) and removes it
//! from every group, rotating our sender key there, in the same commit.

use rand_core::CryptoRng;
use sealpost::burnout::{Envelope, Opened};
use sealpost::device::{
    DeviceList, DeviceListChange, DeviceMembership, LinkCode, LinkCompletion, LinkRequest, Linker, UserKey, UserKeyPair,
};
use sealpost::forkout::{self, ForkoutDelivery, Recipient, SealPolicy};
use sealpost::wire::{MessageType, SessionMessage, peek_type};
use sealpost::{IdentityKey, PreKeyBundle, SafetyNumber, Session};
use zeroize::Zeroizing;

use super::event::Event;
use super::mailbox::{self, Cursor, Destination, Outgoing, Resend};
use super::{Client, Inner};
use crate::error::ClientError;
use crate::store::{Batch, Store, Table};
use crate::trust::TrustRecord;

/// The first character of the client's own names (one per device).
const RESERVED: char = '\u{1f}';

/// Name of the own-user record (table [`Table::Meta`]).
const OWN_USER: &[u8] = b"user";

/// Name of the user index record (table [`Table::Meta`]).
const USER_INDEX: &[u8] = b"user index";

/// What a plain (not Burnout) message to people starts with: the app's
/// content follows.
const FRAME_CONTENT: u8 = 0x00;
/// ... or a burn notice: another own device burned the message named by
/// the 32 bytes that follow.
const FRAME_BURN: u8 = 0x01;

/// A message to people, unframed.
pub(crate) enum Framed {
    /// The app's content.
    Content(Box<Opened>),
    /// A burn notice for the message with this origin.
    BurnNotice([u8; 32]),
}

/// The body of a burn notice for `origin`.
pub(crate) fn burn_notice_body(origin: &[u8; 32]) -> Vec<u8> {
    [&[FRAME_BURN][..], origin].concat()
}

/// Reads the frame of a message from a user's device (Burnout content is
/// not framed: a notice is never a Burnout message).
pub(crate) fn unframe(opened: Opened) -> Result<Framed, ClientError> {
    let Opened::Message(plaintext) = opened else { return Ok(Framed::Content(Box::new(opened))) };
    let plaintext = Zeroizing::new(plaintext);
    match plaintext.split_first() {
        Some((&FRAME_CONTENT, content)) => Ok(Framed::Content(Box::new(Opened::Message(content.to_vec())))),
        Some((&FRAME_BURN, origin)) => {
            Ok(Framed::BurnNotice(origin.try_into().map_err(|_| ClientError::UnknownContent)?))
        }
        _ => Err(ClientError::UnknownContent),
    }
}

/// The name a device's session is stored under.
pub(crate) fn device_peer(user: &str, device: &IdentityKey) -> String {
    format!("{RESERVED}{device}{RESERVED}{user}")
}

/// The device and user a name of [`device_peer`] stands for.
pub(crate) fn parse_device_peer(peer: &str) -> Option<(IdentityKey, &str)> {
    let rest = peer.strip_prefix(RESERVED)?;
    let (hex, user) = (rest.get(..64)?, rest.get(64..)?.strip_prefix(RESERVED)?);
    Some((hex.parse().ok()?, user))
}

/// The name to show for `peer`: the user, for a device's name.
pub(crate) fn display_name(peer: &str) -> &str {
    parse_device_peer(peer).map_or(peer, |(_, user)| user)
}

/// Refuses a name the app gives for a peer or user that is one of the
/// client's own.
pub(crate) fn check_name(name: &str) -> Result<(), ClientError> {
    if name.starts_with(RESERVED) {
        return Err(ClientError::ReservedName { name: name.into() });
    }
    Ok(())
}

/// This client's own user.
#[derive(Clone)]
pub(crate) struct OwnUser {
    pub(crate) name: String,
    pub(crate) key: UserKeyPair,
    pub(crate) list: DeviceList,
}

impl OwnUser {
    /// `name | seed (32) | list (u32 length, bytes)`.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let list = self.list.to_bytes();
        let mut out = Zeroizing::new(Vec::with_capacity(self.name.len() + 40 + list.len()));
        mailbox::put_name(&mut out, &self.name);
        out.extend_from_slice(self.key.to_seed().as_ref());
        out.extend_from_slice(&u32::try_from(list.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&list);
        out
    }

    fn decode(plain: &[u8]) -> Result<Self, ClientError> {
        let corrupted = || ClientError::Corrupted { table: "meta" };
        let mut r = Cursor(plain);
        let name = r.name().ok_or_else(corrupted)?;
        let key = UserKeyPair::from_seed(&Zeroizing::new(r.array::<32>().ok_or_else(corrupted)?));
        let len = r.u32().ok_or_else(corrupted)? as usize;
        let list = DeviceList::from_bytes(r.take(len).ok_or_else(corrupted)?).map_err(|_| corrupted())?;
        if !r.0.is_empty() || list.user() != key.public() {
            return Err(corrupted());
        }
        Ok(Self { name, key, list })
    }
}

/// The SHA-256 of every user record's plaintext, by name: one record the
/// generation record pins, so that an old copy of one user's record put
/// back alone (an old list naming a removed device, or a key that was not
/// verified yet) is refused.
#[derive(Clone, Default)]
pub(crate) struct UserIndex {
    entries: Vec<(String, [u8; 32])>,
}

impl UserIndex {
    /// `count (u32) | (name | digest (32))*`, names ascending.
    fn encode(&self) -> Vec<u8> {
        let mut out = u32::try_from(self.entries.len()).unwrap_or(u32::MAX).to_be_bytes().to_vec();
        for (name, digest) in &self.entries {
            mailbox::put_name(&mut out, name);
            out.extend_from_slice(digest);
        }
        out
    }

    fn decode(plain: &[u8]) -> Result<Self, ClientError> {
        let corrupted = || ClientError::Corrupted { table: "meta" };
        let mut r = Cursor(plain);
        let count = r.u32().ok_or_else(corrupted)?;
        let mut entries: Vec<(String, [u8; 32])> = Vec::new();
        for _ in 0..count {
            let name = r.name().ok_or_else(corrupted)?;
            let digest = r.array::<32>().ok_or_else(corrupted)?;
            if entries.last().is_some_and(|(last, _)| *last >= name) {
                return Err(corrupted());
            }
            entries.push((name, digest));
        }
        if !r.0.is_empty() {
            return Err(corrupted());
        }
        Ok(Self { entries })
    }

    fn get(&self, user: &str) -> Option<&[u8; 32]> {
        self.entries
            .binary_search_by(|(n, _)| n.as_str().cmp(user))
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|e| &e.1)
    }

    fn set(&mut self, user: &str, digest: [u8; 32]) {
        match self.entries.binary_search_by(|(n, _)| n.as_str().cmp(user)) {
            Ok(i) => {
                if let Some(entry) = self.entries.get_mut(i) {
                    entry.1 = digest;
                }
            }
            Err(i) => self.entries.insert(i, (user.to_owned(), digest)),
        }
    }
}

fn record_digest(plain: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(plain).into()
}

/// What the client holds of another user.
#[derive(Clone)]
pub(crate) struct UserRecord {
    pub(crate) list: DeviceList,
    pub(crate) verified: bool,
}

impl UserRecord {
    /// `verified (u8) | list`.
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![u8::from(self.verified)];
        out.extend_from_slice(&self.list.to_bytes());
        out
    }

    fn decode(plain: &[u8]) -> Result<Self, ClientError> {
        let corrupted = || ClientError::Corrupted { table: "user" };
        match plain.split_first() {
            Some((v @ (0 | 1), list)) => {
                Ok(Self { list: DeviceList::from_bytes(list).map_err(|_| corrupted())?, verified: *v == 1 })
            }
            _ => Err(corrupted()),
        }
    }
}

impl<S: Store> Client<S> {
    /// Makes this client the first device of a new user named `name` (the
    /// name this client's app uses for its own user; it names the own
    /// devices in [`receive_from_device`](Self::receive_from_device) and
    /// [`Destination::Users`]): a fresh user key and a device list with
    /// this device alone (version 1). Publish the list to the directory.
    /// [`ClientError::UserExists`] if the client has a user already.
    pub fn create_user<R: CryptoRng + ?Sized>(&self, name: &str, rng: &mut R) -> Result<DeviceList, ClientError> {
        check_name(name)?;
        let mut inner = self.lock()?;
        if inner.own_user()?.is_some() {
            return Err(ClientError::UserExists);
        }
        let key = UserKeyPair::generate(rng);
        let membership = DeviceMembership::sign(inner.account.identity_keypair(), key.public());
        let list = DeviceList::sign(&key, 1, [membership])?;
        inner.commit_own_user(&OwnUser { name: name.into(), key, list: list.clone() }, &[], rng)?;
        Ok(list)
    }

    /// This client's user: its name and user key, if it has one.
    pub fn user(&self) -> Result<Option<(String, UserKey)>, ClientError> {
        Ok(self.lock()?.own_user()?.map(|u| (u.name, *u.key.public())))
    }

    /// The own user's current device list (what to publish).
    pub fn own_devices(&self) -> Result<DeviceList, ClientError> {
        Ok(self.lock()?.own_user()?.ok_or(ClientError::NoUser)?.list)
    }

    /// On a new device (a client with no user yet): starts linking it to
    /// its user's existing device. Show [`LinkRequest::code`] as a QR code;
    /// the request lives in memory only (a crash means a new code).
    pub fn link_request<R: CryptoRng + ?Sized>(&self, rng: &mut R, now_ms: u64) -> Result<LinkRequest, ClientError> {
        let mut inner = self.lock()?;
        if inner.own_user()?.is_some() {
            return Err(ClientError::UserExists);
        }
        Ok(LinkRequest::new(&inner.account, rng, now_ms))
    }

    /// On the new device: accepts the existing device's offer (see
    /// [`LinkRequest::accept_offer`]); returns the acceptance to send back.
    /// Then show [`LinkRequest::short_string`].
    pub fn accept_link_offer(
        &self,
        request: &mut LinkRequest,
        offer: &[u8],
        now_ms: u64,
    ) -> Result<Vec<u8>, ClientError> {
        let inner = self.lock()?;
        Ok(request.accept_offer(offer, &inner.account, now_ms)?)
    }

    /// On the new device: confirms the link with what the user typed from
    /// the existing device's screen (see [`LinkRequest::confirm`]: typed,
    /// not a "match" button); returns the confirmation to send to the
    /// existing device. A `confirmed` that does not match ends the link.
    pub fn confirm_link(&self, request: &mut LinkRequest, confirmed: &str) -> Result<Vec<u8>, ClientError> {
        let inner = self.lock()?;
        Ok(request.confirm(confirmed, &inner.account)?)
    }

    /// On the new device: receives the transfer (see
    /// [`LinkRequest::finish`]), and commits the user key and the user's
    /// new device list as this client's user, named `name`. If the commit
    /// fails, the same request and transfer can be tried again (also when
    /// the store did write before it failed: the same user again gives the
    /// app data again).
    /// Returns the app data the existing device sent (group memberships,
    /// contacts: the app's to apply). The other own devices appear as
    /// devices of `name`: start sessions with them
    /// ([`start_device_session`](Self::start_device_session)).
    pub fn finish_link(
        &self,
        request: &LinkRequest,
        name: &str,
        transfer: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        check_name(name)?;
        let mut inner = self.lock()?;
        let linked = request.finish(transfer)?;
        if let Some(own) = inner.own_user()? {
            // A retry after a commit that did happen (a store that failed
            // after writing): the same user, the same list.
            if own.name == name && own.key.public() == linked.user.public() && own.list == linked.devices {
                return Ok(linked.app_data);
            }
            return Err(ClientError::UserExists);
        }
        let own = OwnUser { name: name.into(), key: linked.user, list: linked.devices };
        let mut rng = sealpost::default_rng();
        inner.commit_own_user(&own, &[], &mut rng)?;
        Ok(linked.app_data)
    }

    /// On an existing device: answers a scanned linking `code` (see
    /// [`Linker::start`]); returns the linker (in memory only) and the offer
    /// to send to the new device.
    pub fn start_link<R: CryptoRng + ?Sized>(
        &self,
        code: &[u8],
        rng: &mut R,
        now_ms: u64,
    ) -> Result<(Linker, Vec<u8>), ClientError> {
        let mut inner = self.lock()?;
        let own = inner.own_user()?.ok_or(ClientError::NoUser)?;
        let code = LinkCode::from_bytes(code)?;
        Ok(Linker::start(&code, &inner.account, own.key.public(), rng, now_ms)?)
    }

    /// On the existing device: completes the link once the user confirmed
    /// the short string and the new device's `confirmation` arrived (see
    /// [`Linker::complete`]), and commits the own user's new device list.
    /// Publish [`LinkCompletion::devices`] and send
    /// [`LinkCompletion::transfer`] to the new device. If the commit fails,
    /// call it again (the linker hands out the same completion). If the
    /// directory refuses the list because another own device published the same
    /// version first, adopt the directory's
    /// ([`adopt_published_devices`](Self::adopt_published_devices)) and link
    /// again.
    pub fn complete_link(
        &self,
        linker: &mut Linker,
        confirmed: &str,
        confirmation: &[u8],
        app_data: &[u8],
    ) -> Result<LinkCompletion, ClientError> {
        let mut inner = self.lock()?;
        let mut own = inner.own_user()?.ok_or(ClientError::NoUser)?;
        let done = linker.complete(confirmed, confirmation, &own.key, &own.list, app_data)?;
        own.list = done.devices.clone();
        let mut rng = sealpost::default_rng();
        inner.commit_own_user(&own, &[], &mut rng)?;
        Ok(done)
    }

    /// Removes one of the own user's other devices (lost, sold, replaced):
    /// signs and commits a new own device list without it, drops the
    /// session with it, and removes it from every group this client is in,
    /// rotating our sender key there (the returned entries carry the new
    /// key to the remaining members). Publish the new list
    /// ([`own_devices`](Self::own_devices)); every peer's client does the
    /// same when it accepts it.
    pub fn remove_own_device<R: CryptoRng + ?Sized>(
        &self,
        device: &IdentityKey,
        rng: &mut R,
    ) -> Result<(DeviceList, Vec<Outgoing>), ClientError> {
        let mut inner = self.lock()?;
        let mut own = inner.own_user()?.ok_or(ClientError::NoUser)?;
        if device == inner.account.identity() {
            return Err(sealpost::Error::from(sealpost::DeviceError::LinkSelf).into());
        }
        let next = own.list.without_device(&own.key, device)?;
        let change = own.list.update(&next)?;
        own.list = next.clone();
        let out = inner.commit_own_user(&own, change.removed(), rng)?;
        Ok((next, out))
    }

    /// Replaces the own user's device list with the one the directory holds
    /// (`published`), when the directory refused the list this device
    /// signed because another own device published the same version first
    /// (two devices changed the list at once; see
    /// [`DeviceList::adopt`]). Devices the published list does not hold
    /// are dropped as in [`accept_device_list`](Self::accept_device_list);
    /// then redo this device's change (link or remove again) on top of it.
    /// Refused, changing nothing: another user key, an older version, or a
    /// list without this device ([`ClientError::UnknownDevice`]).
    pub fn adopt_published_devices<R: CryptoRng + ?Sized>(
        &self,
        published: &[u8],
        rng: &mut R,
    ) -> Result<(DeviceListChange, Vec<Outgoing>), ClientError> {
        let list = DeviceList::from_bytes(published)?;
        let mut inner = self.lock()?;
        let mut own = inner.own_user()?.ok_or(ClientError::NoUser)?;
        let change = own.list.adopt(&list)?;
        if !list.contains(inner.account.identity()) {
            return Err(ClientError::UnknownDevice { user: own.name });
        }
        own.list = list;
        let out = inner.commit_own_user(&own, change.removed(), rng)?;
        Ok((change, out))
    }

    /// Accepts a device list for the user the app names `user` (fetched from
    /// the directory, or pushed by the relay), or for the own user (a list
    /// another own device published). The first list of a user is trusted
    /// on first use; later ones must be signed by the same user key and
    /// newer (or the same). Refused, changing nothing: another user key
    /// ([`sealpost::DeviceError::UserKeyMismatch`]), a rollback
    /// ([`sealpost::DeviceError::RolledBack`]), two lists of one version
    /// ([`sealpost::DeviceError::ConflictingLists`]).
    ///
    /// Returns what changed. Devices that left are dropped in the same
    /// commit: their sessions deleted, and each removed from every group
    /// this client is in, rotating our sender key there (the returned
    /// entries carry it to the remaining members). Devices that joined get
    /// sessions once the app fetches their bundles
    /// ([`start_device_session`](Self::start_device_session)).
    pub fn accept_device_list<R: CryptoRng + ?Sized>(
        &self,
        user: &str,
        list: &[u8],
        rng: &mut R,
    ) -> Result<(DeviceListChange, Vec<Outgoing>), ClientError> {
        check_name(user)?;
        let list = DeviceList::from_bytes(list)?;
        let mut inner = self.lock()?;
        let mut batch = Batch::new();
        let change = match inner.own_user()? {
            Some(mut own) if own.name == user => {
                let change = own.list.update(&list)?;
                if !list.contains(inner.account.identity()) {
                    // Another own device removed this one. Nothing is
                    // stored: peers no longer accept this device, and the
                    // app should tell the user and reset it.
                    return Err(ClientError::UnknownDevice { user: user.into() });
                }
                own.list = list;
                inner.put_own_user(&mut batch, &own, rng);
                change
            }
            _ => {
                let (change, verified) = match inner.user_record(user)? {
                    Some(record) => (record.list.update(&list)?, record.verified),
                    None => (list.initial_change(), false),
                };
                inner.put_user(&mut batch, user, &UserRecord { list, verified }, rng)?;
                change
            }
        };
        let out = inner.drop_devices(&mut batch, user, change.removed(), rng)?;
        inner.commit(batch, rng)?;
        Ok((change, out))
    }

    /// Starts the own user over under a fresh user key, with this device
    /// alone on version 1 of its list: for when another own device was
    /// stolen or its keys may have been copied. Removing such a device is
    /// not enough, since every linked device holds the user key and could
    /// sign itself back onto a newer list; a new user key ends that. In
    /// one commit, as on removal, the sessions with the other own devices
    /// are dropped and every group they were in rotates.
    ///
    /// Publish the returned list. The user's contacts see a new user key,
    /// a changed safety number: they accept it with
    /// [`accept_user_key_change`](Self::accept_user_key_change) once they
    /// compared the new number. Link the own devices that are still
    /// trusted again (they find themselves on no list of the new key:
    /// reset them first). Groups by user keep their members.
    pub fn reset_user<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Result<(DeviceList, Vec<Outgoing>), ClientError> {
        let mut inner = self.lock()?;
        let mut own = inner.own_user()?.ok_or(ClientError::NoUser)?;
        let key = UserKeyPair::generate(rng);
        let membership = DeviceMembership::sign(inner.account.identity_keypair(), key.public());
        let list = DeviceList::sign(&key, 1, [membership])?;
        let me = *inner.account.identity();
        let others: Vec<IdentityKey> = own.list.devices().iter().filter(|d| **d != me).copied().collect();
        own.key = key;
        own.list = list.clone();
        let out = inner.commit_own_user(&own, &others, rng)?;
        Ok((list, out))
    }

    /// Accepts a device list of `user` under a new user key: the user
    /// started over ([`reset_user`](Self::reset_user)), or someone claims
    /// so. Compare the new safety number first
    /// ([`UserKey::safety_number`] of the list's
    /// [`user`](DeviceList::user) with the own user key): the change is
    /// the one moment a stolen device or a lying directory would show.
    ///
    /// `compared`: the user key whose safety number the user compared just
    /// now (and found right), if they did; it must be the list's key
    /// ([`sealpost::DeviceError::UserKeyMismatch`]: the list changed since
    /// the number was shown), and the new key is then recorded as verified.
    /// A user recorded as verified is refused without it
    /// ([`ClientError::Blocked`]); otherwise the new key is recorded as
    /// unverified. Devices of the old list not on the new one are dropped
    /// (sessions, and from every group, rotating it). Refused for the own
    /// user's name ([`sealpost::DeviceError::UserKeyMismatch`]: this
    /// device is not on the new list; reset it) and for a user with no
    /// list yet ([`ClientError::UnknownUser`]: use
    /// [`accept_device_list`](Self::accept_device_list)).
    pub fn accept_user_key_change<R: CryptoRng + ?Sized>(
        &self,
        user: &str,
        list: &[u8],
        compared: Option<&UserKey>,
        rng: &mut R,
    ) -> Result<(DeviceListChange, Vec<Outgoing>), ClientError> {
        check_name(user)?;
        let list = DeviceList::from_bytes(list)?;
        if let Some(key) = compared {
            list.check_user(key)?;
        }
        let verified = compared.is_some();
        let mut inner = self.lock()?;
        if inner.own_user()?.is_some_and(|own| own.name == user) {
            return Err(sealpost::Error::from(sealpost::DeviceError::UserKeyMismatch).into());
        }
        let record = inner.user_record(user)?.ok_or_else(|| ClientError::UnknownUser { user: user.into() })?;
        if record.list.user() == list.user() {
            // Not a change of key: the ordinary rules.
            drop(inner);
            return self.accept_device_list(user, &list.to_bytes(), rng);
        }
        if record.verified && !verified {
            return Err(ClientError::Blocked { peer: user.into() });
        }
        let change = record.list.diff(&list);
        let mut batch = Batch::new();
        inner.put_user(&mut batch, user, &UserRecord { list, verified }, rng)?;
        let out = inner.drop_devices(&mut batch, user, change.removed(), rng)?;
        inner.commit(batch, rng)?;
        Ok((change, out))
    }

    /// The newest device list accepted for `user` (the own user's for its
    /// own name).
    pub fn user_devices(&self, user: &str) -> Result<Option<DeviceList>, ClientError> {
        let mut inner = self.lock()?;
        inner.devices_of(user)
    }

    /// The devices of `user` (other than this one) the client has no session
    /// with: fetch their prekey bundles and
    /// [`start_device_session`](Self::start_device_session) with each.
    pub fn devices_without_session(&self, user: &str) -> Result<Vec<IdentityKey>, ClientError> {
        let mut inner = self.lock()?;
        let list = inner.devices_of(user)?.ok_or_else(|| ClientError::UnknownUser { user: user.into() })?;
        let own = *inner.account.identity();
        let mut out = Vec::new();
        for device in list.devices().iter().filter(|d| **d != own) {
            if inner.session(&device_peer(user, device))?.is_none() {
                out.push(*device);
            }
        }
        Ok(out)
    }

    /// Starts a session with one device of `user` from its prekey bundle.
    /// The bundle's identity must be on the user's device list
    /// ([`ClientError::UnknownDevice`] otherwise). The device joins every
    /// group `user` is a member of on this client: it gets our current
    /// sender key there (the returned entries), so it reads what we send
    /// from now on, not what came before.
    pub fn start_device_session<R: CryptoRng + ?Sized>(
        &self,
        user: &str,
        bundle: &PreKeyBundle,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut inner = self.lock()?;
        let device = *bundle.identity();
        inner.listed_device(user, &device)?;
        let peer = device_peer(user, &device);
        let mut batch = Batch::new();
        if inner.trust(&peer)?.is_none() {
            inner.put_trust(&mut batch, &peer, TrustRecord::first_use(device), &mut sealpost::default_rng());
        }
        let session = inner.account.create_outbound_session_at(bundle, now_ms, rng)?;
        inner.put_session(&mut batch, &peer, session, rng);
        let out = inner.join_user_groups(&mut batch, user, &peer, rng)?;
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Sends `plaintext` to the person `user`: sealed once (Forkout), with
    /// one key slot per device of theirs this client has a session with,
    /// plus one per other own device (so the message shows on the sender's
    /// other devices too), inside a Burnout `envelope` if one is given.
    /// Commits every session with one outbox entry
    /// ([`Destination::Users`]) for the relay, which checks the slots
    /// against the current device lists and splits the bundle. Devices
    /// without a session are left out: see
    /// [`devices_without_session`](Self::devices_without_session) (the
    /// relay reports them missing).
    pub fn send_to_user<R: CryptoRng + ?Sized>(
        &self,
        user: &str,
        plaintext: &[u8],
        envelope: Option<&Envelope>,
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        self.send_to_users(&[user], plaintext, envelope, rng)
    }

    /// [`send_to_user`](Self::send_to_user) for several people at once (a
    /// Forkout whose recipients are people): one body, one key slot per
    /// device of each of `users` and per other own device, one outbox
    /// entry. Duplicate names are merged.
    pub fn send_to_users<R: CryptoRng + ?Sized>(
        &self,
        users: &[&str],
        plaintext: &[u8],
        envelope: Option<&Envelope>,
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        for user in users {
            check_name(user)?;
        }
        let mut inner = self.lock()?;
        // Plain content is framed (a burn notice is the other frame);
        // Burnout content is not (a notice is never a Burnout message).
        let body = match envelope {
            None => [&[FRAME_CONTENT][..], plaintext].concat(),
            Some(_) => plaintext.to_vec(),
        };
        let resend = Resend { plaintext: Zeroizing::new(body), envelope: envelope.copied() };
        let users: Vec<String> = users.iter().map(|u| (*u).to_owned()).collect();
        let mut batch = Batch::new();
        let out = inner.seal_to_users(&mut batch, &users, &resend, rng)?;
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Seals an outbox entry of [`send_to_user`](Self::send_to_user) again
    /// for the device lists the client holds now, and replaces the entry
    /// with the new one in one commit: after the relay refused the bundle
    /// as out of date ([`sealpost::DeviceError::StaleDeviceList`]) and the
    /// app accepted the newer lists
    /// ([`accept_device_list`](Self::accept_device_list)) and started
    /// sessions with the new devices. The refused bundle was delivered to
    /// no one, so no device gets the message twice and none misses it.
    pub fn resend_to_user<R: CryptoRng + ?Sized>(&self, id: u64, rng: &mut R) -> Result<Outgoing, ClientError> {
        let mut inner = self.lock()?;
        let key = inner.keys.key(Table::Outbox, &id.to_be_bytes());
        let sealed = inner.store.get(Table::Outbox, &key)?.ok_or(ClientError::NotResendable { id })?;
        let (old, resend) = mailbox::decode_outgoing_with(&inner.open(Table::Outbox, &key, &sealed)?)?;
        let (Destination::Users(users), Some(resend)) = (old.to, resend) else {
            return Err(ClientError::NotResendable { id });
        };
        let mut batch = Batch::new();
        batch.delete(Table::Outbox, key);
        let out = inner.seal_to_users(&mut batch, &users, &resend, rng)?;
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Accepts one incoming message from the device `device` of `user` (as
    /// the transport names the sender: a relay delivering per device knows
    /// which one sent), at the local clock `now_ms`: a 1:1 message, a
    /// sender-key distribution, a group message or a Forkout delivery, as
    /// [`receive`](Self::receive) does. The device must be on the user's
    /// list ([`ClientError::UnknownDevice`]: never trusted otherwise, even
    /// if its setup message is authentic). Events and inbox entries name
    /// `user`.
    pub fn receive_from_device(
        &self,
        user: &str,
        device: &IdentityKey,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<Event, ClientError> {
        let kind = peek_type(bytes).map_err(sealpost::Error::from)?;
        let mut inner = self.lock()?;
        inner.listed_device(user, device)?;
        let peer = device_peer(user, device);
        // A setup (or first-contact slot) must come from the device itself.
        let claimed = match kind {
            MessageType::Setup => SessionMessage::parse(bytes).map_err(sealpost::Error::from)?.claimed_sender(),
            MessageType::ForkoutDelivery => {
                ForkoutDelivery::parse(bytes).map_err(sealpost::Error::from)?.claimed_sender()
            }
            _ => None,
        };
        if claimed.is_some_and(|c| c != *device) {
            return Err(ClientError::UnknownDevice { user: user.into() });
        }
        let event = match kind {
            MessageType::Ratchet | MessageType::Setup => inner.receive_direct(&peer, bytes, now_ms),
            MessageType::Group => inner.receive_group(bytes, now_ms),
            MessageType::ForkoutDelivery => inner.receive_forkout(&peer, bytes, now_ms),
            other => Err(ClientError::NotReceivable(other)),
        }?;
        Ok(event.named_by_user())
    }

    /// The safety number of this client's user and `user`, from the two
    /// user keys: it stays the same when either adds or removes a device.
    /// `None` before both have a user key.
    pub fn user_safety_number(&self, user: &str) -> Result<Option<SafetyNumber>, ClientError> {
        let mut inner = self.lock()?;
        let Some(own) = inner.own_user()? else { return Ok(None) };
        Ok(inner.user_record(user)?.map(|r| own.key.public().safety_number(r.list.user())))
    }

    /// The user compared safety numbers with `user` under `key`: records
    /// the user key as verified. Refused with
    /// [`sealpost::DeviceError::UserKeyMismatch`] if `key` is not the one
    /// the client holds for them (the user compared against another key:
    /// accept nothing).
    pub fn verify_user(&self, user: &str, key: &UserKey) -> Result<(), ClientError> {
        let mut inner = self.lock()?;
        let mut record = inner.user_record(user)?.ok_or_else(|| ClientError::UnknownUser { user: user.into() })?;
        record.list.check_user(key)?;
        record.verified = true;
        let mut rng = sealpost::default_rng();
        let mut batch = Batch::new();
        inner.put_user(&mut batch, user, &record, &mut rng)?;
        inner.commit(batch, &mut rng)
    }

    /// Whether the user verified `user`'s user key.
    pub fn is_user_verified(&self, user: &str) -> Result<bool, ClientError> {
        Ok(self.lock()?.user_record(user)?.is_some_and(|r| r.verified))
    }
}

impl<S: Store> Inner<S> {
    /// A burn notice from the device `from`: only the own user's devices
    /// may send one. Commits the session (in `batch` already) with the burn.
    pub(super) fn burn_notice(&mut self, mut batch: Batch, from: &str, origin: [u8; 32]) -> Result<Event, ClientError> {
        let user = display_name(from);
        if self.own_user()?.is_none_or(|own| own.name != user) {
            return Err(ClientError::UnknownDevice { user: user.into() });
        }
        let entry = self.burn_elsewhere(&mut batch, origin)?;
        self.commit(batch, &mut sealpost::default_rng())?;
        Ok(Event::Burned { from: user.into(), entry })
    }

    /// The own user, pinned by the generation record: an old copy put back
    /// (an old list, a removed device back on it) is refused.
    pub(crate) fn own_user(&mut self) -> Result<Option<OwnUser>, ClientError> {
        match self.open_pinned(Table::Meta, OWN_USER, self.meta.own_user_written)? {
            Some(plain) => Ok(Some(OwnUser::decode(&plain)?)),
            None => Ok(None),
        }
    }

    fn own_name(&mut self) -> Option<String> {
        self.own_user().ok().flatten().map(|u| u.name)
    }

    /// Commits the own user `own` (its list changed), with the `removed`
    /// devices dropped (their sessions, and from every group, rotating).
    fn commit_own_user<R: CryptoRng + ?Sized>(
        &mut self,
        own: &OwnUser,
        removed: &[IdentityKey],
        rng: &mut R,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut batch = Batch::new();
        self.put_own_user(&mut batch, own, rng);
        let out = self.drop_devices(&mut batch, &own.name, removed, rng)?;
        self.commit(batch, rng)?;
        Ok(out)
    }

    fn put_own_user<R: CryptoRng + ?Sized>(&mut self, batch: &mut Batch, own: &OwnUser, rng: &mut R) {
        let key = self.keys.key(Table::Meta, OWN_USER);
        batch.put(Table::Meta, key, self.seal(Table::Meta, &key, &own.encode(), rng));
        self.writes.own_user = true;
    }

    /// The user index, as this operation left it.
    fn user_index(&self) -> Result<UserIndex, ClientError> {
        if let Some(index) = &self.user_index {
            return Ok(index.clone());
        }
        match self.open_pinned(Table::Meta, USER_INDEX, self.meta.user_index_written)? {
            Some(plain) => UserIndex::decode(&plain),
            None => Ok(UserIndex::default()),
        }
    }

    /// `user`'s record, as committed: it must be the one the user index
    /// names (else [`ClientError::RolledBack`]).
    fn user_record(&mut self, user: &str) -> Result<Option<UserRecord>, ClientError> {
        let key = self.keys.key(Table::User, user.as_bytes());
        let record = match self.store.get(Table::User, &key)? {
            Some(sealed) => Some(self.open(Table::User, &key, &sealed)?),
            None => None,
        };
        let index = match &self.user_index {
            // Staged in this operation: the committed record is the one
            // the committed index names.
            Some(_) => match self.open_pinned(Table::Meta, USER_INDEX, self.meta.user_index_written)? {
                Some(plain) => UserIndex::decode(&plain)?,
                None => UserIndex::default(),
            },
            None => self.user_index()?,
        };
        let rolled_back =
            || ClientError::RolledBack { generation: self.generation, minimum: self.meta.user_index_written };
        match (record, index.get(user)) {
            (Some(plain), Some(digest)) if record_digest(&plain) == *digest => Ok(Some(UserRecord::decode(&plain)?)),
            (None, None) => Ok(None),
            _ => Err(rolled_back()),
        }
    }

    fn put_user<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        user: &str,
        record: &UserRecord,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        let plain = record.encode();
        let mut index = self.user_index()?;
        index.set(user, record_digest(&plain));
        let key = self.keys.key(Table::User, user.as_bytes());
        batch.put(Table::User, key, self.seal(Table::User, &key, &plain, rng));
        let key = self.keys.key(Table::Meta, USER_INDEX);
        batch.put(Table::Meta, key, self.seal(Table::Meta, &key, &index.encode(), rng));
        self.writes.user_index = true;
        self.user_index = Some(index);
        Ok(())
    }

    /// The device list of `user`: the own user's for its name.
    pub(super) fn user_devices_or_own(&mut self, user: &str) -> Result<Option<DeviceList>, ClientError> {
        self.devices_of(user)
    }

    fn devices_of(&mut self, user: &str) -> Result<Option<DeviceList>, ClientError> {
        if let Some(own) = self.own_user()?.filter(|u| u.name == user) {
            return Ok(Some(own.list));
        }
        Ok(self.user_record(user)?.map(|r| r.list))
    }

    /// Refuses a device that is not on `user`'s list (or is this one).
    fn listed_device(&mut self, user: &str, device: &IdentityKey) -> Result<(), ClientError> {
        check_name(user)?;
        let list = self.devices_of(user)?.ok_or_else(|| ClientError::UnknownUser { user: user.into() })?;
        if !list.contains(device) || device == self.account.identity() {
            return Err(ClientError::UnknownDevice { user: user.into() });
        }
        Ok(())
    }

    /// Seals `resend` for every device of `users` and every other own device
    /// this client has a session with; the sessions and the outbox entry go
    /// into `batch`.
    pub(super) fn seal_to_users<R: CryptoRng + ?Sized>(
        &mut self,
        batch: &mut Batch,
        users: &[String],
        resend: &Resend,
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        let mut users: Vec<String> = users.to_vec();
        users.dedup();
        users.sort();
        users.dedup();
        if let Some(own) = self.own_name().filter(|n| !users.contains(n)) {
            users.push(own);
        }
        let me = *self.account.identity();
        let mut names = Vec::new();
        let mut sessions: Vec<Session> = Vec::new();
        for name in &users {
            let list = self.devices_of(name)?.ok_or_else(|| ClientError::UnknownUser { user: name.clone() })?;
            for device in list.devices().iter().filter(|d| **d != me) {
                let peer = device_peer(name, device);
                if let Some(session) = self.session(&peer)? {
                    sessions.push(session);
                    names.push(peer);
                }
            }
        }
        if sessions.is_empty() {
            return Err(ClientError::NoSession { peer: users.join(", ") });
        }
        let recipients = sessions.iter_mut().map(Recipient::Session);
        let (sealed, _) = forkout::seal(
            &self.account,
            resend.plaintext.to_vec(),
            recipients,
            SealPolicy::AllOrNothing,
            resend.envelope,
            rng,
        )?;
        for (name, session) in names.iter().zip(sessions) {
            self.put_session(batch, name, session, rng);
        }
        Ok(self.put_outgoing_with(batch, Destination::Users(users), Some(resend), sealed.to_bytes(), rng))
    }
}

//! The `Client`'s methods for people with several devices (see
//! `sealpost_client`'s `devices.rs`): the own user, linking, device lists,
//! sending to people, groups of people.

use std::sync::Arc;

use sealpost::IdentityKey;

use super::Client;
use super::records::{ClientGroupCreated, ClientOutgoing, outgoing};
use crate::burnout::Envelope;
use crate::device::{DeviceListInfo, LinkRequest, Linker, user_key};
use crate::error::Result;
use crate::keys::Key32;
use crate::locked::Locked;

/// This client's user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientUser {
    /// The name the app uses for its own user.
    pub name: String,
    /// The user key.
    pub user_key: Key32,
}

/// An answer to a scanned linking code.
#[derive(uniffi::Record)]
pub struct ClientLinkStart {
    /// The existing device's side of the link.
    pub linker: Arc<Linker>,
    /// The offer to send to the new device.
    pub offer: Vec<u8>,
}

/// A completed link, on the existing device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientLinkCompletion {
    /// The user's new device list: publish it.
    pub devices: Vec<u8>,
    /// The transfer: send it to the new device.
    pub transfer: Vec<u8>,
}

/// What a device-list change did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientDeviceListChange {
    /// The version held before (0: the user's first list).
    pub from_version: u64,
    /// The new version.
    pub to_version: u64,
    /// Devices that joined (start sessions with them).
    pub added: Vec<IdentityKey>,
    /// Devices that left (their sessions are gone, groups rotated).
    pub removed: Vec<IdentityKey>,
    /// The rotated group keys, for the remaining members.
    pub outgoing: Vec<ClientOutgoing>,
}

impl ClientDeviceListChange {
    fn new(change: &sealpost::device::DeviceListChange, out: Vec<sealpost_client::Outgoing>) -> Self {
        Self {
            from_version: change.from_version(),
            to_version: change.to_version(),
            added: change.added().to_vec(),
            removed: change.removed().to_vec(),
            outgoing: outgoing(out),
        }
    }
}

/// An own device removed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientDeviceRemoved {
    /// The own user's new device list: publish it.
    pub devices: Vec<u8>,
    /// The rotated group keys, for the remaining members.
    pub outgoing: Vec<ClientOutgoing>,
}

#[uniffi::export]
impl Client {
    /// Makes this client the first device of a new user named `name`;
    /// returns the device list to publish.
    pub fn create_user(&self, name: String) -> Result<Vec<u8>> {
        Ok(self.inner.create_user(&name, &mut sealpost::default_rng())?.to_bytes())
    }

    /// This client's user, if it has one.
    pub fn user(&self) -> Result<Option<ClientUser>> {
        Ok(self.inner.user()?.map(|(name, key)| ClientUser { name, user_key: key.to_bytes().into() }))
    }

    /// The own user's current device list (to publish).
    pub fn own_devices(&self) -> Result<Vec<u8>> {
        Ok(self.inner.own_devices()?.to_bytes())
    }

    /// On a new device: starts linking it (show the request's code).
    pub fn link_request(&self, now_ms: u64) -> Result<Arc<LinkRequest>> {
        Ok(LinkRequest::wrap(self.inner.link_request(&mut sealpost::default_rng(), now_ms)?))
    }

    /// On the new device: accepts the existing device's offer; returns the
    /// acceptance to send back. Then show `request.short_string()`.
    pub fn accept_link_offer(&self, request: Arc<LinkRequest>, offer: Vec<u8>, now_ms: u64) -> Result<Vec<u8>> {
        request.with(|r| Ok(self.inner.accept_link_offer(r, &offer, now_ms)?))
    }

    /// On the new device: confirms the link with what the user typed from
    /// the existing device's screen (typed: not a "match" button); returns
    /// the confirmation to send to the existing device.
    /// A string that does not match ends the link (`ShortStringMismatch`).
    pub fn confirm_link(&self, request: Arc<LinkRequest>, confirmed: String) -> Result<Vec<u8>> {
        request.with(|r| Ok(self.inner.confirm_link(r, &confirmed)?))
    }

    /// On the new device: receives the existing device's transfer; commits
    /// the user as this client's, named `name`. Returns the app data the
    /// existing device sent. If it fails on the store, call it again.
    pub fn finish_link(&self, request: Arc<LinkRequest>, name: String, transfer: Vec<u8>) -> Result<Vec<u8>> {
        request.with(|r| Ok(self.inner.finish_link(r, &name, &transfer)?.to_vec()))
    }

    /// On an existing device: answers a scanned linking code.
    pub fn start_link(&self, code: Vec<u8>, now_ms: u64) -> Result<ClientLinkStart> {
        let (linker, offer) = self.inner.start_link(&code, &mut sealpost::default_rng(), now_ms)?;
        Ok(ClientLinkStart { linker: Linker::wrap(linker), offer })
    }

    /// On the existing device: completes the link once the user confirmed
    /// the short string and the new device's `confirmation` arrived;
    /// commits the own user's new device list (publish it, send the
    /// transfer).
    pub fn complete_link(
        &self,
        linker: Arc<Linker>,
        confirmed: String,
        confirmation: Vec<u8>,
        app_data: Vec<u8>,
    ) -> Result<ClientLinkCompletion> {
        linker.with(|l| {
            let done = self.inner.complete_link(l, &confirmed, &confirmation, &app_data)?;
            Ok(ClientLinkCompletion { devices: done.devices.to_bytes(), transfer: done.transfer })
        })
    }

    /// Removes one of the own user's other devices (lost, replaced).
    pub fn remove_own_device(&self, device: IdentityKey) -> Result<ClientDeviceRemoved> {
        let (list, out) = self.inner.remove_own_device(&device, &mut sealpost::default_rng())?;
        Ok(ClientDeviceRemoved { devices: list.to_bytes(), outgoing: outgoing(out) })
    }

    /// Starts the own user over under a fresh user key with this device
    /// alone (after another own device was stolen); publish the list.
    pub fn reset_user(&self) -> Result<ClientDeviceRemoved> {
        let (list, out) = self.inner.reset_user(&mut sealpost::default_rng())?;
        Ok(ClientDeviceRemoved { devices: list.to_bytes(), outgoing: outgoing(out) })
    }

    /// Accepts `user`'s list under a new user key (they started over).
    /// `compared`: the user key whose safety number the user compared just
    /// now, if they did (needed for a user recorded as verified, else
    /// `Blocked`; another key than the list's is `UserKeyMismatch`).
    pub fn accept_user_key_change(
        &self,
        user: String,
        list: Vec<u8>,
        compared: Option<Key32>,
    ) -> Result<ClientDeviceListChange> {
        let compared = compared.map(|k| user_key(&k)).transpose()?;
        let (change, out) =
            self.inner.accept_user_key_change(&user, &list, compared.as_ref(), &mut sealpost::default_rng())?;
        Ok(ClientDeviceListChange::new(&change, out))
    }

    /// Replaces the own user's list with the directory's, after the
    /// directory refused ours because another own device published that
    /// version first; then redo this device's change.
    pub fn adopt_published_devices(&self, published: Vec<u8>) -> Result<ClientDeviceListChange> {
        let (change, out) = self.inner.adopt_published_devices(&published, &mut sealpost::default_rng())?;
        Ok(ClientDeviceListChange::new(&change, out))
    }

    /// Accepts a device list for `user` (or for the own user's name).
    pub fn accept_device_list(&self, user: String, list: Vec<u8>) -> Result<ClientDeviceListChange> {
        let (change, out) = self.inner.accept_device_list(&user, &list, &mut sealpost::default_rng())?;
        Ok(ClientDeviceListChange::new(&change, out))
    }

    /// The newest device list accepted for `user`.
    pub fn user_devices(&self, user: String) -> Result<Option<DeviceListInfo>> {
        Ok(self.inner.user_devices(&user)?.as_ref().map(DeviceListInfo::from))
    }

    /// Devices of `user` this client has no session with (fetch their
    /// bundles, then `start_device_session`).
    pub fn devices_without_session(&self, user: String) -> Result<Vec<IdentityKey>> {
        Ok(self.inner.devices_without_session(&user)?)
    }

    /// Starts a session with one device of `user` from its bundle (the
    /// device must be on the user's list); it joins the user's groups.
    pub fn start_device_session(&self, user: String, bundle: Vec<u8>, now_ms: u64) -> Result<Vec<ClientOutgoing>> {
        let bundle = sealpost::PreKeyBundle::from_bytes(&bundle)?;
        Ok(outgoing(self.inner.start_device_session(&user, &bundle, now_ms, &mut sealpost::default_rng())?))
    }

    /// Sends to the person `user`: every device of theirs and the own other
    /// devices, sealed once, for the relay.
    pub fn send_to_user(&self, user: String, plaintext: Vec<u8>, envelope: Option<Envelope>) -> Result<ClientOutgoing> {
        let envelope = envelope.map(sealpost::burnout::Envelope::from);
        Ok(self.inner.send_to_user(&user, &plaintext, envelope.as_ref(), &mut sealpost::default_rng())?.into())
    }

    /// Seals a message to people again after the relay refused it as out of
    /// date (`StaleDeviceList`) and the newer lists were accepted.
    pub fn resend_to_user(&self, id: u64) -> Result<ClientOutgoing> {
        Ok(self.inner.resend_to_user(id, &mut sealpost::default_rng())?.into())
    }

    /// Accepts one message from the device `device` of `user`.
    pub fn receive_from_device(
        &self,
        user: String,
        device: IdentityKey,
        bytes: Vec<u8>,
        now_ms: u64,
    ) -> Result<super::records::ClientEvent> {
        Ok(self.inner.receive_from_device(&user, &device, &bytes, now_ms)?.into())
    }

    /// The safety number of this client's user and `user` (from user keys).
    pub fn user_safety_number(&self, user: String) -> Result<Option<String>> {
        Ok(self.inner.user_safety_number(&user)?.map(|n| n.to_string()))
    }

    /// Records `user`'s user key as verified (throws `UserKeyMismatch` if
    /// it is not the key held for them).
    pub fn verify_user(&self, user: String, key: Key32) -> Result<()> {
        Ok(self.inner.verify_user(&user, &user_key(&key)?)?)
    }

    /// Whether `user`'s user key was verified.
    pub fn is_user_verified(&self, user: String) -> Result<bool> {
        Ok(self.inner.is_user_verified(&user)?)
    }

    /// Creates a group of people (every device of each user).
    pub fn create_user_group(&self, users: Vec<String>) -> Result<ClientGroupCreated> {
        let names: Vec<&str> = users.iter().map(String::as_str).collect();
        let (id, out) = self.inner.create_user_group(&names, &mut sealpost::default_rng())?;
        Ok(ClientGroupCreated { group_id: (*id.as_bytes()).into(), outgoing: outgoing(out) })
    }

    /// Joins a group of people another member created.
    pub fn join_user_group(&self, group_id: Key32, users: Vec<String>) -> Result<Vec<ClientOutgoing>> {
        let names: Vec<&str> = users.iter().map(String::as_str).collect();
        Ok(outgoing(self.inner.join_user_group(&super::group_id(&group_id), &names, &mut sealpost::default_rng())?))
    }

    /// Adds the person `user` (each of their devices) to a group.
    pub fn add_user_to_group(&self, group_id: Key32, user: String) -> Result<Vec<ClientOutgoing>> {
        Ok(outgoing(self.inner.add_user_to_group(&super::group_id(&group_id), &user, &mut sealpost::default_rng())?))
    }

    /// Removes the person `user` (every device) from a group; rotates.
    pub fn remove_user_from_group(&self, group_id: Key32, user: String) -> Result<Vec<ClientOutgoing>> {
        Ok(outgoing(self.inner.remove_user_from_group(
            &super::group_id(&group_id),
            &user,
            &mut sealpost::default_rng(),
        )?))
    }

    /// Every group this client is in.
    pub fn groups(&self) -> Result<Vec<Key32>> {
        Ok(self.inner.groups()?.into_iter().map(|id| (*id.as_bytes()).into()).collect())
    }

    /// The people in a group, by user name.
    pub fn group_users(&self, group_id: Key32) -> Result<Vec<String>> {
        Ok(self.inner.group_users(&super::group_id(&group_id))?)
    }
}

//! Users with several devices: signed device lists, the relay's check, and
//! the two sides of device linking (`LinkRequest` on the new device,
//! `Linker` on the existing one). The `Client` methods that use them are in
//! `client/devices.rs`.

use std::sync::{Arc, Mutex};

use sealpost::IdentityKey;

use crate::error::{Result, SealpostError};
use crate::keys::Key32;
use crate::locked::{Locked, locked};

/// A verified device list, read out.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceListInfo {
    /// The user key that signed it (the person's identity).
    pub user_key: Key32,
    /// Its version (grows by one per change).
    pub version: u64,
    /// The devices' identity keys, ascending.
    pub devices: Vec<IdentityKey>,
}

impl From<&sealpost::device::DeviceList> for DeviceListInfo {
    fn from(list: &sealpost::device::DeviceList) -> Self {
        Self { user_key: list.user().to_bytes().into(), version: list.version(), devices: list.devices().to_vec() }
    }
}

/// Parses a published device list and verifies its signature by the user
/// key it names. Throws `Malformed` or `InvalidSignature`.
#[uniffi::export]
pub fn device_list_info(list: Vec<u8>) -> Result<DeviceListInfo> {
    Ok((&sealpost::device::DeviceList::from_bytes(&list)?).into())
}

/// For a relay: checks that a Forkout bundle meant for every device of some
/// users has a key slot for exactly their current devices (`lists`, the
/// sender's own among them) except the sending device. Throws
/// `StaleDeviceList` (refuse the bundle and tell the sender) or `Malformed`.
#[uniffi::export]
pub fn check_device_recipients(bundle: Vec<u8>, lists: Vec<Vec<u8>>, sender: IdentityKey) -> Result<()> {
    let bundle = sealpost::forkout::ForkoutBundle::parse(&bundle).map_err(sealpost::Error::from)?;
    let lists =
        lists.iter().map(|l| sealpost::device::DeviceList::from_bytes(l)).collect::<sealpost::Result<Vec<_>>>()?;
    Ok(sealpost::device::check_recipients(bundle.recipients(), &lists, &sender)?)
}

/// The new device's side of a link (from `Client.link_request`): show
/// `code()` as a QR code. In memory only.
#[derive(uniffi::Object)]
pub struct LinkRequest {
    pub(crate) inner: Mutex<sealpost::device::LinkRequest>,
}
locked!(LinkRequest, sealpost::device::LinkRequest);

impl LinkRequest {
    pub(crate) fn wrap(inner: sealpost::device::LinkRequest) -> Arc<Self> {
        Arc::new(Self { inner: Mutex::new(inner) })
    }
}

/// Who an accepted offer came from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkOfferedBy {
    /// The existing device's identity key.
    pub device: IdentityKey,
    /// The user key it links to.
    pub user_key: Key32,
}

#[uniffi::export]
impl LinkRequest {
    /// The code to show as a QR code (it holds a secret: screen only).
    pub fn code(&self) -> Result<Vec<u8>> {
        self.with(|r| Ok(r.code().to_vec()))
    }

    /// When the code expires (ms since the Unix epoch).
    pub fn expires_at_ms(&self) -> Result<u64> {
        self.with(|r| Ok(r.expires_at_ms()))
    }

    /// The 8-digit short string to show (`1234 5678`), once an offer was
    /// accepted.
    pub fn short_string(&self) -> Result<Option<String>> {
        self.with(|r| Ok(r.short_string().map(|s| s.to_string())))
    }

    /// Who the accepted offer came from.
    pub fn offered_by(&self) -> Result<Option<LinkOfferedBy>> {
        self.with(|r| {
            Ok(r.offered_by().map(|(device, user)| LinkOfferedBy { device: *device, user_key: user.to_bytes().into() }))
        })
    }
}

/// The existing device's side of a link (from `Client.start_link`). In
/// memory only.
#[derive(uniffi::Object)]
pub struct Linker {
    pub(crate) inner: Mutex<sealpost::device::Linker>,
}
locked!(Linker, sealpost::device::Linker);

impl Linker {
    pub(crate) fn wrap(inner: sealpost::device::Linker) -> Arc<Self> {
        Arc::new(Self { inner: Mutex::new(inner) })
    }
}

#[uniffi::export]
impl Linker {
    /// Checks the new device's acceptance; returns the short string to show.
    pub fn receive_accept(&self, accept: Vec<u8>) -> Result<String> {
        self.with(|l| Ok(l.receive_accept(&accept)?.to_string()))
    }

    /// The new device's identity key.
    pub fn new_device(&self) -> Result<IdentityKey> {
        self.with(|l| Ok(*l.new_device()))
    }
}

/// A user key given as bytes.
pub(crate) fn user_key(key: &Key32) -> Result<sealpost::device::UserKey> {
    sealpost::device::UserKey::from_bytes(key.as_bytes()).map_err(SealpostError::from)
}

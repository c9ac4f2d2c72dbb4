//! Signed device lists: which device identities speak for a user, at which
//! version.
//!
//! Encoding (format version 1, type `0x50`):
//!
//! ```text
//! 0x01 | 0x50 | user key (32) | version (u64) | count (u8, 1..=MAX_DEVICES)
//!      | (device identity key (32) | membership (64)) * count, keys strictly ascending
//!      | signature (64)
//! ```
//!
//! The signature is the user key's Ed25519 signature of
//! `"sealpost v1 device list" || every byte before the signature`; each
//! membership is the device's own signature of `"sealpost v1 device
//! membership" || user key`: a list can name only devices that agreed to
//! belong to this user.

use core::fmt;

use crate::crypto::label;
use crate::device::user::{UserKey, UserKeyPair};
use crate::error::{DeviceError, Result, WireError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::limits::MAX_DEVICES;
use crate::wire::MessageType;
use crate::wire::codec::{Reader, Writer, writer_for};

/// A user's device list, signed by the user key. Holding one means its
/// signature verified: [`from_bytes`](Self::from_bytes) checks it, and the
/// only other way to get one is to sign it.
///
/// The version grows by one with each change. A client keeps the newest
/// list it has seen for each user and moves to a newer one only through
/// [`update`](Self::update), which refuses another user key, an older
/// version (a rollback) and a different list under the same version, and
/// says which devices came and went.
///
/// ```
/// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
/// let mut rng = sealpost::default_rng();
/// let alice = UserKeyPair::generate(&mut rng);
/// let (phone_keys, laptop_keys) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
/// let (phone, laptop) = (*phone_keys.public(), *laptop_keys.public());
///
/// let v1 = DeviceList::sign(&alice, 1, [DeviceMembership::sign(&phone_keys, alice.public())])?;
/// let v2 = v1.with_device(&alice, DeviceMembership::sign(&laptop_keys, alice.public()))?; // version 2
/// // Bob's client had v1; the directory now serves v2.
/// let published = v2.to_bytes();
/// let change = v1.update(&DeviceList::from_bytes(&published)?)?;
/// assert_eq!(change.added(), &[laptop]);
/// assert!(change.removed().is_empty());
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceList {
    user: UserKey,
    version: u64,
    /// Strictly ascending, 1..=MAX_DEVICES.
    devices: Vec<IdentityKey>,
    /// Each device's membership signature, in the order of `devices`.
    memberships: Vec<[u8; 64]>,
    signature: [u8; 64],
}

/// Bytes of an encoded list before its device keys.
const PREFIX_LEN: usize = 2 + 32 + 8 + 1;
/// Bytes per device: its identity key and its membership signature.
const ENTRY_LEN: usize = 32 + 64;

/// A device's agreement to be one of a user's devices: its identity key's
/// signature of the user key. A [`DeviceList`] holds one per device, so a
/// user key cannot list a device that is not its own (another person's
/// phone, to have its messages attributed to the wrong person).
///
/// The device makes it ([`DeviceMembership::sign`]); device linking carries
/// it from the new device to the existing one.
///
/// ```
/// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
/// let user = UserKeyPair::from_seed(&[1; 32]);
/// let phone = IdentityKeyPair::from_seed(&[2; 32]);
/// let membership = DeviceMembership::sign(&phone, user.public());
/// assert_eq!(membership.device(), phone.public());
/// let list = DeviceList::sign(&user, 1, [membership])?;
/// assert!(list.contains(phone.public()));
/// // Another user key cannot use it.
/// let mallory = UserKeyPair::from_seed(&[9; 32]);
/// assert!(DeviceList::sign(&mallory, 1, [membership]).is_err());
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DeviceMembership {
    device: IdentityKey,
    user: UserKey,
    signature: [u8; 64],
}

impl DeviceMembership {
    /// Signs, with the device's identity key, that the device belongs to
    /// `user`.
    ///
    /// ```
    /// use sealpost::{Account, device::{DeviceMembership, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let (phone, user) = (Account::new(&mut rng, 0), UserKeyPair::generate(&mut rng));
    /// let m = DeviceMembership::sign(phone.identity_keypair(), user.public());
    /// assert_eq!(m.user(), user.public());
    /// ```
    pub fn sign(device: &IdentityKeyPair, user: &UserKey) -> Self {
        let signature = device.sign_raw(&membership_message(user));
        Self { device: *device.public(), user: *user, signature }
    }

    /// The device.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceMembership, UserKeyPair}};
    /// let phone = IdentityKeyPair::from_seed(&[2; 32]);
    /// let m = DeviceMembership::sign(&phone, UserKeyPair::from_seed(&[1; 32]).public());
    /// assert_eq!(m.device(), phone.public());
    /// ```
    pub fn device(&self) -> &IdentityKey {
        &self.device
    }

    /// The user the device agreed to belong to.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let m = DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public());
    /// assert_eq!(m.user(), user.public());
    /// ```
    pub fn user(&self) -> &UserKey {
        &self.user
    }

    /// Checks the signature (the device's, over this user key).
    pub(crate) fn verify(device: &IdentityKey, user: &UserKey, signature: &[u8; 64]) -> Result<()> {
        device.verify_raw(&membership_message(user), signature, "device membership")
    }

    pub(crate) fn from_parts(device: IdentityKey, user: UserKey, signature: [u8; 64]) -> Result<Self> {
        Self::verify(&device, &user, &signature)?;
        Ok(Self { device, user, signature })
    }

    pub(crate) fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

impl fmt::Debug for DeviceMembership {
    /// The device and the user.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceMembership, UserKeyPair}};
    /// let m = DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), UserKeyPair::from_seed(&[1; 32]).public());
    /// assert!(format!("{m:?}").starts_with("DeviceMembership"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceMembership")
            .field("device", &self.device)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// What a device signs to belong to `user`.
fn membership_message(user: &UserKey) -> Vec<u8> {
    let mut w = Writer::with_capacity(label::DEVICE_MEMBERSHIP.len() + 32);
    w.bytes(label::DEVICE_MEMBERSHIP).bytes(user.as_bytes());
    w.into_vec()
}

impl DeviceList {
    /// Signs a list of `devices` (each device's membership for this user)
    /// at `version` with the user key. The order of `devices` does not
    /// matter (the list is kept sorted).
    ///
    /// Fails with [`DeviceError::DeviceCount`] for no device or more than
    /// [`MAX_DEVICES`], [`DeviceError::DuplicateDevice`] for a device given
    /// twice, [`DeviceError::UserKeyMismatch`] for a membership of another
    /// user.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let user = UserKeyPair::generate(&mut rng);
    /// let phone_keys = IdentityKeyPair::generate(&mut rng);
    /// let phone = *phone_keys.public();
    /// let list = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public())])?;
    /// assert_eq!((list.version(), list.devices()), (1, &[phone][..]));
    /// assert_eq!(list.user(), user.public());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sign(user: &UserKeyPair, version: u64, devices: impl IntoIterator<Item = DeviceMembership>) -> Result<Self> {
        let mut entries: Vec<DeviceMembership> = devices.into_iter().collect();
        check_count(entries.len())?;
        if entries.iter().any(|m| m.user != *user.public()) {
            return Err(DeviceError::UserKeyMismatch.into());
        }
        entries.sort_unstable_by_key(|m| m.device);
        if entries.windows(2).any(|w| matches!(w, [a, b] if a.device == b.device)) {
            return Err(DeviceError::DuplicateDevice.into());
        }
        let devices = entries.iter().map(|m| m.device).collect();
        let memberships = entries.iter().map(|m| m.signature).collect();
        let mut list = Self { user: *user.public(), version, devices, memberships, signature: [0; 64] };
        list.signature = user.sign_raw(&signed_message(&list.encode_unsigned()));
        Ok(list)
    }

    /// Parses a published list and verifies its signature by the user key
    /// it names. Canonical: one encoding per list (sorted keys, no
    /// trailing bytes). Whether that user key is the one to trust for the
    /// person is the caller's to check: against the key already trusted
    /// ([`update`](Self::update), [`check_user`](Self::check_user)) or, the
    /// first time, by the user verifying the safety number.
    ///
    /// ```
    /// use sealpost::{Error, IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let mut rng = sealpost::default_rng();
    /// let user = UserKeyPair::generate(&mut rng);
    /// let list = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::generate(&mut rng), user.public())])?;
    /// let mut bytes = list.to_bytes();
    /// assert_eq!(DeviceList::from_bytes(&bytes)?, list);
    /// bytes[44] ^= 1; // a changed device key
    /// assert!(DeviceList::from_bytes(&bytes).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::DeviceList)?;
        let user = UserKey::from_bytes(r.take(32)?)?;
        let version = r.u64()?;
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_DEVICES {
            return Err(WireError::InvalidField("device count").into());
        }
        let mut devices: Vec<IdentityKey> = Vec::with_capacity(count);
        let mut memberships = Vec::with_capacity(count);
        for _ in 0..count {
            let device = IdentityKey::from_bytes(r.take(32)?)?;
            if devices.last().is_some_and(|last| *last >= device) {
                return Err(WireError::InvalidField("device keys not strictly ascending").into());
            }
            devices.push(device);
            memberships.push(r.array::<64>()?);
        }
        let signature = r.array::<64>()?;
        r.finish()?;
        let signed_len = bytes.len().saturating_sub(64);
        let body = bytes.get(..signed_len).ok_or(WireError::Truncated { needed: 64 })?;
        user.identity().verify_raw(&signed_message(body), &signature, "device list")?;
        for (device, membership) in devices.iter().zip(&memberships) {
            DeviceMembership::verify(device, &user, membership)?;
        }
        Ok(Self { user, version, devices, memberships, signature })
    }

    /// The published encoding (what [`from_bytes`](Self::from_bytes)
    /// reads).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let list = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// assert_eq!(list.to_bytes().len(), 2 + 32 + 8 + 1 + (32 + 64) + 64);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::appending(self.encode_unsigned());
        w.bytes(&self.signature);
        w.into_vec()
    }

    /// The user key that signed the list.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let list = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// assert_eq!(list.user(), user.public());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn user(&self) -> &UserKey {
        &self.user
    }

    /// The list's version (grows by one with each change).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let list = DeviceList::sign(&user, 7, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// assert_eq!(list.version(), 7);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The device identity keys, ascending.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let (a_keys, b_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let (a, b) = (*a_keys.public(), *b_keys.public());
    /// let list = DeviceList::sign(&user, 1, [DeviceMembership::sign(&a_keys, user.public()), DeviceMembership::sign(&b_keys, user.public())])?;
    /// assert_eq!(list.devices().len(), 2);
    /// assert!(list.devices()[0] < list.devices()[1]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn devices(&self) -> &[IdentityKey] {
        &self.devices
    }

    /// Whether `device` is one of the user's devices. A device not in the
    /// list the client holds is never trusted to speak for the user.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let (a_keys, b_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let (a, b) = (*a_keys.public(), *b_keys.public());
    /// let list = DeviceList::sign(&user, 1, [DeviceMembership::sign(&a_keys, user.public())])?;
    /// assert!(list.contains(&a) && !list.contains(&b));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn contains(&self, device: &IdentityKey) -> bool {
        self.devices.binary_search(device).is_ok()
    }

    /// Fails with [`DeviceError::UserKeyMismatch`] unless the list is signed
    /// by `user` (the key the caller trusts for this person).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let (alice, mallory) = (UserKeyPair::from_seed(&[1; 32]), UserKeyPair::from_seed(&[9; 32]));
    /// let forged = DeviceList::sign(&mallory, 5, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), mallory.public())])?;
    /// assert!(forged.check_user(alice.public()).is_err());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn check_user(&self, user: &UserKey) -> Result<()> {
        if self.user == *user { Ok(()) } else { Err(DeviceError::UserKeyMismatch.into()) }
    }

    /// Checks that `newer` may replace this list (the newest seen for the
    /// user) and says what changed. Refused, with nothing changed:
    ///
    /// * another user key: [`DeviceError::UserKeyMismatch`];
    /// * an older version: [`DeviceError::RolledBack`];
    /// * the same version with other contents:
    ///   [`DeviceError::ConflictingLists`].
    ///
    /// The same list again is an empty change.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let (phone_keys, laptop_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let (phone, laptop) = (*phone_keys.public(), *laptop_keys.public());
    /// let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public()), DeviceMembership::sign(&laptop_keys, user.public())])?;
    /// let v2 = v1.without_device(&user, &phone)?; // the phone was lost
    /// let change = v1.update(&v2)?;
    /// assert_eq!((change.removed(), change.added()), (&[phone][..], &[][..]));
    /// assert!(v1.update(&v1)?.is_empty());
    /// assert!(v2.update(&v1).is_err()); // rollback
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn update(&self, newer: &DeviceList) -> Result<DeviceListChange> {
        newer.check_user(&self.user)?;
        if newer.version < self.version {
            return Err(DeviceError::RolledBack { seen: self.version, received: newer.version }.into());
        }
        if newer.version == self.version && newer.devices != self.devices {
            return Err(DeviceError::ConflictingLists { version: newer.version }.into());
        }
        Ok(self.change_to(newer))
    }

    /// Like [`update`](Self::update), but a list of the same version with
    /// other contents is taken too: for the own user's list, when the
    /// directory (which takes one list per version, first come) refused
    /// the list this device signed because another own device published
    /// that version first. The directory's list replaces ours; the change
    /// undone (the device we added or removed) is then done again on top
    /// of it. Refused: another user key, an older version.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let keys: Vec<IdentityKeyPair> = (2..5).map(|i| IdentityKeyPair::from_seed(&[i; 32])).collect();
    /// let member = |k: &IdentityKeyPair| DeviceMembership::sign(k, user.public());
    /// let v1 = DeviceList::sign(&user, 1, [member(&keys[0]), member(&keys[1])])?;
    /// // Two own devices change the list at once: one removes, one adds.
    /// let ours = v1.without_device(&user, keys[1].public())?;
    /// let published = v1.with_device(&user, member(&keys[2]))?;
    /// assert!(ours.update(&published).is_err()); // same version, other contents
    /// let change = ours.adopt(&published)?;
    /// assert!(change.removed().is_empty() && change.added().len() == 2 && change.added().contains(keys[2].public()));
    /// let again = published.without_device(&user, keys[1].public())?; // redo ours
    /// assert_eq!(again.version(), 3);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn adopt(&self, published: &DeviceList) -> Result<DeviceListChange> {
        published.check_user(&self.user)?;
        if published.version < self.version {
            return Err(DeviceError::RolledBack { seen: self.version, received: published.version }.into());
        }
        Ok(self.change_to(published))
    }

    /// What differs from this list to `other`, with no check at all (any
    /// two lists, of any user keys and versions): for showing a user key
    /// change, or a list adopted from the directory. To move from one list
    /// of a user to the next, use [`update`](Self::update).
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let (old, new) = (UserKeyPair::from_seed(&[1; 32]), UserKeyPair::from_seed(&[9; 32]));
    /// let (phone, laptop) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let before = DeviceList::sign(&old, 7, [DeviceMembership::sign(&phone, old.public()), DeviceMembership::sign(&laptop, old.public())])?;
    /// let after = DeviceList::sign(&new, 1, [DeviceMembership::sign(&phone, new.public())])?; // started over
    /// let change = before.diff(&after);
    /// assert_eq!((change.from_version(), change.to_version()), (7, 1));
    /// assert_eq!((change.added(), change.removed()), (&[][..], &[*laptop.public()][..]));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn diff(&self, other: &DeviceList) -> DeviceListChange {
        self.change_to(other)
    }

    fn change_to(&self, newer: &DeviceList) -> DeviceListChange {
        let added = newer.devices.iter().filter(|d| !self.contains(d)).copied().collect();
        let removed = self.devices.iter().filter(|d| !newer.contains(d)).copied().collect();
        DeviceListChange { from_version: self.version, to_version: newer.version, added, removed }
    }

    /// What a client that knew nothing of the user learns from this list,
    /// its first: every device added, from version 0.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let phone_keys = IdentityKeyPair::from_seed(&[2; 32]);
    /// let phone = *phone_keys.public();
    /// let change = DeviceList::sign(&user, 4, [DeviceMembership::sign(&phone_keys, user.public())])?.initial_change();
    /// assert_eq!((change.from_version(), change.to_version(), change.added()), (0, 4, &[phone][..]));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn initial_change(&self) -> DeviceListChange {
        DeviceListChange { from_version: 0, to_version: self.version, added: self.devices.clone(), removed: Vec::new() }
    }

    /// The next version of this list with `device` added, signed by `user`
    /// (which must be the list's user key).
    ///
    /// ```
    /// use sealpost::{Error, DeviceError, IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let (phone_keys, laptop_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let (phone, laptop) = (*phone_keys.public(), *laptop_keys.public());
    /// let v2 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public())])?.with_device(&user, DeviceMembership::sign(&laptop_keys, user.public()))?;
    /// assert_eq!(v2.version(), 2);
    /// assert_eq!(v2.with_device(&user, DeviceMembership::sign(&laptop_keys, user.public())), Err(Error::Device(DeviceError::AlreadyListed)));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn with_device(&self, user: &UserKeyPair, device: DeviceMembership) -> Result<DeviceList> {
        if self.contains(&device.device) {
            return Err(DeviceError::AlreadyListed.into());
        }
        self.next(user, self.entries().chain([device]))
    }

    /// The next version of this list without `device`, signed by `user`.
    /// The last device cannot be removed ([`DeviceError::DeviceCount`]):
    /// a user with no device left starts over with a new user key.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let (phone_keys, laptop_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let (phone, laptop) = (*phone_keys.public(), *laptop_keys.public());
    /// let v2 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public()), DeviceMembership::sign(&laptop_keys, user.public())])?.without_device(&user, &phone)?;
    /// assert_eq!((v2.version(), v2.devices()), (2, &[laptop][..]));
    /// assert!(v2.without_device(&user, &laptop).is_err()); // the last one
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn without_device(&self, user: &UserKeyPair, device: &IdentityKey) -> Result<DeviceList> {
        if !self.contains(device) {
            return Err(DeviceError::NotListed.into());
        }
        self.next(user, self.entries().filter(|m| m.device != *device))
    }

    /// Each device with its membership.
    fn entries(&self) -> impl Iterator<Item = DeviceMembership> + '_ {
        self.devices.iter().zip(&self.memberships).map(|(d, m)| DeviceMembership {
            device: *d,
            user: self.user,
            signature: *m,
        })
    }

    fn next(&self, user: &UserKeyPair, devices: impl IntoIterator<Item = DeviceMembership>) -> Result<DeviceList> {
        self.check_user(user.public())?;
        let version = self.version.checked_add(1).ok_or(DeviceError::VersionExhausted)?;
        DeviceList::sign(user, version, devices)
    }

    fn encode_unsigned(&self) -> Vec<u8> {
        let mut w = writer_for(MessageType::DeviceList, PREFIX_LEN - 2 + ENTRY_LEN * self.devices.len() + 64);
        w.bytes(self.user.as_bytes()).u64(self.version);
        // At most MAX_DEVICES (32), checked when the list was made.
        w.u8(u8::try_from(self.devices.len()).unwrap_or(u8::MAX));
        for (d, m) in self.devices.iter().zip(&self.memberships) {
            w.bytes(d.as_bytes()).bytes(m);
        }
        w.into_vec()
    }
}

fn check_count(count: usize) -> Result<()> {
    if count == 0 || count > MAX_DEVICES {
        return Err(DeviceError::DeviceCount { count, max: MAX_DEVICES }.into());
    }
    Ok(())
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut w = Writer::with_capacity(label::DEVICE_LIST.len() + body.len());
    w.bytes(label::DEVICE_LIST).bytes(body);
    w.into_vec()
}

impl fmt::Debug for DeviceList {
    /// The user key, version and devices.
    ///
    /// ```
    /// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// let user = UserKeyPair::from_seed(&[1; 32]);
    /// let list = DeviceList::sign(&user, 3, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// assert!(format!("{list:?}").contains("version: 3"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceList")
            .field("user", &self.user)
            .field("version", &self.version)
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// What changed from one device list to a newer one
/// ([`DeviceList::update`]): the app tells the user ("Alice added a
/// device"), opens sessions to added devices and closes those to removed
/// ones.
///
/// ```
/// use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
/// let user = UserKeyPair::from_seed(&[1; 32]);
/// let (phone_keys, laptop_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
/// let (phone, laptop) = (*phone_keys.public(), *laptop_keys.public());
/// let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public())])?;
/// let v3 = DeviceList::sign(&user, 3, [DeviceMembership::sign(&laptop_keys, user.public())])?; // v2 was missed: fine
/// let change = v1.update(&v3)?;
/// assert_eq!((change.from_version(), change.to_version()), (1, 3));
/// assert_eq!((change.added(), change.removed()), (&[laptop][..], &[phone][..]));
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceListChange {
    from_version: u64,
    to_version: u64,
    added: Vec<IdentityKey>,
    removed: Vec<IdentityKey>,
}

impl DeviceListChange {
    /// The version of the list held before.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// # let user = UserKeyPair::from_seed(&[1; 32]);
    /// # let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// assert_eq!(v1.update(&v1)?.from_version(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_version(&self) -> u64 {
        self.from_version
    }

    /// The version of the newer list.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// # let user = UserKeyPair::from_seed(&[1; 32]);
    /// # let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// let v2 = v1.with_device(&user, DeviceMembership::sign(&IdentityKeyPair::from_seed(&[3; 32]), user.public()))?;
    /// assert_eq!(v1.update(&v2)?.to_version(), 2);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_version(&self) -> u64 {
        self.to_version
    }

    /// Devices in the newer list only, ascending.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// # let user = UserKeyPair::from_seed(&[1; 32]);
    /// # let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// let laptop_keys = IdentityKeyPair::from_seed(&[3; 32]);
    /// let laptop = *laptop_keys.public();
    /// assert_eq!(v1.update(&v1.with_device(&user, DeviceMembership::sign(&laptop_keys, user.public()))?)?.added(), &[laptop]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn added(&self) -> &[IdentityKey] {
        &self.added
    }

    /// Devices in the older list only, ascending.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// # let user = UserKeyPair::from_seed(&[1; 32]);
    /// let (phone_keys, laptop_keys) = (IdentityKeyPair::from_seed(&[2; 32]), IdentityKeyPair::from_seed(&[3; 32]));
    /// let (phone, laptop) = (*phone_keys.public(), *laptop_keys.public());
    /// let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public()), DeviceMembership::sign(&laptop_keys, user.public())])?;
    /// assert_eq!(v1.update(&v1.without_device(&user, &phone)?)?.removed(), &[phone]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn removed(&self) -> &[IdentityKey] {
        &self.removed
    }

    /// Whether no device came or went (the same list again, or a newer
    /// version with the same devices).
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
    /// # let user = UserKeyPair::from_seed(&[1; 32]);
    /// # let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&IdentityKeyPair::from_seed(&[2; 32]), user.public())])?;
    /// assert!(v1.update(&v1)?.is_empty());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

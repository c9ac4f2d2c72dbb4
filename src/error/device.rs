//! Errors of signed device lists and device linking.

use thiserror::Error;

/// Why a device list or a step of device linking was refused. Nothing was
/// changed: the list in hand stays the trusted one, a link in progress
/// stays where it was (except where a variant says the link is over).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{DeviceError, Error, IdentityKeyPair, device::{DeviceList, DeviceMembership, UserKeyPair}};
/// let mut rng = sealpost::default_rng();
/// let user = UserKeyPair::generate(&mut rng);
/// let phone_keys = IdentityKeyPair::generate(&mut rng);
/// let phone = *phone_keys.public();
/// let v2 = DeviceList::sign(&user, 2, [DeviceMembership::sign(&phone_keys, user.public())])?;
/// let v1 = DeviceList::sign(&user, 1, [DeviceMembership::sign(&phone_keys, user.public())])?;
/// // An older list than one already seen is a rollback.
/// assert_eq!(v2.update(&v1), Err(Error::Device(DeviceError::RolledBack { seen: 2, received: 1 })));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum DeviceError {
    /// A device list is signed by another user key than the one trusted for
    /// this user (or carried by the link). Keep the trusted list; a real key
    /// change needs the user to verify the new safety number.
    #[error("device list is signed by another user key than the one trusted")]
    UserKeyMismatch,

    /// A device list is older than one already seen for this user (a
    /// rollback, or a stale copy from the relay). Keep the newer one.
    #[error("device list version {received} is older than version {seen}, already seen: rolled back, refused")]
    RolledBack {
        /// The newest version seen.
        seen: u64,
        /// The version received.
        received: u64,
    },

    /// Two different device lists carry the same version, both signed by
    /// the user key: the user key signed two histories (a bug or a
    /// compromise). Keep the one seen first and tell the user.
    #[error("two different device lists both claim version {version}")]
    ConflictingLists {
        /// The version both claim.
        version: u64,
    },

    /// A device list would hold no device, or more than
    /// [`MAX_DEVICES`](crate::limits::MAX_DEVICES).
    #[error("a device list holds 1 to {max} devices, not {count}")]
    DeviceCount {
        /// How many it would hold.
        count: usize,
        /// [`MAX_DEVICES`](crate::limits::MAX_DEVICES).
        max: usize,
    },

    /// The same device key is given twice for one list.
    #[error("a device is listed more than once")]
    DuplicateDevice,

    /// A device to add is already in the list.
    #[error("the device is already in the list")]
    AlreadyListed,

    /// A device to remove (or one that should have been added) is not in
    /// the list.
    #[error("the device is not in the list")]
    NotListed,

    /// The list's version is `u64::MAX`: no newer list can be signed.
    #[error("the device list's version cannot grow further")]
    VersionExhausted,

    /// A linking code is past its expiry (see
    /// [`LINK_CODE_LIFETIME_MS`](crate::limits::LINK_CODE_LIFETIME_MS)):
    /// show a new code on the new device.
    #[error("the linking code expired at {expired_at_ms} ms: show a new code on the new device")]
    LinkCodeExpired {
        /// When it expired (ms since the Unix epoch).
        expired_at_ms: u64,
    },

    /// A linking message does not belong to this linking code: the other
    /// device scanned another (or an old) code, or the message is forged or
    /// corrupted. Nothing changed; the link can still complete with the
    /// right message.
    #[error("this linking message does not belong to this linking code (another code, or forged): nothing changed")]
    WrongLinkCode,

    /// The short authentication string the user confirmed is not this
    /// device's: someone else is in the middle of the link, or the user
    /// mistyped. Nothing was transferred or accepted and this link is over:
    /// start again with a new code.
    #[error("the short authentication strings differ: nothing was linked; start again with a new code")]
    ShortStringMismatch,

    /// A linking step came out of order, or again after its link was
    /// completed or aborted (a replayed message).
    #[error("unexpected linking step: {0}")]
    LinkState(&'static str),

    /// A Forkout bundle meant for every device of some users does not hold
    /// a key slot for exactly their current devices (see
    /// [`check_recipients`](crate::device::check_recipients)): the sender's
    /// view of a device list is out of date. The relay refuses the bundle;
    /// the sender accepts the newer lists and seals again.
    #[error("the sender's device lists are out of date: {} device(s) missing, {} extra", missing.len(), extra.len())]
    StaleDeviceList {
        /// Current devices without a key slot.
        missing: Vec<crate::IdentityKey>,
        /// Recipient ids that are no current device (removed devices).
        extra: Vec<[u8; 32]>,
    },

    /// A linking code shows the linking device itself.
    #[error("a device cannot link itself")]
    LinkSelf,
}

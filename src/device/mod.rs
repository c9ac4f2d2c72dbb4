//! Users with several devices: user keys, signed device lists, and linking
//! a new device from an existing one.
//!
//! A person is a [`UserKeyPair`]; each of their devices is an
//! [`Account`](crate::Account) with its own identity key, and sessions stay
//! per device. The user key signs the set of the user's device identities,
//! with a version that grows by one per change: a [`DeviceList`]. It is
//! published (a directory, the app's server); anyone can fetch it, no one
//! without the user key can forge one, and a client that keeps the newest
//! list it saw per user refuses an older one ([`DeviceList::update`]).
//!
//! * **Trust is per user.** Safety numbers come from user keys
//!   ([`UserKey::safety_number`]): they do not change when a device is
//!   added or removed. A device key is trusted for a user only while the
//!   list the client holds names it ([`DeviceList::contains`]).
//! * **Adding a device**: [`LinkRequest`] (the new device) and [`Linker`]
//!   (an existing one) run the linking flow: a QR code, a short
//!   authentication string both screens show, the new device's
//!   confirmation (its membership, signed only once its user confirmed),
//!   and a sealed transfer of the user key, the new list and the app's own
//!   data (group memberships...).
//!   See [`link`](LinkRequest) for the steps and the wire formats.
//! * **Removing a device**: [`DeviceList::without_device`], from any
//!   remaining device; peers see it in the [`DeviceListChange`] of their
//!   next [`update`](DeviceList::update), close their sessions with it and
//!   rotate the groups it was in. Every device holds the user key, so this
//!   shuts out a lost device, not a thief who copied its keys (who could
//!   sign a newer list naming it again): against that, the user starts
//!   over under a new user key, and contacts compare the new safety number
//!   ([DEVICES](crate::docs::devices), "Removing a device").
//! * **Sending to people**: one Forkout with a key slot per device (the
//!   recipient's and the sender's own other devices). A relay that holds
//!   the current lists checks the slots against them
//!   ([`check_recipients`]) and refuses a bundle sealed from an out-of-date
//!   list, so a removed device gets no slot and a new one is not missed.
//!
//! The full protocol, with the labels and the security argument, is in
//! [DEVICES](crate::docs::devices).
//!
//! ```
//! use sealpost::{Account, device::{DeviceList, DeviceMembership, UserKeyPair}};
//! let mut rng = sealpost::default_rng();
//! let alice = UserKeyPair::generate(&mut rng);
//! let (phone, laptop) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
//! let v1 = DeviceList::sign(&alice, 1, [DeviceMembership::sign(phone.identity_keypair(), alice.public()), DeviceMembership::sign(laptop.identity_keypair(), alice.public())])?;
//!
//! // Bob trusts Alice's user key (he compared safety numbers once) and
//! // keeps the newest list he saw of hers.
//! let bobs_view = DeviceList::from_bytes(&v1.to_bytes())?;
//! bobs_view.check_user(alice.public())?;
//!
//! // The phone is lost: the laptop publishes a list without it.
//! let v2 = v1.without_device(&alice, phone.identity())?;
//! let change = bobs_view.update(&DeviceList::from_bytes(&v2.to_bytes())?)?;
//! assert_eq!(change.removed(), &[*phone.identity()]);
//! // Nobody can roll Bob back to the list with the phone on it.
//! assert!(v2.update(&v1).is_err());
//! # Ok::<(), sealpost::Error>(())
//! ```

mod link;
mod list;
mod relay;
mod user;

pub use link::{LinkCode, LinkCompletion, LinkRequest, Linked, Linker, ShortString};
pub use list::{DeviceList, DeviceListChange, DeviceMembership};
pub use relay::check_recipients;
pub use user::{UserKey, UserKeyPair};

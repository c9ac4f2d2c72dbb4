//! The relay's device-list check: does a Forkout bundle addressed to users
//! hold a key slot for exactly their current devices?

use crate::device::list::DeviceList;
use crate::error::{DeviceError, Result};
use crate::identity::IdentityKey;

/// Checks that a Forkout bundle meant for every device of some users holds
/// a key slot for exactly those devices: each device of each of `lists`
/// (the users' current lists, which the relay holds as the directory
/// serves them, the sender's own list among them), except the sending
/// device itself.
///
/// `recipients` are the bundle's recipient ids
/// ([`ForkoutBundle::recipients`](crate::forkout::ForkoutBundle::recipients)
/// yields them). A mismatch is [`DeviceError::StaleDeviceList`], listing
/// the devices without a slot (the sender has not seen a newer list yet)
/// and the recipients that are no current device (removed ones): the relay
/// refuses the whole bundle and tells the sender, whose client accepts the
/// newer lists and seals again; nothing was delivered, so nothing is lost
/// or received twice.
///
/// A `sender` on none of `lists` (a removed device, or the sender's own
/// list left out) is [`DeviceError::NotListed`]: the relay refuses the
/// bundle, since no recipient would accept it.
///
/// ```
/// use sealpost::{Account, DeviceError, Error, device::{DeviceMembership, self, DeviceList, UserKeyPair}};
/// use sealpost::forkout::{self, Recipient, SealPolicy};
/// let mut rng = sealpost::default_rng();
/// let bob = UserKeyPair::generate(&mut rng);
/// let (alice_phone, bob_phone, bob_laptop) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let bobs = DeviceList::sign(&bob, 2, [DeviceMembership::sign(bob_phone.identity_keypair(), bob.public()), DeviceMembership::sign(bob_laptop.identity_keypair(), bob.public())])?;
///
/// let alice = UserKeyPair::generate(&mut rng);
/// let alices = DeviceList::sign(&alice, 1, [DeviceMembership::sign(alice_phone.identity_keypair(), alice.public())])?;
///
/// // Alice's client still had Bob's version 1 (the phone only).
/// let (sealed, _) = forkout::seal(&alice_phone, b"hi".to_vec(),
///     [Recipient::Bundle(bob_phone.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let ids: Vec<[u8; 32]> = sealed.recipients().map(|d| d.to_bytes()).collect();
/// match device::check_recipients(ids.iter(), [&bobs, &alices], alice_phone.identity()) {
///     Err(Error::Device(DeviceError::StaleDeviceList { missing, extra })) => {
///         assert_eq!(missing, vec![*bob_laptop.identity()]);
///         assert!(extra.is_empty());
///     }
///     other => panic!("{other:?}"),
/// }
/// // A sender on none of the lists (here: Alice's own list left out).
/// assert_eq!(device::check_recipients(ids.iter(), [&bobs], alice_phone.identity()), Err(Error::Device(DeviceError::NotListed)));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn check_recipients<'a, 'l>(
    recipients: impl IntoIterator<Item = &'a [u8; 32]>,
    lists: impl IntoIterator<Item = &'l DeviceList>,
    sender: &IdentityKey,
) -> Result<()> {
    let lists: Vec<&DeviceList> = lists.into_iter().collect();
    if !lists.iter().any(|list| list.contains(sender)) {
        return Err(DeviceError::NotListed.into());
    }
    let mut expected: Vec<[u8; 32]> = lists
        .iter()
        .flat_map(|list| list.devices().iter())
        .filter(|d| *d != sender)
        .map(IdentityKey::to_bytes)
        .collect();
    expected.sort_unstable();
    expected.dedup();
    let mut got: Vec<[u8; 32]> = recipients.into_iter().copied().collect();
    got.sort_unstable();
    got.dedup();
    let missing: Vec<IdentityKey> = expected
        .iter()
        .filter(|d| got.binary_search(d).is_err())
        .filter_map(|d| IdentityKey::from_bytes(d).ok())
        .collect();
    let extra: Vec<[u8; 32]> = got.iter().filter(|d| expected.binary_search(d).is_err()).copied().collect();
    if missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(DeviceError::StaleDeviceList { missing, extra }.into())
    }
}

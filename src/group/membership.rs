//! The [`Group`]: members, their sender keys, our own sender key.

use std::collections::BTreeMap;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::GroupId;
use super::chain::MessageKey;
use super::message::{FLAG_ENVELOPE, FLAG_PLAIN, GroupMessage};
use super::receiver::Receiver;
use super::sender::SenderKey;
use crate::burnout::payload;
use crate::burnout::{Envelope, Opened};
use subtle::ConstantTimeEq;

use crate::crypto;
use crate::error::GroupError;
use crate::error::{Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_GROUP_MEMBERS, MAX_GROUP_STORED_KEYS};
use crate::session::Verdict;

/// What we hold for one other member: the sender key they use now and the
/// one before it (for messages still in flight after a rotation).
#[derive(Clone)]
pub(crate) struct Member {
    pub(crate) identity: IdentityKey,
    pub(crate) current: Option<Receiver>,
    pub(crate) previous: Option<Receiver>,
}

impl Member {
    pub(crate) fn new(identity: IdentityKey) -> Self {
        Self { identity, current: None, previous: None }
    }

    pub(super) fn receiver(&self, key_id: u32) -> Option<&Receiver> {
        [&self.current, &self.previous].into_iter().flatten().find(|r| r.key_id == key_id)
    }

    pub(super) fn receiver_mut(&mut self, key_id: u32) -> Option<&mut Receiver> {
        [&mut self.current, &mut self.previous].into_iter().flatten().find(|r| r.key_id == key_id)
    }

    pub(crate) fn stored(&self) -> usize {
        [&self.current, &self.previous].into_iter().flatten().map(Receiver::stored).sum()
    }
}

/// One group as seen by one member: who is in it, every other member's
/// sender key, and our own.
///
/// Membership is decided by the application (its admin layer); the `Group`
/// keeps the bookkeeping that follows from it:
///
/// * [`add_member`](Self::add_member): the newcomer must then receive our
///   current sender key ([`distribute`](Self::distribute)). It starts at our
///   current iteration, so the newcomer cannot read anything we sent before.
/// * [`remove_member`](Self::remove_member): deletes their sender keys and
///   rotates ours; distribute the new key to every remaining member. A
///   removal must be applied by **every** remaining member (each rotates
///   its own key), otherwise the removed member can still read whoever did
///   not rotate.
/// * [`rotate`](Self::rotate): a new sender key on demand (then distribute).
///
/// ```
/// use sealpost::Account;
/// use sealpost::group::{Group, GroupId};
///
/// let mut rng = sealpost::default_rng();
/// let mut alice = Account::new(&mut rng, 0);
/// let mut bob = Account::new(&mut rng, 0);
/// let id = GroupId::random(&mut rng);
/// let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
/// let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
///
/// // Each side hands its sender key over their 1:1 session.
/// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let from_alice = alices.distribute([&mut to_bob], &mut rng)?;
/// let (mut to_alice, _) = bobs.install_distribution_from_new_session(&mut bob, &from_alice[0].1)?;
/// let from_bob = bobs.distribute([&mut to_alice], &mut rng)?;
/// alices.install_distribution(&mut alice, &mut to_bob, &from_bob[0].1)?;
///
/// // One ciphertext for the whole group, signed by its sender.
/// let message = alices.encrypt(b"standup in 5", &mut rng)?;
/// let read = bobs.decrypt(&message, 0)?;
/// assert_eq!(read.sender, *alice.identity());
/// assert_eq!(read.content.into_message().as_deref(), Some(&b"standup in 5"[..]));
/// assert_eq!(bobs.decrypt(&message, 0).err(), Some(sealpost::Error::DuplicateMessage));
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone)]
pub struct Group {
    pub(crate) id: GroupId,
    pub(crate) own: IdentityKey,
    pub(crate) sender: SenderKey,
    /// Keyed by identity-key bytes (the order of [`IdentityKey`]'s `Ord`).
    pub(crate) members: BTreeMap<[u8; 32], Member>,
    /// Stored out-of-order entries across all members (kept in step with
    /// the receivers; recomputed on load).
    pub(crate) stored: usize,
    /// Encrypted exports made so far (see
    /// [`Persist::export_generation`](crate::Persist::export_generation)).
    pub(crate) export_generation: u64,
    /// Set when the state was loaded from bytes or an export: our own
    /// sender key may be older than what we last sent, so nothing of ours
    /// goes out until [`Group::rotate`] (or the app's explicit
    /// [`Group::resume_without_rotation`]). Never serialized: every load
    /// sets it again.
    pub(crate) loaded: bool,
}

/// A decrypted group message.
///
/// Its content is [`Opened`], as for 1:1 ([`Account::open`](crate::Account::open)):
/// a plain message is [`Opened::Message`]; a Burnout message (one with an
/// envelope, already checked against the clock passed to
/// [`Group::decrypt`]) is only ever handed out as [`Opened::Burnout`], a
/// [`BurnoutMessage`](crate::burnout::BurnoutMessage) whose plaintext is
/// zeroized on drop and whose envelope the
/// [`Vault`](crate::burnout::Vault) enforces. Not `Clone`, and `Debug`
/// shows no content.
#[non_exhaustive]
///
/// ```
/// # use sealpost::{Account, group::{Group, GroupId}};
/// # let mut rng = sealpost::default_rng();
/// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// # let id = GroupId::random(&mut rng);
/// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
/// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
/// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let d = alices.distribute([&mut to_bob], &mut rng)?;
/// bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
/// let read = bobs.decrypt(&alices.encrypt(b"hi all", &mut rng)?, 0)?;
/// assert_eq!((read.sender, read.iteration), (*alice.identity(), 0));
/// assert_eq!(read.into_opened().into_message(), Some(b"hi all".to_vec()));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct GroupPlaintext {
    /// Who sent it: verified by the sender key's signature.
    pub sender: IdentityKey,
    /// The sender key it was encrypted under.
    pub key_id: u32,
    /// Its iteration in that key's chain.
    pub iteration: u32,
    /// The content: plain, or a checked Burnout message.
    pub content: Opened,
}

impl GroupPlaintext {
    /// The Burnout envelope, if the sender attached one (already checked
    /// against the clock passed to [`Group::decrypt`]).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}, burnout::Envelope};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// let m = alices.encrypt_with_envelope(b"brief", &Envelope::with_ttl(0, 60_000), &mut rng)?;
    /// assert_eq!(bobs.decrypt(&m, 1_000)?.envelope().and_then(|e| e.expires_at_ms()), Some(60_000));
    /// let plain = alices.encrypt(b"plain", &mut rng)?;
    /// assert!(bobs.decrypt(&plain, 1_000)?.envelope().is_none());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn envelope(&self) -> Option<&Envelope> {
        match &self.content {
            Opened::Burnout(message) => Some(message.envelope()),
            Opened::Message(_) => None,
        }
    }

    /// Takes the content, ready for the [`Vault`](crate::burnout::Vault) if
    /// it is a Burnout message.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}, burnout::{Envelope, Opened, Vault}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let ids = vec![*alice.identity(), *bob.identity()];
    /// # let gid = GroupId::random(&mut rng);
    /// # let mut a = Group::new(gid, *alice.identity(), ids.clone(), &mut rng)?;
    /// # let mut b = Group::new(gid, *bob.identity(), ids, &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let dist = a.distribute([&mut to_bob], &mut rng)?;
    /// # let (mut to_alice, _) = b.install_distribution_from_new_session(&mut bob, &dist[0].1)?;
    /// let now = 1_700_000_000_000;
    /// let sealed = a.encrypt_with_envelope(b"door code 4471", &Envelope::new(now).burn_after_reading(), &mut rng)?;
    /// let mut vault = Vault::new();
    /// if let Opened::Burnout(message) = b.decrypt(&sealed, now)?.into_opened() {
    ///     let id = vault.insert(message, now)?;
    ///     assert_eq!(&*vault.read(id, now)?, b"door code 4471");
    ///     assert!(vault.read(id, now).is_err()); // burned after the first read
    /// }
    /// # let _ = &mut to_alice;
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_opened(self) -> Opened {
        self.content
    }
}

impl core::fmt::Debug for GroupPlaintext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupPlaintext")
            .field("sender", &self.sender)
            .field("key_id", &self.key_id)
            .field("iteration", &self.iteration)
            .field("content", &self.content)
            .finish()
    }
}

/// Our sender key was replaced: send [`Group::distribute`] to every member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "distribute the new sender key to every remaining member"]
///
/// ```
/// # use sealpost::{Account, group::{Group, GroupId}};
/// # let mut rng = sealpost::default_rng();
/// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// # let id = GroupId::random(&mut rng);
/// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
/// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
/// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let d = alices.distribute([&mut to_bob], &mut rng)?;
/// let rotated = alices.rotate(&mut rng); // after removing a member, say
/// assert_eq!(rotated.key_id, alices.own_key_id());
/// let _again = alices.distribute([&mut to_bob], &mut rng)?; // the new key to everyone left
/// # let _ = (d, &mut bobs);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct Rotated {
    /// The new sender key id.
    pub key_id: u32,
}

impl Group {
    /// A group as seen by the member `own`, with the other `members` (our
    /// own identity in the list is ignored, duplicates are merged) and a
    /// fresh sender key for us.
    ///
    /// Fails with [`Error::LimitReached`] past
    /// [`MAX_GROUP_MEMBERS`](crate::limits::MAX_GROUP_MEMBERS).
    ///
    /// ```
    /// use sealpost::IdentityKeyPair;
    /// use sealpost::group::{Group, GroupId};
    /// let mut rng = sealpost::default_rng();
    /// let me = IdentityKeyPair::generate(&mut rng);
    /// let others: Vec<_> = (0..3).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    /// let group = Group::new(GroupId::random(&mut rng), *me.public(), others, &mut rng)?;
    /// assert_eq!(group.member_count(), 3);
    /// assert_eq!(group.own_iteration(), 0);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new<R: CryptoRng + ?Sized>(
        id: GroupId,
        own: IdentityKey,
        members: impl IntoIterator<Item = IdentityKey>,
        rng: &mut R,
    ) -> Result<Self> {
        let mut group = Self {
            id,
            own,
            sender: SenderKey::generate(rng, 0, &[]),
            members: BTreeMap::new(),
            stored: 0,
            export_generation: 0,
            loaded: false,
        };
        for member in members {
            group.add_member(member)?;
        }
        Ok(group)
    }

    /// The group id.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(alices.id(), bobs.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn id(&self) -> &GroupId {
        &self.id
    }

    /// Our own identity.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(alices.own_identity(), alice.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn own_identity(&self) -> &IdentityKey {
        &self.own
    }

    /// Our current sender key id.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let before = alices.own_key_id();
    /// let _ = alices.rotate(&mut rng);
    /// assert_ne!(alices.own_key_id(), before);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn own_key_id(&self) -> u32 {
        self.sender.key_id
    }

    /// The iteration our next message will have.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(alices.own_iteration(), 0);
    /// alices.encrypt(b"hi", &mut rng)?;
    /// assert_eq!(alices.own_iteration(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn own_iteration(&self) -> u32 {
        self.sender.ratchet.counter()
    }

    /// The other members, in identity-key order.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(alices.members().collect::<Vec<_>>(), [bob.identity()]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn members(&self) -> impl Iterator<Item = &IdentityKey> {
        self.members.values().map(|m| &m.identity)
    }

    /// Number of other members.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(alices.member_count(), 1); // the others, not us
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Whether `identity` is another member of the group.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert!(alices.is_member(bob.identity()));
    /// assert!(!alices.is_member(alice.identity())); // not ourselves
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_member(&self, identity: &IdentityKey) -> bool {
        self.members.contains_key(identity.as_bytes())
    }

    /// The key id of the member's current sender key, or `None` if it is not
    /// a member or its distribution has not arrived.
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(bobs.member_key_id(alice.identity()), None);
    /// let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// assert_eq!(bobs.member_key_id(alice.identity()), Some(alices.own_key_id()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn member_key_id(&self, identity: &IdentityKey) -> Option<u32> {
        self.members.get(identity.as_bytes())?.current.as_ref().map(|r| r.key_id)
    }

    /// Members whose distribution we have not received yet (ask them for it,
    /// or wait: their messages fail with [`GroupError::UnknownSenderKey`]).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// assert_eq!(bobs.members_without_key().count(), 0);
    /// assert_eq!(alices.members_without_key().count(), 1); // Bob has not sent his yet
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn members_without_key(&self) -> impl Iterator<Item = &IdentityKey> {
        self.members.values().filter(|m| m.current.is_none()).map(|m| &m.identity)
    }

    /// Stored out-of-order entries across all sender keys (at most
    /// [`MAX_GROUP_STORED_KEYS`](crate::limits::MAX_GROUP_STORED_KEYS)).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// let first = alices.encrypt(b"1", &mut rng)?;
    /// let second = alices.encrypt(b"2", &mut rng)?;
    /// bobs.decrypt(&second, 0)?;
    /// assert_eq!(bobs.stored_key_count(), 1); // kept for the first, still missing
    /// bobs.decrypt(&first, 0)?;
    /// assert_eq!(bobs.stored_key_count(), 0);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn stored_key_count(&self) -> usize {
        self.stored
    }

    /// Adds a member; returns `false` if it already was one (or is us).
    /// Then [`distribute`](Self::distribute) our sender key to it; it can
    /// read our messages from our current iteration on.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let dana = *IdentityKeyPair::generate(&mut rng).public();
    /// assert!(group.add_member(dana)?);
    /// assert!(!group.add_member(dana)?);
    /// assert_eq!(group.members_without_key().count(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn add_member(&mut self, identity: IdentityKey) -> Result<bool> {
        if identity == self.own || self.members.contains_key(identity.as_bytes()) {
            return Ok(false);
        }
        if self.members.len() + 1 >= MAX_GROUP_MEMBERS {
            return Err(Error::LimitReached { what: "group members", max: MAX_GROUP_MEMBERS });
        }
        self.members.insert(identity.to_bytes(), Member::new(identity));
        Ok(true)
    }

    /// Removes a member: deletes every sender key we hold for it (its later
    /// messages fail with [`GroupError::NotGroupMember`]) and rotates our own
    /// sender key, so that nothing we send from now on is readable with what
    /// the removed member holds. Distribute the returned key to every
    /// remaining member.
    ///
    /// Fails with [`GroupError::NotGroupMember`] (and changes nothing) if
    /// `identity` is not another member.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let me = *IdentityKeyPair::generate(&mut rng).public();
    /// # let erin = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [erin], &mut rng)?;
    /// let before = group.own_key_id();
    /// let rotated = group.remove_member(&erin, &mut rng)?;
    /// assert_ne!(rotated.key_id, before);
    /// assert!(!group.is_member(&erin));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn remove_member<R: CryptoRng + ?Sized>(&mut self, identity: &IdentityKey, rng: &mut R) -> Result<Rotated> {
        let member = self.members.remove(identity.as_bytes()).ok_or(Error::Group(GroupError::NotGroupMember))?;
        self.stored = self.stored.saturating_sub(member.stored());
        Ok(self.rotate(rng))
    }

    /// Replaces our sender key with a fresh one (new id, ratchet and
    /// signing key). Distribute it to every member.
    ///
    /// Also the way out of a loaded state (see
    /// [`needs_rotation`](Self::needs_rotation)).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// let rotated = alices.rotate(&mut rng);
    /// assert_eq!(rotated.key_id, alices.own_key_id());
    /// // Members need the new key: distribute it again.
    /// let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// assert_eq!(d.len(), 1);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn rotate<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Rotated {
        self.sender = self.sender.next(rng);
        self.loaded = false;
        crate::trace::event!(INFO, "own group sender key rotated: distribute it", key_id = self.sender.key_id);
        Rotated { key_id: self.sender.key_id }
    }

    /// Whether this state was loaded ([`from_bytes`](Self::from_bytes), or
    /// an import of [`Persist`](crate::Persist)) and has not sent since:
    /// then [`encrypt`](Self::encrypt), [`encrypt_with_envelope`](Self::encrypt_with_envelope)
    /// and [`distribute`](Self::distribute) refuse with
    /// [`GroupError::RotationRequired`] until [`rotate`](Self::rotate) (or
    /// [`resume_without_rotation`](Self::resume_without_rotation)).
    ///
    /// Why: a loaded state may be older than what this device last sent
    /// (a backup, a crash before the last save). Its sender key would repeat
    /// iterations the members already read, and they would refuse those
    /// messages as duplicates. Rotating gives them a fresh key they install
    /// as the newer generation. Receiving is never blocked.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, Persist, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let mut group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let key = [7u8; 32];
    /// let backup = group.export_encrypted(&key, &mut rng);
    /// let mut restored = Group::import_encrypted(&key, &backup)?;
    /// assert!(restored.needs_rotation());
    /// assert!(restored.encrypt(b"hi", &mut rng).is_err());
    /// let _rotated = restored.rotate(&mut rng); // then distribute it to every member
    /// assert!(restored.encrypt(b"hi", &mut rng).is_ok());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn needs_rotation(&self) -> bool {
        self.loaded
    }

    /// Sends again from a loaded state **without** rotating: for an app
    /// that knows this is the newest save of the group, written after the
    /// last message it sent (it persists before it sends, PROTOCOL
    /// deviation 6, or its store commits before anything leaves it). Called
    /// on an older state, no key and nonce is reused (every message has its
    /// own salt), but members refuse the repeated iterations as
    /// [`Error::DuplicateMessage`] until the chain passes where it was.
    ///
    /// ```
    /// # use sealpost::{IdentityKeyPair, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let me = *IdentityKeyPair::generate(&mut rng).public();
    /// let group = Group::new(GroupId::random(&mut rng), me, [], &mut rng)?;
    /// let mut loaded = Group::from_bytes(&group.to_bytes())?; // the newest save
    /// loaded.resume_without_rotation();
    /// assert!(loaded.encrypt(b"hi", &mut rng).is_ok());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn resume_without_rotation(&mut self) {
        self.loaded = false;
    }

    pub(super) fn ensure_may_send(&self) -> Result<()> {
        if self.loaded {
            return Err(Error::Group(GroupError::RotationRequired));
        }
        Ok(())
    }

    /// Encrypts and signs one message for the whole group (one ciphertext,
    /// whatever the number of members).
    ///
    /// `rng` supplies the message's 16-byte salt, which keeps a sender key
    /// restored from an old export from ever reusing a key and nonce.
    ///
    /// Refused with [`GroupError::RotationRequired`] on a state just loaded
    /// (see [`needs_rotation`](Self::needs_rotation)).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// let m = alices.encrypt(b"standup in 5", &mut rng)?; // one message for everyone
    /// let read = bobs.decrypt(&m, 0)?;
    /// assert_eq!(read.sender, *alice.identity());
    /// assert_eq!(read.into_opened().into_message().unwrap(), b"standup in 5");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encrypt<R: CryptoRng + ?Sized>(&mut self, plaintext: &[u8], rng: &mut R) -> Result<Vec<u8>> {
        self.ensure_may_send()?;
        self.sender.encrypt(&self.id, &self.own, plaintext, None, rng)
    }

    /// Encrypts with a Burnout [`Envelope`] carried inside the ciphertext
    /// (so it is authenticated and hidden from the server).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}, burnout::Envelope};
    /// # let mut rng = sealpost::default_rng();
    /// # let (mut alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// let now = 1_700_000_000_000;
    /// let m = alices.encrypt_with_envelope(b"door code 4711", &Envelope::with_ttl(now, 60_000), &mut rng)?;
    /// let late = bobs.clone().decrypt(&m, now + 60_000);
    /// assert!(matches!(late, Err(sealpost::Error::Burnout(sealpost::BurnoutError::Expired { .. }))));
    /// let read = bobs.decrypt(&m, now + 1_000)?.into_opened().into_burnout().unwrap();
    /// assert_eq!(read.into_plaintext(now + 1_000)?.as_slice(), b"door code 4711");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encrypt_with_envelope<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        envelope: &Envelope,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        self.ensure_may_send()?;
        self.sender.encrypt(&self.id, &self.own, plaintext, Some(envelope), rng)
    }

    /// Verifies and decrypts a group message. `now_ms` is the local clock,
    /// used only for a Burnout envelope.
    ///
    /// Order of checks: structure, group id ([`GroupError::GroupMismatch`]),
    /// membership ([`GroupError::NotGroupMember`]), sender key
    /// ([`GroupError::UnknownSenderKey`]), **signature**
    /// ([`Error::InvalidSignature`]), then iteration (replays and messages
    /// older than the window are [`Error::DuplicateMessage`]), key
    /// commitment ([`GroupError::KeyCommitmentMismatch`]), decryption,
    /// then the payload flags and the Burnout envelope under the rule
    /// shared by every message kind
    /// ([BURNOUT](crate::docs::burnout)).
    ///
    /// Every failure leaves the group exactly as it was, except two that
    /// come from an authentic message and use up its key (a second decrypt
    /// is [`Error::DuplicateMessage`]; the plaintext is zeroized and never
    /// returned): an expired envelope ([`BurnoutError::Expired`]) and a
    /// missing or unparseable one ([`BurnoutError::MalformedEnvelope`]).
    /// A message sent too far in the future ([`BurnoutError::ClockSkew`])
    /// changes nothing and can be retried; so do unknown payload flags
    /// ([`Error::UnexpectedPayload`], like an unknown 1:1 payload kind).
    ///
    /// [`BurnoutError::Expired`]: crate::error::BurnoutError::Expired
    /// [`BurnoutError::MalformedEnvelope`]: crate::error::BurnoutError::MalformedEnvelope
    /// [`BurnoutError::ClockSkew`]: crate::error::BurnoutError::ClockSkew
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// # bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// let m = alices.encrypt(b"hi all", &mut rng)?;
    /// let read = bobs.decrypt(&m, 1_700_000_000_000)?;
    /// assert_eq!((read.key_id, read.iteration), (alices.own_key_id(), 0));
    /// assert_eq!(bobs.decrypt(&m, 1_700_000_000_000).err(), Some(sealpost::Error::DuplicateMessage));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn decrypt(&mut self, message: &[u8], now_ms: u64) -> Result<GroupPlaintext> {
        let result = self.decrypt_inner(message, now_ms);
        if let Err(e) = &result {
            crate::trace::event!(DEBUG, "group message refused", error = e);
        }
        result
    }

    fn decrypt_inner(&mut self, message: &[u8], now_ms: u64) -> Result<GroupPlaintext> {
        let parsed = GroupMessage::parse(message)?;
        if parsed.group_id != self.id {
            return Err(Error::Group(GroupError::GroupMismatch));
        }
        if &parsed.sender == self.own.as_bytes() {
            return Err(Error::Group(GroupError::UnknownSenderKey { key_id: parsed.key_id }));
        }
        let member = self.members.get(&parsed.sender).ok_or(Error::Group(GroupError::NotGroupMember))?;
        let sender = member.identity;
        let receiver = member
            .receiver(parsed.key_id)
            .ok_or(Error::Group(GroupError::UnknownSenderKey { key_id: parsed.key_id }))?;
        receiver.verify(&parsed.signed_bytes(), &parsed.signature)?;
        let (key, commit) = receiver.plan(parsed.iteration)?;
        let payload = open(&key, &parsed)?;
        let content = match accept_payload(payload, now_ms, sender) {
            Verdict::Reject(e) => return Err(e),
            verdict => verdict,
        };

        // Accept or consume: the key is used up either way.
        if let Some(receiver) = self.members.get_mut(&parsed.sender).and_then(|m| m.receiver_mut(parsed.key_id)) {
            let before = receiver.stored();
            receiver.apply(commit);
            let after = receiver.stored();
            self.stored = self.stored.saturating_sub(before).saturating_add(after);
        }
        self.enforce_stored_bound();
        let content = content.finish()?;
        Ok(GroupPlaintext { sender, key_id: parsed.key_id, iteration: parsed.iteration, content })
    }

    /// Keeps the stored entries within [`MAX_GROUP_STORED_KEYS`]: the sender
    /// key holding the most loses its oldest, until the bound holds.
    fn enforce_stored_bound(&mut self) {
        while self.stored > MAX_GROUP_STORED_KEYS {
            let largest = self
                .members
                .values_mut()
                .flat_map(|m| [&mut m.current, &mut m.previous])
                .flatten()
                .max_by_key(|r| r.stored());
            if largest.is_some_and(Receiver::evict_oldest) {
                self.stored = self.stored.saturating_sub(1);
            } else {
                self.stored = self.recount_stored();
                return;
            }
        }
    }

    pub(crate) fn recount_stored(&self) -> usize {
        self.members.values().map(|m| m.stored()).sum()
    }
}

/// Checks the key commitment, then opens a group message's ciphertext with
/// its message key.
fn open(key: &MessageKey, message: &GroupMessage<'_>) -> Result<Zeroizing<Vec<u8>>> {
    let keys = key.expand(&message.salt);
    if !bool::from(keys.commitment.ct_eq(&message.commitment)) {
        // Signed by the sender, but not for the chain we hold: the sender
        // handed out different chains under one key id.
        return Err(GroupError::KeyCommitmentMismatch.into());
    }
    // The signature, already checked, covers the ciphertext: ChaCha20
    // alone decrypts it (format version 3, GROUP.md).
    let mut buf = Zeroizing::new(vec![0u8; message.sealed.len()]);
    crypto::chacha20_to(&keys.key, &keys.nonce, message.sealed, &[], &mut buf)?;
    Ok(buf)
}

/// The payload decision of an authentic group message,
/// `content || [envelope] || flags`: unknown flags are refused like an
/// unknown 1:1 payload kind ([`Error::UnexpectedPayload`], nothing
/// changes); the envelope goes through the Burnout rule shared with 1:1 and
/// Forkout ([`payload::open_owned`]).
fn accept_payload(mut payload: Zeroizing<Vec<u8>>, now_ms: u64, sender: IdentityKey) -> Verdict<Opened> {
    // The parser guarantees at least one byte of ciphertext.
    let Some(flags) = payload.pop() else {
        return Verdict::Reject(WireError::Truncated { needed: 1 }.into());
    };
    let has_envelope = match flags {
        FLAG_PLAIN => false,
        FLAG_ENVELOPE => true,
        _ => return Verdict::Reject(Error::UnexpectedPayload(flags)),
    };
    payload::open_owned(payload, has_envelope, now_ms, sender)
}

impl core::fmt::Debug for Group {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group")
            .field("id", &self.id)
            .field("own", &self.own)
            .field("own_key_id", &self.sender.key_id)
            .field("own_iteration", &self.sender.ratchet.counter())
            .field("members", &self.members.len())
            .field("stored_keys", &self.stored)
            .finish_non_exhaustive()
    }
}

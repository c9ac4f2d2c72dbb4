//! Group messaging with sender keys: one ciphertext per message, whatever
//! the number of members.
//!
//! The app decides who is in a group; [`Group`] keeps the keys in step.
//! Each member hands its sender key to every other member once, inside
//! their 1:1 sessions (`Group.distribute` → `Group.install_distribution`
//! or `Account.receive_group_distribution`). Then `Group.encrypt` makes one
//! signed ciphertext for everyone and `Group.decrypt` verifies and opens it.
//!
//! On a removal, **every remaining member** calls `remove_member` (which
//! rotates its own sender key) and distributes the new key to the members
//! listed in the returned [`GroupRotation`]; the removed member cannot read
//! anything sent under the new keys.
//!
//! Lock order: `Account` → `Session`s (several in address order) → `Group`s
//! (several in address order). No call locks in another order.

use std::sync::{Arc, Mutex, MutexGuard};

use sealpost::IdentityKey;
use sealpost::group::GroupId;

use crate::account::Account;
use crate::burnout::{Envelope, Opened};
use crate::error::Result;
use crate::keys::{Key32, debug_redacted};
use crate::locked::{Locked, locked};
use crate::persist::persist_exports;
use crate::session::Session;

/// A decrypted group message. `Debug` shows the plaintext's length only.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupPlaintext {
    /// Who sent it (32-byte identity key), proven by the sender key's
    /// signature.
    pub sender_identity_key: IdentityKey,
    /// The sender key it was encrypted under.
    pub key_id: u32,
    /// Its iteration in that key's chain.
    pub iteration: u32,
    /// The application content.
    pub plaintext: Vec<u8>,
    /// The Burnout envelope, if the sender attached one (already checked
    /// against the clock given to `decrypt`; the app erases the content
    /// after reading when `burn_after_reading` is set).
    pub envelope: Option<Envelope>,
}

debug_redacted!(GroupPlaintext { sender_identity_key, key_id, iteration, envelope; plaintext });

/// A group message opened by kind: Burnout content stays in the library
/// (move it into a `Vault`), plain content is returned.
#[derive(uniffi::Record)]
pub struct GroupOpened {
    /// Who sent it (32-byte identity key), proven by its signature.
    pub sender_identity_key: IdentityKey,
    /// The sender key it was encrypted under.
    pub key_id: u32,
    /// Its iteration in that key's chain.
    pub iteration: u32,
    /// The content: `Opened.Plain` or `Opened.Burnout`.
    pub opened: Opened,
}

/// One 1:1 message carrying our sender key to one member.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupDistribution {
    /// The member to deliver it to (32-byte identity key).
    pub member_identity_key: IdentityKey,
    /// The 1:1 message (it looks like any other 1:1 message to the relay).
    pub message: Vec<u8>,
}

/// Our sender key was replaced: distribute it (`Group.distribute`) to the
/// members listed here.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupRotation {
    /// The new sender key id.
    pub key_id: u32,
    /// Every other member (32-byte identity keys): each needs the new key.
    pub redistribute_to: Vec<IdentityKey>,
}

/// What an installed distribution was.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InstalledSenderKey {
    /// The group it belongs to (32 bytes).
    pub group_id: Key32,
    /// The member whose sender key it is (the 1:1 session's peer).
    pub sender_identity_key: IdentityKey,
    /// The sender key id.
    pub key_id: u32,
    /// The iteration from which on we can read this sender.
    pub iteration: u32,
    /// `false` for a repeated distribution (nothing changed).
    pub newly_installed: bool,
}

impl From<sealpost::group::InstalledSenderKey> for InstalledSenderKey {
    fn from(i: sealpost::group::InstalledSenderKey) -> Self {
        Self {
            group_id: (*i.group_id.as_bytes()).into(),
            sender_identity_key: i.sender,
            key_id: i.key_id,
            iteration: i.iteration,
            newly_installed: i.newly_installed,
        }
    }
}

/// A distribution that started a new 1:1 session with its sender.
#[derive(uniffi::Record)]
pub struct InstalledFromNewSession {
    /// The new session with the sender: keep it.
    pub session: Arc<Session>,
    /// The installed sender key.
    pub installed: InstalledSenderKey,
}

/// A fresh random 32-byte group id (ids must never collide).
#[uniffi::export]
pub fn generate_group_id() -> Key32 {
    (*GroupId::random(&mut rand::rng()).as_bytes()).into()
}

/// One group as seen by one member: the members, every other member's
/// sender key, and our own. Thread-safe.
#[derive(uniffi::Object)]
pub struct Group {
    /// Never changes, so it is readable without the lock.
    id: GroupId,
    /// Never changes either.
    own: IdentityKey,
    inner: Mutex<sealpost::group::Group>,
}

locked!(Group, sealpost::group::Group);
persist_exports!(Group, "after every encrypt, decrypt and membership change.");

impl Group {
    fn wrap(group: sealpost::group::Group) -> Arc<Self> {
        Arc::new(Self { id: *group.id(), own: *group.own_identity(), inner: Mutex::new(group) })
    }
}

fn rotation(group: &sealpost::group::Group, rotated: sealpost::group::Rotated) -> GroupRotation {
    GroupRotation { key_id: rotated.key_id, redistribute_to: group.members().copied().collect() }
}

#[uniffi::export]
impl Group {
    /// The group `group_id` (32 bytes, see `generate_group_id`) as seen by
    /// `own_identity_key` (our account's identity key), with the other
    /// members (our own key in the list is ignored, duplicates merged) and
    /// a fresh sender key for us. Throws `LimitReached` past the member
    /// limit, `Malformed` for a bad identity key.
    #[uniffi::constructor]
    pub fn new(
        group_id: Key32,
        own_identity_key: IdentityKey,
        member_identity_keys: Vec<IdentityKey>,
    ) -> Result<Arc<Self>> {
        let id = GroupId::from_bytes(*group_id.as_bytes());
        Ok(Self::wrap(sealpost::group::Group::new(id, own_identity_key, member_identity_keys, &mut rand::rng())?))
    }

    /// The 32-byte group id.
    pub fn group_id(&self) -> Key32 {
        (*self.id.as_bytes()).into()
    }

    /// Our own 32-byte identity key.
    pub fn own_identity_key(&self) -> IdentityKey {
        self.own
    }

    /// Our current sender key id.
    pub fn own_key_id(&self) -> Result<u32> {
        self.with(|g| Ok(g.own_key_id()))
    }

    /// The iteration our next message will have.
    pub fn own_iteration(&self) -> Result<u32> {
        self.with(|g| Ok(g.own_iteration()))
    }

    /// The other members' identity keys, in identity-key order.
    pub fn members(&self) -> Result<Vec<IdentityKey>> {
        self.with(|g| Ok(g.members().copied().collect()))
    }

    /// Number of other members.
    pub fn member_count(&self) -> Result<u32> {
        self.with(|g| Ok(crate::count(g.member_count())))
    }

    /// Whether `identity_key` is another member of the group.
    pub fn is_member(&self, identity_key: IdentityKey) -> Result<bool> {
        self.with(|g| Ok(g.is_member(&identity_key)))
    }

    /// The member's current sender key id, or `None` if it is not a member
    /// or its distribution has not arrived.
    pub fn member_key_id(&self, identity_key: IdentityKey) -> Result<Option<u32>> {
        self.with(|g| Ok(g.member_key_id(&identity_key)))
    }

    /// Members whose distribution has not arrived (their messages throw
    /// `UnknownSenderKey` until it does).
    pub fn members_without_key(&self) -> Result<Vec<IdentityKey>> {
        self.with(|g| Ok(g.members_without_key().copied().collect()))
    }

    /// Stored out-of-order message keys across all sender keys (bounded).
    pub fn stored_key_count(&self) -> Result<u32> {
        self.with(|g| Ok(crate::count(g.stored_key_count())))
    }

    /// Adds a member; `false` if it already was one (or is us). Then
    /// distribute our sender key to it: it reads what we send from now on.
    pub fn add_member(&self, identity_key: IdentityKey) -> Result<bool> {
        self.with(|g| Ok(g.add_member(identity_key)?))
    }

    /// Removes a member: deletes its sender keys (its later messages throw
    /// `NotGroupMember`) and rotates ours. Distribute the new key to the
    /// members the result lists. Throws `NotGroupMember` (and changes
    /// nothing) if it is not another member. Every remaining member must
    /// apply the removal.
    pub fn remove_member(&self, identity_key: IdentityKey) -> Result<GroupRotation> {
        self.with(|g| {
            let rotated = g.remove_member(&identity_key, &mut rand::rng())?;
            Ok(rotation(g, rotated))
        })
    }

    /// Replaces our sender key with a fresh one; distribute it to the
    /// members the result lists.
    pub fn rotate(&self) -> Result<GroupRotation> {
        self.with(|g| {
            let rotated = g.rotate(&mut rand::rng());
            Ok(rotation(g, rotated))
        })
    }

    /// Whether this group was restored (`from_bytes`, `import_encrypted*`)
    /// and has not rotated since: then `encrypt`, `encrypt_burnout` and
    /// `distribute` throw `RotationRequired`. Call `rotate` and distribute
    /// the new key, or `resume_without_rotation` if this is the newest save,
    /// written after the last message this device sent.
    pub fn needs_rotation(&self) -> Result<bool> {
        self.with(|g| Ok(g.needs_rotation()))
    }

    /// Sends again from a restored state without rotating: only for the
    /// newest save, written after the last send (otherwise members refuse
    /// the repeated iterations as duplicates).
    pub fn resume_without_rotation(&self) -> Result<()> {
        self.with(|g| {
            g.resume_without_rotation();
            Ok(())
        })
    }

    /// Encrypts and signs one message for the whole group.
    pub fn encrypt(&self, plaintext: Vec<u8>) -> Result<Vec<u8>> {
        self.with(|g| Ok(g.encrypt(&plaintext, &mut sealpost::default_rng())?))
    }

    /// Encrypts with a Burnout envelope carried inside the ciphertext.
    pub fn encrypt_burnout(&self, plaintext: Vec<u8>, envelope: Envelope) -> Result<Vec<u8>> {
        let envelope = sealpost::burnout::Envelope::from(envelope);
        self.with(|g| Ok(g.encrypt_with_envelope(&plaintext, &envelope, &mut sealpost::default_rng())?))
    }

    /// Verifies and decrypts a group message; `now_ms` is the local clock
    /// (used only for a Burnout envelope). Errors: `GroupMismatch`,
    /// `NotGroupMember`, `UnknownSenderKey` (keep the message, retry once
    /// the sender's distribution arrived), `InvalidSignature`,
    /// `DuplicateMessage` (replay), `AuthenticationFailed`,
    /// `UnexpectedPayload` (unknown payload flags), `ClockSkew`, `Expired`,
    /// `MalformedEnvelope`. Every error leaves the group as it was, except
    /// `Expired` and `MalformedEnvelope`: the message was authentic and its
    /// key is used up (the content is erased; the same bytes later throw
    /// `DuplicateMessage`), as for 1:1 and Forkout. The content of a
    /// Burnout message is copied out here: apps that keep it in a `Vault`
    /// use `open` instead.
    pub fn decrypt(&self, message: Vec<u8>, now_ms: u64) -> Result<GroupPlaintext> {
        let read = self.with(|g| Ok(g.decrypt(&message, now_ms)?))?;
        let (sender_identity_key, key_id, iteration) = (read.sender, read.key_id, read.iteration);
        let (plaintext, envelope) = match read.into_opened() {
            sealpost::burnout::Opened::Message(plaintext) => (plaintext, None),
            // Copied out of the library's zeroizing buffer only here, at
            // the boundary (the expiry was checked at this clock already).
            sealpost::burnout::Opened::Burnout(m) => {
                let envelope = Envelope::from(*m.envelope());
                (m.into_plaintext(now_ms)?.to_vec(), Some(envelope))
            }
        };
        Ok(GroupPlaintext { sender_identity_key, key_id, iteration, plaintext, envelope })
    }

    /// `decrypt` for apps that keep Burnout content in a `Vault`: a message
    /// with an envelope comes back as `Opened.Burnout` (a `BurnoutMessage`
    /// whose plaintext stays in the library until it is moved into the
    /// vault, which then enforces burn-after-reading), any other as
    /// `Opened.Plain`. Same checks and errors as `decrypt`.
    pub fn open(&self, message: Vec<u8>, now_ms: u64) -> Result<GroupOpened> {
        let read = self.with(|g| Ok(g.decrypt(&message, now_ms)?))?;
        Ok(GroupOpened {
            sender_identity_key: read.sender,
            key_id: read.key_id,
            iteration: read.iteration,
            opened: read.into_opened().into(),
        })
    }

    /// Encrypts our current sender key to each session's peer: one 1:1
    /// message per member, to deliver. Every session must be ours and its
    /// peer a member, otherwise nothing is encrypted (`PeerMismatch`,
    /// `NotGroupMember`); the same session twice is `InvalidArgument`.
    pub fn distribute(&self, sessions: Vec<Arc<Session>>) -> Result<Vec<GroupDistribution>> {
        let mut guards = Session::lock_all(&sessions)?;
        let sent = self.with(|g| Ok(g.distribute(guards.iter_mut().map(|s| &mut **s), &mut rand::rng())?))?;
        Ok(sent
            .into_iter()
            .map(|(member, message)| GroupDistribution { member_identity_key: member, message })
            .collect())
    }

    /// Decrypts a 1:1 message from `session`'s peer carrying its sender key
    /// for this group, and installs it. On any error nothing changes; a
    /// message that is not a distribution throws `UnexpectedPayload` (pass
    /// it to `Account.open`). With several groups, use
    /// `Account.receive_group_distribution`.
    pub fn install_distribution(
        &self,
        account: Arc<Account>,
        session: Arc<Session>,
        message: Vec<u8>,
    ) -> Result<InstalledSenderKey> {
        let installed =
            account.with(|a| session.with(|s| self.with(|g| Ok(g.install_distribution(a, s, &message)?))))?;
        Ok(installed.into())
    }

    /// Like `install_distribution` for a distribution that is the first
    /// message of a new 1:1 session: returns that session too.
    pub fn install_distribution_from_new_session(
        &self,
        account: Arc<Account>,
        message: Vec<u8>,
    ) -> Result<InstalledFromNewSession> {
        let (session, installed) =
            account.with(|a| self.with(|g| Ok(g.install_distribution_from_new_session(a, &message)?)))?;
        Ok(InstalledFromNewSession { session: Session::wrap(session), installed: installed.into() })
    }
}

/// The `find_group` argument of sealpost's `receive_distribution*`:
/// searches the locked groups by id.
fn find_in<'g>(
    guards: &'g mut [MutexGuard<'_, sealpost::group::Group>],
) -> impl FnOnce(&GroupId) -> Option<&'g mut sealpost::group::Group> {
    move |id| guards.iter_mut().map(|g| &mut **g).find(|g| g.id() == id)
}

#[uniffi::export]
impl Account {
    /// Installs a sender-key distribution from `session`'s peer into
    /// whichever of `groups` it names (the group id is only known after
    /// decryption). `GroupMismatch` if none matches; on any error nothing
    /// changes. A message that is not a distribution throws
    /// `UnexpectedPayload`.
    pub fn receive_group_distribution(
        &self,
        session: Arc<Session>,
        message: Vec<u8>,
        groups: Vec<Arc<Group>>,
    ) -> Result<InstalledSenderKey> {
        let installed = self.with(|a| {
            session.with(|s| {
                let mut guards = Group::lock_all(&groups)?;
                let find = find_in(&mut guards);
                Ok(sealpost::group::receive_distribution(a, s, &message, find)?)
            })
        })?;
        Ok(installed.into())
    }

    /// Like `receive_group_distribution` for a distribution that is the
    /// first message of a new 1:1 session: returns that session too.
    pub fn receive_group_distribution_new_session(
        &self,
        message: Vec<u8>,
        groups: Vec<Arc<Group>>,
    ) -> Result<InstalledFromNewSession> {
        let (session, installed) = self.with(|a| {
            let mut guards = Group::lock_all(&groups)?;
            let find = find_in(&mut guards);
            Ok(sealpost::group::receive_distribution_new_session(a, &message, find)?)
        })?;
        Ok(InstalledFromNewSession { session: Session::wrap(session), installed: installed.into() })
    }
}

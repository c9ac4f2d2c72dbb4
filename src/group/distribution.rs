//! Sender-key distribution: how a member hands its sender key to the others.
//!
//! A distribution travels inside a 1:1 [`Session`] as a payload of kind
//! `GroupDistribution` (so a relay cannot tell it from a chat message). It
//! names the group and the sender and carries the sender key: its id, the
//! ratchet at its current iteration and the signing public key; the layout
//! is specified in [GROUP](crate::docs::group).
//!
//! The ratchet is the sender's state at its *current* iteration, so the
//! receiver can read what is sent from now on and nothing sent before.
//! Installing checks, before the 1:1 session commits anything, that the
//! payload is a distribution, that it names the group being installed into,
//! that the claimed sender is the 1:1 session's authenticated peer, that the
//! sender is a member, and that the key id does not clash with a different
//! key already installed for that sender. Any failure leaves the account,
//! the session and the group exactly as they were.

use ed25519_dalek::VerifyingKey;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::chain::{self, Ratchet};
use super::receiver::Receiver;
use super::{Group, GroupId};
use crate::account::Account;
use crate::error::{Error, Result, WireError};
use crate::error::{GroupError, SessionError};
use crate::identity::{IDENTITY_KEY_LEN, IdentityKey, ed25519_public_key};
use crate::session::{Session, Verdict};
use crate::wire::SessionMessage;
use crate::wire::codec::{Reader, writer_for};
use crate::wire::{MessageType, PayloadKind};

/// Encoded length of a distribution of a ratchet at `iteration`: 206 bytes
/// plus 32 per subtree of its frontier (1 to 8).
pub(crate) fn distribution_len(iteration: u32) -> usize {
    2 + 32 + IDENTITY_KEY_LEN + 4 + 4 + chain::encoded_len(iteration) + 32
}

/// A parsed distribution. Secret (the ratchet zeroizes on drop).
#[derive(Clone)]
pub(crate) struct Distribution {
    pub(crate) group_id: GroupId,
    pub(crate) sender: IdentityKey,
    pub(crate) key_id: u32,
    /// The sender's rotation count: a receiver installs only newer keys as
    /// current, whatever order distributions arrive in.
    pub(crate) generation: u32,
    pub(crate) ratchet: Ratchet,
    pub(crate) signing: VerifyingKey,
}

impl Distribution {
    pub(crate) fn encode(&self) -> Zeroizing<Vec<u8>> {
        // Sized exactly (`writer_for` adds the 2-byte header): the buffer
        // holds the chain's secrets and must not reallocate, which would
        // leave a copy behind in freed memory.
        let body_len = distribution_len(self.ratchet.counter()) - 2;
        let mut w = writer_for(MessageType::GroupDistribution, body_len);
        w.bytes(&self.group_id.0).bytes(self.sender.as_bytes()).u32(self.key_id).u32(self.generation);
        self.ratchet.encode(&mut w);
        w.bytes(self.signing.as_bytes());
        Zeroizing::new(w.into_vec())
    }

    pub(crate) fn parse(bytes: &[u8]) -> core::result::Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        r.header(MessageType::GroupDistribution)?;
        let group_id = GroupId(r.array()?);
        let sender = IdentityKey::from_bytes(&r.array::<IDENTITY_KEY_LEN>()?)
            .map_err(|_| WireError::InvalidField("distribution sender identity"))?;
        let key_id = r.u32()?;
        let generation = r.u32()?;
        let ratchet = Ratchet::decode(&mut r)?;
        let signing = parse_signing_key(&r.array()?)?;
        r.finish()?;
        Ok(Self { group_id, sender, key_id, generation, ratchet, signing })
    }
}

/// Parses a sender signing key with the identity keys' rules: canonical,
/// not of small order, torsion-free.
pub(crate) fn parse_signing_key(bytes: &[u8; 32]) -> core::result::Result<VerifyingKey, WireError> {
    ed25519_public_key(bytes, "sender signing key")
}

impl core::fmt::Debug for Distribution {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Distribution")
            .field("group_id", &self.group_id)
            .field("sender", &self.sender)
            .field("key_id", &self.key_id)
            .field("iteration", &self.ratchet.counter())
            .finish_non_exhaustive()
    }
}

/// What an installed distribution was.
///
/// Returned by [`Group::install_distribution`] and [`receive_distribution`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
/// let (_, installed) = bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
/// assert_eq!((installed.group_id, installed.sender), (id, *alice.identity()));
/// assert!(installed.newly_installed);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct InstalledSenderKey {
    /// The group it belongs to.
    pub group_id: GroupId,
    /// The member whose sender key it is (the 1:1 session's peer).
    pub sender: IdentityKey,
    /// The sender key id.
    pub key_id: u32,
    /// The iteration from which on this member can read the sender.
    pub iteration: u32,
    /// `false` if that sender key was already installed (a repeated
    /// distribution): nothing changed, and in particular the installed
    /// ratchet was not moved back.
    pub newly_installed: bool,
}

/// Decrypts a 1:1 message from `session`'s peer that carries a sender-key
/// distribution and installs it in the group `find_group` returns for the
/// distribution's group id.
///
/// This is the entry point for apps with many groups: the group id is only
/// known after decryption. `find_group` is called at most once; return
/// `None` for an unknown group ([`GroupError::GroupMismatch`]).
///
/// Every check (payload kind, group, sender = session peer, membership, key
/// id clash) happens before the 1:1 session commits: on any error the
/// account, the session and the group are unchanged. A message that is not
/// a distribution gives [`Error::UnexpectedPayload`] and can then be passed
/// to [`Account::decrypt`].
///
/// ```
/// # use sealpost::{Account, group::{Group, GroupId}};
/// # let mut rng = sealpost::default_rng();
/// # let mut alice = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// # let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
/// use std::collections::HashMap;
/// let id = GroupId::random(&mut rng);
/// let alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
/// let mut bobs_groups = HashMap::new();
/// bobs_groups.insert(id, Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?);
///
/// let sent = alices.distribute([&mut to_bob], &mut rng)?;
/// let installed = sealpost::group::receive_distribution(&mut bob, &mut to_alice, &sent[0].1, |id| {
///     bobs_groups.get_mut(id)
/// })?;
/// assert_eq!(installed.sender, *alice.identity());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn receive_distribution<'g>(
    account: &mut Account,
    session: &mut Session,
    message: &[u8],
    find_group: impl FnOnce(&GroupId) -> Option<&'g mut Group>,
) -> Result<InstalledSenderKey> {
    let peer = *session.peer_identity();
    let message = SessionMessage::parse(message)?;
    let (distribution, group) = account.decrypt_parsed(session, &message, accept(peer, find_group))?;
    Ok(group.install(distribution))
}

/// Like [`receive_distribution`], for a distribution that is the first
/// message of a new 1:1 session (the sender started the session from our
/// prekey bundle): returns the new session as well.
///
/// ```
/// # use sealpost::{Account, group::{Group, GroupId}};
/// # let mut rng = sealpost::default_rng();
/// # let alice = Account::new(&mut rng, 0);
/// # let mut bob = Account::new(&mut rng, 0);
/// let id = GroupId::random(&mut rng);
/// let alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
/// let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
///
/// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let sent = alices.distribute([&mut to_bob], &mut rng)?;
/// let (to_alice, installed) =
///     sealpost::group::receive_distribution_new_session(&mut bob, &sent[0].1, |_| Some(&mut bobs))?;
/// assert_eq!(to_alice.peer_identity(), alice.identity());
/// assert_eq!(installed.iteration, 0);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub fn receive_distribution_new_session<'g>(
    account: &mut Account,
    message: &[u8],
    find_group: impl FnOnce(&GroupId) -> Option<&'g mut Group>,
) -> Result<(Session, InstalledSenderKey)> {
    let message = SessionMessage::parse(message)?;
    let peer = message.claimed_sender().ok_or(SessionError::NotASetupMessage)?;
    let (session, accepted) = account.accept_inbound(&message, accept(peer, find_group))?;
    let (distribution, group) = accepted?;
    Ok((session, group.install(distribution)))
}

/// The payload handler: accepts only a well-formed distribution from
/// `peer` for a group where `peer` is a member and the key fits.
fn accept<'g>(
    peer: IdentityKey,
    find_group: impl FnOnce(&GroupId) -> Option<&'g mut Group>,
) -> impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<(Distribution, &'g mut Group)> {
    move |kind, content| {
        if kind != PayloadKind::GroupDistribution as u8 {
            return Verdict::Reject(Error::UnexpectedPayload(kind));
        }
        let distribution = match Distribution::parse(&content) {
            Ok(d) => d,
            Err(e) => return Verdict::Reject(e.into()),
        };
        if distribution.sender != peer {
            return Verdict::Reject(Error::Session(SessionError::PeerMismatch));
        }
        let Some(group) = find_group(&distribution.group_id) else {
            return Verdict::Reject(Error::Group(GroupError::GroupMismatch));
        };
        match group.check_install(&distribution) {
            Ok(()) => Verdict::Accept((distribution, group)),
            Err(e) => Verdict::Reject(e),
        }
    }
}

/// Handing our sender key out, and installing the other members'.
impl Group {
    /// Encrypts our current sender key to each session's peer, in one call:
    /// returns `(member, 1:1 ciphertext)` pairs to send. Each session must
    /// belong to us and to a member; otherwise nothing is encrypted and the
    /// error is [`SessionError::PeerMismatch`] (not our session) or
    /// [`GroupError::NotGroupMember`] (the peer is not in the group: the key is
    /// never handed to a non-member).
    ///
    /// The distribution carries our ratchet at its current iteration: the
    /// receivers read what we send from now on, nothing before. The payload
    /// is serialized once; the cost is that of the 1:1 encryptions. If a
    /// 1:1 encryption itself fails (a session at its message limit), the
    /// error is returned and the sessions already used have simply advanced.
    /// Refused with [`GroupError::RotationRequired`] on a state just loaded
    /// (see [`needs_rotation`](Group::needs_rotation)): distribute after
    /// [`rotate`](Group::rotate).
    ///
    /// ```
    /// # use sealpost::{Account, group::{Group, GroupId}};
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let id = GroupId::random(&mut rng);
    /// # let mut alices = Group::new(id, *alice.identity(), [*bob.identity()], &mut rng)?;
    /// # let mut bobs = Group::new(id, *bob.identity(), [*alice.identity()], &mut rng)?;
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let out = alices.distribute([&mut to_bob], &mut rng)?;
    /// assert_eq!(out[0].0, *bob.identity()); // (recipient, 1:1 message) pairs
    /// let (_, installed) = bobs.install_distribution_from_new_session(&mut bob, &out[0].1)?;
    /// assert_eq!(installed.sender, *alice.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn distribute<'s, R: CryptoRng + ?Sized>(
        &self,
        sessions: impl IntoIterator<Item = &'s mut Session>,
        rng: &mut R,
    ) -> Result<Vec<(IdentityKey, Vec<u8>)>> {
        self.ensure_may_send()?;
        let mut sessions: Vec<&mut Session> = sessions.into_iter().collect();
        for session in &sessions {
            if session.local_identity() != &self.own {
                return Err(Error::Session(SessionError::PeerMismatch));
            }
            if !self.members.contains_key(session.peer_identity().as_bytes()) {
                return Err(Error::Group(GroupError::NotGroupMember));
            }
        }
        let payload = self.own_distribution().encode();
        let mut out = Vec::with_capacity(sessions.len());
        for session in &mut sessions {
            let ciphertext = session.encrypt_payload(&payload, &[], PayloadKind::GroupDistribution, rng)?;
            out.push((*session.peer_identity(), ciphertext));
        }
        Ok(out)
    }

    /// Decrypts a 1:1 message from `session`'s peer carrying its sender-key
    /// distribution for this group, and installs it. See
    /// [`receive_distribution`](super::receive_distribution) for the checks;
    /// on any error nothing changes (a message that is not a distribution
    /// gives [`Error::UnexpectedPayload`]).
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
    /// let (mut to_alice, _) = bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// // Later distributions travel in the session Bob now has.
    /// let _ = alices.rotate(&mut rng);
    /// let d = alices.distribute([&mut to_bob], &mut rng)?;
    /// let installed = bobs.install_distribution(&mut bob, &mut to_alice, &d[0].1)?;
    /// assert_eq!(installed.key_id, alices.own_key_id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn install_distribution(
        &mut self,
        account: &mut Account,
        session: &mut Session,
        message: &[u8],
    ) -> Result<InstalledSenderKey> {
        super::receive_distribution(account, session, message, |_| Some(self))
    }

    /// Like [`install_distribution`](Self::install_distribution) for a
    /// distribution that opens a new 1:1 session; returns the session.
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
    /// let (session, installed) = bobs.install_distribution_from_new_session(&mut bob, &d[0].1)?;
    /// assert_eq!(session.peer_identity(), alice.identity());
    /// assert_eq!(installed.key_id, alices.own_key_id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn install_distribution_from_new_session(
        &mut self,
        account: &mut Account,
        message: &[u8],
    ) -> Result<(Session, InstalledSenderKey)> {
        super::receive_distribution_new_session(account, message, |_| Some(self))
    }

    /// Our sender key as a distribution.
    pub(crate) fn own_distribution(&self) -> Distribution {
        Distribution {
            group_id: self.id,
            sender: self.own,
            key_id: self.sender.key_id,
            generation: self.sender.generation,
            ratchet: self.sender.ratchet.clone(),
            signing: self.sender.signing.verifying_key(),
        }
    }

    /// Whether `distribution` may be installed; changes nothing.
    pub(crate) fn check_install(&self, distribution: &Distribution) -> Result<()> {
        if distribution.group_id != self.id {
            return Err(Error::Group(GroupError::GroupMismatch));
        }
        if distribution.sender == self.own {
            return Err(Error::Session(SessionError::PeerMismatch));
        }
        let member =
            self.members.get(distribution.sender.as_bytes()).ok_or(Error::Group(GroupError::NotGroupMember))?;
        match member.receiver(distribution.key_id) {
            Some(r) if r.signing != distribution.signing => {
                Err(Error::Group(GroupError::SenderKeyConflict { key_id: distribution.key_id }))
            }
            _ => Ok(()),
        }
    }

    /// Installs a checked distribution (see [`Self::check_install`]). A
    /// sender key already held is left as it is; a new one becomes the
    /// member's current key and the old current one its previous.
    pub(crate) fn install(&mut self, distribution: Distribution) -> InstalledSenderKey {
        let Distribution { sender, key_id, generation, ratchet, signing, .. } = distribution;
        let mut info = InstalledSenderKey {
            group_id: self.id,
            sender,
            key_id,
            iteration: ratchet.counter(),
            newly_installed: false,
        };
        let Some(member) = self.members.get_mut(sender.as_bytes()) else { return info };
        if member.receiver(key_id).is_some() {
            return info;
        }
        let newer_than = |r: &Option<Receiver>| r.as_ref().is_none_or(|r| generation > r.generation);
        let receiver = Receiver::new(key_id, generation, signing, ratchet);
        let dropped = if newer_than(&member.current) {
            // The newest key: current, the old current kept as previous.
            let dropped = member.previous.take().map_or(0, |r| r.stored());
            member.previous = member.current.take();
            member.current = Some(receiver);
            dropped
        } else if newer_than(&member.previous) {
            // An older key arriving late: still readable, never current.
            let dropped = member.previous.take().map_or(0, |r| r.stored());
            member.previous = Some(receiver);
            dropped
        } else {
            // Older than both keys held: nothing to gain from it.
            return info;
        };
        self.stored = self.stored.saturating_sub(dropped);
        info.newly_installed = true;
        info
    }
}

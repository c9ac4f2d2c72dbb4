//! Errors of group messaging.

use thiserror::Error;

/// Why a group message, distribution or membership change was refused. No
/// state was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Error, GroupError, IdentityKeyPair, group::{Group, GroupId}};
/// let mut rng = sealpost::default_rng();
/// let (me, other) = (*IdentityKeyPair::generate(&mut rng).public(), *IdentityKeyPair::generate(&mut rng).public());
/// let id = GroupId::random(&mut rng);
/// let mut theirs = Group::new(id, other, [me], &mut rng)?;
/// let mut mine = Group::new(id, me, [other], &mut rng)?;
/// let m = theirs.encrypt(b"hi", &mut rng)?;
/// // No distribution from them yet: a typed error, nothing changes.
/// assert!(matches!(mine.decrypt(&m, 0), Err(Error::Group(GroupError::UnknownSenderKey { .. }))));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum GroupError {
    /// A group message or distribution comes from someone who is not a
    /// member of the group (never added, or removed).
    #[error("sender is not a member of the group")]
    NotGroupMember,

    /// A group message or distribution belongs to another group.
    #[error("message belongs to another group")]
    GroupMismatch,

    /// A group message names a sender key this member has not received (its
    /// distribution has not arrived yet, was replaced twice since, or the
    /// message is our own). Keep the message and retry after installing the
    /// sender's distribution.
    #[error("no sender key {key_id} installed for this sender")]
    UnknownSenderKey {
        /// The sender key id the message names.
        key_id: u32,
    },

    /// A group message carries a valid signature of its sender, but its key
    /// commitment does not match the message key this member derives: the
    /// sender handed different members different chains under one key id
    /// (so that one ciphertext would read differently for each). The
    /// message is refused; nothing changes. Report the sender.
    #[error("group message key commitment does not match this member's sender key")]
    KeyCommitmentMismatch,

    /// This group state was loaded from bytes or an export and may be older
    /// than what this device last sent, so it sends nothing (no message, no
    /// distribution) until the app calls `Group::rotate` and distributes the
    /// new key; or `Group::resume_without_rotation` when the app knows this
    /// is its newest save, written after its last send.
    #[error(
        "group state was loaded and may be older than the last send: call Group::rotate and distribute the new key \
         (or Group::resume_without_rotation if this is the newest save)"
    )]
    RotationRequired,

    /// A distribution reuses a sender key id this member already holds for
    /// that sender, with a different signing key.
    #[error("sender key {key_id} conflicts with the installed one")]
    SenderKeyConflict {
        /// The conflicting sender key id.
        key_id: u32,
    },
}

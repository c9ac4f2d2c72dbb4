//! Group messaging with sender keys: one ciphertext per message, whatever
//! the number of members, and every member can check who sent it.
//!
//! # How it works
//!
//! Every member of a group has a **sender key** for it: a forward-secure
//! symmetric ratchet (see below) and an Ed25519 signing key. A member hands
//! its sender key to each other member once, as a *distribution* inside their
//! 1:1 [`Session`](crate::Session) ([`Group::distribute`],
//! [`Group::install_distribution`]). From then on, a group message is
//! encrypted once under the sender's next message key and signed with its
//! signing key ([`Group::encrypt`]); each member verifies the signature
//! before deriving anything, then decrypts ([`Group::decrypt`]).
//!
//! | file | concept |
//! |---|---|
//! | `chain.rs` | the Megolm-style hierarchical HMAC ratchet and message keys |
//! | `sender.rs` | our own sender key: encrypt and sign |
//! | `receiver.rs` | another member's sender key: out-of-order window, replay refusal |
//! | `message.rs` | the group message wire format |
//! | `distribution.rs` | the distribution payload, installing it |
//! | `membership.rs` | [`Group`]: members, joins, removals, rotation |
//! | `state.rs` | persistence |
//!
//! # The ratchet
//!
//! The three upper bytes of the 32-bit iteration follow Matrix's Megolm
//! ratchet (parts `R0..R2`, HMAC-SHA256): entering a new 256-iteration
//! block re-derives the part of the highest byte that changed, the parts
//! below it and the block's **key-tree root**. Skipping any number of
//! blocks costs at most 3 · 255 rehashes plus reseeds: there is no maximum
//! forward jump. Inside a block the 256 message keys are the leaves of a
//! binary tree of depth 8 under the root; the sender holds the subtrees
//! covering the rest of its block (at most 8), so every state derives
//! nothing before its iteration. Each key is used once as the
//! ChaCha20 key (expanded with the message's salt), then deleted.
//!
//! # Receiving: window, replays, forward secrecy
//!
//! A receiver keeps the ratchet at the next iteration it has not seen. Keys
//! of skipped iterations stay available inside a window of
//! [`GROUP_OUT_OF_ORDER_WINDOW`](crate::limits::GROUP_OUT_OF_ORDER_WINDOW)
//! iterations (rounded to 256-iteration blocks) behind the newest message,
//! stored as the subtrees that cover them exactly: a whole skipped block as
//! its root, part of a block as at most 8 subtrees. Catching up to any
//! position costs at most 8 node expansions inside the target block (Megolm
//! walks up to 255 hashes). A late message inside a stored subtree replaces
//! it by the siblings along its path, so **no stored value can derive the
//! key of a message already read**. Anything older than the window is
//! deleted. Across the group at most
//! [`MAX_GROUP_STORED_KEYS`](crate::limits::MAX_GROUP_STORED_KEYS) entries
//! are kept; past it the sender key holding the most loses its oldest.
//!
//! A replay, or a message whose key is gone, is
//! [`Error::DuplicateMessage`](crate::error::Error::DuplicateMessage): unlike
//! Megolm, replay detection is not left to the application. Decryption is
//! transactional: every failure leaves the group as it was, except an
//! expired or malformed Burnout envelope (the rule shared by every message
//! kind, [BURNOUT](crate::docs::burnout)): the message is authentic, so its
//! key is consumed.
//!
//! **Forward-secrecy caveat (inherent to sender keys).** Whoever steals a
//! member's state can read every later message of every sender key in it
//! (until those senders rotate), plus skipped messages still inside the
//! window. What was already read, and what was sent before the stolen
//! state's iterations, stays unreadable. Sender keys have no
//! post-compromise healing of their own: rotation (on removal, or
//! periodically with [`Group::rotate`]) is what heals.
//!
//! # Binding
//!
//! A group message carries the group id, the sender's identity key, the
//! sender key id and the iteration, authenticated under the signature
//! (which covers every byte before it, the ciphertext through its BLAKE3
//! digest, and is checked before anything is decrypted). A member
//! cannot forge another member's message (it lacks the signing key), and a
//! message cannot be replayed into another group or under another key id. A
//! distribution is accepted only from the 1:1 session peer it names, and
//! only if that peer is a member.
//!
//! # Membership
//!
//! The application decides who is in a group; [`Group`] keeps the keys in
//! step. A newcomer gets the current distributions, which start at each
//! sender's current iteration: it cannot read what was sent before it
//! joined. On a removal, **every remaining member** calls
//! [`Group::remove_member`] (which deletes the removed member's keys and
//! rotates its own) and distributes its new key; the removed member cannot
//! read anything sent under the new keys. A member that has not processed
//! the removal yet still sends under its old key, readable by the removed
//! member: apps should apply membership changes before sending.
//!
//! The wire formats (group message, distribution, group state), the
//! derivations and the bounds are specified in [GROUP](crate::docs::group).

mod chain;
mod distribution;
mod membership;
mod message;
mod receiver;
mod sender;
mod state;

use rand_core::CryptoRng;

pub use distribution::{InstalledSenderKey, receive_distribution, receive_distribution_new_session};
pub use membership::{Group, GroupPlaintext, Rotated};
pub use message::GroupMessage;

// For the test hooks (`src/test_hooks.rs`) only.
#[cfg(any(fuzzing, feature = "test-hooks"))]
pub(crate) use distribution::Distribution;
#[cfg(any(fuzzing, feature = "test-hooks"))]
pub(crate) use message::HEADER_LEN;

/// A group's 32-byte identifier, chosen by whoever creates the group
/// (random, so that ids never collide).
///
/// ```
/// use sealpost::group::GroupId;
/// let id = GroupId::random(&mut sealpost::default_rng());
/// assert_eq!(GroupId::from_bytes(*id.as_bytes()), id);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub(crate) [u8; 32]);

crate::text::hex_text!(GroupId, 32, "group id (64 lower-case hex digits)", |g| g.0, |bytes| Ok(GroupId(bytes)));

impl GroupId {
    /// A fresh random id.
    ///
    /// ```
    /// use sealpost::group::GroupId;
    /// let mut rng = sealpost::default_rng();
    /// assert_ne!(GroupId::random(&mut rng), GroupId::random(&mut rng));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; 32];
        rng.fill_bytes(&mut id);
        Self(id)
    }

    /// An id from its bytes.
    ///
    /// ```
    /// use sealpost::group::GroupId;
    /// let id = GroupId::from_bytes([0xab; 32]);
    /// assert_eq!(id.to_string(), "ab".repeat(32)); // the text form is hex
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    ///
    /// ```
    /// use sealpost::group::GroupId;
    /// assert_eq!(GroupId::from_bytes([1; 32]).as_bytes(), &[1; 32]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for GroupId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GroupId(")?;
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

#[cfg(test)]
mod tests;

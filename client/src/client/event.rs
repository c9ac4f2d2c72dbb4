//! What [`Client::receive`](crate::Client::receive) hands out.

use sealpost::IdentityKey;
use sealpost::burnout::{Envelope, VaultId};
use sealpost::group::GroupId;

use super::mailbox::Via;

/// What an incoming message was, once its effect is committed.
///
/// The events that carry content ([`Message`](Self::Message),
/// [`GroupMessage`](Self::GroupMessage), [`Forkout`](Self::Forkout)) also
/// left an inbox entry under their `id`:
/// [`Client::acknowledge_received`](crate::Client::acknowledge_received) it
/// once the app has stored or shown the message; until then
/// [`Client::inbox`](crate::Client::inbox) offers it again (after a crash
/// too). Burnout content never goes to the inbox: it is kept in the client's
/// vault, which enforces its envelope.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A 1:1 message from `from`.
    Message {
        /// The inbox entry.
        id: u64,
        /// The peer (as the transport named it; its identity is the
        /// recorded one).
        from: String,
        /// The content.
        plaintext: Vec<u8>,
        /// Whether this message set up a new session state (the peer's
        /// first message, or a re-initiation).
        new_session: bool,
    },
    /// A message in a group, from the member the app named `from` when it
    /// created or joined the group (the sender is authenticated by its
    /// sender key's signature, whatever the transport said).
    GroupMessage {
        /// The inbox entry.
        id: u64,
        /// The group.
        group: GroupId,
        /// The sender.
        from: String,
        /// The content.
        plaintext: Vec<u8>,
    },
    /// A Forkout delivery: one body the sender sealed once for many
    /// recipients, this device among them.
    Forkout {
        /// The inbox entry.
        id: u64,
        /// The sender.
        from: String,
        /// The content.
        plaintext: Vec<u8>,
    },
    /// A Burnout message (1:1, group or Forkout, as `via` says): its
    /// envelope was checked at the clock passed to `receive`, and its
    /// content is now in the client's vault under `entry`; read it with
    /// [`Client::vault_read`](crate::Client::vault_read), which enforces
    /// the envelope (expiry, burn after reading).
    Burnout {
        /// The sender.
        from: String,
        /// How it came.
        via: Via,
        /// Its vault entry.
        entry: VaultId,
        /// Its envelope.
        envelope: Envelope,
    },
    /// An authentic message whose Burnout envelope had expired (or was
    /// malformed) on arrival: its message key is used up, nothing of it can
    /// ever be read. Committed, so a redelivery is
    /// [`Duplicate`](Self::Duplicate).
    Expired {
        /// The sender.
        from: String,
        /// How it came.
        via: Via,
    },
    /// `from` handed this device its sender key for `group`: its group
    /// messages from now on can be read.
    SenderKeyInstalled {
        /// The group.
        group: GroupId,
        /// The member.
        from: String,
        /// Whether the distribution set up a new 1:1 session state.
        new_session: bool,
    },
    /// Another device of this client's user read a burn-after-reading
    /// message and told this one: its copy here (`entry`, if it had
    /// arrived) is erased; if it arrives later it is dropped on arrival
    /// (then `entry` is `None` and `from` is the message's sender).
    Burned {
        /// The own device that burned it, by the own user's name (or the
        /// sender of a message dropped on arrival).
        from: String,
        /// The vault entry erased here, if the message had arrived.
        entry: Option<VaultId>,
    },
    /// A message already received (a replay, or the transport delivered it
    /// twice): ignored, nothing changed.
    Duplicate,
    /// An authentic setup message from `from` under an identity other than
    /// the recorded one. Nothing was accepted; the new identity is recorded
    /// as pending. Ask the user, then
    /// [`Client::accept_identity_change`](crate::Client::accept_identity_change)
    /// and deliver the message again.
    IdentityChanged {
        /// The peer.
        from: String,
        /// The recorded identity.
        recorded: Box<IdentityKey>,
        /// The identity the message comes from.
        offered: Box<IdentityKey>,
    },
    /// As [`Event::IdentityChanged`] for a peer the user had verified: the
    /// peer is blocked (nothing is sent to it or accepted from it) until the
    /// user verifies the new identity
    /// ([`Client::verify_identity`](crate::Client::verify_identity)).
    Blocked {
        /// The peer.
        from: String,
        /// The identity the message comes from.
        offered: Box<IdentityKey>,
    },
}

impl Event {
    /// Names a user's device by its user: the client's own name for a
    /// device session (see `devices.rs`) becomes the user's name.
    pub(crate) fn named_by_user(mut self) -> Self {
        let from = match &mut self {
            Event::Message { from, .. }
            | Event::GroupMessage { from, .. }
            | Event::Forkout { from, .. }
            | Event::Burnout { from, .. }
            | Event::Expired { from, .. }
            | Event::SenderKeyInstalled { from, .. }
            | Event::IdentityChanged { from, .. }
            | Event::Blocked { from, .. }
            | Event::Burned { from, .. } => from,
            Event::Duplicate => return self,
        };
        let user = super::devices::display_name(from);
        if user.len() != from.len() {
            *from = user.to_owned();
        }
        self
    }
}

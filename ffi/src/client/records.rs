//! The records and enums the FFI `Client` hands out, each converted from
//! its `sealpost-client` counterpart in one place.

use sealpost::IdentityKey;

use crate::burnout::{Envelope, VaultEntryInfo};
use crate::keys::Key32;

/// Where the transport takes an outgoing message.
// `Device` holds a parsed key inline (UniFFI has no boxed fields).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClientDestination {
    /// One peer (a 1:1 message, or a group sender key).
    Peer {
        /// The peer.
        name: String,
    },
    /// Every member of a group: one ciphertext for all.
    Group {
        /// The group id.
        group_id: Key32,
    },
    /// A Forkout bundle for the relay to split, one delivery per peer.
    Relay {
        /// The recipients.
        peers: Vec<String>,
    },
    /// A Forkout bundle for the relay with a slot per device of these
    /// users: the relay checks it against their current device lists
    /// (`check_device_recipients`), then splits it.
    Users {
        /// The users (the own user's name among them when it has other
        /// devices).
        users: Vec<String>,
    },
    /// One device of a user (a sender key for a group of people).
    Device {
        /// The user.
        user: String,
        /// The device.
        device: IdentityKey,
    },
}

/// A message sealed and committed to the outbox: send `bytes` to `to`,
/// then `acknowledge(id)`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientOutgoing {
    /// The outbox entry.
    pub id: u64,
    /// Where it goes.
    pub to: ClientDestination,
    /// The wire bytes.
    pub bytes: Vec<u8>,
}

impl From<sealpost_client::Outgoing> for ClientOutgoing {
    fn from(o: sealpost_client::Outgoing) -> Self {
        use sealpost_client::Destination as D;
        let to = match o.to {
            D::Peer(name) => ClientDestination::Peer { name },
            D::Group(id) => ClientDestination::Group { group_id: (*id.as_bytes()).into() },
            D::Relay(peers) => ClientDestination::Relay { peers },
            D::Users(users) => ClientDestination::Users { users },
            D::Device { user, device } => ClientDestination::Device { user, device: *device },
            // Destinations added later reach the app as a relay upload.
            _ => ClientDestination::Relay { peers: Vec::new() },
        };
        Self { id: o.id, to, bytes: o.bytes }
    }
}

/// How a received message came.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClientVia {
    /// A 1:1 message.
    Direct,
    /// A group message.
    Group {
        /// The group id.
        group_id: Key32,
    },
    /// A Forkout delivery.
    Forkout,
}

impl From<sealpost_client::Via> for ClientVia {
    fn from(via: sealpost_client::Via) -> Self {
        match via {
            sealpost_client::Via::Group(id) => Self::Group { group_id: (*id.as_bytes()).into() },
            sealpost_client::Via::Forkout => Self::Forkout,
            _ => Self::Direct,
        }
    }
}

/// A received message not yet acknowledged (`Client.inbox`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientReceived {
    /// The inbox entry: `acknowledge_received(id)` once stored or shown.
    pub id: u64,
    /// The sender.
    pub from: String,
    /// How it came.
    pub via: ClientVia,
    /// The content.
    pub plaintext: Vec<u8>,
}

impl From<sealpost_client::Received> for ClientReceived {
    fn from(r: sealpost_client::Received) -> Self {
        Self { id: r.id, from: r.from, via: r.via.into(), plaintext: r.plaintext.to_vec() }
    }
}

/// What an incoming message was, once its effect is committed.
// The identity variants hold two parsed keys inline; the value only crosses
// the boundary once (UniFFI has no boxed fields).
#[allow(clippy::large_enum_variant)]
#[derive(uniffi::Enum)]
pub enum ClientEvent {
    /// A 1:1 message; `acknowledge_received(id)` once the app stored it.
    Message {
        /// The inbox entry.
        id: u64,
        /// The peer.
        from: String,
        /// The content.
        plaintext: Vec<u8>,
        /// Whether it set up a new session state.
        new_session: bool,
    },
    /// A group message from the member named `from`.
    GroupMessage {
        /// The inbox entry.
        id: u64,
        /// The group id.
        group_id: Key32,
        /// The sender.
        from: String,
        /// The content.
        plaintext: Vec<u8>,
    },
    /// A Forkout delivery.
    Forkout {
        /// The inbox entry.
        id: u64,
        /// The sender.
        from: String,
        /// The content.
        plaintext: Vec<u8>,
    },
    /// A Burnout message, kept in the client's vault: read it with
    /// `vault_read(entry, now_ms)`.
    Burnout {
        /// The sender.
        from: String,
        /// How it came.
        via: ClientVia,
        /// The vault entry.
        entry: u64,
        /// Its envelope.
        envelope: Envelope,
    },
    /// An authentic message whose envelope had expired on arrival: used
    /// up, nothing to read.
    Expired {
        /// The sender.
        from: String,
        /// How it came.
        via: ClientVia,
    },
    /// `from` handed us its sender key for the group.
    SenderKeyInstalled {
        /// The group id.
        group_id: Key32,
        /// The member.
        from: String,
        /// Whether it set up a new session state.
        new_session: bool,
    },
    /// Another own device burned a burn-after-reading message: the copy
    /// here (`entry`, if it had arrived) is erased.
    Burned {
        /// The own device's user name (or the sender, for a message dropped
        /// on arrival).
        from: String,
        /// The vault entry erased, if any.
        entry: Option<u64>,
    },
    /// Already received: ignored.
    Duplicate,
    /// An authentic setup message under another identity than the recorded
    /// one: ask the user, then `accept_identity_change` and deliver again.
    IdentityChanged {
        /// The peer.
        from: String,
        /// The recorded identity.
        recorded: IdentityKey,
        /// The identity the message comes from.
        offered: IdentityKey,
    },
    /// As `IdentityChanged` for a verified peer: blocked until
    /// `verify_identity`.
    Blocked {
        /// The peer.
        from: String,
        /// The identity the message comes from.
        offered: IdentityKey,
    },
}

impl From<sealpost_client::Event> for ClientEvent {
    fn from(event: sealpost_client::Event) -> Self {
        use sealpost_client::Event as E;
        match event {
            E::Message { id, from, plaintext, new_session } => Self::Message { id, from, plaintext, new_session },
            E::GroupMessage { id, group, from, plaintext } => {
                Self::GroupMessage { id, group_id: (*group.as_bytes()).into(), from, plaintext }
            }
            E::Forkout { id, from, plaintext } => Self::Forkout { id, from, plaintext },
            E::Burnout { from, via, entry, envelope } => {
                Self::Burnout { from, via: via.into(), entry: entry.to_u64(), envelope: envelope.into() }
            }
            E::Expired { from, via } => Self::Expired { from, via: via.into() },
            E::SenderKeyInstalled { group, from, new_session } => {
                Self::SenderKeyInstalled { group_id: (*group.as_bytes()).into(), from, new_session }
            }
            E::IdentityChanged { from, recorded, offered } => {
                Self::IdentityChanged { from, recorded: *recorded, offered: *offered }
            }
            E::Blocked { from, offered } => Self::Blocked { from, offered: *offered },
            E::Burned { from, entry } => Self::Burned { from, entry: entry.map(|e| e.to_u64()) },
            // Event kinds added later: nothing the app must act on yet.
            _ => Self::Duplicate,
        }
    }
}

/// What the client records of a peer's identity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientPeerTrust {
    /// The recorded identity.
    pub identity: IdentityKey,
    /// Whether the user verified it.
    pub verified: bool,
    /// Another identity seen and not accepted yet.
    pub pending: Option<IdentityKey>,
    /// Verified and changed: nothing goes to or comes from the peer.
    pub blocked: bool,
}

impl From<sealpost_client::PeerTrust> for ClientPeerTrust {
    fn from(t: sealpost_client::PeerTrust) -> Self {
        Self { identity: t.identity, verified: t.verified, pending: t.pending, blocked: t.blocked }
    }
}

/// A group just created: its id, and our sender key for each member.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientGroupCreated {
    /// The new group's id: tell the members (with the member list).
    pub group_id: Key32,
    /// Our sender key, one outbox entry per member.
    pub outgoing: Vec<ClientOutgoing>,
}

pub(crate) fn vault_entry(id: sealpost::burnout::VaultId, info: sealpost::burnout::EntryInfo) -> VaultEntryInfo {
    VaultEntryInfo {
        id: id.to_u64(),
        envelope: info.envelope.into(),
        sender_identity_key: info.sender,
        outgoing: info.outgoing,
        len: crate::len(info.len),
    }
}

pub(crate) fn outgoing(list: Vec<sealpost_client::Outgoing>) -> Vec<ClientOutgoing> {
    list.into_iter().map(ClientOutgoing::from).collect()
}

//! What can go wrong in a client operation, and what the app should do.
//! Every error means the operation changed nothing in the store.

use sealpost::IdentityKey;
use sealpost::group::GroupId;
use sealpost::wire::MessageType;
use thiserror::Error;

use crate::store::StoreError;

/// Why a [`Client`](crate::Client) operation failed. Nothing of it was
/// committed: the store, and everything the client hands out, is as before.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The store failed: retry the operation later.
    #[error("store: {0}")]
    Store(#[from] StoreError),

    /// The protocol refused the message or operation (tampered, replayed
    /// outside a session, too large, ...). The message says which; drop the
    /// message, or for a send, fix the input.
    #[error("protocol: {0}")]
    Protocol(#[from] sealpost::Error),

    /// No session with this peer yet: fetch the peer's prekey bundle and
    /// call [`Client::start_session`](crate::Client::start_session).
    #[error("no session with {peer}: fetch its prekey bundle and start one")]
    NoSession {
        /// The peer.
        peer: String,
    },

    /// The identity offered for this peer (a bundle, a setup message) is not
    /// the one recorded: ask the user, then
    /// [`Client::accept_identity_change`](crate::Client::accept_identity_change)
    /// or [`Client::verify_identity`](crate::Client::verify_identity).
    #[error("the identity of {peer} changed: ask the user before accepting it")]
    IdentityChanged {
        /// The peer.
        peer: String,
        /// The recorded identity.
        recorded: Box<IdentityKey>,
        /// The identity now offered.
        offered: Box<IdentityKey>,
    },

    /// The peer was verified and its identity changed: nothing is sent to
    /// or accepted from it until the user verifies the new identity
    /// ([`Client::verify_identity`](crate::Client::verify_identity)).
    #[error("{peer} is blocked: its verified identity changed; re-verify it")]
    Blocked {
        /// The peer.
        peer: String,
    },

    /// A message for a group this client is not in (or a sender key for
    /// one): keep the message, and deliver it again after
    /// [`Client::join_group`](crate::Client::join_group) (the app learns of
    /// groups through its own channel, and a distribution may arrive first).
    #[error("no group {group:?} on this client: join it, then deliver the message again")]
    UnknownGroup {
        /// The group.
        group: GroupId,
    },

    /// [`Client::join_group`](crate::Client::join_group) for a group this
    /// client is in already.
    #[error("this client is in group {group:?} already")]
    GroupExists {
        /// The group.
        group: GroupId,
    },

    /// The peer is not a member of the group (under the name given, and
    /// the identity it joined with): add it first.
    #[error("{peer} is not a member of this group (under its current identity): add it")]
    NotGroupMember {
        /// The peer.
        peer: String,
    },

    /// Two names given for one identity (the same contact twice, or a
    /// server that serves one bundle under two names): a group member has
    /// one name. Use one of them.
    #[error("{peer} and {other} are the same identity: a group member has one name")]
    SameIdentity {
        /// The name refused.
        peer: String,
        /// The name the identity already has in the group.
        other: String,
    },

    /// Bytes of a kind a client does not receive (a prekey bundle, a state
    /// export, an unsplit Forkout bundle: the relay splits those): drop them.
    #[error("a {0:?} is not a message a client receives: drop it (Forkout bundles go to the relay)")]
    NotReceivable(MessageType),

    /// A record does not open under this store key (the wrong key, or the
    /// file was tampered with or copied from another device's store).
    #[error("a {table} record does not open under this store key (wrong key or tampered store)")]
    Corrupted {
        /// The record's table.
        table: &'static str,
    },

    /// [`Client::open`](crate::Client::open) found no client in the store:
    /// [`Client::create`](crate::Client::create) one.
    #[error("the store holds no client: create one")]
    NotFound,

    /// [`Client::create`](crate::Client::create) found a client in the
    /// store already: open it instead.
    #[error("the store already holds a client: open it")]
    AlreadyExists,

    /// The store is older than the app last saw it (a restored backup or a
    /// copied-back database file): its generation is below the minimum the
    /// app kept. Do not use it; restore the newest copy, or accept the loss
    /// explicitly by opening without a minimum.
    #[error("the store was rolled back: generation {generation}, the app last saw {minimum}")]
    RolledBack {
        /// The store's generation.
        generation: u64,
        /// The minimum the app asked for.
        minimum: u64,
    },

    /// This client has no user key yet: [`Client::create_user`](crate::Client::create_user)
    /// on a person's first device, or link it to an existing one
    /// ([`Client::finish_link`](crate::Client::finish_link)).
    #[error("this device belongs to no user yet: create one, or link the device to an existing one")]
    NoUser,

    /// This client has a user key already (created, or linked).
    #[error("this device belongs to a user already")]
    UserExists,

    /// No device list accepted for this user yet: fetch theirs from the
    /// directory and [`Client::accept_device_list`](crate::Client::accept_device_list) it.
    #[error("no device list for {user}: fetch it and accept it first")]
    UnknownUser {
        /// The user.
        user: String,
    },

    /// The device is not on the user's device list the client holds: it is
    /// not trusted to speak for the user (never listed, or removed). Accept
    /// a newer list first if the user added it.
    #[error("the device is not on {user}'s device list")]
    UnknownDevice {
        /// The user.
        user: String,
    },

    /// Names starting with U+001F are the client's own (one per device of a
    /// user): not a name for a peer or user.
    #[error("names starting with U+001F are reserved: {name:?}")]
    ReservedName {
        /// The name refused.
        name: String,
    },

    /// The outbox entry is not a message to users (or is gone): only
    /// [`Client::send_to_user`](crate::Client::send_to_user) entries can be
    /// sealed again.
    #[error("outbox entry {id} is not a message to users")]
    NotResendable {
        /// The entry.
        id: u64,
    },

    /// A message from a user's device decrypted, but what it carries is not
    /// framed the way this client reads (a newer client's message?): it was
    /// refused and nothing changed.
    #[error("a message from a user's device carries content this client does not read")]
    UnknownContent,

    /// Another thread panicked while holding the client: drop it and open
    /// the store again (what was committed is intact).
    #[error("the client's lock is poisoned: open the store again")]
    Poisoned,
}

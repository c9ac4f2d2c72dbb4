//! # sealpost-client
//!
//! One object, [`Client`], that owns a device's sealpost state on a
//! transactional [`Store`](store::Store) and commits every change before
//! anything leaves it. An app hands it bytes from its transport and gets
//! typed [`Event`]s; it asks it to send and gets wire bytes that already are
//! durable in an outbox. The lower-level types ([`sealpost::Account`],
//! [`sealpost::Session`], [`sealpost::group::Group`], ...) stay available
//! for apps that manage state themselves.
//!
//! What it covers:
//!
//! * **1:1**: sessions from prekey bundles ([`Client::start_session`]),
//!   [`send`](Client::send), [`send_burnout`](Client::send_burnout),
//!   re-initiation; prekey publishing with a rotation and refill policy
//!   ([`Client::prekey_bundles`]).
//! * **Groups**: [`create_group`](Client::create_group),
//!   [`join_group`](Client::join_group),
//!   [`add_group_member`](Client::add_group_member),
//!   [`remove_group_member`](Client::remove_group_member) (rotates),
//!   [`rotate_group_key`](Client::rotate_group_key),
//!   [`send_group`](Client::send_group); sender keys travel as 1:1 outbox
//!   entries. Membership is the app's (see [`Client::join_group`]).
//! * **Forkout**: [`send_forkout`](Client::send_forkout): one bundle for the
//!   relay; deliveries come back through [`Client::receive`].
//! * **Burnout**: received Burnout content lives only in the client's vault
//!   ([`Client::vault_read`], [`Client::vault_entries`],
//!   [`Client::vault_purge`], ...), never in the inbox.
//! * **Identity trust**: trust on first use, safety numbers, verification,
//!   blocked peers ([`Event::IdentityChanged`], [`Event::Blocked`]).
//! * **People with several devices** ([`sealpost::device`], protocol in
//!   `docs/DEVICES.md`): the own user ([`Client::create_user`]) and
//!   linking a new device ([`Client::link_request`],
//!   [`Client::start_link`], [`Client::complete_link`],
//!   [`Client::finish_link`]); signed device lists per user
//!   ([`Client::accept_device_list`]: rollbacks and other user keys
//!   refused, removed devices dropped with their sessions and rotated out of
//!   every group); sessions per (user, device)
//!   ([`Client::start_device_session`]); messages to a person, sealed once
//!   for every device of theirs and the own other devices
//!   ([`Client::send_to_user`], [`Client::resend_to_user`] after the relay
//!   reports an out-of-date list, [`Client::receive_from_device`]); groups
//!   of people ([`Client::create_user_group`]); burn after reading on every
//!   device ([`Event::Burned`]); safety numbers per person
//!   ([`Client::user_safety_number`]).
//! * **[`Client::receive`]**: one entry point for every incoming message.
//! * Two stores: [`store::SqliteStore`] (WAL, versioned schema) and
//!   [`store::MemoryStore`]; the FFI (`sealpost-ffi`'s `Client` on a SQLite
//!   file).
//!
//! ## Transactions
//!
//! Each call is one transaction: it reads the records it needs, computes
//! every change on copies, and writes them with one
//! [`Store::commit`](store::Store::commit) together with the next store
//! [`generation`](Client::generation). Only after that commit does it return
//! wire bytes or an event. The boundaries:
//!
//! | call | commits together |
//! |---|---|
//! | `send`, `send_burnout` | the session, the outbox entry |
//! | `send_group` | the group state, the outbox entry |
//! | `send_forkout` | every recipient's session, the outbox entry |
//! | `create_group`, `join_group`, `add_group_member`, `remove_group_member`, `rotate_group_key` | the group state and member names, each recipient's session, one outbox entry per recipient |
//! | `receive` (message) | the session or group state, the account (a setup used a one-time prekey), the trust record (first use), and the inbox entry, or the vault for Burnout content |
//! | `receive` (sender key) | the session, the account (new session), the group state |
//! | `vault_read`, `vault_purge`, `vault_remove`, `vault_entries` | the vault, when an entry was erased (burned, expired, removed) |
//! | `acknowledge`, `acknowledge_received` | the removal of the entry |
//! | `prekey_bundles` | the account, when the policy rotated or refilled |
//! | `create_user`, `finish_link`, `complete_link` | the own user (user key and device list) |
//! | `remove_own_device`, `accept_device_list` | the own user or the user's record, the deletion of each removed device's session and trust record, and every group it was in (rotated, with one outbox entry per remaining member device) |
//! | `start_device_session` | the session, its trust record, and every group of the user it joins (with our sender key's outbox entry) |
//! | `send_to_user`, `resend_to_user` | every device's session, the outbox entry (and the removal of the one it replaces) |
//! | `vault_read` of a burn-after-reading entry | the vault, the origins record, and the burn notice for the own other devices |
//!
//! Therefore:
//!
//! * a crash before the commit loses nothing that left the client: the
//!   store still holds the state before the call, and no message produced by
//!   that call was handed out, so no message key and nonce is ever used for
//!   two messages on the wire;
//! * a crash after the commit loses nothing either: an accepted message's
//!   state change is durable (a redelivery is [`Event::Duplicate`]), a sent
//!   message waits in the [`outbox`](Client::outbox) until
//!   [`acknowledge`](Client::acknowledge)d, a received one in the
//!   [`inbox`](Client::inbox) until
//!   [`acknowledge_received`](Client::acknowledge_received), a consumed
//!   one-time prekey never comes back;
//! * an error changes nothing (see [`ClientError`]): a message refused for
//!   now (a group not joined yet, a sender key not arrived yet) can be
//!   delivered again later.
//!
//! What the app must still do: after a restart, give the transport what
//! [`Client::outbox`] holds and show what [`Client::inbox`] holds;
//! acknowledge both; keep the store key in the platform's keychain; keep the
//! [`generation`](Client::generation) where a restore cannot reach if it
//! wants whole-file rollbacks detected; after restoring a backup on
//! purpose, [`rotate_group_key`](Client::rotate_group_key) in every group.
//!
//! ## At rest
//!
//! Every value is sealed under keys derived from the app's 32-byte store
//! key and every record key is a keyed hash (see `records.rs`): a copied
//! database file shows no peer name, group id, identity or content. Each
//! value carries the generation of the commit that wrote it, bound to it:
//! a file pieced together from different times (part of it put back from an
//! old copy) is refused when the newer part is read
//! ([`ClientError::RolledBack`]); a whole-store rollback (an old backup put
//! back) is detected when the app keeps the generation where a restore
//! cannot reach and opens with [`Client::open_at_least`].
//!
//! The account, the vault, the own user (user key and own device list), the
//! burn origins and the index of other users' records (the SHA-256 of
//! each) are held to the generation record exactly: it names the
//! generation that last wrote each, so an old copy of one put back on its
//! own (consumed one-time prekeys, a burned message, an older device list
//! naming a removed device, coming back) is refused
//! ([`ClientError::RolledBack`]); so is a user record the index does not
//! name.
//!
//! Not detected: an older copy of one session, group or trust record put
//! back on its own (someone with write access to the file, without the
//! key). Its generation is older than the store's, as it should be; telling
//! it from the current record would need an index of every record's
//! generation, read at open. What it can do is bounded by the protocol:
//! every message carries a fresh salt, so even an old sending state never
//! uses a key and nonce twice (its repeats are refused by the peer as
//! replays), but an old receiving state would accept again messages it had
//! already accepted. Protect the file as the app protects its other data.
//!
//! ## Store schema (SQLite)
//!
//! One table `records(tbl, key, value)`, schema version in
//! `PRAGMA user_version`; see [`store::SqliteStore`]. Tables:
//! [`store::Table`]: `meta` (the generation and the account), `session`
//! (one per peer name), `trust` (one per peer name), `outbox`, `inbox` (one
//! per entry), `group` (two per group: state and member names), `vault`
//! (the vault, and where its entries came from), `user` (one per user: the
//! newest device list accepted, whether verified); the own user is a
//! record of `meta`.
//!
//! ## Memory and opening
//!
//! Opening reads two records whatever the number of sessions and groups.
//! Recently touched sessions, trust records and groups are cached
//! ([`CACHE_LIMIT`] each); everything else is read when an operation needs
//! it. A group's state is written whole at every group message sent or
//! received: its size grows with its members and their stored keys (see
//! [`sealpost::limits`]).

mod client;
mod error;
mod records;
pub mod store;
mod trust;

pub use client::event::Event;
pub use client::mailbox::{Destination, Outgoing, Received, Via};
pub use client::{
    CACHE_LIMIT, Client, MAX_BURNED_ORIGINS, ONE_TIME_PREKEY_LOW, ONE_TIME_PREKEY_TARGET, SIGNED_PREKEY_ROTATION_MS,
};
pub use error::ClientError;
pub use trust::PeerTrust;

/// `Client` is shared between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Client<store::MemoryStore>>();
    #[cfg(feature = "sqlite")]
    assert_send_sync::<Client<store::SqliteStore>>();
};

//! # sealpost-client
//!
//! One object, [`Client`], that owns a device's sealpost state on a
//! transactional [`Store`](store::Store) and commits every change before
//! anything leaves it. An app hands it bytes from its transport and gets
//! typed [`Event`]s; it asks it to [`send`](Client::send) and gets wire
//! bytes that already are durable in an outbox. The lower-level types
//! ([`sealpost::Account`], [`sealpost::Session`], ...) stay available for
//! apps that manage state themselves.
//!
//! **Status: first version.** 1:1 messaging (setup from bundles, messages in
//! both directions, re-initiation, Burnout messages handed out as events),
//! prekey publishing with a rotation and refill policy, identity trust
//! (trust on first use, verification, blocked peers), the outbox and the
//! inbox, two stores ([`store::SqliteStore`]: WAL, versioned schema;
//! [`store::MemoryStore`]), and the FFI (`sealpost-ffi`'s `Client` on a
//! SQLite file). Groups, Forkout and the vault inside the client are the next
//! steps (issue 16).
//!
//! ## Transactions
//!
//! Each call is one transaction: it reads the records it needs, computes
//! every change, and writes them with one [`Store::commit`](store::Store::commit)
//! together with the next store [`generation`](Client::generation). Only
//! after that commit does it return wire bytes or an event. Therefore:
//!
//! * a crash before the commit loses nothing that left the client: the
//!   store still holds the state before the call, and no message produced by
//!   that call was handed out, so no message key and nonce is ever used for
//!   two messages on the wire;
//! * a crash after the commit loses nothing either: an accepted message's
//!   state change is durable (a redelivery is [`Event::Duplicate`]), a sent
//!   message waits in the [`outbox`](Client::outbox) until
//!   [`acknowledge`](Client::acknowledge)d, a consumed one-time prekey never
//!   comes back.
//!
//! What the app must still do: give the transport what [`Client::outbox`]
//! holds after a restart, acknowledge it once sent, and keep the store key
//! in the platform's keychain.
//!
//! ## At rest
//!
//! Every value is sealed under keys derived from the app's 32-byte store
//! key and every record key is a keyed hash (see `records.rs`): a copied
//! database file shows no peer name, identity or content. A whole-store
//! rollback (an old backup put back) is detected when the app keeps the
//! [`generation`](Client::generation) where a restore cannot reach and opens
//! with [`Client::open_at_least`].
//!
//! ## Store schema (SQLite)
//!
//! One table `records(tbl, key, value)`, schema version in
//! `PRAGMA user_version`; see [`store::SqliteStore`]. Tables:
//! [`store::Table`].

mod client;
mod error;
mod records;
pub mod store;
mod trust;

pub use client::event::Event;
pub use client::mailbox::{Destination, Outgoing, Received, Via};
pub use client::{CACHE_LIMIT, Client, ONE_TIME_PREKEY_LOW, ONE_TIME_PREKEY_TARGET, SIGNED_PREKEY_ROTATION_MS};
pub use error::ClientError;
pub use trust::PeerTrust;

/// `Client` is shared between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Client<store::MemoryStore>>();
    #[cfg(feature = "sqlite")]
    assert_send_sync::<Client<store::SqliteStore>>();
};

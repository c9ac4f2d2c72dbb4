//! Error types, by category.
//!
//! Every fallible operation in sealpost returns [`Error`](enum@Error). Its
//! variants fall in two groups:
//!
//! * **Shared** errors that any protocol can return: malformed bytes
//!   ([`Error::Wire`], with a [`WireError`] saying what was wrong),
//!   authentication failures, replays, bounds, corrupted exports.
//! * **Per-protocol** errors, one enum per protocol, wrapped in one variant
//!   each: [`Error::Session`] ([`SessionError`], 1:1 setup and ratchet),
//!   [`Error::Burnout`] ([`BurnoutError`], the expiry rule),
//!   [`Error::Vault`] ([`VaultError`]), [`Error::Group`] ([`GroupError`])
//!   [`Error::Forkout`] ([`ForkoutError`]), [`Error::Attachment`]
//!   ([`AttachmentError`]) and [`Error::Device`] ([`DeviceError`], device
//!   lists and linking).
//!
//! None of them carries secret material. Parsing failures are grouped under
//! [`WireError`] so that a fuzzer or a relay can tell "malformed bytes" apart
//! from "well-formed but not authentic".
//!
//! Each per-protocol enum converts into [`Error`] with `?` or `.into()`.
//!
//! ```
//! use sealpost::{Error, SessionError};
//! let e: Error = SessionError::PeerMismatch.into();
//! assert!(matches!(e, Error::Session(SessionError::PeerMismatch)));
//! assert_eq!(e.to_string(), "message is from a different identity than this session's peer");
//! ```

mod attachment;
mod burnout;
mod device;
mod forkout;
mod group;
mod session;

use thiserror::Error;

pub use attachment::AttachmentError;
pub use burnout::{BurnoutError, VaultError};
pub use device::DeviceError;
pub use forkout::{ForkoutError, Unreachable, UnreachableReason};
pub use group::GroupError;
pub use session::SessionError;

/// Why a byte string could not be parsed.
///
/// Parsers are total: every input yields either a value or one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Error, WireError, wire::SessionMessage};
/// assert!(matches!(SessionMessage::parse(&[3, 0x02]), Err(WireError::Truncated { .. })));
/// let e: Error = WireError::UnsupportedVersion(2).into(); // inside Error::Wire
/// assert!(matches!(e, Error::Wire(WireError::UnsupportedVersion(2))));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum WireError {
    /// The input ended before the structure was complete.
    #[error("input truncated: needed {needed} more bytes")]
    Truncated {
        /// How many more bytes the parser needed at the point it stopped.
        needed: usize,
    },
    /// The first byte names a format version this build does not understand.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),
    /// The type byte does not name the structure the caller asked to parse.
    #[error(
        "this is {} (type {found:#04x}), not {} (type {expected:#04x})",
        crate::wire::type_name(*found),
        crate::wire::type_name(*expected)
    )]
    UnexpectedType {
        /// The type byte found in the input.
        found: u8,
        /// The type byte the parser expected.
        expected: u8,
    },
    /// A length field or the whole input exceeds a documented limit.
    #[error("{what} is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Which field was too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit (see [`limits`](crate::limits)).
        max: usize,
    },
    /// Bytes remained after a complete structure.
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// A field holds a value the format does not allow (unknown flag bits,
    /// a reserved field that must be absent, an invalid public key, ...).
    #[error("invalid field: {0}")]
    InvalidField(&'static str),
}

/// Everything that can go wrong in sealpost.
///
/// Shared errors are variants of their own; each protocol's own errors sit
/// in one variant per protocol (shared variants first, then one per protocol).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Account, Error};
/// let mut rng = sealpost::default_rng();
/// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
/// let mut m = to_bob.encrypt(b"hello", &mut rng)?;
/// let last = m.len() - 1;
/// m[last] ^= 1;
/// match to_alice.decrypt(&m) {
///     Err(Error::AuthenticationFailed) => {} // forged or corrupted: drop it, nothing changed
///     other => panic!("{other:?}"),
/// }
/// // Every error says what happened in words.
/// assert!(!Error::AuthenticationFailed.to_string().is_empty());
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum Error {
    /// The input bytes are malformed.
    #[error("malformed input: {0}")]
    Wire(#[from] WireError),

    /// Authenticated decryption failed: the message was tampered with, was
    /// sent under another session, or is a forgery. No state was changed.
    #[error("message authentication failed")]
    AuthenticationFailed,

    /// A signature (on a prekey bundle, a group message or a distribution)
    /// did not verify.
    #[error("invalid signature on {0}")]
    InvalidSignature(&'static str),

    /// A Diffie-Hellman result was all zeros: the peer supplied a low-order
    /// point.
    #[error("non-contributory Diffie-Hellman: peer key has low order")]
    WeakKey,

    /// The message was already decrypted (replay), or its key was deleted
    /// because it fell out of the skipped-key window (1:1) or the
    /// out-of-order window (groups). No state was changed.
    #[error("duplicate message: already received or its key is gone")]
    DuplicateMessage,

    /// The message decrypted but carries a payload kind the called function
    /// does not handle (for example a group distribution passed to
    /// [`Session::decrypt`](crate::Session::decrypt)). No state was changed.
    #[error("{}", crate::wire::payload_refusal(*.0))]
    UnexpectedPayload(u8),

    /// A documented capacity was reached (prekeys, group members, Forkout
    /// recipients, ...).
    #[error("limit reached: {what} (max {max})")]
    LimitReached {
        /// Which limit.
        what: &'static str,
        /// Its value.
        max: usize,
    },

    /// A plaintext or body exceeds its documented size limit.
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// An encrypted export did not open: wrong key, or the bytes were
    /// corrupted.
    #[error("encrypted state export could not be opened (wrong key or corrupted)")]
    ExportCorrupted,

    /// An encrypted export was made for another context (another object or
    /// peer) than the one the import names. Nothing was restored: import it
    /// where it belongs.
    #[error("encrypted state export belongs to another context")]
    ExportContextMismatch,

    /// An encrypted export is older than the newest one the app says it
    /// wrote (its generation is below the minimum): a rolled-back or
    /// replayed backup. Nothing was restored.
    #[error("encrypted state export of generation {generation} is older than the minimum {minimum}")]
    ExportRolledBack {
        /// The export's authenticated generation.
        generation: u64,
        /// The minimum the caller asked for.
        minimum: u64,
    },

    /// Decoded state is internally inconsistent.
    #[error("invalid state: {0}")]
    InvalidState(&'static str),

    /// A 1:1 session or session-setup error.
    #[error(transparent)]
    Session(#[from] SessionError),

    /// A Burnout envelope refused the message (expired, from the future,
    /// malformed).
    #[error(transparent)]
    Burnout(#[from] BurnoutError),

    /// A Burnout vault lookup failed.
    #[error(transparent)]
    Vault(#[from] VaultError),

    /// A group message, distribution or membership error.
    #[error(transparent)]
    Group(#[from] GroupError),

    /// A Forkout sealing or opening error.
    #[error(transparent)]
    Forkout(#[from] ForkoutError),

    /// An attachment encryption, opening or read error.
    #[error(transparent)]
    Attachment(#[from] AttachmentError),

    /// A device list or device-linking error.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// Shorthand for results in this crate.
pub type Result<T> = core::result::Result<T, Error>;

//! Error types.
//!
//! Every fallible operation in sealpost returns [`Error`](enum@Error). The variants say
//! what went wrong in terms a caller can act on; none of them carries secret
//! material. Parsing failures are grouped under [`WireError`] so that a fuzzer
//! or a relay can tell "malformed bytes" apart from "well-formed but not
//! authentic".

use thiserror::Error;

/// Why a byte string could not be parsed.
///
/// Parsers are total: every input yields either a value or one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
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
    #[error("unexpected message type {found:#04x}, expected {expected:#04x}")]
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
        /// The limit (see [`crate::limits`]).
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
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input bytes are malformed.
    #[error("malformed input: {0}")]
    Wire(#[from] WireError),

    /// A signature (on a prekey bundle, a group message or a distribution)
    /// did not verify.
    #[error("invalid signature on {0}")]
    InvalidSignature(&'static str),

    /// A Diffie-Hellman result was all zeros: the peer supplied a low-order
    /// point.
    #[error("non-contributory Diffie-Hellman: peer key has low order")]
    WeakKey,

    /// Authenticated decryption failed: the message was tampered with, was
    /// sent under another session, or is a forgery. No state was changed.
    #[error("message authentication failed")]
    AuthenticationFailed,

    /// The message was already decrypted (replay), or its key was deleted
    /// because it fell out of the skipped-key window. No state was changed.
    #[error("duplicate message: already received or its key is gone")]
    DuplicateMessage,

    /// The message is further ahead in its chain than
    /// [`limits::MAX_FORWARD_JUMP`](crate::limits::MAX_FORWARD_JUMP) allows.
    #[error("message is {jump} messages ahead, over the limit of {max}")]
    ForwardJumpTooLarge {
        /// How many message keys would have to be skipped.
        jump: u64,
        /// The limit.
        max: u64,
    },

    /// A setup message names a signed prekey the store does not hold (never
    /// issued, or rotated out past its grace period).
    #[error("unknown signed prekey id {0}")]
    UnknownSignedPreKey(u32),

    /// A setup message names a one-time prekey id that was never issued.
    #[error("unknown one-time prekey id {0}")]
    UnknownOneTimePreKey(u32),

    /// A setup message names a one-time prekey that was already consumed by
    /// an earlier session.
    #[error("one-time prekey {0} was already used")]
    OneTimePreKeyReused(u32),

    /// The message belongs to a different peer than this session's.
    #[error("message is from a different identity than this session's peer")]
    PeerMismatch,

    /// A setup message starts a session this [`Session`](crate::Session)
    /// does not know; pass it to
    /// [`Account::decrypt`](crate::Account::decrypt) instead.
    #[error("setup message for a session this object does not hold")]
    UnknownSessionSetup,

    /// The message decrypted but carries a payload kind the called function
    /// does not handle (for example a group distribution passed to
    /// [`Session::decrypt`](crate::Session::decrypt)). No state was changed.
    #[error("unexpected payload kind {0:#04x}")]
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

    /// A Burnout message opened (or a vault entry read) at or after its
    /// expiry time. Its plaintext is not returned; when opening, its message
    /// key is used up, so the session state moves on and the message can
    /// never be opened again.
    #[error("message expired at {expired_at_ms} ms")]
    Expired {
        /// The authenticated expiry time.
        expired_at_ms: u64,
    },

    /// A Burnout message claims to be sent further in the future than
    /// [`MAX_CLOCK_SKEW_MS`](crate::limits::MAX_CLOCK_SKEW_MS) allows.
    /// Nothing was changed: the message opens once the local clock (or the
    /// sender's) is right.
    #[error("message sent at {sent_at_ms} ms is too far ahead of the local clock ({now_ms} ms)")]
    ClockSkew {
        /// The authenticated sent-at time.
        sent_at_ms: u64,
        /// The caller's clock.
        now_ms: u64,
    },

    /// Decoded state is internally inconsistent.
    #[error("invalid state: {0}")]
    InvalidState(&'static str),

    /// An authentic message carried a Burnout envelope this build cannot
    /// parse (missing, unknown version, unknown flags). Its content is not
    /// returned and, because its expiry rule cannot be enforced, its message
    /// key is used up like an expired message's.
    #[error("malformed Burnout envelope: {0}")]
    MalformedEnvelope(WireError),

    /// The vault entry was burned after its first read; its plaintext is
    /// gone.
    #[error("message was burned after its first read")]
    BurnedAfterReading,

    /// The vault holds no entry with this id (never inserted, removed, or
    /// erased so long ago that the vault no longer remembers it).
    #[error("no such message in the vault")]
    NotInVault,
    /// A group message or distribution comes from someone who is not a
    /// member of the group (never added, or removed). No state was changed.
    #[error("sender is not a member of the group")]
    NotGroupMember,

    /// A group message or distribution belongs to another group. No state
    /// was changed.
    #[error("message belongs to another group")]
    GroupMismatch,

    /// A group message names a sender key this member has not received (its
    /// distribution has not arrived yet, was replaced twice since, or the
    /// message is our own). Keep the message and retry after installing the
    /// sender's distribution. No state was changed.
    #[error("no sender key {key_id} installed for this sender")]
    UnknownSenderKey {
        /// The sender key id the message names.
        key_id: u32,
    },

    /// A distribution reuses a sender key id this member already holds for
    /// that sender, with a different signing key. No state was changed.
    #[error("sender key {key_id} conflicts with the installed one")]
    SenderKeyConflict {
        /// The conflicting sender key id.
        key_id: u32,
    },

    /// A Forkout key slot names a different Forkout than the delivery
    /// carrying it (a slot moved from another Forkout). No state was changed.
    #[error("Forkout key slot belongs to another Forkout")]
    ForkoutIdMismatch,

    /// A Forkout body's length differs from the length its key slot commits
    /// to (a truncated or extended body). No state was changed.
    #[error("Forkout body is {found} bytes, its key slot commits to {expected}")]
    BodyLengthMismatch {
        /// The body ciphertext length the key slot commits to.
        expected: u64,
        /// The body ciphertext length received.
        found: u64,
    },

    /// A Forkout body does not match the commitment in its key slot (a
    /// swapped or tampered body). No state was changed.
    #[error("Forkout body does not match its key slot's commitment")]
    BodyCommitmentMismatch,

    /// Some Forkout recipients have neither a session nor a usable prekey
    /// bundle, and the caller asked for all or nothing (or nobody at all is
    /// reachable). Nothing was sealed.
    #[error("{} Forkout recipient(s) unreachable", .0.len())]
    RecipientsUnreachable(Vec<crate::forkout::Unreachable>),

    /// The same identity (its 32-byte key, the Forkout recipient id)
    /// appears more than once in a Forkout's recipients.
    #[error("a Forkout recipient is listed more than once")]
    DuplicateRecipient([u8; 32]),

    /// A Forkout bundle holds no key slot for this recipient.
    #[error("not a recipient of this Forkout")]
    NotARecipient,

    /// A Forkout was sealed to an empty list of recipients.
    #[error("a Forkout needs at least one recipient")]
    NoRecipients,
}

/// Shorthand for results in this crate.
pub type Result<T> = core::result::Result<T, Error>;

//! The error every exported function throws.
//!
//! [`SealpostError`] is a *flat* UniFFI error: each variant becomes its own
//! exception class (Kotlin `SealpostException.AuthenticationFailed`, Swift
//! `SealpostError.AuthenticationFailed(message:)`, Python
//! `SealpostError.AuthenticationFailed`) whose message is the readable text
//! of the Rust error, details included ("message is 1200 messages ahead,
//! over the limit of 1000"). The variants mirror the core's errors, flattened:
//! the shared variants of [`sealpost::Error`] (`Wire` is called `Malformed`
//! here) and the variants of each category ([`sealpost::SessionError`],
//! [`sealpost::BurnoutError`], [`sealpost::VaultError`],
//! [`sealpost::GroupError`], [`sealpost::ForkoutError`],
//! [`sealpost::DeviceError`]), mapped one
//! function per category; plus four that only the FFI layer produces:
//! [`SealpostError::InvalidArgument`], [`SealpostError::AlreadyConsumed`],
//! [`SealpostError::LockPoisoned`] and [`SealpostError::Other`].

use sealpost::{BurnoutError, DeviceError, ForkoutError, GroupError, SessionError, VaultError};

/// Everything that can go wrong in a call into sealpost.
///
/// Decryption errors leave every object exactly as it was before the call,
/// so the app can keep using the account and the session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SealpostError {
    /// The input bytes are not a well-formed sealpost structure (truncated,
    /// wrong type, unknown version, over a size limit, trailing bytes).
    #[error("{0}")]
    Malformed(String),
    /// A signature (on a prekey bundle, ...) did not verify.
    #[error("{0}")]
    InvalidSignature(String),
    /// The peer supplied a low-order (non-contributory) key.
    #[error("{0}")]
    WeakKey(String),
    /// The message was tampered with, sent under another session, or forged.
    #[error("{0}")]
    AuthenticationFailed(String),
    /// A replay: the message was already decrypted, or its key is gone.
    #[error("{0}")]
    DuplicateMessage(String),
    /// The message is further ahead in its chain than the limit allows.
    #[error("{0}")]
    ForwardJumpTooLarge(String),
    /// A setup message names a signed prekey this account does not hold.
    #[error("{0}")]
    UnknownSignedPreKey(String),
    /// A setup message names a one-time prekey that was never issued.
    #[error("{0}")]
    UnknownOneTimePreKey(String),
    /// A setup message names a one-time prekey that was already used.
    #[error("{0}")]
    OneTimePreKeyReused(String),
    /// The message (or bundle) belongs to another identity than expected.
    #[error("{0}")]
    PeerMismatch(String),
    /// A setup message for a session state this object does not hold: pass
    /// it to `Account.decrypt` instead of `Session.decrypt`.
    #[error("{0}")]
    UnknownSessionSetup(String),
    /// A call that starts a session got an ordinary message: decrypt it
    /// with the session it belongs to.
    #[error("{0}")]
    NotASetupMessage(String),
    /// `createOutboundSession` got the account's own bundle.
    #[error("{0}")]
    OwnBundle(String),
    /// A classical (not post-quantum) bundle or setup message, refused by
    /// the account's setup policy (`SetupPolicy.REQUIRE_POST_QUANTUM`, the
    /// default). Nothing changed.
    #[error("{0}")]
    PostQuantumRequired(String),
    /// The session passed to an `Account` call belongs to another account.
    #[error("{0}")]
    NotThisAccount(String),
    /// A setup message (without a one-time prekey) that this account already
    /// accepted: a replay. Nothing changed.
    #[error("{0}")]
    SetupReplayed(String),
    /// A prekey bundle too old to start a session from: fetch a new one.
    #[error("{0}")]
    StaleBundle(String),
    /// Our setup went unanswered too long: fetch a new bundle, start again.
    #[error("{0}")]
    StaleSetup(String),
    /// The message carries a payload kind the called function does not
    /// handle (for example a group message passed to a 1:1 decrypt).
    #[error("{0}")]
    UnexpectedPayload(String),
    /// A documented capacity was reached (one-time prekeys, ...).
    #[error("{0}")]
    LimitReached(String),
    /// A plaintext or body is over its documented size limit.
    #[error("{0}")]
    TooLarge(String),
    /// An encrypted export did not open: wrong key, or corrupted bytes.
    #[error("{0}")]
    ExportCorrupted(String),
    /// An encrypted export made for another context (object, peer).
    #[error("{0}")]
    ExportContextMismatch(String),
    /// An encrypted export older than the minimum generation asked for: a
    /// rolled-back backup.
    #[error("{0}")]
    ExportRolledBack(String),
    /// A Burnout message was opened at or after its expiry time.
    #[error("{0}")]
    Expired(String),
    /// A Burnout message claims a send time too far ahead of the local clock.
    #[error("{0}")]
    ClockSkew(String),
    /// Decoded state is internally inconsistent.
    #[error("{0}")]
    InvalidState(String),
    /// An authentic message carried a Burnout envelope this build cannot
    /// parse; its content is not returned and its key is used up.
    #[error("{0}")]
    MalformedEnvelope(String),
    /// The vault entry was burned after its first read.
    #[error("{0}")]
    BurnedAfterReading(String),
    /// The vault holds no entry with this id.
    #[error("{0}")]
    NotInVault(String),
    /// A group message or distribution comes from a non-member.
    #[error("{0}")]
    NotGroupMember(String),
    /// A group message or distribution belongs to another group.
    #[error("{0}")]
    GroupMismatch(String),
    /// A group message names a sender key not installed yet: keep the
    /// message and retry after the sender's distribution arrives.
    #[error("{0}")]
    UnknownSenderKey(String),
    /// A distribution reuses a sender key id with a different signing key.
    #[error("{0}")]
    SenderKeyConflict(String),
    /// A signed group message whose key commitment does not match this
    /// member's copy of the sender's chain: the sender handed out different
    /// chains under one key id. Report the sender.
    #[error("{0}")]
    KeyCommitmentMismatch(String),
    /// A group state loaded from an export sends nothing until it is
    /// rotated (`rotate`, then distribute the new key), or the app declares
    /// it the newest save (`resume_without_rotation`).
    #[error("{0}")]
    RotationRequired(String),
    /// `Client`: no session with the peer yet: fetch its bundle and call
    /// `start_session`.
    #[error("{0}")]
    NoSession(String),
    /// `Client`: the identity offered for a peer is not the recorded one:
    /// ask the user.
    #[error("{0}")]
    IdentityChanged(String),
    /// `Client`: a verified peer whose identity changed: re-verify it.
    #[error("{0}")]
    Blocked(String),
    /// `Client`: the store failed; retry later (nothing was written).
    #[error("{0}")]
    StoreFailed(String),
    /// `Client`: a record does not open under this store key (wrong key or
    /// tampered file).
    #[error("{0}")]
    StoreCorrupted(String),
    /// `Client.open`: no client in this file.
    #[error("{0}")]
    StoreNotFound(String),
    /// `Client.create`: the file already holds a client.
    #[error("{0}")]
    StoreAlreadyExists(String),
    /// `Client`: the store is older than the generation the app kept.
    #[error("{0}")]
    StoreRolledBack(String),
    /// `Client`: a message (or sender key) for a group this client is not
    /// in: keep it, `join_group`, then deliver it again.
    #[error("{0}")]
    UnknownGroup(String),
    /// `Client.join_group`: this client is in the group already.
    #[error("{0}")]
    GroupExists(String),
    /// `Client.receive`: bytes a client does not receive (a bundle, a
    /// state export, an unsplit Forkout bundle): drop them.
    #[error("{0}")]
    NotReceivable(String),
    /// A Forkout key slot was moved from another Forkout.
    #[error("{0}")]
    ForkoutIdMismatch(String),
    /// A Forkout body is longer or shorter than its key slot commits to.
    #[error("{0}")]
    BodyLengthMismatch(String),
    /// A Forkout body does not match its key slot's commitment (swapped or
    /// tampered).
    #[error("{0}")]
    BodyCommitmentMismatch(String),
    /// Some Forkout recipients cannot be reached and the policy was
    /// all-or-nothing, or nobody can be reached; nothing was sealed.
    #[error("{0}")]
    RecipientsUnreachable(String),
    /// One person appears more than once among a Forkout's recipients.
    #[error("{0}")]
    DuplicateRecipient(String),
    /// A Forkout bundle holds no slot for this recipient.
    #[error("{0}")]
    NotARecipient(String),
    /// A Forkout needs at least one recipient.
    #[error("{0}")]
    NoRecipients(String),
    /// An argument is unusable (a key of the wrong length, a count out of
    /// range, the same session listed twice). Raised by the FFI layer before
    /// sealpost is called.
    #[error("{0}")]
    InvalidArgument(String),
    /// A single-use object was already used up: a `BurnoutMessage` whose
    /// plaintext was taken or that was put into a vault.
    #[error("{0}")]
    AlreadyConsumed(String),
    /// An earlier call panicked while it held this object's lock; the
    /// object must not be used again. Reload it from its last export.
    #[error("{0}")]
    LockPoisoned(String),
    /// An attachment upload that is not the pointer's (its key check
    /// differs): fetch the right upload.
    #[error("{0}")]
    AttachmentKeyMismatch(String),
    /// An attachment chunk failed authentication (tampered, reordered,
    /// truncated): nothing of it was released.
    #[error("{0}")]
    ChunkAuthentication(String),
    /// An attachment upload ends before its last chunk.
    #[error("{0}")]
    AttachmentTruncated(String),
    /// Bytes follow an attachment's last chunk.
    #[error("{0}")]
    AttachmentTrailingData(String),
    /// The progress callback asked to stop: discard the partial output.
    #[error("{0}")]
    Cancelled(String),
    /// Reading or writing a file failed (the message says which and why).
    #[error("{0}")]
    Io(String),
    /// A device list signed by another user key than the one trusted.
    #[error("{0}")]
    UserKeyMismatch(String),
    /// A device list older than one already seen for the user (a rollback).
    #[error("{0}")]
    DeviceListRolledBack(String),
    /// Two different device lists of one user claim the same version.
    #[error("{0}")]
    ConflictingDeviceLists(String),
    /// A device list would hold no device or too many, or one twice.
    #[error("{0}")]
    DeviceCount(String),
    /// The device is already on the list.
    #[error("{0}")]
    AlreadyListed(String),
    /// The device is not on the list.
    #[error("{0}")]
    NotListed(String),
    /// A device-linking code expired: show a new one.
    #[error("{0}")]
    LinkCodeExpired(String),
    /// A linking message of another code (or forged): nothing changed.
    #[error("{0}")]
    WrongLinkCode(String),
    /// The short authentication strings differ: the link is over, nothing
    /// was linked.
    #[error("{0}")]
    ShortStringMismatch(String),
    /// A linking step out of order or repeated (a replay).
    #[error("{0}")]
    LinkState(String),
    /// The relay refused a message to people: the sender's view of a device
    /// list is out of date (accept the newer lists, then resend).
    #[error("{0}")]
    StaleDeviceList(String),
    /// The client belongs to no user yet: create one or link the device.
    #[error("{0}")]
    NoUser(String),
    /// The client belongs to a user already.
    #[error("{0}")]
    UserExists(String),
    /// No device list accepted for the user yet.
    #[error("{0}")]
    UnknownUser(String),
    /// The device is not on the user's device list (never trusted).
    #[error("{0}")]
    UnknownDevice(String),
    /// An error this version of the bindings does not name yet (sealpost's
    /// error enum is non-exhaustive). The message says what happened.
    #[error("{0}")]
    Other(String),
}

impl From<sealpost::Error> for SealpostError {
    /// Maps by category: the shared errors here, each protocol's errors in
    /// the function for its category.
    fn from(e: sealpost::Error) -> Self {
        use sealpost::Error as E;
        let message = e.to_string();
        match e {
            E::Wire(_) => Self::Malformed(message),
            E::AuthenticationFailed => Self::AuthenticationFailed(message),
            E::InvalidSignature(_) => Self::InvalidSignature(message),
            E::WeakKey => Self::WeakKey(message),
            E::DuplicateMessage => Self::DuplicateMessage(message),
            E::UnexpectedPayload(_) => Self::UnexpectedPayload(message),
            E::LimitReached { .. } => Self::LimitReached(message),
            E::TooLarge { .. } => Self::TooLarge(message),
            E::ExportCorrupted => Self::ExportCorrupted(message),
            E::ExportContextMismatch => Self::ExportContextMismatch(message),
            E::ExportRolledBack { .. } => Self::ExportRolledBack(message),
            E::InvalidState(_) => Self::InvalidState(message),
            E::Session(e) => Self::session(e, message),
            E::Burnout(e) => Self::burnout(e, message),
            E::Vault(e) => Self::vault(e, message),
            E::Group(e) => Self::group(e, message),
            E::Forkout(e) => Self::forkout(e, message),
            E::Attachment(e) => Self::attachment(e, message),
            E::Device(e) => Self::device(e, message),
            // Categories added to sealpost after this mapping was written
            // still reach the app, with their message.
            _ => Self::Other(message),
        }
    }
}

impl From<sealpost_client::ClientError> for SealpostError {
    fn from(e: sealpost_client::ClientError) -> Self {
        use sealpost_client::ClientError as C;
        let message = e.to_string();
        match e {
            C::Protocol(e) => e.into(),
            C::Store(_) => Self::StoreFailed(message),
            C::NoSession { .. } => Self::NoSession(message),
            C::IdentityChanged { .. } => Self::IdentityChanged(message),
            C::Blocked { .. } => Self::Blocked(message),
            C::Corrupted { .. } => Self::StoreCorrupted(message),
            C::NotFound => Self::StoreNotFound(message),
            C::AlreadyExists => Self::StoreAlreadyExists(message),
            C::RolledBack { .. } => Self::StoreRolledBack(message),
            C::Poisoned => Self::LockPoisoned(message),
            C::UnknownGroup { .. } => Self::UnknownGroup(message),
            C::GroupExists { .. } => Self::GroupExists(message),
            C::NotGroupMember { .. } => Self::NotGroupMember(message),
            C::NotReceivable(_) => Self::NotReceivable(message),
            C::SameIdentity { .. } => Self::InvalidArgument(message),
            C::NoUser => Self::NoUser(message),
            C::UserExists => Self::UserExists(message),
            C::UnknownUser { .. } => Self::UnknownUser(message),
            C::UnknownDevice { .. } => Self::UnknownDevice(message),
            C::ReservedName { .. } | C::NotResendable { .. } => Self::InvalidArgument(message),
            _ => Self::Other(message),
        }
    }
}

/// One mapping per error category of the core. Variants added to a
/// category later fall back to [`SealpostError::Other`], with their message.
impl SealpostError {
    fn session(e: SessionError, message: String) -> Self {
        match e {
            SessionError::ForwardJumpTooLarge { .. } => Self::ForwardJumpTooLarge(message),
            SessionError::UnknownSignedPreKey(_) => Self::UnknownSignedPreKey(message),
            SessionError::UnknownOneTimePreKey(_) => Self::UnknownOneTimePreKey(message),
            SessionError::OneTimePreKeyReused(_) => Self::OneTimePreKeyReused(message),
            SessionError::PeerMismatch => Self::PeerMismatch(message),
            SessionError::UnknownSessionSetup => Self::UnknownSessionSetup(message),
            SessionError::NotASetupMessage => Self::NotASetupMessage(message),
            SessionError::OwnBundle => Self::OwnBundle(message),
            SessionError::PostQuantumRequired => Self::PostQuantumRequired(message),
            SessionError::NotThisAccount => Self::NotThisAccount(message),
            SessionError::SetupReplayed => Self::SetupReplayed(message),
            SessionError::StaleBundle => Self::StaleBundle(message),
            SessionError::StaleSetup => Self::StaleSetup(message),
            _ => Self::Other(message),
        }
    }

    fn device(e: DeviceError, message: String) -> Self {
        match e {
            DeviceError::UserKeyMismatch => Self::UserKeyMismatch(message),
            DeviceError::RolledBack { .. } => Self::DeviceListRolledBack(message),
            DeviceError::ConflictingLists { .. } => Self::ConflictingDeviceLists(message),
            DeviceError::DeviceCount { .. } | DeviceError::DuplicateDevice | DeviceError::VersionExhausted => {
                Self::DeviceCount(message)
            }
            DeviceError::AlreadyListed => Self::AlreadyListed(message),
            DeviceError::NotListed => Self::NotListed(message),
            DeviceError::LinkCodeExpired { .. } => Self::LinkCodeExpired(message),
            DeviceError::WrongLinkCode => Self::WrongLinkCode(message),
            DeviceError::ShortStringMismatch => Self::ShortStringMismatch(message),
            DeviceError::LinkState(_) | DeviceError::LinkSelf => Self::LinkState(message),
            DeviceError::StaleDeviceList { .. } => Self::StaleDeviceList(message),
            _ => Self::Other(message),
        }
    }

    fn burnout(e: BurnoutError, message: String) -> Self {
        match e {
            BurnoutError::Expired { .. } => Self::Expired(message),
            BurnoutError::ClockSkew { .. } => Self::ClockSkew(message),
            BurnoutError::MalformedEnvelope(_) => Self::MalformedEnvelope(message),
            _ => Self::Other(message),
        }
    }

    fn vault(e: VaultError, message: String) -> Self {
        match e {
            VaultError::BurnedAfterReading => Self::BurnedAfterReading(message),
            VaultError::NotInVault => Self::NotInVault(message),
            _ => Self::Other(message),
        }
    }

    fn group(e: GroupError, message: String) -> Self {
        match e {
            GroupError::NotGroupMember => Self::NotGroupMember(message),
            GroupError::GroupMismatch => Self::GroupMismatch(message),
            GroupError::UnknownSenderKey { .. } => Self::UnknownSenderKey(message),
            GroupError::SenderKeyConflict { .. } => Self::SenderKeyConflict(message),
            GroupError::KeyCommitmentMismatch => Self::KeyCommitmentMismatch(message),
            GroupError::RotationRequired => Self::RotationRequired(message),
            _ => Self::Other(message),
        }
    }

    fn attachment(e: sealpost::AttachmentError, message: String) -> Self {
        use sealpost::AttachmentError as A;
        match e {
            A::KeyMismatch => Self::AttachmentKeyMismatch(message),
            A::ChunkAuthentication { .. } => Self::ChunkAuthentication(message),
            A::Truncated { .. } => Self::AttachmentTruncated(message),
            A::TrailingData => Self::AttachmentTrailingData(message),
            A::TooLarge { .. } => Self::TooLarge(message),
            A::Cancelled => Self::Cancelled(message),
            A::Io { .. } => Self::Io(message),
            A::EncryptorFailed => Self::InvalidState(message),
            _ => Self::Other(message),
        }
    }

    fn forkout(e: ForkoutError, message: String) -> Self {
        match e {
            ForkoutError::ForkoutIdMismatch => Self::ForkoutIdMismatch(message),
            ForkoutError::BodyLengthMismatch { .. } => Self::BodyLengthMismatch(message),
            ForkoutError::BodyCommitmentMismatch => Self::BodyCommitmentMismatch(message),
            ForkoutError::RecipientsUnreachable(_) => Self::RecipientsUnreachable(message),
            ForkoutError::DuplicateRecipient(_) => Self::DuplicateRecipient(message),
            ForkoutError::NotARecipient => Self::NotARecipient(message),
            ForkoutError::NoRecipients => Self::NoRecipients(message),
            _ => Self::Other(message),
        }
    }
}

/// Shorthand for results of exported functions.
pub type Result<T> = core::result::Result<T, SealpostError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_kind_and_message() {
        let cases = [
            (sealpost::Error::AuthenticationFailed, "AuthenticationFailed"),
            (sealpost::Error::DuplicateMessage, "DuplicateMessage"),
            (
                sealpost::Error::Session(SessionError::ForwardJumpTooLarge { jump: 1200, max: 1000 }),
                "ForwardJumpTooLarge",
            ),
            (sealpost::Error::Burnout(BurnoutError::Expired { expired_at_ms: 5 }), "Expired"),
            (sealpost::Error::Session(SessionError::NotThisAccount), "NotThisAccount"),
            (sealpost::Error::Session(SessionError::SetupReplayed), "SetupReplayed"),
            (sealpost::Error::Wire(sealpost::WireError::TrailingBytes(3)), "Malformed"),
            (sealpost::Error::Session(SessionError::OneTimePreKeyReused(7)), "OneTimePreKeyReused"),
            (sealpost::Error::Vault(VaultError::BurnedAfterReading), "BurnedAfterReading"),
            (sealpost::Error::Group(GroupError::UnknownSenderKey { key_id: 3 }), "UnknownSenderKey"),
            (sealpost::Error::Forkout(ForkoutError::ForkoutIdMismatch), "ForkoutIdMismatch"),
            (
                sealpost::Error::Forkout(ForkoutError::BodyLengthMismatch { expected: 10, found: 9 }),
                "BodyLengthMismatch",
            ),
            (sealpost::Error::Forkout(ForkoutError::BodyCommitmentMismatch), "BodyCommitmentMismatch"),
            (sealpost::Error::Forkout(ForkoutError::RecipientsUnreachable(Vec::new())), "RecipientsUnreachable"),
            (sealpost::Error::Forkout(ForkoutError::DuplicateRecipient([7; 32])), "DuplicateRecipient"),
            (sealpost::Error::Forkout(ForkoutError::NotARecipient), "NotARecipient"),
            (sealpost::Error::Forkout(ForkoutError::NoRecipients), "NoRecipients"),
            (sealpost::Error::Attachment(sealpost::AttachmentError::KeyMismatch), "AttachmentKeyMismatch"),
            (
                sealpost::Error::Attachment(sealpost::AttachmentError::ChunkAuthentication { chunk: 3 }),
                "ChunkAuthentication",
            ),
            (sealpost::Error::Attachment(sealpost::AttachmentError::Cancelled), "Cancelled"),
        ];
        for (core, kind) in cases {
            let text = core.to_string();
            let ffi = SealpostError::from(core);
            assert!(format!("{ffi:?}").starts_with(kind), "{ffi:?} is not {kind}");
            assert_eq!(ffi.to_string(), text);
        }
        let jump =
            SealpostError::from(sealpost::Error::Session(SessionError::ForwardJumpTooLarge { jump: 1200, max: 1000 }));
        assert!(jump.to_string().contains("1200") && jump.to_string().contains("1000"));
    }
}

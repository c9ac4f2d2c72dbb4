//! The versioned binary wire format.
//!
//! Every sealpost byte string starts with a format version byte and a type
//! byte ([`MessageType`]). Each type has its own version
//! ([`MessageType::version`]), bumped when its layout or meaning changes; a
//! byte string of another version is refused with
//! [`WireError::UnsupportedVersion`](crate::WireError::UnsupportedVersion),
//! never misread. Integers are big-endian,
//! variable-length fields carry a length prefix checked against the limits
//! in [`crate::limits`] before anything is allocated, and trailing bytes are
//! an error. The full layout of each message is specified in
//! [PROTOCOL](crate::docs::protocol) (and, for groups, Forkout and Burnout,
//! in [GROUP](crate::docs::group), [FORKOUT](crate::docs::forkout) and
//! [BURNOUT](crate::docs::burnout)); the encoders and parsers live next to
//! the protocol code that owns each message (`wire::session_message` for
//! 1:1 messages, `prekey` for bundles, ...).

pub(crate) mod codec;
pub(crate) mod session_message;

pub use session_message::SessionMessage;

/// Defines [`MessageType`], its byte decoding and each type's format
/// version from one list, so a new type cannot be added to one and
/// forgotten in another.
macro_rules! message_types {
    ($($(#[$doc:meta])* $name:ident = $byte:literal, version $version:literal;)*) => {
        /// The type byte that follows the version byte.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum MessageType {
            $($(#[$doc])* $name = $byte,)*
        }

        impl MessageType {
            /// The type a byte names, if any.
            fn from_byte(b: u8) -> Option<Self> {
                match b {
                    $($byte => Some(Self::$name),)*
                    _ => None,
                }
            }

            /// The format version this build reads and writes for this type
            /// (the first byte of every encoding of it).
            ///
            /// ```
            /// use sealpost::wire::MessageType;
            /// assert_eq!(MessageType::Ratchet.version(), 3);
            /// assert_eq!(MessageType::ForkoutBundle.version(), 2);
            /// ```
            pub fn version(self) -> u8 {
                match self {
                    $(Self::$name => $version,)*
                }
            }
        }
    };
}

message_types! {
    /// A public [`PreKeyBundle`](crate::PreKeyBundle).
    PreKeyBundle = 0x01, version 3;
    /// A Double Ratchet message inside an established session.
    Ratchet = 0x02, version 3;
    /// A Double Ratchet message that also carries PQXDH setup data.
    Setup = 0x03, version 3;
    /// A group (sender-key) message.
    Group = 0x10, version 3;
    /// A group sender-key distribution (sent inside a 1:1 session).
    GroupDistribution = 0x11, version 2;
    /// A Forkout bundle as produced by the sender.
    ForkoutBundle = 0x20, version 2;
    /// The part of a Forkout bundle addressed to one recipient.
    ForkoutDelivery = 0x21, version 2;
    /// Serialized [`Account`](crate::Account) state.
    AccountState = 0x30, version 3;
    /// Serialized [`Session`](crate::Session) state.
    SessionState = 0x31, version 3;
    /// Serialized group state.
    GroupState = 0x32, version 2;
    /// Serialized Burnout vault.
    VaultState = 0x33, version 2;
    /// An encrypted state export.
    EncryptedExport = 0x3f, version 2;
    /// The header of an attachment's ciphertext.
    AttachmentHeader = 0x40, version 1;
    /// An attachment pointer (key, size, metadata), sent in a message.
    AttachmentPointer = 0x41, version 1;
    /// A user's signed [`DeviceList`](crate::device::DeviceList).
    DeviceList = 0x50, version 1;
    /// A device-linking code, shown by the new device (as a QR code).
    LinkCode = 0x51, version 1;
    /// Device linking: the existing device's answer to a code.
    LinkOffer = 0x52, version 1;
    /// Device linking: the new device's acceptance.
    LinkAccept = 0x53, version 1;
    /// Device linking: what the existing device hands the new one.
    LinkTransfer = 0x54, version 1;
    /// Device linking: the new device's confirmation (its membership).
    LinkConfirm = 0x55, version 1;
}

/// What a type byte names, in words, for error messages.
pub(crate) fn type_name(byte: u8) -> &'static str {
    match MessageType::from_byte(byte) {
        Some(MessageType::PreKeyBundle) => "a prekey bundle",
        Some(MessageType::Ratchet) => "a 1:1 message",
        Some(MessageType::Setup) => "a 1:1 setup message",
        Some(MessageType::Group) => "a group message",
        Some(MessageType::GroupDistribution) => "a group sender key",
        Some(MessageType::ForkoutBundle) => "a Forkout bundle",
        Some(MessageType::ForkoutDelivery) => "a Forkout delivery",
        Some(MessageType::AccountState) => "an account state",
        Some(MessageType::SessionState) => "a session state",
        Some(MessageType::GroupState) => "a group state",
        Some(MessageType::VaultState) => "a vault state",
        Some(MessageType::EncryptedExport) => "an encrypted export",
        Some(MessageType::AttachmentHeader) => "an attachment upload",
        Some(MessageType::AttachmentPointer) => "an attachment pointer",
        Some(MessageType::DeviceList) => "a device list",
        Some(MessageType::LinkCode) => "a device-linking code",
        Some(MessageType::LinkOffer) => "a device-linking offer",
        Some(MessageType::LinkAccept) => "a device-linking acceptance",
        Some(MessageType::LinkTransfer) => "a device-linking transfer",
        Some(MessageType::LinkConfirm) => "a device-linking confirmation",
        None => "no sealpost type",
    }
}

/// Why a decrypted 1:1 payload of `kind` was refused, and what opens it.
pub(crate) fn payload_refusal(kind: u8) -> String {
    let (what, remedy) = match kind {
        k if k == PayloadKind::App as u8 => ("an application message", "open it with decrypt or open"),
        k if k == PayloadKind::BurnoutApp as u8 => {
            ("a Burnout message", "open it with open_burnout or open, which enforce its envelope")
        }
        k if k == PayloadKind::GroupDistribution as u8 => {
            ("a group sender key", "install it with Group::install_distribution or group::receive_distribution")
        }
        k if k == PayloadKind::ForkoutSlot as u8 => {
            ("a Forkout key slot", "open the delivery with forkout::open or forkout::open_new")
        }
        _ => {
            return format!(
                "the message carries a payload of unknown kind {kind:#04x}: a newer sender's? Nothing changed"
            );
        }
    };
    format!("the message carries {what}, not what this call opens: {remedy} (nothing changed)")
}

/// Reads the version and type bytes of any sealpost byte string, so a
/// transport can route it without parsing the rest.
///
/// ```
/// use sealpost::wire::{MessageType, peek_type};
/// assert_eq!(peek_type(&[3, 0x03]), Ok(MessageType::Setup));
/// ```
///
/// Only the two bytes are read; a version other than the type's is refused
/// (here a 1:1 message of format version 2, before post-quantum setup):
///
/// ```
/// use sealpost::{WireError, wire::{MessageType, peek_type}};
/// assert_eq!(peek_type(&[3, 0x02, 0xff]), Ok(MessageType::Ratchet));
/// assert_eq!(peek_type(&[2, 0x02]), Err(WireError::UnsupportedVersion(2)));
/// assert!(peek_type(&[9, 0x02]).is_err());
/// ```
pub fn peek_type(bytes: &[u8]) -> Result<MessageType, crate::error::WireError> {
    let mut r = codec::Reader::new(bytes);
    let version = r.u8()?;
    let t = r.u8()?;
    let ty = MessageType::from_byte(t).ok_or(crate::error::WireError::InvalidField("unknown message type"))?;
    if version != ty.version() {
        return Err(crate::error::WireError::UnsupportedVersion(version));
    }
    Ok(ty)
}

/// What a decrypted 1:1 payload carries: the first plaintext byte inside the
/// AEAD. Keeping the kind inside the ciphertext means a relay cannot tell a
/// chat message from a group key or a Forkout slot, and a payload of one
/// kind can never be accepted as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum PayloadKind {
    /// An application message.
    App = 0x00,
    /// An application message inside a Burnout envelope.
    BurnoutApp = 0x01,
    /// A group sender-key distribution.
    GroupDistribution = 0x02,
    /// A Forkout key slot.
    ForkoutSlot = 0x03,
}

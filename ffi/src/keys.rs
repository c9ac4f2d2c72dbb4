//! The 32-byte values that cross the boundary, as UniFFI custom types.
//!
//! Foreign code passes and receives plain bytes (Kotlin `ByteArray`, Swift
//! `Data`, Python `bytes`; the bindings name them `Key32` and
//! `IdentityKey`). Their length and form are checked when an argument
//! arrives, before the called function runs, and a bad value throws the
//! call's usual typed error:
//!
//! * [`Key32`] (export keys, group ids, Forkout ids, session ids): bytes of
//!   another length throw `InvalidArgument`;
//! * identity keys arrive as a parsed [`sealpost::IdentityKey`]: bytes that
//!   are not a valid identity key (wrong length, non-canonical or
//!   small-order point) throw `Malformed`, with the core's message.
//!
//! UniFFI throws a failed conversion as the function's own error type, so
//! every exported function taking one of them returns
//! [`Result`](crate::Result) (even one that cannot fail otherwise): with
//! any other return type, a bad argument would surface as an internal
//! error instead of a `SealpostError`.

use core::fmt;

use sealpost::IdentityKey;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::SealpostError;

/// A 32-byte value: an export key, a group id, a Forkout id, a session
/// id, or a recipient id as a Forkout bundle names it (not validated as a
/// key). From foreign code, bytes of another length throw
/// `InvalidArgument`.
///
/// Erased when dropped (export keys are secrets); `Debug` shows no bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key32([u8; Key32::LEN]);

impl Key32 {
    /// The length in bytes.
    pub const LEN: usize = 32;

    /// 32 random bytes from the operating system's random source.
    pub(crate) fn random() -> Self {
        let mut key = Self([0; Self::LEN]);
        rand::Rng::fill_bytes(&mut rand::rng(), &mut key.0);
        key
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl From<[u8; Key32::LEN]> for Key32 {
    fn from(bytes: [u8; Key32::LEN]) -> Self {
        Self(bytes)
    }
}

impl TryFrom<&[u8]> for Key32 {
    type Error = SealpostError;

    /// [`SealpostError::InvalidArgument`] unless `bytes` is 32 bytes long.
    fn try_from(bytes: &[u8]) -> Result<Self, SealpostError> {
        bytes.try_into().map(Self).map_err(|_| {
            SealpostError::InvalidArgument(format!("a key or id must be {} bytes, got {}", Self::LEN, bytes.len()))
        })
    }
}

/// A recipient id as a Forkout bundle names it equals the identity key with
/// the same bytes.
impl PartialEq<IdentityKey> for Key32 {
    fn eq(&self, key: &IdentityKey) -> bool {
        self.as_bytes() == key.as_bytes()
    }
}

impl Drop for Key32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Key32 {}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32(..)")
    }
}

uniffi::custom_type!(
    /// 32 bytes: an export key, a group id, a Forkout id, a session id, or a
    /// recipient id as a Forkout bundle names it.
    Key32,
    Vec<u8>,
    {
        lower: |key| key.as_bytes().to_vec(),
        try_lift: |bytes| Ok(Key32::try_from(Zeroizing::new(bytes).as_slice())?),
    }
);

uniffi::custom_type!(
    /// A 32-byte identity key (an Ed25519 public key), checked on the way in.
    IdentityKey,
    Vec<u8>,
    {
        remote,
        lower: |key| key.to_bytes().to_vec(),
        try_lift: |bytes| Ok(IdentityKey::from_bytes(&bytes).map_err(SealpostError::from)?),
    }
);

/// `debug_redacted!(Record { field, ...; content })`: `Debug` for a record
/// holding decrypted `content`, which shows as its length only
/// (`<12 bytes>`), never its bytes.
macro_rules! debug_redacted {
    ($record:ident { $($field:ident),*; $content:ident }) => {
        impl core::fmt::Debug for $record {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($record))
                    $(.field(stringify!($field), &self.$field))*
                    .field(stringify!($content), &format_args!("<{} bytes>", self.$content.len()))
                    .finish()
            }
        }
    };
}
pub(crate) use debug_redacted;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key32_checks_the_length_and_hides_its_bytes() {
        let key = Key32::try_from(&[7; 32][..]).unwrap();
        assert_eq!(key.as_bytes(), &[7; 32]);
        assert_eq!(key, Key32::from([7; 32]));
        let account = sealpost::Account::new(&mut rand::rng(), 0);
        assert_eq!(Key32::from(*account.identity().as_bytes()), *account.identity());
        assert_eq!(format!("{key:?}"), "Key32(..)");
        let err = Key32::try_from(&[0u8; 31][..]).unwrap_err();
        assert_eq!(err, SealpostError::InvalidArgument("a key or id must be 32 bytes, got 31".into()));
        assert!(Key32::try_from(&[0; 33][..]).is_err());
    }

    /// Reads `bytes` as UniFFI lifts an argument of type `T`, and downcasts
    /// a failure the way the scaffolding does before throwing it.
    fn lift<T: uniffi::Lift<crate::UniFfiTag>>(bytes: &[u8]) -> Result<T, SealpostError> {
        let mut buf = Vec::new();
        <Vec<u8> as uniffi::Lower<crate::UniFfiTag>>::write(bytes.to_vec(), &mut buf);
        T::try_read(&mut buf.as_slice()).map_err(|e| e.downcast::<SealpostError>().unwrap())
    }

    #[test]
    fn lifting_throws_the_typed_error() {
        assert_eq!(lift::<Key32>(&[1; 32]).unwrap(), Key32::from([1; 32]));
        assert!(matches!(lift::<Key32>(b"short"), Err(SealpostError::InvalidArgument(m)) if m.contains("32 bytes")));
        let account = sealpost::Account::new(&mut rand::rng(), 0);
        assert_eq!(lift::<IdentityKey>(account.identity().as_bytes()).unwrap(), *account.identity());
        assert!(matches!(lift::<IdentityKey>(&[1; 31]), Err(SealpostError::Malformed(_))));
        assert!(matches!(lift::<IdentityKey>(&[0; 32]), Err(SealpostError::Malformed(_))));
    }

    #[test]
    fn redacted_records_show_the_length_only() {
        struct Opened {
            id: u8,
            body: Vec<u8>,
        }
        debug_redacted!(Opened { id; body });
        assert_eq!(format!("{:?}", Opened { id: 7, body: b"secret".to_vec() }), "Opened { id: 7, body: <6 bytes> }");
    }
}

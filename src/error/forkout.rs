//! Errors of Forkout sealing and opening, and the per-recipient report of
//! who could not be reached.
//!
//! [`Unreachable`] lives here, beside [`ForkoutError`] which carries a list
//! of them, so the error types form no cycle with the `forkout` module; it
//! is part of the public API as `sealpost::forkout::Unreachable`.

use thiserror::Error;

use super::Error as SealpostError;
use crate::identity::IdentityKey;

/// Why a Forkout could not be sealed or opened. No state was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Account, Error, ForkoutError, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, bob, carol) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
/// let refused = forkout::seal(&manager, b"x".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng);
/// assert!(matches!(refused, Err(Error::Forkout(ForkoutError::RecipientsUnreachable { .. }))));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum ForkoutError {
    /// A Forkout key slot names a different Forkout than the delivery
    /// carrying it (a slot moved from another Forkout).
    #[error("Forkout key slot belongs to another Forkout")]
    ForkoutIdMismatch,

    /// A Forkout body's length differs from the length its key slot commits
    /// to (a truncated or extended body).
    #[error("Forkout body is {found} bytes, its key slot commits to {expected}")]
    BodyLengthMismatch {
        /// The body ciphertext length the key slot commits to.
        expected: u64,
        /// The body ciphertext length received.
        found: u64,
    },

    /// A Forkout body does not match the commitment in its key slot (a
    /// swapped or tampered body).
    #[error("Forkout body does not match its key slot's commitment")]
    BodyCommitmentMismatch,

    /// Some Forkout recipients have neither a session nor a usable prekey
    /// bundle, and the caller asked for all or nothing (or nobody at all is
    /// reachable). Nothing was sealed.
    #[error("{} Forkout recipient(s) unreachable", .0.len())]
    RecipientsUnreachable(Vec<Unreachable>),

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

/// A recipient that could not be given a slot, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Account, Error, ForkoutError, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, bob, carol) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// use sealpost::forkout::UnreachableReason;
/// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Unreachable(*carol.identity())];
/// let (_, report) = forkout::seal(&manager, b"x".to_vec(), recipients, SealPolicy::SkipUnreachable, None, &mut rng)?;
/// assert_eq!(report.unreachable[0].identity, *carol.identity());
/// assert_eq!(report.unreachable[0].reason, UnreachableReason::NoSessionOrBundle);
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct Unreachable {
    /// The recipient.
    pub identity: IdentityKey,
    /// Why no slot was sealed for them.
    pub reason: UnreachableReason,
}

/// Why a recipient could not be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Account, Error, ForkoutError, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, bob, carol) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// use sealpost::forkout::UnreachableReason;
/// let recipients = [Recipient::Bundle(bob.prekey_bundle()?), Recipient::Bundle(manager.prekey_bundle()?)];
/// let (_, report) = forkout::seal(&manager, b"x".to_vec(), recipients, SealPolicy::SkipUnreachable, None, &mut rng)?;
/// // The sender's own bundle is refused as a recipient.
/// assert!(matches!(report.unreachable[0].reason, UnreachableReason::InvalidBundle(_)));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum UnreachableReason {
    /// The caller has neither a session nor a prekey bundle for them.
    NoSessionOrBundle,
    /// Their prekey bundle was refused (bad signature, weak key, or the
    /// sender's own bundle).
    InvalidBundle(SealpostError),
    /// Their session could not encrypt (for example a chain at its message
    /// limit).
    SlotEncryptionFailed(SealpostError),
}

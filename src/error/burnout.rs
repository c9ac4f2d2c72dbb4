//! Errors of the Burnout expiry rule and of the vault.

use thiserror::Error;

use super::WireError;

/// Why a Burnout message (or vault entry) was not returned.
///
/// [`Expired`](Self::Expired) and [`MalformedEnvelope`](Self::MalformedEnvelope)
/// use up the message key when opening; [`ClockSkew`](Self::ClockSkew)
/// changes nothing (see [`burnout`](crate::burnout)).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{BurnoutError, Error, burnout::Envelope};
/// use sealpost::Account;
/// let mut rng = sealpost::default_rng();
/// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
/// let m = to_bob.encrypt_burnout(b"brief", &Envelope::with_ttl(0, 1_000), &mut rng)?;
/// assert_eq!(to_alice.open(&m, 1_000).err(), Some(Error::Burnout(BurnoutError::Expired { expired_at_ms: 1_000 })));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum BurnoutError {
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

    /// An authentic message carried a Burnout envelope this build cannot
    /// parse (missing, unknown version, unknown flags). Its content is not
    /// returned and, because its expiry rule cannot be enforced, its message
    /// key is used up like an expired message's.
    #[error("malformed Burnout envelope: {0}")]
    MalformedEnvelope(WireError),
}

/// Why a [`Vault`](crate::burnout::Vault) lookup returned nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::{Error, IdentityKeyPair, VaultError, burnout::{BurnoutMessage, Envelope, Vault}};
/// let me = *IdentityKeyPair::from_seed(&[1; 32]).public();
/// let mut vault = Vault::new();
/// let id = vault.insert(BurnoutMessage::outgoing(b"once", Envelope::new(0).burn_after_reading(), me), 0)?;
/// vault.read(id, 1)?;
/// assert_eq!(vault.read(id, 2).err(), Some(Error::Vault(VaultError::BurnedAfterReading)));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum VaultError {
    /// The vault entry was burned after its first read; its plaintext is
    /// gone.
    #[error("message was burned after its first read")]
    BurnedAfterReading,

    /// The vault holds no entry with this id (never inserted, removed, or
    /// erased so long ago that the vault no longer remembers it).
    #[error("no such message in the vault")]
    NotInVault,
}

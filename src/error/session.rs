//! Errors of 1:1 session setup and the Double Ratchet.

use thiserror::Error;

/// Why a 1:1 message or session setup was refused. No state was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
///
/// ```
/// use sealpost::Account;
/// let mut rng = sealpost::default_rng();
/// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
/// let (mut again, _) = (alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?, ());
/// let setup = again.encrypt(b"new start", &mut rng)?;
/// // Session::decrypt cannot take a setup message of a new state; Account::decrypt can.
/// assert_eq!(to_alice.decrypt(&setup), Err(sealpost::SessionError::UnknownSessionSetup.into()));
/// assert_eq!(bob.decrypt(&mut to_alice, &setup)?, b"new start");
/// # Ok::<(), sealpost::Error>(())
/// ```
pub enum SessionError {
    /// The message is further ahead in its chain than
    /// [`MAX_FORWARD_JUMP`](crate::limits::MAX_FORWARD_JUMP) allows.
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

    /// A setup message that named no one-time prekey was already accepted
    /// by this account (the same base key): a replay. Refused; nothing
    /// changes, and no session state is promoted.
    #[error("setup message already accepted (replay)")]
    SetupReplayed,

    /// A prekey bundle whose signed prekey is older than
    /// [`MAX_BUNDLE_AGE_MS`](crate::limits::MAX_BUNDLE_AGE_MS): its owner may
    /// no longer accept it. Fetch a new bundle.
    #[error("prekey bundle is stale: fetch a new one")]
    StaleBundle,

    /// Our setup has gone unanswered for
    /// [`MAX_UNANSWERED_SETUP_MS`](crate::limits::MAX_UNANSWERED_SETUP_MS):
    /// the peer may never be able to open it (its signed prekey may be gone).
    /// Fetch a new bundle and start a new session; nothing was encrypted.
    #[error("session setup unanswered for too long: fetch a new bundle")]
    StaleSetup,

    /// The session passed to an [`Account`](crate::Account) call belongs to
    /// another account (its local identity is not this account's). Pass each
    /// session to the account that owns it.
    #[error("the session belongs to another account")]
    NotThisAccount,

    /// A setup message starts a session state this [`Session`](crate::Session)
    /// does not hold (the peer started over, say on a new phone); pass it to
    /// [`Account::decrypt`](crate::Account::decrypt) or
    /// [`Account::open`](crate::Account::open) instead, which set the new
    /// state up.
    #[error(
        "setup message for a session state this session does not hold (the peer started over): pass it to Account::decrypt or Account::open"
    )]
    UnknownSessionSetup,

    /// A call that starts a session from a setup message
    /// ([`Account::create_inbound_session`](crate::Account::create_inbound_session)
    /// and the like) got an ordinary message: it belongs to an existing
    /// session. Decrypt it with that session.
    #[error("not a setup message: it belongs to an existing session; decrypt it with that session")]
    NotASetupMessage,

    /// [`Account::create_outbound_session`](crate::Account::create_outbound_session)
    /// got the account's own prekey bundle: a session needs another
    /// person's.
    #[error("this prekey bundle is the account's own: start sessions from other people's bundles")]
    OwnBundle,

    /// A classical (X3DH-only) bundle or setup message met an account whose
    /// [`SetupPolicy`](crate::SetupPolicy) requires post-quantum setup:
    /// the peer publishes no KEM prekey, or someone stripped it, or forged
    /// a setup without a KEM ciphertext. Nothing changed. Allow classical
    /// setup only to talk to peers known to lack post-quantum support.
    #[error(
        "classical setup refused: this account requires post-quantum (PQXDH) setup and the bundle or setup message has no KEM part"
    )]
    PostQuantumRequired,
}

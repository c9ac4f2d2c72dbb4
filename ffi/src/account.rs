//! The local device: identity, prekeys, starting and accepting sessions.

use std::sync::{Arc, Mutex};

use sealpost::IdentityKey;

use crate::error::{Result, SealpostError};
use crate::locked::{Locked, locked};
use crate::persist::persist_exports;
use crate::session::Session;

/// What a prekey bundle says about its owner, after its signature checked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PreKeyBundleInfo {
    /// The owner's 32-byte identity key.
    pub identity_key: IdentityKey,
    /// Id of the signed prekey in the bundle.
    pub signed_prekey_id: u32,
    /// Id of the one-time prekey in the bundle, if it has one.
    pub one_time_prekey_id: Option<u32>,
    /// Whether the bundle carries a KEM prekey (a session from it is
    /// post-quantum). Every bundle sealpost makes does.
    pub is_post_quantum: bool,
}

/// A session accepted from a peer's first message, and that message's text.
#[derive(uniffi::Record)]
pub struct InboundSession {
    /// The new session with the sender.
    pub session: Arc<Session>,
    /// The plaintext of the message that started it.
    pub plaintext: Vec<u8>,
}

/// A device's long-term state: identity key pair and prekey store.
///
/// Thread-safe. Methods that take a `Session` lock the account first and
/// the session second; no method locks in the other order, so concurrent
/// calls cannot deadlock.
#[derive(uniffi::Object)]
pub struct Account {
    /// Never changes, so it is readable without the lock.
    identity: IdentityKey,
    inner: Mutex<sealpost::Account>,
}

locked!(Account, sealpost::Account);
persist_exports!(
    Account,
    "after every call that changes it: `create_inbound_session`, a setup message opened through it, prekey changes."
);

impl Account {
    fn wrap(account: sealpost::Account) -> Arc<Self> {
        Arc::new(Self { identity: *account.identity(), inner: Mutex::new(account) })
    }
}

#[uniffi::export]
impl Account {
    /// A new account with a fresh identity and a first signed prekey created
    /// at `now_ms` (milliseconds since the Unix epoch).
    #[uniffi::constructor]
    pub fn new(now_ms: u64) -> Arc<Self> {
        Self::wrap(sealpost::Account::new(&mut rand::rng(), now_ms))
    }

    /// Our 32-byte public identity key (what peers pin and compare).
    pub fn identity_key(&self) -> IdentityKey {
        self.identity
    }

    /// The 60-digit safety number (12 groups of 5, space separated) for
    /// this account and a peer's identity key; both sides see the same.
    pub fn safety_number(&self, peer_identity_key: IdentityKey) -> Result<String> {
        safety_number(self.identity, peer_identity_key)
    }

    /// Adds `count` one-time prekeys and returns their ids. Throws
    /// `LimitReached` past the store's capacity.
    pub fn generate_one_time_prekeys(&self, count: u32) -> Result<Vec<u32>> {
        let count = usize::try_from(count)
            .map_err(|_| SealpostError::InvalidArgument(format!("prekey count {count} is too large")))?;
        self.with(|a| Ok(a.generate_one_time_prekeys(count, &mut rand::rng())?))
    }

    /// Whether classical (not post-quantum) session setup is accepted.
    pub fn setup_policy(&self) -> Result<SetupPolicy> {
        self.with(|a| Ok(a.setup_policy().into()))
    }

    /// Sets the setup policy (kept in the account's state).
    pub fn set_setup_policy(&self, policy: SetupPolicy) -> Result<()> {
        self.with(|a| {
            a.set_setup_policy(policy.into());
            Ok(())
        })
    }

    /// How many unused one-time prekeys remain (top up when low).
    pub fn remaining_one_time_prekeys(&self) -> Result<u32> {
        self.with(|a| Ok(crate::count(a.remaining_one_time_prekeys())))
    }

    /// Replaces the signed prekey and returns its id; the previous one still
    /// opens setup messages for a grace period.
    pub fn rotate_signed_prekey(&self, now_ms: u64) -> Result<u32> {
        self.with(|a| Ok(a.rotate_signed_prekey(&mut rand::rng(), now_ms)?))
    }

    /// Forgets rotated-out signed prekeys whose grace period has ended.
    pub fn expire_signed_prekeys(&self, now_ms: u64) -> Result<()> {
        self.with(|a| {
            a.expire_signed_prekeys(now_ms);
            Ok(())
        })
    }

    /// A bundle with the lowest unused one-time prekey (or none when all
    /// are used), encoded for upload.
    pub fn prekey_bundle(&self) -> Result<Vec<u8>> {
        self.with(|a| Ok(a.prekey_bundle()?.to_bytes()))
    }

    /// One encoded bundle per unused one-time prekey, for a server to hand
    /// out one per initiator.
    pub fn prekey_bundles(&self) -> Result<Vec<Vec<u8>>> {
        self.with(|a| Ok(a.prekey_bundles()?.iter().map(sealpost::PreKeyBundle::to_bytes).collect()))
    }

    /// Starts a session from a peer's encoded bundle (X3DH initiator). The
    /// bundle's signature is checked. Messages can be encrypted at once.
    pub fn create_outbound_session(&self, bundle: Vec<u8>) -> Result<Arc<Session>> {
        let bundle = sealpost::PreKeyBundle::from_bytes(&bundle)?;
        let session = self.with(|a| Ok(a.create_outbound_session(&bundle, &mut rand::rng())?))?;
        Ok(Session::wrap(session))
    }

    /// Accepts a peer's first message (X3DH responder): the new session and
    /// the message's plaintext. The one-time prekey it names is consumed
    /// only if the message authenticates; on any error nothing changes.
    pub fn create_inbound_session(&self, message: Vec<u8>) -> Result<InboundSession> {
        let (session, plaintext) = self.with(|a| Ok(a.create_inbound_session(&message)?))?;
        Ok(InboundSession { session: Session::wrap(session), plaintext })
    }

    /// Decrypts any message from `session`'s peer, including setup messages
    /// that start a new state (the peer re-installed, or both sides started
    /// at once). Prefer this to `Session.decrypt`. On any error, the account
    /// and the session are unchanged.
    pub fn decrypt(&self, session: Arc<Session>, message: Vec<u8>) -> Result<Vec<u8>> {
        self.with(|a| session.with(|s| Ok(a.decrypt(s, &message)?)))
    }
}

/// Checks a prekey bundle's signature and reports what it holds.
#[uniffi::export]
pub fn verify_prekey_bundle(bundle: Vec<u8>) -> Result<PreKeyBundleInfo> {
    let bundle = sealpost::PreKeyBundle::from_bytes(&bundle)?;
    bundle.verify()?;
    Ok(PreKeyBundleInfo {
        identity_key: *bundle.identity(),
        signed_prekey_id: bundle.signed_prekey_id(),
        one_time_prekey_id: bundle.one_time_prekey_id(),
        is_post_quantum: bundle.is_post_quantum(),
    })
}

/// The 60-digit safety number (12 groups of 5, space separated) of two
/// identity keys; the order of the arguments does not matter.
#[uniffi::export]
pub fn safety_number(identity_key_a: IdentityKey, identity_key_b: IdentityKey) -> Result<String> {
    Ok(sealpost::SafetyNumber::new(&identity_key_a, &identity_key_b).to_string())
}

/// Whether an account accepts session setup without post-quantum
/// protection. Every bundle sealpost publishes is post-quantum; a classical
/// one comes from a peer without post-quantum support, or from an attacker
/// who can break X25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SetupPolicy {
    /// Refuse classical bundles and setup messages (`PostQuantumRequired`).
    /// The default.
    RequirePostQuantum,
    /// Accept them too, for peers known to lack post-quantum support.
    AllowClassical,
}

impl From<sealpost::SetupPolicy> for SetupPolicy {
    fn from(p: sealpost::SetupPolicy) -> Self {
        match p {
            sealpost::SetupPolicy::RequirePostQuantum => Self::RequirePostQuantum,
            sealpost::SetupPolicy::AllowClassical => Self::AllowClassical,
        }
    }
}

impl From<SetupPolicy> for sealpost::SetupPolicy {
    fn from(p: SetupPolicy) -> Self {
        match p {
            SetupPolicy::RequirePostQuantum => Self::RequirePostQuantum,
            SetupPolicy::AllowClassical => Self::AllowClassical,
        }
    }
}

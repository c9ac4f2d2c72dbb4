//! The local party: identity key pair plus prekey store.
//!
//! An [`Account`] is what a device keeps for itself. It publishes prekey
//! bundles, starts sessions from other people's bundles, and accepts
//! sessions from their setup messages. Sessions are separate objects owned
//! by the application (one per peer), so the app decides how to store and
//! look them up.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::prekey::{PreKeyBundle, PreKeyStore};
use crate::session::{Session, SessionState, Verdict, app_payload, finish, split_kind};
use crate::wire::MessageType;
use crate::wire::codec::state_reader;
use crate::wire::codec::writer_for;
use crate::wire::session_message::SessionMessage;
use crate::x3dh;

/// A device's long-term state: identity and prekeys.
///
/// ```
/// use sealpost::Account;
/// let mut rng = rand::rng();
/// let mut bob = Account::new(&mut rng, 1_700_000_000_000);
/// bob.generate_one_time_prekeys(100, &mut rng)?;
/// assert_eq!(bob.remaining_one_time_prekeys(), 100);
/// let bundles = bob.prekey_bundles()?; // upload these to the server
/// assert_eq!(bundles.len(), 100);
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Account {
    identity: IdentityKeyPair,
    prekeys: PreKeyStore,
}

impl Account {
    /// A new account with a fresh identity and a first signed prekey
    /// created at `now_ms` (milliseconds since the Unix epoch).
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, now_ms: u64) -> Self {
        let identity = IdentityKeyPair::generate(rng);
        Self::from_identity(identity, rng, now_ms)
    }

    /// An account for an existing identity, with a fresh prekey store.
    pub fn from_identity<R: CryptoRng + ?Sized>(identity: IdentityKeyPair, rng: &mut R, now_ms: u64) -> Self {
        let prekeys = PreKeyStore::new(&identity, now_ms, rng);
        Self { identity, prekeys }
    }

    /// Our public identity key.
    pub fn identity(&self) -> &IdentityKey {
        self.identity.public()
    }

    /// Our identity key pair (for signing or safety numbers).
    pub fn identity_keypair(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// The prekey store (read-only view, for inspection).
    pub fn prekey_store(&self) -> &PreKeyStore {
        &self.prekeys
    }

    /// Adds `count` one-time prekeys and returns their ids; at most
    /// [`MAX_ONE_TIME_PREKEYS`](crate::limits::MAX_ONE_TIME_PREKEYS) are held.
    pub fn generate_one_time_prekeys<R: CryptoRng + ?Sized>(&mut self, count: usize, rng: &mut R) -> Result<Vec<u32>> {
        self.prekeys.generate_one_time(count, rng)
    }

    /// How many unused one-time prekeys remain (top up when low).
    pub fn remaining_one_time_prekeys(&self) -> usize {
        self.prekeys.remaining_one_time()
    }

    /// Replaces the signed prekey (returns the new id). The previous one
    /// still opens setup messages for
    /// [`SIGNED_PREKEY_GRACE_MS`](crate::limits::SIGNED_PREKEY_GRACE_MS).
    pub fn rotate_signed_prekey<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now_ms: u64) -> Result<u32> {
        self.prekeys.rotate(&self.identity, now_ms, rng)
    }

    /// Forgets rotated-out signed prekeys whose grace period has ended.
    pub fn expire_signed_prekeys(&mut self, now_ms: u64) {
        self.prekeys.expire(now_ms);
    }

    /// A bundle with the lowest unused one-time prekey, or with none when
    /// all are used (the signed prekey alone still works).
    pub fn prekey_bundle(&self) -> Result<PreKeyBundle> {
        let id = self.prekeys.one_time_ids().next();
        self.prekeys.bundle(&self.identity, id)
    }

    /// A bundle naming a specific one-time prekey, or none.
    pub fn prekey_bundle_with(&self, one_time_prekey_id: Option<u32>) -> Result<PreKeyBundle> {
        self.prekeys.bundle(&self.identity, one_time_prekey_id)
    }

    /// One bundle per unused one-time prekey, for a server to hand out one
    /// per initiator.
    pub fn prekey_bundles(&self) -> Result<Vec<PreKeyBundle>> {
        self.prekeys.one_time_ids().map(|id| self.prekeys.bundle(&self.identity, Some(id))).collect()
    }

    /// Starts a session from a peer's bundle (X3DH, initiator side). The
    /// bundle's signature is checked. Messages can be encrypted at once;
    /// they carry setup data until the peer's first reply arrives.
    pub fn create_outbound_session<R: CryptoRng + ?Sized>(
        &self,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<Session> {
        if bundle.identity() == self.identity() {
            return Err(Error::PeerMismatch);
        }
        let (ratchet, setup) = x3dh::initiate(&self.identity, bundle, rng)?;
        let state = SessionState {
            ratchet,
            base_key: setup.base_key,
            initiated_by_us: true,
            pending_setup: Some(setup),
            confirmed: false,
        };
        Ok(Session::new(*self.identity(), *bundle.identity(), state))
    }

    /// Accepts a peer's setup message (X3DH, responder side): returns the
    /// new session and the first plaintext. The one-time prekey it names is
    /// consumed only if the message authenticates; on any error the account
    /// is unchanged.
    pub fn create_inbound_session(&mut self, message: &[u8]) -> Result<(Session, Vec<u8>)> {
        self.create_inbound_session_with(message, app_payload)
    }

    /// Note: if `accept` returns `Verdict::Consume`, the one-time prekey is
    /// consumed but the new session is dropped with the error, so later
    /// messages of that session can no longer be opened. Handlers that can
    /// consume (Burnout) use `create_inbound_session_consuming` instead.
    pub(crate) fn create_inbound_session_with<T>(
        &mut self,
        message: &[u8],
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<(Session, T)> {
        let parsed = SessionMessage::parse(message)?;
        let setup = parsed.setup.ok_or(Error::UnknownSessionSetup)?;
        let (state, value) = self.accept_setup(&parsed, accept)?;
        let session = Session::new(*self.identity(), setup.initiator, state);
        Ok((session, finish(value)?))
    }

    /// Decrypts any message from `session`'s peer: ordinary messages,
    /// setup messages of states the session holds, and setup messages that
    /// start a new state (the peer re-initiated, or both sides started at
    /// once). On any error, the session and the account are unchanged.
    /// Burnout messages are refused with [`Error::UnexpectedPayload`] (and
    /// change nothing): use [`Account::open_burnout`] or [`Account::open`].
    pub fn decrypt(&mut self, session: &mut Session, message: &[u8]) -> Result<Vec<u8>> {
        self.decrypt_with(session, message, app_payload)
    }

    pub(crate) fn decrypt_with<T>(
        &mut self,
        session: &mut Session,
        message: &[u8],
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<T> {
        let parsed = SessionMessage::parse(message)?;
        match &parsed.setup {
            Some(setup) if !session.has_state(&setup.base_key) => {
                if &setup.initiator != session.peer_identity() {
                    return Err(Error::PeerMismatch);
                }
                let (state, verdict) = self.accept_setup(&parsed, accept)?;
                session.install_inbound(state);
                finish(verdict)
            }
            _ => session.decrypt_with(message, accept),
        }
    }

    /// Runs X3DH for a setup message and decrypts it; commits (consumes the
    /// one-time prekey) unless the handler rejects. A `Verdict::Consume`
    /// comes back with the state, which the caller must keep (see
    /// `create_inbound_session_consuming` in `burnout::one_to_one`).
    pub(crate) fn accept_setup<T>(
        &mut self,
        parsed: &SessionMessage<'_>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<(SessionState, Verdict<T>)> {
        let setup = parsed.setup.ok_or(Error::UnknownSessionSetup)?;
        if &setup.initiator == self.identity() {
            return Err(Error::PeerMismatch);
        }
        let mut ratchet = x3dh::respond(&self.identity, &self.prekeys, &setup)?;
        let decrypted = ratchet.decrypt(parsed)?;
        let (kind, content) = split_kind(decrypted.payload)?;
        let verdict = accept(kind, content);
        if let Verdict::Reject(e) = verdict {
            return Err(e);
        }
        ratchet.apply(decrypted.commit);
        if let Some(id) = setup.one_time_prekey_id {
            self.prekeys.consume_one_time(id);
        }
        let state = SessionState {
            ratchet,
            base_key: setup.base_key,
            initiated_by_us: false,
            pending_setup: None,
            confirmed: true,
        };
        Ok((state, verdict))
    }

    /// Serializes the account, secrets included: store it only encrypted
    /// (see [`crate::persist`]).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = writer_for(MessageType::AccountState as u8, 4096);
        w.bytes(self.identity.to_seed().as_ref());
        self.prekeys.encode(&mut w);
        Zeroizing::new(w.into_vec())
    }

    /// Restores an account from [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = state_reader(bytes, MessageType::AccountState)?;
        let seed = Zeroizing::new(r.array::<32>()?);
        let identity = IdentityKeyPair::from_seed(&seed);
        let prekeys = PreKeyStore::decode(&mut r)?;
        r.finish()?;
        Ok(Self { identity, prekeys })
    }
}

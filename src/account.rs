//! The local party: identity key pair plus prekey store.
//!
//! An [`Account`] is what a device keeps for itself. It publishes prekey
//! bundles, starts sessions from other people's bundles, and accepts
//! sessions from their setup messages. Sessions are separate objects owned
//! by the application (one per peer), so the app decides how to store and
//! look them up.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::burnout::payload::{any_app_payload, burnout_payload};
use crate::burnout::{BurnoutMessage, Opened};
use crate::error::{Result, SessionError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::limits::MAX_FORWARD_JUMP;
use crate::persist::persist_via_inherent;
use crate::prekey::{PreKeyBundle, PreKeyStore};
use crate::session::{Session, SessionState, Verdict, app_payload, split_kind};
use crate::wire::codec::{state_reader, writer_for};
use crate::wire::{MessageType, SessionMessage};
use crate::x3dh::{self, SetupPolicy};

/// A device's long-term state: identity and prekeys.
///
/// ```
/// use sealpost::Account;
/// let mut rng = sealpost::default_rng();
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
    /// Encrypted exports made so far (see [`Persist::export_generation`]).
    export_generation: u64,
    setup_policy: SetupPolicy,
}

impl Account {
    /// A new account with a fresh identity and a first signed prekey
    /// created at `now_ms` (milliseconds since the Unix epoch).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let account = Account::new(&mut rng, 1_700_000_000_000);
    /// assert_eq!(account.prekey_bundle()?.signed_prekey_id(), 1);
    /// assert_eq!(account.remaining_one_time_prekeys(), 0);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, now_ms: u64) -> Self {
        let identity = IdentityKeyPair::generate(rng);
        Self::from_identity(identity, rng, now_ms)
    }

    /// An account for an existing identity, with a fresh prekey store.
    ///
    /// ```
    /// use sealpost::{Account, IdentityKeyPair};
    /// let mut rng = sealpost::default_rng();
    /// let identity = IdentityKeyPair::generate(&mut rng);
    /// let key = *identity.public();
    /// let account = Account::from_identity(identity, &mut rng, 1_700_000_000_000);
    /// assert_eq!(account.identity(), &key);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_identity<R: CryptoRng + ?Sized>(identity: IdentityKeyPair, rng: &mut R, now_ms: u64) -> Self {
        let prekeys = PreKeyStore::new(&identity, now_ms, rng);
        Self { identity, prekeys, export_generation: 0, setup_policy: SetupPolicy::default() }
    }

    /// Whether classical (non-post-quantum) session setup is accepted, in
    /// either direction. Default: [`SetupPolicy::RequirePostQuantum`].
    ///
    /// ```
    /// use sealpost::{Account, SetupPolicy};
    /// let mut rng = sealpost::default_rng();
    /// let account = Account::new(&mut rng, 1_700_000_000_000);
    /// assert_eq!(account.setup_policy(), SetupPolicy::RequirePostQuantum);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn setup_policy(&self) -> SetupPolicy {
        self.setup_policy
    }

    /// Sets the [`SetupPolicy`]; it is kept in the account's state.
    ///
    /// ```
    /// use sealpost::{Account, SetupPolicy};
    /// let mut rng = sealpost::default_rng();
    /// let mut account = Account::new(&mut rng, 1_700_000_000_000);
    /// account.set_setup_policy(SetupPolicy::AllowClassical);
    /// let restored = Account::from_bytes(&account.to_bytes())?;
    /// assert_eq!(restored.setup_policy(), SetupPolicy::AllowClassical);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn set_setup_policy(&mut self, policy: SetupPolicy) {
        self.setup_policy = policy;
    }

    /// Our public identity key.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let account = Account::new(&mut rng, 1_700_000_000_000);
    /// assert_eq!(account.identity(), account.prekey_bundle()?.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn identity(&self) -> &IdentityKey {
        self.identity.public()
    }

    /// Our identity key pair (for signing or safety numbers).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let signature = alice.identity_keypair().sign("my app: status", b"away until Monday");
    /// alice.identity().verify("my app: status", b"away until Monday", &signature, "status")?;
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn identity_keypair(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// The prekey store (read-only view, for inspection).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let mut account = Account::new(&mut rng, 0);
    /// account.rotate_signed_prekey(&mut rng, 1_000)?;
    /// // Debug shows counts and ids, never a key.
    /// assert!(format!("{:?}", account.prekey_store()).contains("signed_prekey_id: 2"));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn prekey_store(&self) -> &PreKeyStore {
        &self.prekeys
    }

    /// Adds `count` one-time prekeys and returns their ids; at most
    /// [`MAX_ONE_TIME_PREKEYS`](crate::limits::MAX_ONE_TIME_PREKEYS) are held.
    /// Each is an X25519 key and a signed ML-KEM-1024 key under one id
    /// (about 60 µs each to make).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 0);
    /// assert_eq!(bob.generate_one_time_prekeys(3, &mut rng)?, vec![1, 2, 3]);
    /// assert_eq!(bob.generate_one_time_prekeys(2, &mut rng)?, vec![4, 5]); // ids never repeat
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn generate_one_time_prekeys<R: CryptoRng + ?Sized>(&mut self, count: usize, rng: &mut R) -> Result<Vec<u32>> {
        self.prekeys.generate_one_time(&self.identity, count, rng)
    }

    /// How many unused one-time prekeys remain (top up when low).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let mut bob = Account::new(&mut rng, 0);
    /// bob.generate_one_time_prekeys(2, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// assert_eq!(bob.remaining_one_time_prekeys(), 1); // consumed by the authentic setup
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn remaining_one_time_prekeys(&self) -> usize {
        self.prekeys.remaining_one_time()
    }

    /// Replaces the signed prekey (returns the new id). The previous one
    /// still opens setup messages for
    /// [`SIGNED_PREKEY_GRACE_MS`](crate::limits::SIGNED_PREKEY_GRACE_MS).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let mut bob = Account::new(&mut rng, 0);
    /// let old_bundle = bob.prekey_bundle()?;
    /// assert_eq!(bob.rotate_signed_prekey(&mut rng, 1_000)?, 2);
    /// // A session started from the old bundle still opens during the grace period.
    /// let mut to_bob = alice.create_outbound_session(&old_bundle, &mut rng)?;
    /// assert!(bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?).is_ok());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn rotate_signed_prekey<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now_ms: u64) -> Result<u32> {
        self.prekeys.rotate(&self.identity, now_ms, rng)
    }

    /// Forgets rotated-out signed prekeys whose grace period has ended.
    ///
    /// ```
    /// use sealpost::{Account, Error, SessionError, limits::SIGNED_PREKEY_GRACE_MS};
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let mut bob = Account::new(&mut rng, 0);
    /// let old_bundle = bob.prekey_bundle()?;
    /// bob.rotate_signed_prekey(&mut rng, 1_000)?;
    /// bob.expire_signed_prekeys(1_000 + SIGNED_PREKEY_GRACE_MS);
    /// let mut to_bob = alice.create_outbound_session(&old_bundle, &mut rng)?;
    /// let refused = bob.create_inbound_session(&to_bob.encrypt(b"late", &mut rng)?);
    /// assert_eq!(refused.err(), Some(Error::Session(SessionError::UnknownSignedPreKey(1))));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn expire_signed_prekeys(&mut self, now_ms: u64) {
        self.prekeys.expire(now_ms);
    }

    /// A bundle with the lowest unused one-time prekey, or with none when
    /// all are used (the signed prekey alone still works).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 0);
    /// assert_eq!(bob.prekey_bundle()?.one_time_prekey_id(), None); // none made yet
    /// bob.generate_one_time_prekeys(2, &mut rng)?;
    /// assert_eq!(bob.prekey_bundle()?.one_time_prekey_id(), Some(1));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn prekey_bundle(&self) -> Result<PreKeyBundle> {
        let id = self.prekeys.one_time_ids().next();
        self.prekeys.bundle(&self.identity, id)
    }

    /// A bundle naming a specific one-time prekey, or none.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 0);
    /// bob.generate_one_time_prekeys(3, &mut rng)?;
    /// assert_eq!(bob.prekey_bundle_with(Some(3))?.one_time_prekey_id(), Some(3));
    /// assert!(bob.prekey_bundle_with(Some(9)).is_err()); // never issued
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn prekey_bundle_with(&self, one_time_prekey_id: Option<u32>) -> Result<PreKeyBundle> {
        self.prekeys.bundle(&self.identity, one_time_prekey_id)
    }

    /// One bundle per unused one-time prekey, for a server to hand out one
    /// per initiator.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 0);
    /// bob.generate_one_time_prekeys(3, &mut rng)?;
    /// let ids: Vec<_> = bob.prekey_bundles()?.iter().map(|b| b.one_time_prekey_id()).collect();
    /// assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn prekey_bundles(&self) -> Result<Vec<PreKeyBundle>> {
        self.prekeys.one_time_ids().map(|id| self.prekeys.bundle(&self.identity, Some(id))).collect()
    }

    /// Starts a session from a peer's bundle (PQXDH, initiator side). The
    /// bundle's signature is checked. Messages can be encrypted at once;
    /// they carry setup data until the peer's first reply arrives.
    ///
    /// Without a clock, the session's unanswered setup ages from the
    /// bundle's signed-prekey creation time; prefer
    /// [`Self::create_outbound_session_at`].
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let mut bob = Account::new(&mut rng, 0);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?; // Bob may be offline
    /// assert!(to_bob.is_post_quantum());
    /// let first = to_bob.encrypt(b"see you at 10", &mut rng)?;
    /// assert_eq!(bob.create_inbound_session(&first)?.1, b"see you at 10");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn create_outbound_session<R: CryptoRng + ?Sized>(
        &self,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<Session> {
        self.start_session(bundle, bundle.signed_prekey_created_at(), rng)
    }

    /// [`Self::create_outbound_session`] at the caller's clock `now_ms`:
    /// refuses a bundle whose signed prekey is older than
    /// [`MAX_BUNDLE_AGE_MS`](crate::limits::MAX_BUNDLE_AGE_MS)
    /// ([`SessionError::StaleBundle`]: fetch a new one), and ages the
    /// session's unanswered setup from `now_ms` (see
    /// [`Session::encrypt_at`]).
    ///
    /// ```
    /// use sealpost::{Account, SessionError, limits::MAX_BUNDLE_AGE_MS};
    /// let mut rng = sealpost::default_rng();
    /// let made = 1_700_000_000_000;
    /// let (alice, bob) = (Account::new(&mut rng, made), Account::new(&mut rng, made));
    /// let bundle = bob.prekey_bundle()?;
    /// assert!(alice.create_outbound_session_at(&bundle, made + 1_000, &mut rng).is_ok());
    /// let late = alice.create_outbound_session_at(&bundle, made + MAX_BUNDLE_AGE_MS, &mut rng);
    /// assert_eq!(late.err(), Some(SessionError::StaleBundle.into()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn create_outbound_session_at<R: CryptoRng + ?Sized>(
        &self,
        bundle: &PreKeyBundle,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Session> {
        if now_ms >= bundle.signed_prekey_created_at().saturating_add(crate::limits::MAX_BUNDLE_AGE_MS) {
            return Err(SessionError::StaleBundle.into());
        }
        self.start_session(bundle, now_ms, rng)
    }

    fn start_session<R: CryptoRng + ?Sized>(
        &self,
        bundle: &PreKeyBundle,
        started_at_ms: u64,
        rng: &mut R,
    ) -> Result<Session> {
        if bundle.identity() == self.identity() {
            return Err(SessionError::OwnBundle.into());
        }
        let (ratchet, setup) = x3dh::initiate(&self.identity, bundle, self.setup_policy, rng)?;
        let state = SessionState::initiated(ratchet, setup, started_at_ms);
        Ok(Session::new(*self.identity(), *bundle.identity(), state))
    }

    /// Accepts a peer's setup message (PQXDH, responder side): returns the
    /// new session and the first plaintext. The one-time prekey it names is
    /// consumed only if the message authenticates; on any error the account
    /// is unchanged.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let mut bob = Account::new(&mut rng, 0);
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let first = to_bob.encrypt(b"hello", &mut rng)?;
    /// let (to_alice, text) = bob.create_inbound_session(&first)?;
    /// assert_eq!(text, b"hello");
    /// assert_eq!(to_alice.peer_identity(), alice.identity());
    /// assert!(bob.create_inbound_session(&first).is_err()); // a replay: the prekey is used up
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn create_inbound_session(&mut self, message: &[u8]) -> Result<(Session, Vec<u8>)> {
        let (session, plaintext) = self.accept_inbound(&SessionMessage::parse(message)?, app_payload)?;
        Ok((session, plaintext?))
    }

    /// Accepts a peer's setup message carrying a plain or Burnout message,
    /// opened at `now_ms`.
    ///
    /// * Outer `Err`: nothing changed (the account is untouched, no
    ///   session exists).
    /// * `Ok((session, Err(e)))`: the message authenticated, so the
    ///   session exists and the one-time prekey is consumed, but its content
    ///   is refused with `e` ([`BurnoutError::Expired`](crate::error::BurnoutError::Expired) or
    ///   [`BurnoutError::MalformedEnvelope`](crate::error::BurnoutError::MalformedEnvelope)) and is gone for good. Keep the
    ///   session: the peer's next messages open with it.
    /// * `Ok((session, Ok(opened)))`: as
    ///   [`Account::create_inbound_session`].
    ///
    /// A first message with clock skew is an outer error (nothing changes;
    /// retry later).
    ///
    /// ```
    /// # use sealpost::BurnoutError;
    /// use sealpost::{Account, Error, burnout::Envelope};
    /// let mut rng = sealpost::default_rng();
    /// let sent = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, sent), Account::new(&mut rng, sent));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let first = to_bob.encrypt_burnout(b"gone by tonight", &Envelope::with_ttl(sent, 3_600_000), &mut rng)?;
    /// let second = to_bob.encrypt(b"call me", &mut rng)?;
    ///
    /// // Bob comes online the next day.
    /// let (mut to_alice, first) = bob.create_inbound_session_at(&first, sent + 86_400_000)?;
    /// assert_eq!(first.unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: sent + 3_600_000 }));
    /// assert_eq!(bob.decrypt(&mut to_alice, &second)?, b"call me");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn create_inbound_session_at(&mut self, message: &[u8], now_ms: u64) -> Result<(Session, Result<Opened>)> {
        let message = SessionMessage::parse(message)?;
        let sender = message.setup.as_ref().ok_or(SessionError::NotASetupMessage)?.initiator;
        self.accept_inbound(&message, |kind, content| any_app_payload(kind, content, now_ms, sender))
    }

    /// Decrypts any message from `session`'s peer: ordinary messages,
    /// setup messages of states the session holds, and setup messages that
    /// start a new state (the peer re-initiated, or both sides started at
    /// once). On any error, the session and the account are unchanged.
    /// Burnout messages are refused with [`Error::UnexpectedPayload`](crate::error::Error::UnexpectedPayload)
    /// (and change nothing): use [`Account::open_burnout`] or [`Account::open`].
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let alice = Account::new(&mut rng, 0);
    /// let mut bob = Account::new(&mut rng, 0);
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"one", &mut rng)?)?;
    /// // Alice starts over (say, on a new phone): Account::decrypt takes the new setup.
    /// let mut again = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(bob.decrypt(&mut to_alice, &again.encrypt(b"two", &mut rng)?)?, b"two");
    /// assert_eq!(bob.decrypt(&mut to_alice, &to_bob.encrypt(b"three", &mut rng)?)?, b"three");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn decrypt(&mut self, session: &mut Session, message: &[u8]) -> Result<Vec<u8>> {
        self.decrypt_parsed(session, &SessionMessage::parse(message)?, app_payload)
    }

    /// [`Session::open_burnout`] for any message from `session`'s peer,
    /// including setup messages that start a new state (see
    /// [`Account::decrypt`]). An expired setup message installs its state
    /// and consumes its one-time prekey, so later messages of that state
    /// still open.
    ///
    /// ```
    /// use sealpost::{Account, burnout::Envelope};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let sealed = to_bob.encrypt_burnout(b"code", &Envelope::with_ttl(now, 5_000), &mut rng)?;
    /// let opened = bob.open_burnout(&mut to_alice, &sealed, now + 4_999)?;
    /// assert_eq!(opened.plaintext_len(), 4);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn open_burnout(&mut self, session: &mut Session, message: &[u8], now_ms: u64) -> Result<BurnoutMessage> {
        let sender = *session.peer_identity();
        self.decrypt_parsed(session, &SessionMessage::parse(message)?, |kind, content| {
            burnout_payload(kind, content, now_ms, sender)
        })
    }

    /// [`Session::open`] for any message from `session`'s peer, including
    /// setup messages that start a new state.
    ///
    /// ```
    /// use sealpost::{Account, burnout::{Envelope, Opened}};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let m = to_bob.encrypt(b"plain", &mut rng)?;
    /// assert!(matches!(bob.open(&mut to_alice, &m, now)?, Opened::Message(_)));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn open(&mut self, session: &mut Session, message: &[u8], now_ms: u64) -> Result<Opened> {
        let sender = *session.peer_identity();
        self.decrypt_parsed(session, &SessionMessage::parse(message)?, |kind, content| {
            any_app_payload(kind, content, now_ms, sender)
        })
    }

    /// The account side of the one 1:1 receive path: a setup message for a
    /// state `session` does not hold runs PQXDH with our prekeys; everything
    /// else goes to [`Session::decrypt_parsed`].
    pub(crate) fn decrypt_parsed<T>(
        &mut self,
        session: &mut Session,
        message: &SessionMessage<'_>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<T> {
        if session.local_identity() != self.identity() {
            return Err(SessionError::NotThisAccount.into());
        }
        match &message.setup {
            Some(setup) if !session.has_state(&setup.base_key) => {
                if &setup.initiator != session.peer_identity() {
                    return Err(SessionError::PeerMismatch.into());
                }
                let (state, verdict) = self.accept_setup(message, accept)?;
                session.install_inbound(state);
                verdict.finish()
            }
            _ => session.decrypt_parsed(message, accept),
        }
    }

    /// Creates a session from a peer's setup message.
    ///
    /// * Outer `Err`: nothing changed (the account is untouched, no session
    ///   exists), including when the handler rejects.
    /// * `Ok((session, Err(e)))`: the message authenticated and the handler
    ///   consumed it with `e` (an expired Burnout message, say): the session
    ///   exists and the one-time prekey is used up, so the peer's next
    ///   messages open with it.
    /// * `Ok((session, Ok(value)))`: accepted.
    pub(crate) fn accept_inbound<T>(
        &mut self,
        message: &SessionMessage<'_>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<(Session, Result<T>)> {
        let initiator = message.setup.as_ref().ok_or(SessionError::NotASetupMessage)?.initiator;
        let (state, verdict) = self.accept_setup(message, accept)?;
        Ok((Session::new(*self.identity(), initiator, state), verdict.finish()))
    }

    /// Runs PQXDH for a setup message and decrypts it; commits (consumes the
    /// one-time prekey) unless the handler rejects. A `Verdict::Consume`
    /// comes back with the state, which the caller must keep.
    fn accept_setup<T>(
        &mut self,
        message: &SessionMessage<'_>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<(SessionState, Verdict<T>)> {
        let result = self.accept_setup_inner(message, accept);
        if let Err(e) = &result {
            crate::trace::event!(DEBUG, "1:1 setup message refused", error = e);
        }
        result
    }

    fn accept_setup_inner<T>(
        &mut self,
        message: &SessionMessage<'_>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<(SessionState, Verdict<T>)> {
        let setup = message.setup.as_ref().ok_or(SessionError::NotASetupMessage)?;
        if &setup.initiator == self.identity() {
            return Err(SessionError::PeerMismatch.into());
        }
        // A setup without a one-time prekey consumes nothing: the record of
        // its base key is what makes it single-use.
        if setup.one_time_prekey_id.is_none() {
            self.prekeys.check_setup_without_one_time(setup.signed_prekey_id, &setup.base_key)?;
        }
        let mut ratchet = x3dh::respond(&self.identity, &self.prekeys, setup, self.setup_policy)?;
        let decrypted = ratchet.decrypt(message, MAX_FORWARD_JUMP, Vec::new())?;
        let (kind, content) = split_kind(decrypted.payload)?;
        let verdict = accept(kind, content);
        if let Verdict::Reject(e) = verdict {
            return Err(e);
        }
        ratchet.apply(decrypted.commit);
        match setup.one_time_prekey_id {
            Some(id) => {
                self.prekeys.consume_one_time(id);
                crate::trace::event!(INFO, "one-time prekey consumed by an authentic setup", one_time_prekey = id);
            }
            None => self.prekeys.record_setup_without_one_time(setup.signed_prekey_id, setup.base_key),
        }
        crate::trace::event!(
            DEBUG,
            "new 1:1 session state from a setup message",
            signed_prekey = setup.signed_prekey_id
        );
        Ok((SessionState::accepted(ratchet, setup.base_key, setup.kem_ciphertext.is_some()), verdict))
    }

    /// Serializes the account, secrets included: store it only encrypted
    /// (see [`Persist`](crate::Persist)).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let mut bob = Account::new(&mut rng, 0);
    /// bob.generate_one_time_prekeys(2, &mut rng)?;
    /// let restored = Account::from_bytes(&bob.to_bytes())?;
    /// assert_eq!(restored.identity(), bob.identity());
    /// assert_eq!(restored.remaining_one_time_prekeys(), 2);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = writer_for(MessageType::AccountState, 4096);
        w.bytes(self.identity.to_seed().as_ref());
        self.prekeys.encode(&mut w);
        w.u64(self.export_generation).u8(self.setup_policy.to_byte());
        Zeroizing::new(w.into_vec())
    }

    /// Restores an account from [`Self::to_bytes`].
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let bob = Account::new(&mut rng, 0);
    /// let mut bytes = bob.to_bytes().to_vec();
    /// assert!(Account::from_bytes(&bytes).is_ok());
    /// bytes.push(0);
    /// assert!(Account::from_bytes(&bytes).is_err()); // trailing bytes: refused
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = state_reader(bytes, MessageType::AccountState)?;
        let seed = Zeroizing::new(r.array::<32>()?);
        let identity = IdentityKeyPair::from_seed(&seed);
        let prekeys = PreKeyStore::decode(&mut r)?;
        let export_generation = r.u64()?;
        let setup_policy =
            SetupPolicy::from_byte(r.u8()?).ok_or(crate::error::WireError::InvalidField("setup policy"))?;
        r.finish()?;
        Ok(Self { identity, prekeys, export_generation, setup_policy })
    }
}

persist_via_inherent!(Account, MessageType::AccountState);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::error::Error;

    #[test]
    fn a_setup_without_one_time_prekey_is_accepted_once() {
        let mut rng = StdRng::seed_from_u64(6);
        let alice = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let first = to_bob.encrypt(b"only once", &mut rng).unwrap();
        let (mut b, text) = bob.create_inbound_session(&first).unwrap();
        assert_eq!(text, b"only once");
        let before = bob.to_bytes();
        assert_eq!(bob.create_inbound_session(&first).err(), Some(Error::Session(SessionError::SetupReplayed)));
        assert_eq!(bob.to_bytes(), before);
        // The record survives a save and restore.
        let mut restored = Account::from_bytes(&bob.to_bytes()).unwrap();
        assert_eq!(restored.create_inbound_session(&first).err(), Some(Error::Session(SessionError::SetupReplayed)));

        // Alice re-initiates six times: the first state falls out of Bob's
        // previous states. Replaying her first message must neither return
        // its text as new nor make that stale state current again.
        for _ in 0..=crate::limits::MAX_PREVIOUS_STATES {
            let mut again = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
            bob.decrypt(&mut b, &again.encrypt(b"again", &mut rng).unwrap()).unwrap();
        }
        assert!(!b.has_state(&SessionMessage::parse(&first).unwrap().setup.unwrap().base_key));
        let (current, state) = (b.session_id(), b.to_bytes());
        assert_eq!(bob.decrypt(&mut b, &first), Err(Error::Session(SessionError::SetupReplayed)));
        assert_eq!((b.session_id(), b.to_bytes()), (current, state));
    }

    #[test]
    fn a_full_setup_record_refuses_rather_than_forgets() {
        let mut rng = StdRng::seed_from_u64(7);
        let alice = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        let id = bob.prekeys.bundle(&bob.identity, None).unwrap().signed_prekey_id();
        for i in 0..crate::limits::MAX_SETUPS_PER_SIGNED_PREKEY as u32 {
            let mut base_key = [0u8; 32];
            base_key[..4].copy_from_slice(&i.to_be_bytes());
            bob.prekeys.record_setup_without_one_time(id, base_key);
        }
        let restored = Account::from_bytes(&bob.to_bytes()).unwrap();
        assert_eq!(restored.to_bytes(), bob.to_bytes());
        let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let first = to_bob.encrypt(b"hi", &mut rng).unwrap();
        assert!(matches!(bob.create_inbound_session(&first), Err(Error::LimitReached { .. })));
        // After a rotation, new setups use the new signed prekey.
        bob.rotate_signed_prekey(&mut rng, 1).unwrap();
        let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        assert!(bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng).unwrap()).is_ok());
    }

    #[test]
    fn another_accounts_session_is_refused_and_nothing_changes() {
        // Carol's session with Alice, passed to Bob's account with Alice's
        // setup message for Bob: refused before anything is consumed.
        let mut rng = StdRng::seed_from_u64(5);
        let alice = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        let mut carol = Account::new(&mut rng, 0);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        carol.generate_one_time_prekeys(1, &mut rng).unwrap();
        let mut to_carol = alice.create_outbound_session(&carol.prekey_bundle().unwrap(), &mut rng).unwrap();
        let (mut carols_session, _) =
            carol.create_inbound_session(&to_carol.encrypt(b"hi Carol", &mut rng).unwrap()).unwrap();
        let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let for_bob = to_bob.encrypt(b"hi Bob", &mut rng).unwrap();

        let (bob_before, session_before) = (bob.to_bytes(), carols_session.to_bytes());
        let refused = |r: Result<Vec<u8>>| assert_eq!(r, Err(Error::Session(SessionError::NotThisAccount)));
        refused(bob.decrypt(&mut carols_session, &for_bob));
        refused(bob.open(&mut carols_session, &for_bob, 0).map(|_| Vec::new()));
        refused(bob.open_burnout(&mut carols_session, &for_bob, 0).map(|_| Vec::new()));
        assert_eq!(bob.to_bytes(), bob_before, "Bob's one-time prekey is not consumed");
        assert_eq!(carols_session.to_bytes(), session_before, "Carol's session is untouched");
        assert_eq!(bob.remaining_one_time_prekeys(), 1);
        // Bob's own path still works.
        assert_eq!(bob.create_inbound_session(&for_bob).unwrap().1, b"hi Bob");
    }

    /// The policy, signed-prekey expiry and bundle accessors, checked by
    /// the unit tests themselves (mutation testing runs `--lib`, where the
    /// doc examples that show the same do not run).
    #[test]
    fn policy_expiry_and_bundles_do_what_they_say() {
        let mut rng = StdRng::seed_from_u64(11);
        let alice = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        assert_eq!(bob.setup_policy(), SetupPolicy::RequirePostQuantum);
        bob.set_setup_policy(SetupPolicy::AllowClassical);
        assert_eq!(bob.setup_policy(), SetupPolicy::AllowClassical);
        assert_eq!(Account::from_bytes(&bob.to_bytes()).unwrap().setup_policy(), SetupPolicy::AllowClassical);

        // One bundle per one-time prekey, each naming its own.
        let ids = bob.generate_one_time_prekeys(3, &mut rng).unwrap();
        let bundles = bob.prekey_bundles().unwrap();
        let named: Vec<Option<u32>> = bundles.iter().map(PreKeyBundle::one_time_prekey_id).collect();
        assert_eq!(named, ids.iter().copied().map(Some).collect::<Vec<_>>());

        // A rotated-out signed prekey works through its grace period, not after.
        let old_bundle = bob.prekey_bundle_with(None).unwrap();
        bob.rotate_signed_prekey(&mut rng, 1_000).unwrap();
        let mut early = bob.clone();
        early.expire_signed_prekeys(1_000 + crate::limits::SIGNED_PREKEY_GRACE_MS - 1);
        let mut to_bob = alice.create_outbound_session(&old_bundle, &mut rng).unwrap();
        let first = to_bob.encrypt(b"late", &mut rng).unwrap();
        assert!(early.create_inbound_session(&first).is_ok());
        bob.expire_signed_prekeys(1_000 + crate::limits::SIGNED_PREKEY_GRACE_MS);
        assert!(matches!(
            bob.create_inbound_session(&first),
            Err(Error::Session(SessionError::UnknownSignedPreKey(_)))
        ));
    }
}

//! The 1:1 session API: encrypt, decrypt, open Burnout messages, previous
//! states, persistence.
//!
//! A [`Session`] is everything one party keeps about its conversation with
//! one peer: the current Double Ratchet state and up to
//! [`MAX_PREVIOUS_STATES`] previous ones, which still open messages that
//! were in flight when the current state replaced them.
//!
//! # When both sides start at once
//!
//! If Alice and Bob each build a session from the other's bundle before
//! either's first message arrives, each receives a setup message for a
//! state it does not have. Both states open their messages (the other one
//! is kept as a previous state), and both sides pick the same one as
//! current: the state **initiated by the party with the lower identity
//! key** (bytewise). After each side has received one message from the
//! other, they send on the same state. A setup message for a new state that
//! arrives when the current state is already confirmed (we have received in
//! it) is taken as the peer re-initiating and becomes current.

use std::collections::VecDeque;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::burnout::payload::{any_app_payload, burnout_payload, seal_trailer};
use crate::burnout::{BurnoutMessage, Envelope, Opened};
use crate::error::{Error, Result, SessionError, WireError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_FORWARD_JUMP, MAX_PREVIOUS_STATE_JUMP, MAX_PREVIOUS_STATES};
use crate::persist::persist_via_inherent;
use crate::wire::codec::{state_reader, writer_for};
use crate::wire::{MessageType, PayloadKind, SessionMessage};

mod state;
mod verdict;

pub(crate) use state::SessionState;
use state::{Origin, Slot};
pub(crate) use verdict::{Verdict, app_payload, split_kind};

/// An end-to-end encrypted 1:1 session with one peer.
///
/// Created by [`Account::create_outbound_session`](crate::Account::create_outbound_session)
/// or [`Account::create_inbound_session`](crate::Account::create_inbound_session).
///
/// ```
/// use sealpost::Account;
/// let mut rng = sealpost::default_rng();
/// let mut alice = Account::new(&mut rng, 0);
/// let mut bob = Account::new(&mut rng, 0);
/// bob.generate_one_time_prekeys(1, &mut rng)?;
///
/// let mut a = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// let first = a.encrypt(b"hi Bob", &mut rng)?;
/// let (mut b, text) = bob.create_inbound_session(&first)?;
/// assert_eq!(text, b"hi Bob");
///
/// let reply = b.encrypt(b"hi Alice", &mut rng)?;
/// assert_eq!(a.decrypt(&reply)?, b"hi Alice");
/// // A replay is refused and changes nothing.
/// assert_eq!(a.decrypt(&reply), Err(sealpost::Error::DuplicateMessage));
/// # Ok::<(), sealpost::Error>(())
/// ```
#[derive(Clone)]
pub struct Session {
    local: IdentityKey,
    peer: IdentityKey,
    current: SessionState,
    previous: VecDeque<SessionState>,
    /// Encrypted exports made so far (see
    /// [`Persist::export_generation`](crate::Persist::export_generation)).
    export_generation: u64,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("local", &self.local)
            .field("peer", &self.peer)
            .field("previous_states", &self.previous.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(local: IdentityKey, peer: IdentityKey, state: SessionState) -> Self {
        Self { local, peer, current: state, previous: VecDeque::new(), export_generation: 0 }
    }

    /// The peer's identity key.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(to_bob.peer_identity(), bob.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn peer_identity(&self) -> &IdentityKey {
        &self.peer
    }

    /// Our own identity key.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert_eq!(to_bob.local_identity(), alice.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn local_identity(&self) -> &IdentityKey {
        &self.local
    }

    /// Identifies the current state: the initiator's PQXDH base key, equal
    /// on both sides once they have converged.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// assert_eq!(to_alice.session_id(), to_bob.session_id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn session_id(&self) -> [u8; 32] {
        self.current.base_key
    }

    /// Whether the current state was set up post-quantum (PQXDH, with an
    /// ML-KEM-1024 encapsulation), rather than with classical X3DH (only
    /// where a [`SetupPolicy`](crate::SetupPolicy) allows it).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let session = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// assert!(session.is_post_quantum());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_post_quantum(&self) -> bool {
        self.current.post_quantum_setup
    }

    /// The current state's post-quantum ratchet epoch: how many fresh
    /// ML-KEM-768 secrets have been mixed into its root key since setup.
    /// It advances about once per two round trips of [`KEY_CHUNKS`] and
    /// [`CIPHERTEXT_CHUNKS`] messages; see
    /// [PROTOCOL](crate::docs::protocol), "Post-quantum ratchet".
    ///
    /// [`KEY_CHUNKS`]: crate::limits::BRAID_KEY_CHUNKS
    /// [`CIPHERTEXT_CHUNKS`]: crate::limits::BRAID_CIPHERTEXT_CHUNKS
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut a = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng)?)?;
    /// assert_eq!(a.post_quantum_epoch(), 0);
    /// // A conversation that alternates: the epoch moves on by itself.
    /// for _ in 0..20 {
    ///     let m = b.encrypt(b"ping", &mut rng)?;
    ///     a.decrypt(&m)?;
    ///     let m = a.encrypt(b"pong", &mut rng)?;
    ///     b.decrypt(&m)?;
    /// }
    /// assert!(a.post_quantum_epoch() >= 1);
    /// assert!(b.is_post_quantum());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn post_quantum_epoch(&self) -> u32 {
        self.current.ratchet.braid_epoch()
    }

    /// See `test_hooks::disable_post_quantum_ratchet`.
    #[cfg(any(fuzzing, feature = "test-hooks"))]
    pub(crate) fn disable_post_quantum_ratchet(&mut self) {
        self.current.ratchet.disable_braid();
    }

    /// Whether we have received a message in the current state (so our
    /// messages no longer carry setup data).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// assert!(!to_bob.is_confirmed()); // still sending setup data
    /// to_bob.decrypt(&to_alice.encrypt(b"hello", &mut rng)?)?;
    /// assert!(to_bob.is_confirmed());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_confirmed(&self) -> bool {
        self.current.confirmed
    }

    /// Skipped message keys stored by the current state (at most
    /// [`MAX_SKIPPED_TOTAL`](crate::limits::MAX_SKIPPED_TOTAL)).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let first = to_bob.encrypt(b"1", &mut rng)?;
    /// let _lost = to_bob.encrypt(b"2", &mut rng)?;
    /// let third = to_bob.encrypt(b"3", &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&first)?;
    /// to_alice.decrypt(&third)?;
    /// assert_eq!(to_alice.skipped_key_count(), 1); // the key of message 2, kept
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn skipped_key_count(&self) -> usize {
        self.current.ratchet.skipped_len()
    }

    /// Deletes every stored skipped message key, in every state, and
    /// returns how many were deleted. Messages still missing can then no
    /// longer be read (they fail with [`Error::DuplicateMessage`] or
    /// [`Error::AuthenticationFailed`], changing nothing).
    ///
    /// Skipped keys carry no timestamp (the session takes no clock), so
    /// they expire by count, never by age: the bounds
    /// [`MAX_SKIPPED_PER_CHAIN`](crate::limits::MAX_SKIPPED_PER_CHAIN) and
    /// [`MAX_SKIPPED_TOTAL`](crate::limits::MAX_SKIPPED_TOTAL) evict the
    /// oldest. An app that wants an age limit calls this when the newest
    /// message it received from the peer is older than that limit (for
    /// example 30 days, the signed-prekey grace period): whatever was
    /// skipped before it is then not coming, and its keys are only a risk
    /// if the device's state is stolen later.
    ///
    /// ```
    /// # use sealpost::Account;
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let lost = to_bob.encrypt(b"lost in transit", &mut rng)?;
    /// let later = to_bob.encrypt(b"arrives", &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&later)?;
    /// assert_eq!(to_alice.skipped_key_count(), 1);
    /// assert_eq!(to_alice.forget_skipped_keys(), 1);
    /// assert_eq!(bob.decrypt(&mut to_alice, &lost), Err(sealpost::Error::DuplicateMessage));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn forget_skipped_keys(&mut self) -> usize {
        core::iter::once(&mut self.current).chain(self.previous.iter_mut()).map(|s| s.ratchet.forget_skipped()).sum()
    }

    /// Number of previous states kept (at most [`MAX_PREVIOUS_STATES`]).
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"one", &mut rng)?)?;
    /// let mut again = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// bob.decrypt(&mut to_alice, &again.encrypt(b"two", &mut rng)?)?;
    /// assert_eq!(to_alice.previous_state_count(), 1); // the first state, for messages in flight
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn previous_state_count(&self) -> usize {
        self.previous.len()
    }

    /// Encrypts an application message for the peer.
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let m1 = to_bob.encrypt(b"first", &mut rng)?;
    /// let m2 = to_bob.encrypt(b"second", &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&m2)?; // any of them starts Bob's side
    /// assert_eq!(to_alice.decrypt(&m1)?, b"first");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encrypt<R: CryptoRng + ?Sized>(&mut self, plaintext: &[u8], rng: &mut R) -> Result<Vec<u8>> {
        self.encrypt_payload(plaintext, &[], PayloadKind::App, rng)
    }

    /// [`Session::encrypt`] into a caller-owned buffer: the message is
    /// **appended** to `out`, written in one pass (the plaintext is copied
    /// once and sealed in place). Reusing one buffer for many messages saves
    /// the allocation per message, which for large messages also saves the
    /// allocator returning the block to the kernel and faulting it in again.
    ///
    /// `out` is reserved exactly once for the message before anything is
    /// written, so it never reallocates midway; if it must grow, the old
    /// block (with whatever the caller had in it) is freed by the standard
    /// allocator. On error `out` is as it was.
    ///
    /// ```
    /// # use sealpost::Account;
    /// # let mut rng = sealpost::default_rng();
    /// # let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// # let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// # let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let (mut wire, mut plain) = (Vec::with_capacity(1 << 20), Vec::with_capacity(1 << 20));
    /// for chunk in [&b"first"[..], b"second"] {
    ///     wire.clear();
    ///     to_bob.encrypt_into(chunk, &mut wire, &mut rng)?;
    ///     to_alice.decrypt_into(&wire, &mut plain)?;
    ///     assert_eq!(plain, chunk);
    /// }
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        out: &mut Vec<u8>,
        rng: &mut R,
    ) -> Result<()> {
        self.encrypt_trailer_into(plaintext, &[PayloadKind::App as u8], rng, out)
    }

    /// Encrypts a Burnout message: `plaintext` under the authenticated
    /// `envelope`. Refuses an envelope already expired at its own sent-at
    /// time ([`BurnoutError::Expired`](crate::error::BurnoutError::Expired)).
    ///
    /// The recipient must open it with [`Session::open_burnout`],
    /// [`Session::open`] or their [`Account`](crate::Account) counterparts;
    /// [`Session::decrypt`] refuses it.
    ///
    /// ```
    /// # use sealpost::BurnoutError;
    /// use sealpost::{Account, Error, burnout::Envelope};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    ///
    /// let sealed = to_bob.encrypt_burnout(b"pin 1234", &Envelope::with_ttl(now, 60_000), &mut rng)?;
    /// let opened = to_alice.open_burnout(&sealed, now + 1_000)?;
    /// assert_eq!(opened.envelope().expires_at_ms(), Some(now + 60_000));
    /// assert_eq!(opened.into_plaintext(now + 1_000)?.as_slice(), b"pin 1234");
    ///
    /// // One minute later, the next one is already gone when it arrives.
    /// let late = to_bob.encrypt_burnout(b"pin 5678", &Envelope::with_ttl(now, 60_000), &mut rng)?;
    /// assert_eq!(to_alice.open_burnout(&late, now + 60_000).unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: now + 60_000 }));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encrypt_burnout<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        envelope: &Envelope,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let trailer = seal_trailer(Some(envelope))?;
        self.encrypt_payload(plaintext, trailer.as_bytes(), PayloadKind::BurnoutApp, rng)
    }

    /// [`Self::encrypt`] at the caller's clock `now_ms`: refuses with
    /// [`SessionError::StaleSetup`] (nothing encrypted) when the current state
    /// is our own setup and has gone unanswered for
    /// [`MAX_UNANSWERED_SETUP_MS`](crate::limits::MAX_UNANSWERED_SETUP_MS):
    /// the peer may never open what we send (its signed prekey may be gone),
    /// so fetch a new bundle and start again rather than send into the void.
    ///
    /// ```
    /// use sealpost::{Account, SessionError, limits::MAX_UNANSWERED_SETUP_MS};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// let mut to_bob = alice.create_outbound_session_at(&bob.prekey_bundle()?, now, &mut rng)?;
    /// to_bob.encrypt_at(b"anyone there?", now, &mut rng)?;
    /// let later = now + MAX_UNANSWERED_SETUP_MS;
    /// assert_eq!(to_bob.encrypt_at(b"hello?", later, &mut rng).err(), Some(SessionError::StaleSetup.into()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn encrypt_at<R: CryptoRng + ?Sized>(&mut self, plaintext: &[u8], now_ms: u64, rng: &mut R) -> Result<Vec<u8>> {
        if self.current.stale_at_ms().is_some_and(|stale| now_ms >= stale) {
            return Err(SessionError::StaleSetup.into());
        }
        self.encrypt(plaintext, rng)
    }

    /// When the current state's unanswered setup goes stale (see
    /// [`Self::encrypt_at`]), or `None` once the peer has answered (or if
    /// the peer started this state).
    ///
    /// ```
    /// use sealpost::{Account, limits::MAX_UNANSWERED_SETUP_MS};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// let mut to_bob = alice.create_outbound_session_at(&bob.prekey_bundle()?, now, &mut rng)?;
    /// assert_eq!(to_bob.setup_stale_at_ms(), Some(now + MAX_UNANSWERED_SETUP_MS));
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// to_bob.decrypt(&to_alice.encrypt(b"hello", &mut rng)?)?;
    /// assert_eq!(to_bob.setup_stale_at_ms(), None);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn setup_stale_at_ms(&self) -> Option<u64> {
        self.current.stale_at_ms()
    }

    /// Encrypts `content || envelope || kind` in the current state.
    pub(crate) fn encrypt_payload<R: CryptoRng + ?Sized>(
        &mut self,
        content: &[u8],
        envelope: &[u8],
        kind: PayloadKind,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let mut trailer = [0u8; 64];
        let len = envelope.len() + 1;
        let slot = trailer.get_mut(..len).ok_or(Error::InvalidState("envelope too long"))?;
        let (env, k) = slot.split_at_mut(envelope.len());
        env.copy_from_slice(envelope);
        k.fill(kind as u8);
        let mut out = Vec::new();
        self.encrypt_trailer_into(content, slot, rng, &mut out)?;
        Ok(out)
    }

    /// Encrypts `content || trailer` in the current state, `trailer` being
    /// the already encoded envelope and kind byte (or, for the test hooks,
    /// any bytes at all).
    #[cfg(any(fuzzing, feature = "test-hooks"))]
    pub(crate) fn encrypt_raw<R: CryptoRng + ?Sized>(
        &mut self,
        content: &[u8],
        trailer: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encrypt_trailer_into(content, trailer, rng, &mut out)?;
        Ok(out)
    }

    /// [`Self::encrypt_raw`], appending the message to `out`.
    fn encrypt_trailer_into<R: CryptoRng + ?Sized>(
        &mut self,
        content: &[u8],
        trailer: &[u8],
        rng: &mut R,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let SessionState { ratchet, origin, .. } = &mut self.current;
        let setup = match origin {
            Origin::Ours { pending_setup, .. } => pending_setup.as_ref(),
            Origin::Theirs => None,
        };
        ratchet.encrypt(content, trailer, setup, rng, out)
    }

    /// See `Ratchet::exhaust_sending_chain`: the next encryption in the
    /// current state fails.
    #[cfg(test)]
    pub(crate) fn exhaust_sending_chain(&mut self) -> bool {
        self.current.ratchet.exhaust_sending_chain()
    }

    /// Decrypts an application message from the peer.
    ///
    /// On any error the session is left exactly as it was. A setup message
    /// for a state this session does not hold (the peer re-initiated, or
    /// both sides started at once) needs the prekey store: use
    /// [`Account::decrypt`](crate::Account::decrypt), which handles every
    /// case.
    ///
    /// A Burnout message is refused with [`Error::UnexpectedPayload`] and
    /// nothing changes: open it with [`Session::open_burnout`] or
    /// [`Session::open`], which enforce its envelope.
    ///
    /// ```
    /// use sealpost::{Account, Error};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let m = to_bob.encrypt(b"twice?", &mut rng)?;
    /// assert_eq!(to_alice.decrypt(&m)?, b"twice?");
    /// assert_eq!(to_alice.decrypt(&m), Err(Error::DuplicateMessage));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>> {
        self.decrypt_parsed(&SessionMessage::parse(message)?, app_payload)
    }

    /// [`Session::decrypt`] into a caller-owned buffer: `out` is cleared and
    /// receives the plaintext, decrypted in place in its capacity (grown
    /// once, exactly, if too small). No allocation when the capacity
    /// suffices. On error nothing changes in the session and `out` is left
    /// empty (its capacity zeroized and possibly released); the same errors
    /// as [`Session::decrypt`]. Example: [`Session::encrypt_into`].
    ///
    /// ```
    /// use sealpost::Account;
    /// let mut rng = sealpost::default_rng();
    /// let (alice, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    /// let mut text = Vec::with_capacity(64); // reused from message to message
    /// to_alice.decrypt_into(&to_bob.encrypt(b"into", &mut rng)?, &mut text)?;
    /// assert_eq!(text, b"into");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn decrypt_into(&mut self, message: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let buf = core::mem::take(out);
        *out = self.decrypt_parsed_in(&SessionMessage::parse(message)?, buf, app_payload)?;
        Ok(())
    }

    /// Opens a Burnout message at the caller's clock `now_ms` (ms since the
    /// Unix epoch).
    ///
    /// * [`BurnoutError::Expired`](crate::error::BurnoutError::Expired) at or after the expiry, and
    ///   [`BurnoutError::MalformedEnvelope`](crate::error::BurnoutError::MalformedEnvelope): the plaintext is zeroized, never
    ///   returned, and **the message key is used up** (the state moves on;
    ///   the same message then fails with [`Error::DuplicateMessage`]).
    /// * [`BurnoutError::ClockSkew`](crate::error::BurnoutError::ClockSkew) when the sent-at time is more than
    ///   [`MAX_CLOCK_SKEW_MS`](crate::limits::MAX_CLOCK_SKEW_MS) ahead:
    ///   nothing changes, retry when the clocks agree.
    /// * [`Error::UnexpectedPayload`] for a plain (non-Burnout) message,
    ///   and every other error: nothing changes.
    ///
    /// Setup messages of states this session does not hold need the prekey
    /// store: use [`Account::open_burnout`](crate::Account::open_burnout).
    ///
    /// ```
    /// use sealpost::{Account, burnout::Envelope};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    ///
    /// let env = Envelope::new(now).burn_after_reading();
    /// let sealed = to_bob.encrypt_burnout(b"one look only", &env, &mut rng)?;
    /// assert!(to_alice.decrypt(&sealed).is_err()); // the plain API refuses it, state untouched
    /// let opened = to_alice.open_burnout(&sealed, now)?;
    /// assert!(opened.envelope().is_burn_after_reading());
    /// assert_eq!(opened.sender(), alice.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn open_burnout(&mut self, message: &[u8], now_ms: u64) -> Result<BurnoutMessage> {
        let sender = *self.peer_identity();
        self.decrypt_parsed(&SessionMessage::parse(message)?, |kind, content| {
            burnout_payload(kind, content, now_ms, sender)
        })
    }

    /// Opens any application message, plain or Burnout, at `now_ms`: the
    /// kind is only known after decryption. Burnout messages follow the
    /// rules of [`Session::open_burnout`]; plain ones those of
    /// [`Session::decrypt`].
    ///
    /// ```
    /// use sealpost::{Account, burnout::{Envelope, Opened}};
    /// let mut rng = sealpost::default_rng();
    /// let now = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, now), Account::new(&mut rng, now));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let (mut to_alice, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
    ///
    /// let plain = to_bob.encrypt(b"lunch?", &mut rng)?;
    /// let burn = to_bob.encrypt_burnout(b"wifi pw", &Envelope::with_ttl(now, 1_000), &mut rng)?;
    /// assert!(matches!(to_alice.open(&plain, now)?, Opened::Message(m) if m == b"lunch?"));
    /// assert!(matches!(to_alice.open(&burn, now)?, Opened::Burnout(_)));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn open(&mut self, message: &[u8], now_ms: u64) -> Result<Opened> {
        let sender = *self.peer_identity();
        self.decrypt_parsed(&SessionMessage::parse(message)?, |kind, content| {
            any_app_payload(kind, content, now_ms, sender)
        })
    }

    /// Decrypts a parsed message in whichever state it belongs to and lets
    /// `accept` decide, from the payload kind and content, whether to
    /// commit. The one 1:1 receive path every carrier goes through.
    pub(crate) fn decrypt_parsed<T>(
        &mut self,
        message: &SessionMessage<'_>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<T> {
        self.decrypt_parsed_in(message, Vec::new(), accept)
    }

    /// [`Self::decrypt_parsed`], decrypting in `buf` (its capacity reused by
    /// the first state tried).
    pub(crate) fn decrypt_parsed_in<T>(
        &mut self,
        message: &SessionMessage<'_>,
        buf: Vec<u8>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<T> {
        let result = self.decrypt_parsed_inner(message, buf, accept);
        if let Err(e) = &result {
            crate::trace::event!(DEBUG, "1:1 message refused", error = e);
        }
        result
    }

    fn decrypt_parsed_inner<T>(
        &mut self,
        message: &SessionMessage<'_>,
        mut buf: Vec<u8>,
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<T> {
        if let Some(setup) = &message.setup {
            if setup.initiator != self.peer {
                return Err(SessionError::PeerMismatch.into());
            }
            if !self.has_state(&setup.base_key) {
                return Err(SessionError::UnknownSessionSetup.into());
            }
        }
        // A ratchet key belongs to one state: if a state knows the message's
        // chain, only states that know it are tried. Otherwise the message
        // starts a new chain in some state, and every state tries it, the
        // previous ones with a smaller jump bound, which is what bounds the
        // work a forgery with a fresh ratchet key can cause.
        let ratchet_key = &message.header.ratchet_key;
        let slots = || core::iter::once(Slot::Current).chain((0..self.previous.len()).map(Slot::Previous));
        let any_known = slots().filter_map(|slot| self.state(slot)).any(|s| s.ratchet.knows_chain(ratchet_key));
        // Report the error of a state that knows the message's chain (for
        // example DuplicateMessage from a previous state) over the
        // AuthenticationFailed of states that merely tried it.
        let mut first_error = None;
        let mut known_chain_error = None;
        for slot in slots() {
            let Some(state) = self.state(slot) else { continue };
            if let Some(setup) = &message.setup
                && (setup.base_key != state.base_key || state.initiated_by_us())
            {
                continue;
            }
            if any_known && !state.ratchet.knows_chain(ratchet_key) {
                continue;
            }
            let max_jump = match slot {
                Slot::Current => MAX_FORWARD_JUMP,
                Slot::Previous(_) => MAX_PREVIOUS_STATE_JUMP,
            };
            match state.ratchet.decrypt(message, max_jump, core::mem::take(&mut buf)) {
                Ok(decrypted) => {
                    let (kind, content) = split_kind(decrypted.payload)?;
                    let verdict = accept(kind, content);
                    if matches!(verdict, Verdict::Reject(_)) {
                        return verdict.finish();
                    }
                    if let Some(state) = self.state_mut(slot) {
                        state.ratchet.apply(decrypted.commit);
                        state.mark_received();
                    }
                    crate::trace::event!(
                        DEBUG,
                        "1:1 message taken by a session state",
                        state = match slot {
                            Slot::Current => "current".to_string(),
                            Slot::Previous(i) => format!("previous #{i}"),
                        }
                    );
                    return verdict.finish();
                }
                Err(e) if state.ratchet.knows_chain(ratchet_key) => {
                    known_chain_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(known_chain_error.or(first_error).unwrap_or(Error::AuthenticationFailed))
    }

    /// Installs a state built from a peer's setup message, choosing which
    /// state is current (see the module documentation).
    pub(crate) fn install_inbound(&mut self, state: SessionState) {
        let adopt = if self.current.initiated_by_us() && !self.current.confirmed {
            // Simultaneous start: the lower identity's initiation wins.
            self.peer < self.local
        } else {
            true
        };
        if adopt {
            let old = core::mem::replace(&mut self.current, state);
            self.previous.push_front(old);
        } else {
            self.previous.push_front(state);
        }
        self.previous.truncate(MAX_PREVIOUS_STATES);
    }

    /// Whether the session holds a state with this base key.
    pub(crate) fn has_state(&self, base_key: &[u8; 32]) -> bool {
        &self.current.base_key == base_key || self.previous.iter().any(|s| &s.base_key == base_key)
    }

    fn state(&self, slot: Slot) -> Option<&SessionState> {
        match slot {
            Slot::Current => Some(&self.current),
            Slot::Previous(n) => self.previous.get(n),
        }
    }

    fn state_mut(&mut self, slot: Slot) -> Option<&mut SessionState> {
        match slot {
            Slot::Current => Some(&mut self.current),
            Slot::Previous(n) => self.previous.get_mut(n),
        }
    }

    /// Serializes the session, secrets included: store it only encrypted
    /// (see [`Persist`](crate::Persist)).
    ///
    /// ```text
    /// session state = 0x02 | 0x31 | local identity (32) | peer identity (32)
    ///               | export generation (u64)
    ///               | state count (u8, 1..=1+MAX_PREVIOUS_STATES)
    ///               | current state | previous states, most recent first
    /// ```
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = writer_for(MessageType::SessionState, 1024);
        w.bytes(self.local.as_bytes()).bytes(self.peer.as_bytes()).u64(self.export_generation);
        w.u8((1 + self.previous.len()) as u8);
        for state in core::iter::once(&self.current).chain(self.previous.iter()) {
            state.encode(&mut w);
        }
        Zeroizing::new(w.into_vec())
    }

    /// Restores a session from [`Self::to_bytes`].
    ///
    /// ```
    /// use sealpost::{Account, Session};
    /// let mut rng = sealpost::default_rng();
    /// let (alice, bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
    /// let to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let restored = Session::from_bytes(&to_bob.to_bytes())?;
    /// assert_eq!(restored.session_id(), to_bob.session_id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = state_reader(bytes, MessageType::SessionState)?;
        let local = IdentityKey::from_bytes(&r.array::<32>()?)?;
        let peer = IdentityKey::from_bytes(&r.array::<32>()?)?;
        let export_generation = r.u64()?;
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_PREVIOUS_STATES + 1 {
            return Err(WireError::InvalidField("session state count").into());
        }
        let current = SessionState::decode(&mut r, local)?;
        let mut previous = VecDeque::with_capacity(count - 1);
        for _ in 1..count {
            previous.push_back(SessionState::decode(&mut r, local)?);
        }
        r.finish()?;
        Ok(Self { local, peer, current, previous, export_generation })
    }
}

persist_via_inherent!(Session, MessageType::SessionState);

#[cfg(test)]
mod adversary_tests;
#[cfg(test)]
mod tests;

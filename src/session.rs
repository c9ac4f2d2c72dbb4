//! The 1:1 session API: encrypt, decrypt, previous states.
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

use crate::error::{Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::limits::MAX_PREVIOUS_STATES;
use crate::ratchet::RatchetState;
use crate::wire::codec::state_reader;
use crate::wire::codec::writer_for;
use crate::wire::session_message::{SessionMessage, SetupData};
use crate::wire::{MessageType, PayloadKind};

/// What a payload handler decides about a decrypted payload.
pub(crate) enum Verdict<T> {
    /// Accept: commit the state change and return the value.
    Accept(T),
    /// Commit the state change (the message key is used up) but report an
    /// error, e.g. an expired Burnout message.
    Consume(Error),
    /// Reject: leave every piece of state as it was.
    Reject(Error),
}

/// One Double Ratchet state and what the session knows about its origin.
#[derive(Clone)]
pub(crate) struct SessionState {
    pub(crate) ratchet: RatchetState,
    /// The initiator's X3DH base key: identifies the state on both sides.
    pub(crate) base_key: [u8; 32],
    pub(crate) initiated_by_us: bool,
    /// Set while we initiated and have not yet received a reply: our
    /// messages carry this setup data.
    pub(crate) pending_setup: Option<SetupData>,
    /// Whether we have received at least one message in this state.
    pub(crate) confirmed: bool,
}

/// An end-to-end encrypted 1:1 session with one peer.
///
/// Created by [`Account::create_outbound_session`](crate::Account::create_outbound_session)
/// or [`Account::create_inbound_session`](crate::Account::create_inbound_session).
///
/// ```
/// use sealpost::Account;
/// let mut rng = rand::rng();
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
        Self { local, peer, current: state, previous: VecDeque::new() }
    }

    /// The peer's identity key.
    pub fn peer_identity(&self) -> &IdentityKey {
        &self.peer
    }

    /// Our own identity key.
    pub fn local_identity(&self) -> &IdentityKey {
        &self.local
    }

    /// Identifies the current state: the initiator's X3DH base key, equal
    /// on both sides once they have converged.
    pub fn session_id(&self) -> [u8; 32] {
        self.current.base_key
    }

    /// Whether we have received a message in the current state (so our
    /// messages no longer carry setup data).
    pub fn is_confirmed(&self) -> bool {
        self.current.confirmed
    }

    /// Skipped message keys stored by the current state (at most
    /// [`MAX_SKIPPED_TOTAL`](crate::limits::MAX_SKIPPED_TOTAL)).
    pub fn skipped_key_count(&self) -> usize {
        self.current.ratchet.skipped_len()
    }

    /// Number of previous states kept (at most [`MAX_PREVIOUS_STATES`]).
    pub fn previous_state_count(&self) -> usize {
        self.previous.len()
    }

    /// Encrypts an application message for the peer.
    pub fn encrypt<R: CryptoRng + ?Sized>(&mut self, plaintext: &[u8], rng: &mut R) -> Result<Vec<u8>> {
        self.encrypt_payload(plaintext, &[], PayloadKind::App, rng)
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
        let state = &mut self.current;
        state.ratchet.encrypt(content, slot, state.pending_setup.as_ref(), rng)
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
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>> {
        self.decrypt_with(message, app_payload)
    }

    /// Decrypts in whichever state the message belongs to and lets `accept`
    /// decide, from the payload kind and content, whether to commit.
    pub(crate) fn decrypt_with<T>(
        &mut self,
        message: &[u8],
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<T> {
        let parsed = SessionMessage::parse(message)?;
        if let Some(setup) = &parsed.setup {
            if setup.initiator != self.peer {
                return Err(Error::PeerMismatch);
            }
            if !self.has_state(&setup.base_key) {
                return Err(Error::UnknownSessionSetup);
            }
        }
        // Report the error of a state that knows the message's chain (for
        // example DuplicateMessage from a previous state) over the
        // AuthenticationFailed of states that merely tried it.
        let mut first_error = None;
        let mut known_chain_error = None;
        let candidates = core::iter::once(usize::MAX).chain(0..self.previous.len());
        for slot in candidates {
            let Some(state) = self.state(slot) else { continue };
            if let Some(setup) = &parsed.setup
                && (setup.base_key != state.base_key || state.initiated_by_us)
            {
                continue;
            }
            match state.ratchet.decrypt(&parsed) {
                Ok(decrypted) => {
                    let (kind, content) = split_kind(decrypted.payload)?;
                    let verdict = accept(kind, content);
                    if matches!(verdict, Verdict::Reject(_)) {
                        return finish(verdict);
                    }
                    if let Some(state) = self.state_mut(slot) {
                        state.ratchet.apply(decrypted.commit);
                        state.confirmed = true;
                        state.pending_setup = None;
                    }
                    return finish(verdict);
                }
                Err(e) if state.ratchet.knows_chain(&parsed.header.ratchet_key) => {
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
        let adopt = if self.current.initiated_by_us && !self.current.confirmed {
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

    fn state(&self, slot: usize) -> Option<&SessionState> {
        if slot == usize::MAX { Some(&self.current) } else { self.previous.get(slot) }
    }

    fn state_mut(&mut self, slot: usize) -> Option<&mut SessionState> {
        if slot == usize::MAX { Some(&mut self.current) } else { self.previous.get_mut(slot) }
    }

    /// Serializes the session, secrets included: store it only encrypted
    /// (see [`crate::persist`]).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = writer_for(MessageType::SessionState as u8, 1024);
        w.bytes(self.local.as_bytes()).bytes(self.peer.as_bytes());
        w.u8((1 + self.previous.len()) as u8);
        for state in core::iter::once(&self.current).chain(self.previous.iter()) {
            w.bytes(&state.base_key).u8(u8::from(state.initiated_by_us)).u8(u8::from(state.confirmed));
            match &state.pending_setup {
                Some(s) => {
                    w.u8(1).u32(s.signed_prekey_id);
                    match s.one_time_prekey_id {
                        Some(id) => w.u8(1).u32(id),
                        None => w.u8(0),
                    };
                }
                None => {
                    w.u8(0);
                }
            }
            state.ratchet.encode(&mut w);
        }
        Zeroizing::new(w.into_vec())
    }

    /// Restores a session from [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = state_reader(bytes, MessageType::SessionState)?;
        let local = IdentityKey::from_bytes(&r.array::<32>()?)?;
        let peer = IdentityKey::from_bytes(&r.array::<32>()?)?;
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_PREVIOUS_STATES + 1 {
            return Err(WireError::InvalidField("session state count").into());
        }
        let mut states = VecDeque::with_capacity(count);
        for _ in 0..count {
            let base_key = r.array()?;
            let initiated_by_us = r.bool()?;
            let confirmed = r.bool()?;
            let pending_setup = if r.bool()? {
                let signed_prekey_id = r.u32()?;
                let one_time_prekey_id = if r.bool()? { Some(r.u32()?) } else { None };
                Some(SetupData { initiator: local, base_key, signed_prekey_id, one_time_prekey_id })
            } else {
                None
            };
            let ratchet = RatchetState::decode(&mut r)?;
            states.push_back(SessionState { ratchet, base_key, initiated_by_us, pending_setup, confirmed });
        }
        r.finish()?;
        let current = states.pop_front().ok_or(Error::InvalidState("no session state"))?;
        Ok(Self { local, peer, current, previous: states })
    }
}

/// Splits the trailing payload-kind byte off a decrypted payload.
pub(crate) fn split_kind(mut payload: Zeroizing<Vec<u8>>) -> Result<(u8, Zeroizing<Vec<u8>>)> {
    let kind = payload.pop().ok_or(Error::AuthenticationFailed)?;
    Ok((kind, payload))
}

/// The payload handler for plain application messages.
pub(crate) fn app_payload(kind: u8, mut content: Zeroizing<Vec<u8>>) -> Verdict<Vec<u8>> {
    if kind == PayloadKind::App as u8 {
        Verdict::Accept(core::mem::take(&mut *content))
    } else {
        Verdict::Reject(Error::UnexpectedPayload(kind))
    }
}

pub(crate) fn finish<T>(verdict: Verdict<T>) -> Result<T> {
    match verdict {
        Verdict::Accept(v) => Ok(v),
        Verdict::Consume(e) | Verdict::Reject(e) => Err(e),
    }
}

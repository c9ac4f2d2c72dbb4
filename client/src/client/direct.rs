//! 1:1 sessions, and [`Client::receive`], the entry point for every
//! incoming message.

use rand_core::CryptoRng;
use sealpost::burnout::{Envelope, Opened};
use sealpost::wire::{MessageType, SessionMessage, peek_type};
use sealpost::{BurnoutError, IdentityKey, PreKeyBundle, Session, SessionError};

use super::event::Event;
use super::mailbox::{Destination, Outgoing, Via};
use super::{Client, Inner};
use crate::error::ClientError;
use crate::store::{Batch, Store, Table};
use crate::trust::TrustRecord;

impl<S: Store> Client<S> {
    /// Starts a session with `peer` from its prekey bundle (fetched from the
    /// server at `now_ms`). The bundle's identity is recorded for the peer on
    /// first use; a bundle under another identity than the recorded one is
    /// refused with [`ClientError::IdentityChanged`] (or
    /// [`ClientError::Blocked`] for a verified peer) until the user accepts
    /// it. An existing session with the peer is replaced.
    pub fn start_session<R: CryptoRng + ?Sized>(
        &self,
        peer: &str,
        bundle: &PreKeyBundle,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        super::devices::check_name(peer)?;
        let mut inner = self.lock()?;
        let mut batch = Batch::new();
        match inner.usable_identity(peer)? {
            Some(recorded) if recorded != *bundle.identity() => {
                return Err(ClientError::IdentityChanged {
                    peer: peer.into(),
                    recorded: Box::new(recorded),
                    offered: Box::new(*bundle.identity()),
                });
            }
            Some(_) => {}
            None => inner.put_trust(
                &mut batch,
                peer,
                TrustRecord::first_use(*bundle.identity()),
                &mut sealpost::default_rng(),
            ),
        }
        let session = inner.account.create_outbound_session_at(bundle, now_ms, rng)?;
        inner.put_session(&mut batch, peer, session, rng);
        inner.commit(batch, rng)
    }

    /// Whether a session with `peer` exists.
    pub fn has_session(&self, peer: &str) -> Result<bool, ClientError> {
        let inner = self.lock()?;
        let key = inner.keys.key(Table::Session, peer.as_bytes());
        Ok(inner.store.get(Table::Session, &key)?.is_some())
    }

    /// Encrypts `plaintext` for `peer` and commits the new session state
    /// and the outbox entry together; only then are the bytes returned.
    /// [`ClientError::NoSession`] without a session
    /// ([`start_session`](Self::start_session) first).
    pub fn send<R: CryptoRng + ?Sized>(
        &self,
        peer: &str,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        self.send_with(peer, rng, |session, rng| session.encrypt(plaintext, rng))
    }

    /// [`send`](Self::send) inside a Burnout `envelope` (authenticated
    /// expiry, burn after reading), enforced by the receiver at open and by
    /// its vault.
    pub fn send_burnout<R: CryptoRng + ?Sized>(
        &self,
        peer: &str,
        plaintext: &[u8],
        envelope: &Envelope,
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        self.send_with(peer, rng, |session, rng| session.encrypt_burnout(plaintext, envelope, rng))
    }

    fn send_with<R: CryptoRng + ?Sized>(
        &self,
        peer: &str,
        rng: &mut R,
        encrypt: impl FnOnce(&mut Session, &mut R) -> sealpost::Result<Vec<u8>>,
    ) -> Result<Outgoing, ClientError> {
        let mut inner = self.lock()?;
        let mut session = inner.usable_session(peer)?;
        let bytes = encrypt(&mut session, rng)?;
        let mut batch = Batch::new();
        inner.put_session(&mut batch, peer, session, rng);
        let out = inner.put_outgoing(&mut batch, Destination::Peer(peer.into()), bytes, rng);
        inner.commit(batch, rng)?;
        Ok(out)
    }

    /// Accepts one incoming message of any kind (1:1, sender-key
    /// distribution, group, Forkout delivery) at the local clock `now_ms`,
    /// and commits its effect before returning the event. `from` is the
    /// sender as the transport names it: the peer of a 1:1 message or a
    /// Forkout delivery (its identity is checked against the recorded one);
    /// a group message names its authenticated sender itself, and `from` is
    /// not used.
    ///
    /// A replay is [`Event::Duplicate`]; any other refusal is an error and
    /// changes nothing. A message for an unknown group or from a member
    /// whose sender key has not arrived yet is
    /// [`ClientError::UnknownGroup`] / a protocol error: keep it and deliver
    /// it again later.
    pub fn receive(&self, from: &str, bytes: &[u8], now_ms: u64) -> Result<Event, ClientError> {
        let kind = peek_type(bytes).map_err(sealpost::Error::from)?;
        // A device of a user comes in through `receive_from_device`, which
        // checks it against the user's device list.
        super::devices::check_name(from)?;
        let mut inner = self.lock()?;
        let event = match kind {
            MessageType::Ratchet | MessageType::Setup => inner.receive_direct(from, bytes, now_ms),
            MessageType::Group => inner.receive_group(bytes, now_ms),
            MessageType::ForkoutDelivery => inner.receive_forkout(from, bytes, now_ms),
            other => Err(ClientError::NotReceivable(other)),
        }?;
        Ok(event.named_by_user())
    }
}

impl<S: Store> Inner<S> {
    /// A 1:1 message: a chat message, a Burnout message or a sender-key
    /// distribution, in an existing session or setting one up.
    pub(super) fn receive_direct(&mut self, from: &str, bytes: &[u8], now_ms: u64) -> Result<Event, ClientError> {
        let mut rng = sealpost::default_rng();
        let trust = self.trust(from)?;
        if trust.as_ref().is_some_and(TrustRecord::is_blocked) {
            return Err(ClientError::Blocked { peer: from.into() });
        }
        let mut batch = Batch::new();
        let existing = self.session(from)?;
        // The common case first: a message for a state the session holds
        // (its peer's identity is the recorded one). It needs neither the
        // account nor a parse of its own.
        if let Some(mut session) = existing.clone() {
            match session.open(bytes, now_ms) {
                Ok(opened) => return self.accepted(batch, from, session, opened, false, now_ms),
                Err(sealpost::Error::DuplicateMessage) => return Ok(Event::Duplicate),
                Err(sealpost::Error::UnexpectedPayload(_)) => {
                    return self.install_distribution(batch, from, Some(session), None, bytes);
                }
                Err(sealpost::Error::Burnout(BurnoutError::Expired { .. } | BurnoutError::MalformedEnvelope(_))) => {
                    // Authentic, and its key used up in `session`.
                    self.put_session(&mut batch, from, session, &mut rng);
                    self.commit(batch, &mut rng)?;
                    return Ok(Event::Expired { from: from.into(), via: Via::Direct });
                }
                // A setup for a state it does not hold, or from another
                // identity: the account path below decides.
                Err(sealpost::Error::Session(SessionError::UnknownSessionSetup | SessionError::PeerMismatch)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // A setup message for a new state: the account's prekeys, and the
        // identity it claims checked against the recorded one.
        let parsed = SessionMessage::parse(bytes).map_err(sealpost::Error::from)?;
        let Some(claimed) = parsed.claimed_sender() else {
            return Err(ClientError::NoSession { peer: from.into() });
        };
        let mut account = self.account.clone();
        if let Some(t) = trust.as_ref().filter(|t| t.identity != claimed) {
            // Authentic? Decrypt on copies; nothing of it is kept. A payload
            // of another kind is refused only after it authenticated.
            match account.create_inbound_session_at(bytes, now_ms) {
                Ok(_) | Err(sealpost::Error::UnexpectedPayload(_)) => {}
                Err(e) => return Err(e.into()),
            }
            return self.identity_changed(batch, from, t.clone(), claimed);
        }
        if trust.is_none() {
            self.put_trust(&mut batch, from, TrustRecord::first_use(claimed), &mut rng);
        }
        let (session, opened) = match existing {
            Some(mut session) => match account.open(&mut session, bytes, now_ms) {
                Err(sealpost::Error::DuplicateMessage) => return Ok(Event::Duplicate),
                Err(sealpost::Error::UnexpectedPayload(_)) => {
                    return self.install_distribution(batch, from, Some(session), Some(account), bytes);
                }
                Err(sealpost::Error::Burnout(BurnoutError::Expired { .. } | BurnoutError::MalformedEnvelope(_))) => {
                    (session, None)
                }
                other => (session, Some(other?)),
            },
            None => match account.create_inbound_session_at(bytes, now_ms) {
                Err(sealpost::Error::Session(SessionError::OneTimePreKeyReused(_))) => {
                    return Ok(Event::Duplicate);
                }
                Err(sealpost::Error::UnexpectedPayload(_)) => {
                    return self.install_distribution(batch, from, None, Some(account), bytes);
                }
                Ok((session, Err(sealpost::Error::Burnout(_)))) => (session, None),
                other => {
                    let (session, opened) = other?;
                    (session, Some(opened?))
                }
            },
        };
        self.put_account(&mut batch, account, &mut rng);
        let Some(opened) = opened else {
            // Authentic but expired: the state it set up (and the one-time
            // prekey it used) is committed, nothing is handed out.
            self.put_session(&mut batch, from, session, &mut rng);
            self.commit(batch, &mut rng)?;
            return Ok(Event::Expired { from: from.into(), via: Via::Direct });
        };
        self.accepted(batch, from, session, opened, true, now_ms)
    }

    /// Commits an accepted 1:1 message: the session, an inbox entry (or a
    /// vault entry for Burnout content), with whatever `batch` already
    /// holds; then hands out the event.
    fn accepted(
        &mut self,
        mut batch: Batch,
        from: &str,
        session: Session,
        opened: Opened,
        new_session: bool,
        now_ms: u64,
    ) -> Result<Event, ClientError> {
        let mut rng = sealpost::default_rng();
        self.put_session(&mut batch, from, session, &mut rng);
        self.deliver(batch, from, Via::Direct, None, opened, now_ms, |id, plaintext| Event::Message {
            id,
            from: from.into(),
            plaintext,
            new_session,
        })
    }

    /// Ends every accepted message: plain content goes to the inbox and out
    /// as `event(id, plaintext)`; Burnout content goes to the vault and out
    /// as [`Event::Burnout`] (or is dropped as [`Event::Burned`] when
    /// another own device already burned the message `origin` names).
    /// Commits `batch` with it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn deliver(
        &mut self,
        mut batch: Batch,
        from: &str,
        via: Via,
        origin: Option<[u8; 32]>,
        opened: Opened,
        now_ms: u64,
        event: impl FnOnce(u64, Vec<u8>) -> Event,
    ) -> Result<Event, ClientError> {
        let mut rng = sealpost::default_rng();
        match opened {
            Opened::Message(plaintext) => {
                let id = self.put_received(&mut batch, from, via, &plaintext, &mut rng);
                self.commit(batch, &mut rng)?;
                Ok(event(id, plaintext))
            }
            Opened::Burnout(message) => {
                let envelope = *message.envelope();
                let Some(entry) = self.store_burnout(&mut batch, message, origin, now_ms)? else {
                    self.commit(batch, &mut rng)?;
                    return Ok(Event::Burned { from: from.into(), entry: None });
                };
                self.commit(batch, &mut rng)?;
                Ok(Event::Burnout { from: from.into(), via, entry, envelope })
            }
        }
    }

    /// An authentic setup from `from` under `offered`, not the recorded
    /// identity: recorded as pending, committed, reported.
    pub(super) fn identity_changed(
        &mut self,
        mut batch: Batch,
        from: &str,
        mut trust: TrustRecord,
        offered: IdentityKey,
    ) -> Result<Event, ClientError> {
        let mut rng = sealpost::default_rng();
        trust.pending = Some(offered);
        let (verified, recorded) = (trust.verified, trust.identity);
        self.put_trust(&mut batch, from, trust, &mut rng);
        self.commit(batch, &mut rng)?;
        Ok(if verified {
            Event::Blocked { from: from.into(), offered: Box::new(offered) }
        } else {
            Event::IdentityChanged { from: from.into(), recorded: Box::new(recorded), offered: Box::new(offered) }
        })
    }
}

//! Forkout inside the client: one body sealed once for many peers, each
//! reached through its 1:1 session; the relay splits the bundle.

use rand_core::CryptoRng;
use sealpost::burnout::Envelope;
use sealpost::forkout::{self, ForkoutDelivery, Recipient, SealPolicy};
use sealpost::{BurnoutError, Session};

use super::event::Event;
use super::mailbox::{Destination, Outgoing, Via};
use super::{Client, Inner};
use crate::error::ClientError;
use crate::store::{Batch, Store};
use crate::trust::TrustRecord;

impl<S: Store> Client<S> {
    /// Seals `body` once for every peer named in `peers` (each needs a
    /// session; duplicates are merged), inside a Burnout `envelope` if one is
    /// given. Commits every session with one outbox entry
    /// ([`Destination::Relay`]) holding the bundle: the relay splits it
    /// ([`sealpost::forkout::split_all`]) into one delivery per recipient,
    /// which each receives with [`receive`](Self::receive). All or nothing:
    /// a peer without a usable session fails the call and changes nothing.
    pub fn send_forkout<R: CryptoRng + ?Sized>(
        &self,
        peers: &[&str],
        body: &[u8],
        envelope: Option<&Envelope>,
        rng: &mut R,
    ) -> Result<Outgoing, ClientError> {
        let mut inner = self.lock()?;
        let mut names: Vec<String> = Vec::with_capacity(peers.len());
        let mut sessions: Vec<Session> = Vec::with_capacity(peers.len());
        for &peer in peers {
            if names.iter().any(|n| n == peer) {
                continue;
            }
            sessions.push(inner.usable_session(peer)?);
            names.push(peer.into());
        }
        let recipients = sessions.iter_mut().map(Recipient::Session);
        let (sealed, _report) =
            forkout::seal(&inner.account, body.to_vec(), recipients, SealPolicy::AllOrNothing, envelope.copied(), rng)?;
        let mut batch = Batch::new();
        for (name, session) in names.iter().zip(sessions) {
            inner.put_session(&mut batch, name, session, rng);
        }
        let out = inner.put_outgoing(&mut batch, Destination::Relay(names), sealed.to_bytes(), rng);
        inner.commit(batch, rng)?;
        Ok(out)
    }
}

impl<S: Store> Inner<S> {
    /// A Forkout delivery from `from`: through the session with it, or
    /// setting one up (a first-contact delivery).
    pub(super) fn receive_forkout(&mut self, from: &str, bytes: &[u8], now_ms: u64) -> Result<Event, ClientError> {
        let mut rng = sealpost::default_rng();
        let trust = self.trust(from)?;
        if trust.as_ref().is_some_and(TrustRecord::is_blocked) {
            return Err(ClientError::Blocked { peer: from.into() });
        }
        let delivery = ForkoutDelivery::parse(bytes).map_err(sealpost::Error::from)?;
        let mut batch = Batch::new();
        let mut account = self.account.clone();
        let (session, opened) = match (self.session(from)?, delivery.claimed_sender()) {
            (Some(mut session), claimed) if claimed.is_none_or(|c| c == *session.peer_identity()) => {
                match forkout::open(&mut account, &mut session, bytes, now_ms) {
                    Ok(opened) => (session, Some(opened)),
                    Err(sealpost::Error::DuplicateMessage) => return Ok(Event::Duplicate),
                    Err(sealpost::Error::Burnout(
                        BurnoutError::Expired { .. } | BurnoutError::MalformedEnvelope(_),
                    )) => (session, None),
                    Err(e) => return Err(e.into()),
                }
            }
            (_, None) => return Err(ClientError::NoSession { peer: from.into() }),
            (_, Some(claimed)) => {
                // First contact, or a re-initiation under a new identity.
                let (session, opened) = match forkout::open_new(&mut account, bytes, now_ms) {
                    Err(sealpost::Error::Session(sealpost::SessionError::OneTimePreKeyReused(_))) => {
                        return Ok(Event::Duplicate);
                    }
                    other => other?,
                };
                match trust {
                    Some(t) if t.identity != claimed => return self.identity_changed(batch, from, t, claimed),
                    Some(_) => {}
                    None => self.put_trust(&mut batch, from, TrustRecord::first_use(claimed), &mut rng),
                }
                (session, opened.ok())
            }
        };
        // A setup slot may have used a one-time prekey.
        let sender = *session.peer_identity();
        self.put_account(&mut batch, account, &mut rng);
        self.put_session(&mut batch, from, session, &mut rng);
        let Some(opened) = opened else {
            // Authentic but expired: its key is used up, nothing is handed out.
            self.commit(batch, &mut rng)?;
            return Ok(Event::Expired { from: from.into(), via: Via::Forkout });
        };
        let origin = super::vault::burn_origin(super::vault::ORIGIN_FORKOUT, &sender, opened.id().as_bytes());
        let mut opened = opened.into_opened();
        // A user's device frames what it sends to people (devices.rs).
        if super::devices::parse_device_peer(from).is_some() {
            match super::devices::unframe(opened)? {
                super::devices::Framed::Content(content) => opened = *content,
                super::devices::Framed::BurnNotice(burned) => return self.burn_notice(batch, from, burned),
            }
        }
        self.deliver(batch, from, Via::Forkout, Some(origin), opened, now_ms, |id, plaintext| Event::Forkout {
            id,
            from: from.into(),
            plaintext,
        })
    }
}

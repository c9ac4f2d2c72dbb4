//! Burnout over 1:1 sessions.
//!
//! A 1:1 Burnout message is an ordinary Double Ratchet message whose AEAD
//! plaintext is `content | envelope (18) | 0x01` (payload kind
//! `BurnoutApp`). The functions live here, as `impl` blocks on
//! [`Session`] and [`Account`], rather than in `session.rs`: the ratchet
//! code stays a transport that knows nothing about expiry, and every
//! Burnout decision (which errors use up the key) sits next to the rest of
//! Burnout. They appear in the documentation of [`Session`] and
//! [`Account`] like any other method.
//!
//! Opening is transactional in the sense of the rest of the crate, with one
//! documented exception: an expired message (or one with a malformed
//! envelope) **uses up its message key** (the session state moves on, a
//! skipped key for it is deleted) and returns an error; its plaintext is
//! zeroized and never returned. Clock skew leaves everything untouched.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::envelope::Envelope;
use super::message::{BurnoutMessage, Opened};
use super::payload::{seal_trailer, take_checked, verdict};
use crate::account::Account;
use crate::error::{Error, Result};
use crate::identity::IdentityKey;
use crate::session::{Session, Verdict, finish};
use crate::wire::PayloadKind;
use crate::wire::session_message::SessionMessage;

impl Session {
    /// Encrypts a Burnout message: `plaintext` under the authenticated
    /// `envelope`. Refuses an envelope already expired at its own sent-at
    /// time ([`Error::Expired`]).
    ///
    /// The recipient must open it with [`Session::open_burnout`],
    /// [`Session::open`] or their [`Account`] counterparts;
    /// [`Session::decrypt`] refuses it.
    ///
    /// ```
    /// use sealpost::{Account, Error, burnout::Envelope};
    /// let mut rng = rand::rng();
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
    /// assert_eq!(to_alice.open_burnout(&late, now + 60_000).unwrap_err(), Error::Expired { expired_at_ms: now + 60_000 });
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

    /// Opens a Burnout message at the caller's clock `now_ms` (ms since the
    /// Unix epoch).
    ///
    /// * [`Error::Expired`] at or after the expiry, and
    ///   [`Error::MalformedEnvelope`]: the plaintext is zeroized, never
    ///   returned, and **the message key is used up** (the state moves on;
    ///   the same message then fails with [`Error::DuplicateMessage`]).
    /// * [`Error::ClockSkew`] when the sent-at time is more than
    ///   [`MAX_CLOCK_SKEW_MS`](crate::limits::MAX_CLOCK_SKEW_MS) ahead:
    ///   nothing changes, retry when the clocks agree.
    /// * [`Error::UnexpectedPayload`] for a plain (non-Burnout) message,
    ///   and every other error: nothing changes.
    ///
    /// Setup messages of states this session does not hold need the prekey
    /// store: use [`Account::open_burnout`].
    ///
    /// ```
    /// use sealpost::{Account, burnout::Envelope};
    /// let mut rng = rand::rng();
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
        self.decrypt_with(message, |kind, content| burnout_payload(kind, content, now_ms, sender))
    }

    /// Opens any application message, plain or Burnout, at `now_ms`: the
    /// kind is only known after decryption. Burnout messages follow the
    /// rules of [`Session::open_burnout`]; plain ones those of
    /// [`Session::decrypt`].
    ///
    /// ```
    /// use sealpost::{Account, burnout::{Envelope, Opened}};
    /// let mut rng = rand::rng();
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
        self.decrypt_with(message, |kind, content| any_app_payload(kind, content, now_ms, sender))
    }
}

impl Account {
    /// [`Session::open_burnout`] for any message from `session`'s peer,
    /// including setup messages that start a new state (see
    /// [`Account::decrypt`]). An expired setup message installs its state
    /// and consumes its one-time prekey, so later messages of that state
    /// still open.
    ///
    /// ```
    /// use sealpost::{Account, burnout::Envelope};
    /// let mut rng = rand::rng();
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
        self.decrypt_with(session, message, |kind, content| burnout_payload(kind, content, now_ms, sender))
    }

    /// [`Session::open`] for any message from `session`'s peer, including
    /// setup messages that start a new state.
    ///
    /// ```
    /// use sealpost::{Account, burnout::{Envelope, Opened}};
    /// let mut rng = rand::rng();
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
        self.decrypt_with(session, message, |kind, content| any_app_payload(kind, content, now_ms, sender))
    }

    /// Accepts a peer's setup message carrying a plain or Burnout message,
    /// opened at `now_ms`.
    ///
    /// * Outer `Err`: nothing changed (the account is untouched, no
    ///   session exists).
    /// * `Ok((session, Err(e)))`: the message authenticated, so the
    ///   session exists and the one-time prekey is consumed, but its content
    ///   is refused with `e` ([`Error::Expired`] or
    ///   [`Error::MalformedEnvelope`]) and is gone for good. Keep the
    ///   session: the peer's next messages open with it.
    /// * `Ok((session, Ok(opened)))`: as
    ///   [`Account::create_inbound_session`].
    ///
    /// A first message with clock skew is an outer error (nothing changes;
    /// retry later).
    ///
    /// ```
    /// use sealpost::{Account, Error, burnout::Envelope};
    /// let mut rng = rand::rng();
    /// let sent = 1_700_000_000_000;
    /// let (alice, mut bob) = (Account::new(&mut rng, sent), Account::new(&mut rng, sent));
    /// bob.generate_one_time_prekeys(1, &mut rng)?;
    /// let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
    /// let first = to_bob.encrypt_burnout(b"gone by tonight", &Envelope::with_ttl(sent, 3_600_000), &mut rng)?;
    /// let second = to_bob.encrypt(b"call me", &mut rng)?;
    ///
    /// // Bob comes online the next day.
    /// let (mut to_alice, first) = bob.create_inbound_session_at(&first, sent + 86_400_000)?;
    /// assert_eq!(first.unwrap_err(), Error::Expired { expired_at_ms: sent + 3_600_000 });
    /// assert_eq!(bob.decrypt(&mut to_alice, &second)?, b"call me");
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn create_inbound_session_at(&mut self, message: &[u8], now_ms: u64) -> Result<(Session, Result<Opened>)> {
        let sender = SessionMessage::parse(message)?.setup.ok_or(Error::UnknownSessionSetup)?.initiator;
        self.create_inbound_session_consuming(message, |kind, content| any_app_payload(kind, content, now_ms, sender))
    }

    /// Like `create_inbound_session_with`, but keeps the new session when
    /// the handler returns `Verdict::Consume`: the outer error means nothing
    /// changed; the inner one means the session was created and the
    /// message's key used up. Use it for every handler that can consume
    /// (group distributions or Forkout slots carrying Burnout content).
    pub(crate) fn create_inbound_session_consuming<T>(
        &mut self,
        message: &[u8],
        accept: impl FnOnce(u8, Zeroizing<Vec<u8>>) -> Verdict<T>,
    ) -> Result<(Session, Result<T>)> {
        let parsed = SessionMessage::parse(message)?;
        let setup = parsed.setup.ok_or(Error::UnknownSessionSetup)?;
        let (state, verdict) = self.accept_setup(&parsed, accept)?;
        let session = Session::new(*self.identity(), setup.initiator, state);
        Ok((session, finish(verdict)))
    }
}

/// The payload handler for Burnout messages only.
fn burnout_payload(kind: u8, content: Zeroizing<Vec<u8>>, now_ms: u64, sender: IdentityKey) -> Verdict<BurnoutMessage> {
    if kind != PayloadKind::BurnoutApp as u8 {
        return Verdict::Reject(Error::UnexpectedPayload(kind));
    }
    verdict(take_checked(content, now_ms).map(|(body, env)| BurnoutMessage::received(body, env, sender)))
}

/// The payload handler for plain and Burnout application messages.
fn any_app_payload(kind: u8, mut content: Zeroizing<Vec<u8>>, now_ms: u64, sender: IdentityKey) -> Verdict<Opened> {
    if kind == PayloadKind::App as u8 {
        return Verdict::Accept(Opened::Message(core::mem::take(&mut *content)));
    }
    match burnout_payload(kind, content, now_ms, sender) {
        Verdict::Accept(m) => Verdict::Accept(Opened::Burnout(m)),
        Verdict::Consume(e) => Verdict::Consume(e),
        Verdict::Reject(e) => Verdict::Reject(e),
    }
}

#[cfg(test)]
mod tests {
    //! Cases only a (buggy or malicious) sender can produce, built with the
    //! crate-internal `encrypt_payload`: a relay cannot, since the payload
    //! kind and the envelope are inside the AEAD.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::error::WireError;

    const NOW: u64 = 1_700_000_000_000;

    fn pair() -> (StdRng, Session, Account, Session) {
        let mut rng = StdRng::seed_from_u64(7);
        let alice = Account::new(&mut rng, NOW);
        let mut bob = Account::new(&mut rng, NOW);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let (b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
        (rng, a, bob, b)
    }

    #[test]
    fn malformed_envelopes_are_consumed_and_never_returned() {
        let mut bad_flags = Envelope::with_ttl(NOW, 1000).to_bytes();
        bad_flags[17] |= 0x04;
        let mut bad_version = Envelope::with_ttl(NOW, 1000).to_bytes();
        bad_version[0] = 2;
        let cases: [(&[u8], Error); 4] = [
            (b"", Error::MalformedEnvelope(WireError::Truncated { needed: 18 })),
            (b"seventeen bytes!!", Error::MalformedEnvelope(WireError::Truncated { needed: 1 })),
            (&bad_flags, Error::MalformedEnvelope(WireError::InvalidField("unknown envelope flags"))),
            (&bad_version, Error::MalformedEnvelope(WireError::UnsupportedVersion(2))),
        ];
        for (content, expected) in cases {
            let (mut rng, mut a, mut bob, mut b) = pair();
            let m = a.encrypt_payload(content, &[], PayloadKind::BurnoutApp, &mut rng).unwrap();
            let before = b.to_bytes();
            assert_eq!(bob.open_burnout(&mut b, &m, NOW).unwrap_err(), expected);
            assert_ne!(b.to_bytes(), before, "the key is used up");
            assert_eq!(b.open_burnout(&m, NOW).unwrap_err(), Error::DuplicateMessage);
        }
    }

    #[test]
    fn an_envelope_under_the_plain_kind_is_not_burnout() {
        // A sender that "strips" the Burnout kind: the result is a plain
        // message, which the Burnout API refuses without consuming.
        let (mut rng, mut a, _bob, mut b) = pair();
        let env = Envelope::with_ttl(NOW, 1000).to_bytes();
        let m = a.encrypt_payload(b"body", &env, PayloadKind::App, &mut rng).unwrap();
        let before = b.to_bytes();
        assert_eq!(b.open_burnout(&m, NOW).unwrap_err(), Error::UnexpectedPayload(0));
        assert_eq!(b.to_bytes(), before);
    }

    #[test]
    fn other_kinds_are_refused_by_open_without_consuming() {
        let (mut rng, mut a, mut bob, mut b) = pair();
        let m = a.encrypt_payload(b"key material", &[], PayloadKind::GroupDistribution, &mut rng).unwrap();
        let before = b.to_bytes();
        assert_eq!(bob.open(&mut b, &m, NOW).unwrap_err(), Error::UnexpectedPayload(2));
        assert_eq!(b.to_bytes(), before);
    }
}

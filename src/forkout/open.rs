//! Opening a delivery: the slot through the 1:1 session, then the body.
//!
//! Every check runs inside the session's payload handler, before the 1:1
//! state change is committed: the slot's kind, its Forkout id against the
//! delivery's, its Burnout envelope, the body length, the body commitment
//! and the key check; only then is the body decrypted. Any failure rejects the slot
//! and leaves the session and the account exactly as they were, except an
//! expired or malformed envelope, which uses up the slot's message key
//! (the Burnout rule, shared with every message kind through
//! [`crate::burnout::payload`]). The body is decrypted into a zeroizing
//! buffer; a body under an envelope is only ever handed out as a
//! [`BurnoutMessage`](crate::burnout::BurnoutMessage).

use zeroize::Zeroizing;

use super::ForkoutId;
use super::body::{self, ct_eq32};
use super::bundle::ForkoutDelivery;
use crate::account::Account;
use crate::burnout::payload;
use crate::burnout::{Envelope, Opened};
use crate::error::ForkoutError;
use crate::error::{Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::session::{Session, Verdict};
use crate::wire::PayloadKind;

/// A Forkout as its recipient reads it.
///
/// A plain body is [`body`](Self::body) / [`into_body`](Self::into_body).
/// A body under a Burnout envelope is reachable only through
/// [`into_opened`](Self::into_opened), as a
/// [`BurnoutMessage`](crate::burnout::BurnoutMessage) (zeroized on drop,
/// for the [`Vault`](crate::burnout::Vault)). Not `Clone`, and `Debug`
/// shows no content.
///
/// ```
/// use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
/// let mut rng = sealpost::default_rng();
/// let (manager, mut bob) = (Account::new(&mut rng, 0), Account::new(&mut rng, 0));
/// let (sealed, _) = forkout::seal(&manager, b"memo".to_vec(), [Recipient::Bundle(bob.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let delivery = sealed.delivery(bob.identity())?.to_vec();
/// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
/// let opened = opened?;
/// assert_eq!((opened.sender(), opened.body()), (manager.identity(), Some(&b"memo"[..])));
/// # Ok::<(), sealpost::Error>(())
/// ```
pub struct OpenedForkout {
    id: ForkoutId,
    commitment: [u8; 32],
    sender: IdentityKey,
    content: Opened,
}

impl core::fmt::Debug for OpenedForkout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenedForkout")
            .field("id", &self.id)
            .field("sender", &self.sender)
            .field("content", &self.content)
            .finish()
    }
}

impl OpenedForkout {
    /// The Forkout's id (the same for every recipient).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert_eq!(opened.id(), sealed.id());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn id(&self) -> ForkoutId {
        self.id
    }

    /// The commitment to the body (BLAKE3 over the Forkout id, key check and
    /// ciphertext), checked against the body before it was decrypted. Unlike
    /// the id, which the sender picks, it binds the content: two recipients
    /// (or two deliveries) with the same commitment hold the same body, so
    /// apps can deduplicate on it.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert_eq!(opened.commitment(), sealed.commitment()); // the same body for everyone
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn commitment(&self) -> [u8; 32] {
        self.commitment
    }

    /// Who sent it: the session's peer, authenticated by the slot.
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert_eq!(opened.sender(), manager.identity());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sender(&self) -> &IdentityKey {
        &self.sender
    }

    /// The body of a plain Forkout; `None` under a Burnout envelope (use
    /// [`into_opened`](Self::into_opened)).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert_eq!(opened.body(), Some(&b"plan"[..]));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn body(&self) -> Option<&[u8]> {
        match &self.content {
            Opened::Message(body) => Some(body),
            Opened::Burnout(_) => None,
        }
    }

    /// Takes the body of a plain Forkout; `None` under a Burnout envelope
    /// (use [`into_opened`](Self::into_opened)).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert_eq!(opened.into_body(), Some(b"plan".to_vec()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_body(self) -> Option<Vec<u8>> {
        self.content.into_message()
    }

    /// Takes the content: a body under a Burnout envelope is an
    /// [`Opened::Burnout`] ready for the [`Vault`](crate::burnout::Vault)
    /// (the body was moved, never copied, into its zeroizing buffer); any
    /// other body is [`Opened::Message`].
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert_eq!(opened.into_opened().into_message(), Some(b"plan".to_vec()));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn into_opened(self) -> Opened {
        self.content
    }

    /// The Burnout envelope, if the sender set one (already checked against
    /// the clock given to [`open`]; burn-after-reading is the app's to
    /// enforce).
    ///
    /// ```
    /// # use sealpost::{Account, forkout::{self, Recipient, SealPolicy}};
    /// # let mut rng = sealpost::default_rng();
    /// # let manager = Account::new(&mut rng, 0);
    /// # let mut bob = Account::new(&mut rng, 0);
    /// let recipients = [Recipient::Bundle(bob.prekey_bundle()?)];
    /// let (sealed, _) = forkout::seal(&manager, b"plan".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)?;
    /// let delivery = sealed.delivery(bob.identity())?.to_vec();
    /// let (_session, opened) = forkout::open_new(&mut bob, &delivery, 0)?;
    /// let opened = opened?;
    /// assert!(opened.envelope().is_none()); // a plain Forkout
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn envelope(&self) -> Option<&Envelope> {
        match &self.content {
            Opened::Burnout(message) => Some(message.envelope()),
            Opened::Message(_) => None,
        }
    }
}

/// Opens a delivery from the peer of an existing `session`.
///
/// Handles every slot the session can read, including a setup slot for a
/// state the session does not hold yet (the sender re-initiated), for
/// which the account's prekeys are needed.
///
/// Errors, all leaving `account` and `session` unchanged unless noted:
/// [`Error::Wire`] for malformed bytes; the 1:1 errors
/// ([`Error::AuthenticationFailed`], [`Error::DuplicateMessage`], ...) for a
/// slot the session cannot open or already opened;
/// [`Error::UnexpectedPayload`] for a 1:1 message that is not a Forkout
/// slot; [`ForkoutError::ForkoutIdMismatch`] for a slot moved from another
/// Forkout; [`ForkoutError::BodyLengthMismatch`] for a truncated or extended body;
/// [`ForkoutError::BodyCommitmentMismatch`] for a swapped or tampered body;
/// [`BurnoutError::ClockSkew`]; and, using up the slot's message key so the body
/// can never be read, [`BurnoutError::Expired`] and [`BurnoutError::MalformedEnvelope`].
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let now = 1_700_000_000_000;
/// # let sender = Account::new(&mut rng, now);
/// # let mut bob = Account::new(&mut rng, now);
/// # bob.generate_one_time_prekeys(1, &mut rng)?;
/// # let mut to_bob = sender.create_outbound_session(&bob.prekey_bundle()?, &mut rng)?;
/// # let (mut bob_session, _) = bob.create_inbound_session(&to_bob.encrypt(b"hi", &mut rng)?)?;
/// let (sealed, _) = forkout::seal(&sender, b"all hands at 3".to_vec(),
///     [Recipient::Session(&mut to_bob)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let delivery = sealed.delivery(bob.identity())?.to_vec();
///
/// let opened = forkout::open(&mut bob, &mut bob_session, &delivery, now)?;
/// assert_eq!(opened.body(), Some(&b"all hands at 3"[..]));
/// assert_eq!(opened.sender(), sender.identity());
/// // The commitment binds the content (the id does not): deduplicate on it.
/// assert_eq!(opened.commitment(), sealed.commitment());
/// // Opening twice is a replay.
/// assert_eq!(forkout::open(&mut bob, &mut bob_session, &delivery, now).err(),
///            Some(sealpost::Error::DuplicateMessage));
/// # Ok::<(), sealpost::Error>(())
/// ```
///
/// [`Error::Wire`]: crate::error::Error::Wire
/// [`Error::AuthenticationFailed`]: crate::error::Error::AuthenticationFailed
/// [`Error::DuplicateMessage`]: crate::error::Error::DuplicateMessage
/// [`Error::UnexpectedPayload`]: crate::error::Error::UnexpectedPayload
/// [`BurnoutError::ClockSkew`]: crate::error::BurnoutError::ClockSkew
/// [`BurnoutError::Expired`]: crate::error::BurnoutError::Expired
/// [`BurnoutError::MalformedEnvelope`]: crate::error::BurnoutError::MalformedEnvelope
pub fn open(account: &mut Account, session: &mut Session, delivery: &[u8], now_ms: u64) -> Result<OpenedForkout> {
    let parsed = ForkoutDelivery::parse(delivery)?;
    let sender = *session.peer_identity();
    let (body, envelope, commitment) =
        account.decrypt_parsed(session, &parsed.slot, |kind, content| accept_slot(&parsed, kind, &content, now_ms))?;
    Ok(OpenedForkout { id: parsed.id(), commitment, sender, content: payload::opened(body, envelope, sender) })
}

/// Opens a first-contact delivery (its slot is a setup message) from
/// someone the recipient has no session with yet, and returns the new
/// session: the recipient's reply goes back through it.
///
/// Two levels of result, as for
/// [`Account::create_inbound_session_at`](crate::Account::create_inbound_session_at):
///
/// * the outer error means nothing changed (the account, and its one-time
///   prekey, are as before): the errors of [`open`] except those below;
/// * `Ok((session, Err(e)))` means the slot authenticated and the session
///   exists (the one-time prekey is used up), but its Burnout envelope was
///   [`BurnoutError::Expired`] or [`BurnoutError::MalformedEnvelope`]: the body is never
///   returned, and the sender's later messages continue in the session.
///
/// ```
/// # use sealpost::Account;
/// # use sealpost::forkout::{self, Recipient, SealPolicy};
/// # let mut rng = sealpost::default_rng();
/// # let sender = Account::new(&mut rng, 0);
/// # let mut carol = Account::new(&mut rng, 0);
/// # carol.generate_one_time_prekeys(1, &mut rng)?;
/// let (sealed, mut report) = forkout::seal(&sender, b"welcome aboard".to_vec(),
///     [Recipient::Bundle(carol.prekey_bundle()?)], SealPolicy::AllOrNothing, None, &mut rng)?;
/// let delivery = sealed.delivery(carol.identity())?.to_vec();
///
/// let (mut carol_session, opened) = forkout::open_new(&mut carol, &delivery, 0)?;
/// assert_eq!(opened?.body(), Some(&b"welcome aboard"[..]));
/// let reply = carol_session.encrypt(b"thank you!", &mut rng)?;
/// assert_eq!(report.new_sessions[0].decrypt(&reply)?, b"thank you!");
/// # Ok::<(), sealpost::Error>(())
/// ```
///
/// [`BurnoutError::Expired`]: crate::error::BurnoutError::Expired
/// [`BurnoutError::MalformedEnvelope`]: crate::error::BurnoutError::MalformedEnvelope
pub fn open_new(account: &mut Account, delivery: &[u8], now_ms: u64) -> Result<(Session, Result<OpenedForkout>)> {
    let parsed = ForkoutDelivery::parse(delivery)?;
    let (session, opened) =
        account.accept_inbound(&parsed.slot, |kind, content| accept_slot(&parsed, kind, &content, now_ms))?;
    let sender = *session.peer_identity();
    let opened = opened.map(|(body, envelope, commitment)| OpenedForkout {
        id: parsed.id(),
        commitment,
        sender,
        content: payload::opened(body, envelope, sender),
    });
    Ok((session, opened))
}

/// The decrypted body (zeroizing), its checked envelope and its commitment.
type Accepted = (Zeroizing<Vec<u8>>, Option<Envelope>, [u8; 32]);

/// The payload handler: every check on the slot and the body.
fn accept_slot(delivery: &ForkoutDelivery<'_>, kind: u8, content: &[u8], now_ms: u64) -> Verdict<Accepted> {
    if kind != PayloadKind::ForkoutSlot as u8 {
        return Verdict::Reject(Error::UnexpectedPayload(kind));
    }
    let Some((fixed, trailer)) = content.split_at_checked(body::SLOT_LEN) else {
        let needed = body::SLOT_LEN.saturating_sub(content.len());
        return Verdict::Reject(WireError::Truncated { needed }.into());
    };
    let slot = match body::decode_slot(fixed) {
        Ok(slot) => slot,
        Err(e) => return Verdict::Reject(e.into()),
    };
    let received = &delivery.inner;
    if slot.id.as_bytes() != received.id {
        return Verdict::Reject(Error::Forkout(ForkoutError::ForkoutIdMismatch));
    }
    // The Burnout rule: expired or malformed envelope consumes the key,
    // clock skew leaves everything as it was.
    let envelope = match payload::open_checked(trailer, slot.has_envelope, now_ms) {
        Ok(([], envelope)) => envelope,
        Ok((extra, _)) => return Verdict::Reject(WireError::TrailingBytes(extra.len()).into()),
        Err(e) => return payload::verdict(Err(e)),
    };
    let found = received.body.ciphertext.len() as u64;
    if found != slot.body_len {
        return Verdict::Reject(Error::Forkout(ForkoutError::BodyLengthMismatch { expected: slot.body_len, found }));
    }
    // The commitment is the body's integrity check (it arrived authenticated
    // in the slot); the key check, which it covers, is compared with the one
    // the slot's key derives, so the body bytes determine the key.
    let commitment = body::commitment(&slot.id, received.body.key_check, received.body.ciphertext);
    if !ct_eq32(&commitment, &slot.commitment) || !ct_eq32(&slot.keys.check, received.body.key_check) {
        return Verdict::Reject(Error::Forkout(ForkoutError::BodyCommitmentMismatch));
    }
    Verdict::Accept((slot.keys.decrypt(received.body.ciphertext), envelope, slot.commitment))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::error::BurnoutError;
    use crate::forkout::body::{BodyKeys, commitment, encode_slot};
    use crate::forkout::bundle::{BodyRef, DeliveryRef};
    use crate::wire::MessageType;

    /// Builds a delivery around a sealed body; the slot bytes only need to
    /// parse (the handler is called directly with the slot content).
    fn delivery(id: &ForkoutId, check: &[u8; 32], ciphertext: &[u8]) -> Vec<u8> {
        let mut slot = vec![MessageType::Ratchet.version(), MessageType::Ratchet as u8];
        // Ratchet key, chain lengths, salt; post-quantum epoch, no chunk;
        // a ciphertext with room for its tag.
        slot.extend_from_slice(&[9; 32 + 8 + 16]);
        slot.extend_from_slice(&[0; 4 + 1]);
        slot.extend_from_slice(&[9; 17]);
        let body = BodyRef { key_check: check, ciphertext };
        DeliveryRef { id: id.as_bytes(), slot: &slot, body }.to_vec()
    }

    fn verdict<T>(v: Verdict<T>) -> core::result::Result<T, (bool, Error)> {
        match v {
            Verdict::Accept(t) => Ok(t),
            Verdict::Consume(e) => Err((true, e)),
            Verdict::Reject(e) => Err((false, e)),
        }
    }

    #[test]
    fn a_slot_key_that_does_not_derive_the_bodys_key_check_is_refused() {
        // A malicious sender encrypts the body under K1 but gives this
        // recipient K2 with a commitment that does match the body bytes:
        // without the key check, K2 would decrypt the same bytes to another
        // plaintext, and two recipients of identical bytes would read
        // different messages.
        let id = ForkoutId::from_bytes([4; 32]);
        let k1 = BodyKeys::derive([1; 32], &id);
        let mut ct = b"pay invoice 17 to account A".to_vec();
        k1.encrypt(&mut ct);
        let c = commitment(&id, &k1.check, &ct);
        let bytes = delivery(&id, &k1.check, &ct);
        let parsed = ForkoutDelivery::parse(&bytes).unwrap();

        let honest = encode_slot(&id, &[1; 32], &c, ct.len() as u64, false);
        let opened = verdict(accept_slot(&parsed, 0x03, honest.as_ref(), 0)).unwrap();
        assert_eq!(opened.0.as_slice(), b"pay invoice 17 to account A");
        assert_eq!(opened.2, c, "the opened Forkout reports the commitment it checked");

        let other_key = encode_slot(&id, &[2; 32], &c, ct.len() as u64, false);
        let r = verdict(accept_slot(&parsed, 0x03, other_key.as_ref(), 0));
        assert_eq!(r.unwrap_err(), (false, Error::Forkout(ForkoutError::BodyCommitmentMismatch)));

        // Wrong kind, malformed slot: rejected, never consumed.
        let r = verdict(accept_slot(&parsed, 0x00, honest.as_ref(), 0));
        assert_eq!(r.unwrap_err(), (false, Error::UnexpectedPayload(0)));
        let r = verdict(accept_slot(&parsed, 0x03, &honest[..50], 0));
        assert!(matches!(r, Err((false, Error::Wire(_)))));
        let mut longer = honest.to_vec();
        longer.push(0);
        let r = verdict(accept_slot(&parsed, 0x03, &longer, 0));
        assert_eq!(r.unwrap_err(), (false, Error::Wire(WireError::TrailingBytes(1))));
    }

    #[test]
    fn the_burnout_rule_applies_to_the_slot_envelope() {
        let id = ForkoutId::from_bytes([5; 32]);
        let k = BodyKeys::derive([3; 32], &id);
        let mut ct = b"short-lived".to_vec();
        k.encrypt(&mut ct);
        let c = commitment(&id, &k.check, &ct);
        let bytes = delivery(&id, &k.check, &ct);
        let parsed = ForkoutDelivery::parse(&bytes).unwrap();
        let with = |env: &[u8]| {
            let mut slot = encode_slot(&id, &[3; 32], &c, ct.len() as u64, true).to_vec();
            slot.extend_from_slice(env);
            slot
        };
        const T: u64 = 1_000_000_000;
        let slot = with(&Envelope::expiring_at(T, T + 100).to_bytes());
        // Readable before the expiry, consumed at it.
        assert!(verdict(accept_slot(&parsed, 0x03, &slot, T + 99)).is_ok());
        let r = verdict(accept_slot(&parsed, 0x03, &slot, T + 100));
        assert_eq!(r.unwrap_err(), (true, Error::Burnout(BurnoutError::Expired { expired_at_ms: T + 100 })));
        // Sent too far in the future: rejected, retryable.
        let r = verdict(accept_slot(&parsed, 0x03, &slot, T - crate::limits::MAX_CLOCK_SKEW_MS - 1));
        assert!(matches!(r, Err((false, Error::Burnout(BurnoutError::ClockSkew { .. })))));
        // Flag set but the envelope is missing or garbage: consumed.
        let r = verdict(accept_slot(&parsed, 0x03, &with(&[]), T));
        assert!(matches!(r, Err((true, Error::Burnout(BurnoutError::MalformedEnvelope(_))))));
        let r = verdict(accept_slot(&parsed, 0x03, &with(&[0xee; 18]), T));
        assert!(matches!(r, Err((true, Error::Burnout(BurnoutError::MalformedEnvelope(_))))));
        // An envelope without the flag is not an envelope: rejected.
        let mut unflagged = encode_slot(&id, &[3; 32], &c, ct.len() as u64, false).to_vec();
        unflagged.extend_from_slice(&Envelope::expiring_at(T, T + 100).to_bytes());
        let r = verdict(accept_slot(&parsed, 0x03, &unflagged, T));
        assert_eq!(r.unwrap_err(), (false, Error::Wire(WireError::TrailingBytes(18))));
    }

    /// Seals a Forkout to a stranger (first contact) with `raw` in place of
    /// the envelope, as an authentic but buggy or newer sender could.
    fn first_contact_with_raw_envelope(raw: &[u8]) -> (Account, Session, Vec<u8>) {
        use crate::burnout::payload::Trailer;
        use crate::forkout::{ForkoutPlan, Recipient, SealPolicy};
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let sender = Account::new(&mut rng, 0);
        let mut carol = Account::new(&mut rng, 0);
        carol.generate_one_time_prekeys(1, &mut rng).unwrap();
        let recipients = [Recipient::Bundle(carol.prekey_bundle().unwrap())];
        let plan = ForkoutPlan::new(&sender, recipients, &mut rng).unwrap();
        let (sealed, mut report) =
            plan.seal_with(b"erase me".to_vec(), || Trailer::raw(raw), SealPolicy::AllOrNothing, &mut rng).unwrap();
        let delivery = sealed.delivery(carol.identity()).unwrap().to_vec();
        (carol, report.new_sessions.remove(0), delivery)
    }

    #[test]
    fn a_malformed_envelope_on_first_contact_uses_up_the_slot_and_keeps_the_session() {
        let mut rng = rand::rng();
        for raw in [&[][..], &[0xee; 18]] {
            let (mut carol, mut to_carol, delivery) = first_contact_with_raw_envelope(raw);
            let (mut session, opened) = open_new(&mut carol, &delivery, 0).unwrap();
            assert!(matches!(opened, Err(Error::Burnout(BurnoutError::MalformedEnvelope(_)))), "{raw:?}");
            assert_eq!(carol.remaining_one_time_prekeys(), 0, "the one-time prekey is used up");
            assert_eq!(open(&mut carol, &mut session, &delivery, 0).err(), Some(Error::DuplicateMessage));
            // The sender's later messages continue in the returned session.
            let later = to_carol.encrypt(b"resend?", &mut rng).unwrap();
            assert_eq!(carol.decrypt(&mut session, &later).unwrap(), b"resend?");
        }
    }

    #[test]
    fn a_burnout_body_is_handed_out_only_as_a_burnout_message() {
        use crate::forkout::{Recipient, SealPolicy, seal};
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        let sender = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        let env = Envelope::with_ttl(1_000, 60_000).burn_after_reading();
        let recipients = [Recipient::Bundle(bob.prekey_bundle().unwrap())];
        let (sealed, _) =
            seal(&sender, b"door code 4711".to_vec(), recipients, SealPolicy::AllOrNothing, Some(env), &mut rng)
                .unwrap();
        let delivery = sealed.delivery(bob.identity()).unwrap().to_vec();
        let opened = open_new(&mut bob, &delivery, 1_000).unwrap().1.unwrap();
        assert_eq!(opened.envelope(), Some(&env));
        assert_eq!(opened.body(), None, "no plain view of Burnout content");
        assert!(!format!("{opened:?}").contains("4711"));
        let Opened::Burnout(message) = opened.into_opened() else { panic!("a Burnout Forkout opened as a plain one") };
        assert_eq!(message.sender(), sender.identity());
        assert_eq!(message.into_plaintext(1_000).unwrap().as_slice(), b"door code 4711");
    }

    #[test]
    fn a_plain_body_is_handed_out_with_the_commitment_every_recipient_sees() {
        use crate::forkout::{Recipient, SealPolicy, seal};
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let sender = Account::new(&mut rng, 0);
        let mut bob = Account::new(&mut rng, 0);
        let recipients = [Recipient::Bundle(bob.prekey_bundle().unwrap())];
        let (sealed, _) =
            seal(&sender, b"standup moved to 10".to_vec(), recipients, SealPolicy::AllOrNothing, None, &mut rng)
                .unwrap();
        let delivery = sealed.delivery(bob.identity()).unwrap().to_vec();
        let opened = open_new(&mut bob, &delivery, 0).unwrap().1.unwrap();
        assert_eq!(opened.commitment(), sealed.commitment());
        assert_eq!(opened.id(), sealed.id());
        assert_eq!(opened.body(), Some(&b"standup moved to 10"[..]));
        let shown = format!("{opened:?}");
        assert!(shown.starts_with("OpenedForkout") && !shown.contains("standup"), "{shown}");
        assert_eq!(opened.into_body(), Some(b"standup moved to 10".to_vec()));
    }
}

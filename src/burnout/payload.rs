//! Kind-agnostic sealing and opening of Burnout payloads.
//!
//! Every message kind that can carry Burnout content (1:1, group, Forkout)
//! follows one convention inside its AEAD plaintext: the content, then the
//! envelope if present, then the kind's own trailer (the placement is
//! specified in [BURNOUT](crate::docs::burnout)).
//!
//! The envelope is present **iff** an authenticated flag of the message kind
//! says so (for 1:1: the payload kind byte is `BurnoutApp`; group and
//! Forkout use their own authenticated flag or kind). Because the envelope
//! and that flag are both inside the AEAD, nobody on the path can add,
//! change or strip the envelope: any change fails authentication.
//!
//! Senders call [`seal_trailer`] and append its bytes after the content.
//! Receivers, once the message has authenticated and **before committing
//! any state**, decide with [`open_owned`] (an owned, zeroizing buffer:
//! 1:1 and group) or [`open_checked`] (a borrowed one: the Forkout slot),
//! and map an error with [`consumes_key`] / [`verdict`]:
//!
//! | outcome | what to do with the key / state |
//! |---|---|
//! | `Ok` | commit, return the body and the envelope |
//! | [`BurnoutError::Expired`] | commit (the key is used up), return the error, drop the body (zeroized) |
//! | [`BurnoutError::MalformedEnvelope`] | commit, return the error: the rule cannot be enforced, so the content is destroyed like an expired one |
//! | [`BurnoutError::ClockSkew`] | leave all state as it was (the message opens once the clocks agree) |
//! | an unknown kind or flag | leave all state as it was ([`Error::UnexpectedPayload`]) |
//!
//! Checked content is handed out by [`opened`]: plain content as
//! [`Opened::Message`], enveloped content only as [`Opened::Burnout`], its
//! zeroizing buffer moved (never copied) into the [`BurnoutMessage`].

use zeroize::Zeroizing;

use super::envelope::{ENVELOPE_LEN, Envelope};
use super::message::{BurnoutMessage, Opened};
use crate::error::{BurnoutError, Error, Result, WireError};
use crate::identity::IdentityKey;
use crate::session::Verdict;
use crate::wire::PayloadKind;

/// The bytes a sender appends after the content: the encoded envelope, or
/// nothing for a message without one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trailer {
    bytes: [u8; ENVELOPE_LEN],
    len: usize,
    present: bool,
}

impl Trailer {
    /// The bytes to append (0 or [`ENVELOPE_LEN`]).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Whether the kind's authenticated flag must say "envelope present".
    pub(crate) fn is_present(&self) -> bool {
        self.present
    }

    /// Arbitrary bytes (at most [`ENVELOPE_LEN`]) in place of an envelope,
    /// with the flag set: what a buggy or newer sender could seal. Only for
    /// the test hooks (`crate::test_hooks`, feature `test-hooks`) and the
    /// unit tests.
    #[cfg(any(test, fuzzing, feature = "test-hooks"))]
    pub(crate) fn raw(bytes: &[u8]) -> Result<Self> {
        let mut out = [0; ENVELOPE_LEN];
        out.get_mut(..bytes.len()).ok_or(Error::InvalidState("raw envelope too long"))?.copy_from_slice(bytes);
        Ok(Self { bytes: out, len: bytes.len(), present: true })
    }
}

/// Encodes the optional envelope for the end of a payload. Refuses an
/// envelope that is already expired at its own sent-at time (a time-to-live
/// of zero, or an expiry before the sending time): such a message could
/// never be read.
pub(crate) fn seal_trailer(envelope: Option<&Envelope>) -> Result<Trailer> {
    match envelope {
        None => Ok(Trailer { bytes: [0; ENVELOPE_LEN], len: 0, present: false }),
        Some(env) => {
            env.check(env.sent_at_ms())?;
            Ok(Trailer { bytes: env.to_bytes(), len: ENVELOPE_LEN, present: true })
        }
    }
}

/// Splits and checks the envelope at the end of authenticated `content`
/// when `has_envelope` (the kind's authenticated flag) says there is one.
/// Returns the body (everything before the envelope) and the envelope.
///
/// Errors: [`BurnoutError::MalformedEnvelope`] (missing or unparseable envelope),
/// [`BurnoutError::Expired`], [`BurnoutError::ClockSkew`]; see [`consumes_key`].
pub(crate) fn open_checked(content: &[u8], has_envelope: bool, now_ms: u64) -> Result<(&[u8], Option<Envelope>)> {
    if !has_envelope {
        return Ok((content, None));
    }
    let (body, envelope) =
        Envelope::split_from(content).map_err(|e| Error::Burnout(BurnoutError::MalformedEnvelope(e)))?;
    envelope.check(now_ms)?;
    Ok((body, Some(envelope)))
}

/// Splits the envelope off the end of an owned, authenticated `content`
/// when `has_envelope` (the kind's authenticated flag) says there is one,
/// truncating in place (no copy of the plaintext). Checks nothing against
/// a clock; on error the buffer is dropped, which zeroizes it.
pub(crate) fn take_envelope(
    mut content: Zeroizing<Vec<u8>>,
    has_envelope: bool,
) -> core::result::Result<(Zeroizing<Vec<u8>>, Option<Envelope>), WireError> {
    if !has_envelope {
        return Ok((content, None));
    }
    let (body, envelope) = Envelope::split_from(&content)?;
    let body_len = body.len();
    // The spare capacity still holds the (non-secret) envelope bytes; the
    // whole capacity is zeroized when the buffer is dropped.
    content.truncate(body_len);
    Ok((content, Some(envelope)))
}

/// [`take_envelope`] followed by the Burnout check at `now_ms`, for a
/// buffer whose kind says an envelope is present.
pub(crate) fn take_checked(content: Zeroizing<Vec<u8>>, now_ms: u64) -> Result<(Zeroizing<Vec<u8>>, Envelope)> {
    let (body, envelope) = take_envelope(content, true).map_err(BurnoutError::MalformedEnvelope)?;
    let envelope = envelope.ok_or(Error::InvalidState("envelope expected"))?;
    envelope.check(now_ms)?;
    Ok((body, envelope))
}

/// The whole receiving rule for an owned, authenticated `content` whose
/// kind's flag is `has_envelope`: splits and checks the envelope at
/// `now_ms` and hands the content out with [`opened`]. The verdict says
/// what to do with the state (see the module documentation); on every
/// error the buffer is dropped, which zeroizes it.
pub(crate) fn open_owned(
    content: Zeroizing<Vec<u8>>,
    has_envelope: bool,
    now_ms: u64,
    sender: IdentityKey,
) -> Verdict<Opened> {
    let checked = take_envelope(content, has_envelope)
        .map_err(|e| Error::Burnout(BurnoutError::MalformedEnvelope(e)))
        .and_then(|(body, envelope)| {
            if let Some(envelope) = &envelope {
                envelope.check(now_ms)?;
            }
            Ok((body, envelope))
        });
    verdict(checked).map(|(body, envelope)| opened(body, envelope, sender))
}

/// Hands out checked content: a Burnout message (with an envelope) only as
/// [`Opened::Burnout`], its zeroizing buffer moved into the
/// [`BurnoutMessage`]; anything else as [`Opened::Message`].
pub(crate) fn opened(mut body: Zeroizing<Vec<u8>>, envelope: Option<Envelope>, sender: IdentityKey) -> Opened {
    match envelope {
        Some(envelope) => Opened::Burnout(BurnoutMessage::received(body, envelope, sender)),
        None => Opened::Message(core::mem::take(&mut *body)),
    }
}

/// Whether an error from [`open_checked`] must still use up the message
/// key (commit the state change): `true` for an expired message and for a
/// malformed envelope, `false` for clock skew and every other error.
pub(crate) fn consumes_key(error: &Error) -> bool {
    matches!(error, Error::Burnout(BurnoutError::Expired { .. }) | Error::Burnout(BurnoutError::MalformedEnvelope(_)))
}

/// Maps the result of opening a Burnout payload to a [`Verdict`] for
/// [`Session::decrypt_with`](crate::Session) and friends.
pub(crate) fn verdict<T>(result: Result<T>) -> Verdict<T> {
    match result {
        Ok(value) => Verdict::Accept(value),
        Err(e) if consumes_key(&e) => Verdict::Consume(e),
        Err(e) => Verdict::Reject(e),
    }
}

/// The payload handler for Burnout messages only.
pub(crate) fn burnout_payload(
    kind: u8,
    content: Zeroizing<Vec<u8>>,
    now_ms: u64,
    sender: IdentityKey,
) -> Verdict<BurnoutMessage> {
    if kind != PayloadKind::BurnoutApp as u8 {
        return Verdict::Reject(Error::UnexpectedPayload(kind));
    }
    verdict(take_checked(content, now_ms).map(|(body, env)| BurnoutMessage::received(body, env, sender)))
}

/// The payload handler for plain and Burnout application messages.
pub(crate) fn any_app_payload(
    kind: u8,
    content: Zeroizing<Vec<u8>>,
    now_ms: u64,
    sender: IdentityKey,
) -> Verdict<Opened> {
    match kind {
        k if k == PayloadKind::App as u8 => open_owned(content, false, now_ms, sender),
        k if k == PayloadKind::BurnoutApp as u8 => open_owned(content, true, now_ms, sender),
        _ => Verdict::Reject(Error::UnexpectedPayload(kind)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::error::WireError;
    use crate::limits::MAX_CLOCK_SKEW_MS;

    const NOW: u64 = 1_700_000_000_000;

    fn content(body: &[u8], env: &Envelope) -> Vec<u8> {
        let mut c = body.to_vec();
        c.extend_from_slice(seal_trailer(Some(env)).unwrap().as_bytes());
        c
    }

    #[test]
    fn trailer_is_empty_without_envelope_and_18_bytes_with_one() {
        assert!(seal_trailer(None).unwrap().as_bytes().is_empty());
        let env = Envelope::with_ttl(NOW, 1);
        assert_eq!(seal_trailer(Some(&env)).unwrap().as_bytes(), env.to_bytes());
    }

    #[test]
    fn sealing_a_dead_on_arrival_envelope_is_refused() {
        assert_eq!(
            seal_trailer(Some(&Envelope::with_ttl(NOW, 0))).unwrap_err(),
            Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW })
        );
        assert!(seal_trailer(Some(&Envelope::expiring_at(NOW, NOW - 1))).is_err());
    }

    #[test]
    fn open_checked_returns_body_and_envelope() {
        let env = Envelope::with_ttl(NOW, 10).burn_after_reading();
        let c = content(b"body", &env);
        assert_eq!(open_checked(&c, true, NOW).unwrap(), (&b"body"[..], Some(env)));
        // Without the flag the whole content is the body.
        assert_eq!(open_checked(&c, false, NOW).unwrap(), (&c[..], None));
    }

    #[test]
    fn open_checked_error_classes() {
        let env = Envelope::with_ttl(NOW, 10);
        let c = content(b"body", &env);
        let expired = open_checked(&c, true, NOW + 10).unwrap_err();
        assert_eq!(expired, Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW + 10 }));
        assert!(consumes_key(&expired));

        let skew = open_checked(&c, true, NOW - MAX_CLOCK_SKEW_MS - 1).unwrap_err();
        assert!(matches!(skew, Error::Burnout(BurnoutError::ClockSkew { .. })));
        assert!(!consumes_key(&skew));

        let short = open_checked(b"0123456789", true, NOW).unwrap_err();
        assert_eq!(short, Error::Burnout(BurnoutError::MalformedEnvelope(WireError::Truncated { needed: 8 })));
        assert!(consumes_key(&short));
        assert!(!consumes_key(&Error::AuthenticationFailed));
    }

    #[test]
    fn take_checked_truncates_in_place() {
        let env = Envelope::new(NOW).burn_after_reading();
        let buf = Zeroizing::new(content(b"secret", &env));
        let ptr = buf.as_ptr();
        let (body, got) = take_checked(buf, NOW).unwrap();
        assert_eq!(body.as_slice(), b"secret");
        assert_eq!(body.as_ptr(), ptr, "no copy of the plaintext");
        assert_eq!(got, env);
        let expired = Zeroizing::new(content(b"secret", &Envelope::with_ttl(NOW, 5)));
        assert_eq!(
            take_checked(expired, NOW + 5).unwrap_err(),
            Error::Burnout(BurnoutError::Expired { expired_at_ms: NOW + 5 })
        );
        let short = Zeroizing::new(b"short".to_vec());
        assert!(matches!(take_checked(short, NOW), Err(Error::Burnout(BurnoutError::MalformedEnvelope(_)))));
    }

    #[test]
    fn open_owned_is_the_whole_rule_and_moves_burnout_content() {
        use crate::identity::IdentityKeyPair;
        let sender = *IdentityKeyPair::from_seed(&[1; 32]).public();
        let env = Envelope::with_ttl(NOW, 10);
        let buf = Zeroizing::new(content(b"secret", &env));
        let ptr = buf.as_ptr();
        match open_owned(buf, true, NOW, sender) {
            Verdict::Accept(Opened::Burnout(m)) => {
                assert_eq!((m.envelope(), m.sender()), (&env, &sender));
                assert_eq!(m.plaintext().as_ptr(), ptr, "moved, not copied");
            }
            _ => panic!("not an accepted Burnout message"),
        }
        let plain = open_owned(Zeroizing::new(b"hi".to_vec()), false, NOW, sender);
        assert!(matches!(plain, Verdict::Accept(Opened::Message(m)) if m == b"hi"));
        let consumed = |v: Verdict<Opened>| matches!(v, Verdict::Consume(_));
        assert!(consumed(open_owned(Zeroizing::new(content(b"x", &env)), true, NOW + 10, sender)));
        assert!(consumed(open_owned(Zeroizing::new(b"no envelope".to_vec()), true, NOW, sender)));
        let skewed = open_owned(Zeroizing::new(content(b"x", &env)), true, NOW - MAX_CLOCK_SKEW_MS - 1, sender);
        assert!(matches!(skewed, Verdict::Reject(Error::Burnout(BurnoutError::ClockSkew { .. }))));
        assert!(matches!(
            any_app_payload(0x7f, Zeroizing::new(vec![]), NOW, sender),
            Verdict::Reject(Error::UnexpectedPayload(0x7f))
        ));
    }

    /// `any_app_payload` routes by kind: plain content as a message (the
    /// whole content, even if it ends like an envelope), Burnout content
    /// through the envelope rule, anything else refused.
    #[test]
    fn any_app_payload_opens_each_kind_by_its_own_rule() {
        use crate::identity::IdentityKeyPair;
        let sender = *IdentityKeyPair::from_seed(&[2; 32]).public();
        let env = Envelope::with_ttl(NOW, 10);
        let enveloped = content(b"secret", &env);
        let plain = any_app_payload(PayloadKind::App as u8, Zeroizing::new(enveloped.clone()), NOW, sender);
        assert!(matches!(plain, Verdict::Accept(Opened::Message(m)) if m == enveloped));
        let burnout = any_app_payload(PayloadKind::BurnoutApp as u8, Zeroizing::new(enveloped.clone()), NOW, sender);
        assert!(matches!(burnout, Verdict::Accept(Opened::Burnout(m)) if m.plaintext() == b"secret"));
        let kind = PayloadKind::ForkoutSlot as u8;
        assert!(matches!(
            any_app_payload(kind, Zeroizing::new(enveloped), NOW, sender),
            Verdict::Reject(Error::UnexpectedPayload(k)) if k == kind
        ));
    }

    #[test]
    fn verdict_mapping() {
        assert!(matches!(verdict(Ok(1)), Verdict::Accept(1)));
        assert!(matches!(
            verdict::<()>(Err(Error::Burnout(BurnoutError::Expired { expired_at_ms: 1 }))),
            Verdict::Consume(_)
        ));
        assert!(matches!(
            verdict::<()>(Err(Error::Burnout(BurnoutError::ClockSkew { sent_at_ms: 2, now_ms: 1 }))),
            Verdict::Reject(_)
        ));
    }
}

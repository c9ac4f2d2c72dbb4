//! Kind-agnostic sealing and opening of Burnout payloads.
//!
//! Every message kind that can carry Burnout content (1:1, group, Forkout)
//! follows one convention inside its AEAD plaintext:
//!
//! ```text
//! plaintext = content | [envelope (18 bytes)] | ...kind-specific trailer
//! ```
//!
//! The envelope is present **iff** an authenticated flag of the message kind
//! says so (for 1:1: the payload kind byte is `BurnoutApp`; group and
//! Forkout use their own authenticated flag or kind). Because the envelope
//! and that flag are both inside the AEAD, nobody on the path can add,
//! change or strip the envelope: any change fails authentication.
//!
//! Senders call [`seal_trailer`] and append its bytes after the content.
//! Receivers call [`open_checked`] (or [`take_checked`] for an owned
//! buffer whose kind says an envelope is present) on the authenticated plaintext **before committing any state**,
//! and map its error with [`consumes_key`] / [`verdict`]:
//!
//! | outcome | what to do with the key / state |
//! |---|---|
//! | `Ok` | commit, return the body and the envelope |
//! | [`Error::Expired`] | commit (the key is used up), return the error, drop the body (zeroized) |
//! | [`Error::MalformedEnvelope`] | commit, return the error: the rule cannot be enforced, so the content is destroyed like an expired one |
//! | [`Error::ClockSkew`] | leave all state as it was (the message opens once the clocks agree) |

use zeroize::Zeroizing;

use super::envelope::{ENVELOPE_LEN, Envelope};
use crate::error::{Error, Result};
use crate::session::Verdict;

/// The bytes a sender appends after the content: the encoded envelope, or
/// nothing for a message without one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trailer {
    bytes: [u8; ENVELOPE_LEN],
    len: usize,
}

impl Trailer {
    /// The bytes to append (0 or [`ENVELOPE_LEN`]).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Encodes the optional envelope for the end of a payload. Refuses an
/// envelope that is already expired at its own sent-at time (a time-to-live
/// of zero, or an expiry before the sending time): such a message could
/// never be read.
pub(crate) fn seal_trailer(envelope: Option<&Envelope>) -> Result<Trailer> {
    match envelope {
        None => Ok(Trailer { bytes: [0; ENVELOPE_LEN], len: 0 }),
        Some(env) => {
            env.check(env.sent_at_ms())?;
            Ok(Trailer { bytes: env.to_bytes(), len: ENVELOPE_LEN })
        }
    }
}

/// Splits and checks the envelope at the end of authenticated `content`
/// when `has_envelope` (the kind's authenticated flag) says there is one.
/// Returns the body (everything before the envelope) and the envelope.
///
/// Errors: [`Error::MalformedEnvelope`] (missing or unparseable envelope),
/// [`Error::Expired`], [`Error::ClockSkew`]; see [`consumes_key`].
pub(crate) fn open_checked(content: &[u8], has_envelope: bool, now_ms: u64) -> Result<(&[u8], Option<Envelope>)> {
    if !has_envelope {
        return Ok((content, None));
    }
    let (body, envelope) = Envelope::split_from(content).map_err(Error::MalformedEnvelope)?;
    envelope.check(now_ms)?;
    Ok((body, Some(envelope)))
}

/// [`open_checked`] for an owned, zeroizing buffer whose kind says an
/// envelope is present: truncates the envelope off in place (no copy of the
/// plaintext). On error the buffer is dropped, which zeroizes it.
pub(crate) fn take_checked(mut content: Zeroizing<Vec<u8>>, now_ms: u64) -> Result<(Zeroizing<Vec<u8>>, Envelope)> {
    let (body_len, envelope) = match open_checked(&content, true, now_ms)? {
        (body, Some(envelope)) => (body.len(), envelope),
        (_, None) => return Err(Error::InvalidState("envelope expected")),
    };
    // The spare capacity still holds the (non-secret) envelope bytes; the
    // whole capacity is zeroized when the buffer is dropped.
    content.truncate(body_len);
    Ok((content, envelope))
}

/// Whether an error from [`open_checked`] must still use up the message
/// key (commit the state change): `true` for an expired message and for a
/// malformed envelope, `false` for clock skew and every other error.
pub(crate) fn consumes_key(error: &Error) -> bool {
    matches!(error, Error::Expired { .. } | Error::MalformedEnvelope(_))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

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
        assert_eq!(seal_trailer(Some(&Envelope::with_ttl(NOW, 0))).unwrap_err(), Error::Expired { expired_at_ms: NOW });
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
        assert_eq!(expired, Error::Expired { expired_at_ms: NOW + 10 });
        assert!(consumes_key(&expired));

        let skew = open_checked(&c, true, NOW - MAX_CLOCK_SKEW_MS - 1).unwrap_err();
        assert!(matches!(skew, Error::ClockSkew { .. }));
        assert!(!consumes_key(&skew));

        let short = open_checked(b"0123456789", true, NOW).unwrap_err();
        assert_eq!(short, Error::MalformedEnvelope(WireError::Truncated { needed: 8 }));
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
        assert_eq!(take_checked(expired, NOW + 5).unwrap_err(), Error::Expired { expired_at_ms: NOW + 5 });
        let short = Zeroizing::new(b"short".to_vec());
        assert!(matches!(take_checked(short, NOW), Err(Error::MalformedEnvelope(_))));
    }

    #[test]
    fn verdict_mapping() {
        assert!(matches!(verdict(Ok(1)), Verdict::Accept(1)));
        assert!(matches!(verdict::<()>(Err(Error::Expired { expired_at_ms: 1 })), Verdict::Consume(_)));
        assert!(matches!(verdict::<()>(Err(Error::ClockSkew { sent_at_ms: 2, now_ms: 1 })), Verdict::Reject(_)));
    }
}

//! The Burnout envelope: sent-at time, expiry and burn-after-reading.
//!
//! The layout (version, sent at, expires at, flags) is specified in
//! [BURNOUT](crate::docs::burnout).
//!
//! 18 bytes, big-endian. The encoding is canonical: every [`Envelope`] has
//! exactly one encoding and [`Envelope::from_bytes`] refuses every other
//! byte string, so `from_bytes(b)?.to_bytes() == b`. A time-to-live is
//! turned into an absolute expiry (`sent at + ttl`) by the sender.

use crate::error::BurnoutError;
use crate::error::{Error, Result, WireError};
use crate::limits::MAX_CLOCK_SKEW_MS;
use crate::wire::codec::{Reader, Writer};

/// Encoded length of an [`Envelope`].
pub const ENVELOPE_LEN: usize = 18;

const ENVELOPE_VERSION: u8 = 1;
const FLAG_BURN_AFTER_READING: u8 = 0x01;
const FLAG_HAS_EXPIRY: u8 = 0x02;
const KNOWN_FLAGS: u8 = FLAG_BURN_AFTER_READING | FLAG_HAS_EXPIRY;

/// Expiry metadata for a Burnout message: when it was sent, when it
/// expires (if ever), and whether it is erased after its first read.
///
/// The envelope travels inside the ciphertext, so it is authenticated with
/// the content. Readable while `now < expires_at`; expired from
/// `expires_at` on (the boundary millisecond is already expired).
///
/// ```
/// use sealpost::burnout::Envelope;
/// let sent = 1_700_000_000_000;
/// let env = Envelope::with_ttl(sent, 60_000).burn_after_reading();
/// assert_eq!(env.expires_at_ms(), Some(sent + 60_000));
/// assert!(env.check(sent + 59_999).is_ok());
/// assert!(env.check(sent + 60_000).is_err()); // expired at exactly the boundary
/// assert_eq!(Envelope::from_bytes(&env.to_bytes())?, env);
/// # Ok::<(), sealpost::WireError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Envelope {
    sent_at_ms: u64,
    expires_at_ms: Option<u64>,
    burn_after_reading: bool,
}

crate::text::hex_text!(
    Envelope,
    ENVELOPE_LEN,
    "Burnout envelope (lower-case hex of its encoding)",
    |e| e.to_bytes(),
    |bytes| Envelope::from_bytes(&bytes).map_err(crate::Error::from)
);

impl Envelope {
    /// No expiry time (combine with [`Self::burn_after_reading`]).
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// let env = Envelope::new(1_000).burn_after_reading();
    /// assert_eq!(env.expires_at_ms(), None);
    /// assert!(env.check(u64::MAX).is_ok()); // never expires
    /// ```
    pub fn new(sent_at_ms: u64) -> Self {
        Self { sent_at_ms, expires_at_ms: None, burn_after_reading: false }
    }

    /// Expires at an absolute time (ms since the Unix epoch).
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// let env = Envelope::expiring_at(1_000, 5_000);
    /// assert!(!env.is_expired(4_999));
    /// assert!(env.is_expired(5_000));
    /// ```
    pub fn expiring_at(sent_at_ms: u64, expires_at_ms: u64) -> Self {
        Self { sent_at_ms, expires_at_ms: Some(expires_at_ms), burn_after_reading: false }
    }

    /// Expires `ttl_ms` after it was sent (saturating at `u64::MAX`). The
    /// time-to-live runs from the sender's sent-at time, not from the
    /// first read, and is judged by the reader's clock.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// assert_eq!(Envelope::with_ttl(1_000, 500).expires_at_ms(), Some(1_500));
    /// ```
    pub fn with_ttl(sent_at_ms: u64, ttl_ms: u64) -> Self {
        Self::expiring_at(sent_at_ms, sent_at_ms.saturating_add(ttl_ms))
    }

    /// Also erase the message after its first read.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// assert!(Envelope::new(0).burn_after_reading().is_burn_after_reading());
    /// ```
    pub fn burn_after_reading(mut self) -> Self {
        self.burn_after_reading = true;
        self
    }

    /// When the sender says it sent the message.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// assert_eq!(Envelope::with_ttl(1_000, 60_000).sent_at_ms(), 1_000);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn sent_at_ms(&self) -> u64 {
        self.sent_at_ms
    }

    /// When the message expires, if ever.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// assert_eq!(Envelope::with_ttl(1_000, 60_000).expires_at_ms(), Some(61_000));
    /// assert_eq!(Envelope::new(1_000).expires_at_ms(), None); // never expires
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.expires_at_ms
    }

    /// Whether the message is erased after its first read.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// assert!(Envelope::new(0).burn_after_reading().is_burn_after_reading());
    /// assert!(!Envelope::new(0).is_burn_after_reading());
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_burn_after_reading(&self) -> bool {
        self.burn_after_reading
    }

    /// Whether the message has expired at `now_ms` (readable while
    /// `now_ms < expires_at`).
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// let envelope = Envelope::with_ttl(1_000, 60_000);
    /// assert!(!envelope.is_expired(60_999));
    /// assert!(envelope.is_expired(61_000));
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_some_and(|at| now_ms >= at)
    }

    /// Checks the envelope against the opener's clock: refuses an expired
    /// message ([`BurnoutError::Expired`]) and then one sent more than
    /// [`MAX_CLOCK_SKEW_MS`] in the future ([`BurnoutError::ClockSkew`]). Expiry
    /// wins when both apply.
    ///
    /// ```
    /// # use sealpost::BurnoutError;
    /// use sealpost::{Error, burnout::Envelope, limits::MAX_CLOCK_SKEW_MS};
    /// let now = 1_700_000_000_000;
    /// let from_the_future = Envelope::with_ttl(now + MAX_CLOCK_SKEW_MS + 1, 60_000);
    /// assert!(matches!(from_the_future.check(now), Err(Error::Burnout(BurnoutError::ClockSkew { .. }))));
    /// assert!(from_the_future.check(now + 1).is_ok());
    /// ```
    pub fn check(&self, now_ms: u64) -> Result<()> {
        self.check_expiry(now_ms)?;
        if self.sent_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
            return Err(Error::Burnout(BurnoutError::ClockSkew { sent_at_ms: self.sent_at_ms, now_ms }));
        }
        Ok(())
    }

    /// Refuses with [`BurnoutError::Expired`] at or after the expiry (no skew
    /// check: for messages already opened, and for the sender's own copy).
    pub(crate) fn check_expiry(&self, now_ms: u64) -> Result<()> {
        match self.expires_at_ms {
            Some(at) if now_ms >= at => Err(Error::Burnout(BurnoutError::Expired { expired_at_ms: at })),
            _ => Ok(()),
        }
    }

    /// The 18-byte encoding.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// let envelope = Envelope::with_ttl(1_000, 60_000).burn_after_reading();
    /// assert_eq!(Envelope::from_bytes(&envelope.to_bytes())?, envelope);
    /// # Ok::<(), sealpost::Error>(())
    /// ```
    pub fn to_bytes(&self) -> [u8; ENVELOPE_LEN] {
        let mut w = Writer::with_capacity(ENVELOPE_LEN);
        let mut flags = 0;
        if self.burn_after_reading {
            flags |= FLAG_BURN_AFTER_READING;
        }
        if self.expires_at_ms.is_some() {
            flags |= FLAG_HAS_EXPIRY;
        }
        w.u8(ENVELOPE_VERSION).u64(self.sent_at_ms).u64(self.expires_at_ms.unwrap_or(0)).u8(flags);
        let mut out = [0u8; ENVELOPE_LEN];
        out.copy_from_slice(w.as_slice());
        out
    }

    /// Parses the 18-byte encoding; refuses any other length, an unknown
    /// version, unknown flag bits and a non-zero expiry field without the
    /// has-expiry flag.
    ///
    /// ```
    /// use sealpost::burnout::Envelope;
    /// let mut bytes = Envelope::with_ttl(1, 2).to_bytes();
    /// assert!(Envelope::from_bytes(&bytes).is_ok());
    /// bytes[17] |= 0x80; // an unknown flag
    /// assert!(Envelope::from_bytes(&bytes).is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> core::result::Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != ENVELOPE_VERSION {
            return Err(WireError::UnsupportedVersion(version));
        }
        let sent_at_ms = r.u64()?;
        let expires = r.u64()?;
        let flags = r.u8()?;
        r.finish()?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(WireError::InvalidField("unknown envelope flags"));
        }
        let expires_at_ms = if flags & FLAG_HAS_EXPIRY != 0 {
            Some(expires)
        } else if expires == 0 {
            None
        } else {
            return Err(WireError::InvalidField("envelope expiry without has-expiry flag"));
        };
        Ok(Self { sent_at_ms, expires_at_ms, burn_after_reading: flags & FLAG_BURN_AFTER_READING != 0 })
    }

    /// Splits a trailing envelope off decrypted content.
    pub(crate) fn split_from(content: &[u8]) -> core::result::Result<(&[u8], Self), WireError> {
        let at = content
            .len()
            .checked_sub(ENVELOPE_LEN)
            .ok_or_else(|| WireError::Truncated { needed: ENVELOPE_LEN.saturating_sub(content.len()) })?;
        let (body, env) = content.split_at(at);
        Ok((body, Self::from_bytes(env)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: u64 = 1_700_000_000_000;

    #[test]
    fn readable_before_the_expiry_millisecond_and_never_after() {
        let env = Envelope::expiring_at(SENT, SENT + 10);
        assert!(!env.is_expired(SENT + 9));
        assert!(env.is_expired(SENT + 10));
        assert!(env.is_expired(SENT + 11));
        assert!(env.check(SENT + 9).is_ok());
        assert_eq!(env.check(SENT + 10), Err(Error::Burnout(BurnoutError::Expired { expired_at_ms: SENT + 10 })));
        assert_eq!(env.check_expiry(SENT + 9), Ok(()));
        assert!(env.check_expiry(SENT + 10).is_err());
        let forever = Envelope::new(SENT);
        assert!(!forever.is_expired(u64::MAX));
        assert!(forever.check(u64::MAX).is_ok());
    }

    #[test]
    fn a_sent_at_time_up_to_the_skew_bound_ahead_of_the_clock_is_accepted() {
        let now = SENT;
        assert!(Envelope::new(now + MAX_CLOCK_SKEW_MS).check(now).is_ok());
        assert_eq!(
            Envelope::new(now + MAX_CLOCK_SKEW_MS + 1).check(now),
            Err(Error::Burnout(BurnoutError::ClockSkew { sent_at_ms: now + MAX_CLOCK_SKEW_MS + 1, now_ms: now }))
        );
        // No overflow at the end of time.
        assert!(Envelope::new(u64::MAX).check(u64::MAX - 1).is_ok());
    }

    #[test]
    fn every_envelope_has_one_encoding_and_nothing_else_decodes() {
        let cases = [
            (Envelope::new(SENT), 0u8),
            (Envelope::new(SENT).burn_after_reading(), 0x01),
            (Envelope::expiring_at(SENT, SENT + 5), 0x02),
            (Envelope::with_ttl(SENT, 5).burn_after_reading(), 0x03),
        ];
        for (env, flags) in cases {
            let bytes = env.to_bytes();
            assert_eq!(bytes[0], ENVELOPE_VERSION);
            assert_eq!(bytes[1..9], SENT.to_be_bytes());
            assert_eq!(bytes[9..17], env.expires_at_ms().unwrap_or(0).to_be_bytes());
            assert_eq!(bytes[17], flags);
            assert_eq!(Envelope::from_bytes(&bytes), Ok(env));
        }
        let good = Envelope::expiring_at(SENT, SENT + 5).to_bytes();
        for unknown in [0x04u8, 0x80, 0x06] {
            let mut bad = good;
            bad[17] = unknown;
            assert_eq!(Envelope::from_bytes(&bad), Err(WireError::InvalidField("unknown envelope flags")));
        }
        let mut no_flag = good;
        no_flag[17] = 0;
        assert_eq!(
            Envelope::from_bytes(&no_flag),
            Err(WireError::InvalidField("envelope expiry without has-expiry flag"))
        );
        for version in [0u8, 2] {
            let mut bad = good;
            bad[0] = version;
            assert_eq!(Envelope::from_bytes(&bad), Err(WireError::UnsupportedVersion(version)));
        }
        assert!(matches!(Envelope::from_bytes(&good[..17]), Err(WireError::Truncated { .. })));
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(Envelope::from_bytes(&long), Err(WireError::TrailingBytes(1)));
        assert_eq!(Envelope::with_ttl(u64::MAX - 1, 5).expires_at_ms(), Some(u64::MAX));
    }

    #[test]
    fn the_envelope_is_split_from_the_end_of_its_content() {
        let env = Envelope::with_ttl(SENT, 60_000);
        let mut content = b"body".to_vec();
        content.extend_from_slice(&env.to_bytes());
        assert_eq!(Envelope::split_from(&content), Ok((&b"body"[..], env)));
        let short = content.get(..5).unwrap_or_default();
        assert_eq!(Envelope::split_from(short), Err(WireError::Truncated { needed: ENVELOPE_LEN - 5 }));
    }
}

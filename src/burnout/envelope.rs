//! The Burnout envelope: sent-at time, expiry and burn-after-reading.
//!
//! ```text
//! envelope = envelope version (u8 = 1) | sent at, ms since epoch (u64)
//!          | expires at, ms since epoch (u64; 0 = no expiry)
//!          | flags (u8; bit 0 = burn after reading, other bits must be 0)
//! ```

use crate::error::{Error, Result, WireError};
use crate::wire::codec::{Reader, Writer};

/// Encoded length of an [`Envelope`].
pub const ENVELOPE_LEN: usize = 18;

/// How far in the future a message's sent-at time may be, relative to the
/// opener's clock, before it is refused with [`Error::ClockSkew`]: 5 minutes.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

const ENVELOPE_VERSION: u8 = 1;
const FLAG_BURN_AFTER_READING: u8 = 0x01;

/// Expiry metadata for a Burnout message.
///
/// ```
/// use sealpost::burnout::Envelope;
/// let sent = 1_700_000_000_000;
/// let env = Envelope::with_ttl(sent, 60_000).burn_after_reading();
/// assert_eq!(env.expires_at_ms(), Some(sent + 60_000));
/// assert!(env.check(sent + 59_999).is_ok());
/// assert!(env.check(sent + 60_000).is_err()); // expired at exactly the boundary
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Envelope {
    sent_at_ms: u64,
    expires_at_ms: Option<u64>,
    burn_after_reading: bool,
}

impl Envelope {
    /// No expiry time (combine with [`Self::burn_after_reading`]).
    pub fn new(sent_at_ms: u64) -> Self {
        Self { sent_at_ms, expires_at_ms: None, burn_after_reading: false }
    }

    /// Expires at an absolute time (ms since the Unix epoch).
    pub fn expiring_at(sent_at_ms: u64, expires_at_ms: u64) -> Self {
        Self { sent_at_ms, expires_at_ms: Some(expires_at_ms), burn_after_reading: false }
    }

    /// Expires `ttl_ms` after it was sent.
    pub fn with_ttl(sent_at_ms: u64, ttl_ms: u64) -> Self {
        Self::expiring_at(sent_at_ms, sent_at_ms.saturating_add(ttl_ms))
    }

    /// Also erase the message after its first read.
    pub fn burn_after_reading(mut self) -> Self {
        self.burn_after_reading = true;
        self
    }

    /// When the sender says it sent the message.
    pub fn sent_at_ms(&self) -> u64 {
        self.sent_at_ms
    }

    /// When the message expires, if ever.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.expires_at_ms
    }

    /// Whether the message is erased after its first read.
    pub fn is_burn_after_reading(&self) -> bool {
        self.burn_after_reading
    }

    /// Whether the message has expired at `now_ms` (readable while
    /// `now_ms < expires_at`).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_some_and(|at| now_ms >= at)
    }

    /// Checks the envelope against the opener's clock: refuses an expired
    /// message ([`Error::Expired`]) and one sent more than
    /// [`MAX_CLOCK_SKEW_MS`] in the future ([`Error::ClockSkew`]).
    pub fn check(&self, now_ms: u64) -> Result<()> {
        if let Some(at) = self.expires_at_ms
            && now_ms >= at
        {
            return Err(Error::Expired { expired_at_ms: at });
        }
        if self.sent_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
            return Err(Error::ClockSkew { sent_at_ms: self.sent_at_ms, now_ms });
        }
        Ok(())
    }

    /// The 18-byte encoding.
    pub fn to_bytes(&self) -> [u8; ENVELOPE_LEN] {
        let mut w = Writer::with_capacity(ENVELOPE_LEN);
        w.u8(ENVELOPE_VERSION).u64(self.sent_at_ms).u64(self.expires_at_ms.unwrap_or(0));
        w.u8(if self.burn_after_reading { FLAG_BURN_AFTER_READING } else { 0 });
        let mut out = [0u8; ENVELOPE_LEN];
        out.copy_from_slice(w.as_slice());
        out
    }

    /// Parses the 18-byte encoding.
    pub fn from_bytes(bytes: &[u8]) -> core::result::Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != ENVELOPE_VERSION {
            return Err(WireError::UnsupportedVersion(version));
        }
        let sent_at_ms = r.u64()?;
        let expires = r.u64()?;
        let flags = r.u8()?;
        if flags & !FLAG_BURN_AFTER_READING != 0 {
            return Err(WireError::InvalidField("unknown envelope flags"));
        }
        r.finish()?;
        Ok(Self {
            sent_at_ms,
            expires_at_ms: (expires != 0).then_some(expires),
            burn_after_reading: flags & FLAG_BURN_AFTER_READING != 0,
        })
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

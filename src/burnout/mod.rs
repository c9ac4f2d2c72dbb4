//! Burnout: self-destructing envelopes with authenticated expiry.
//!
//! An [`Envelope`] travels inside the ciphertext of every message kind
//! (1:1, group, Forkout), so it is authenticated with the content: nobody
//! on the path can read, extend, shorten or strip it. It is checked when the
//! message is opened against the caller's clock.

mod envelope;

pub use envelope::{ENVELOPE_LEN, Envelope, MAX_CLOCK_SKEW_MS};

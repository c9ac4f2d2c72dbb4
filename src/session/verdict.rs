//! What a payload handler decides about a decrypted 1:1 payload.
//!
//! Every carrier that rides on a 1:1 message (plain messages, Burnout,
//! group distributions, Forkout slots) decrypts through the same
//! plan-then-commit path and passes a handler that sees the authenticated
//! payload kind and content **before** any state is committed. The handler
//! answers with a [`Verdict`].

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::wire::PayloadKind;

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

impl<T> Verdict<T> {
    /// The caller's result once the state change (if any) is done.
    pub(crate) fn finish(self) -> Result<T> {
        match self {
            Verdict::Accept(v) => Ok(v),
            Verdict::Consume(e) | Verdict::Reject(e) => Err(e),
        }
    }

    /// Maps an accepted value, keeping consume and reject as they are.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Verdict<U> {
        match self {
            Verdict::Accept(v) => Verdict::Accept(f(v)),
            Verdict::Consume(e) => Verdict::Consume(e),
            Verdict::Reject(e) => Verdict::Reject(e),
        }
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

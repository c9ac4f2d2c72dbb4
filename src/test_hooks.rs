//! Test hooks for the shared Burnout suite (`tests/integration/burnout.rs`).
//!
//! **Not part of the public API** (hidden, unstable, may change at any
//! time). Each function seals exactly as the public call named in its
//! documentation, except that `raw` (at most
//! [`ENVELOPE_LEN`](crate::burnout::ENVELOPE_LEN) bytes, possibly none) takes
//! the place of the encoded envelope while the carrier's authenticated flag
//! still says "envelope present": an authentic message whose envelope is
//! missing or unparseable, as a buggy or newer sender could send. No public
//! call can build one, and the receiving rule for it (the key is used up,
//! [`BurnoutError::MalformedEnvelope`](crate::error::BurnoutError::MalformedEnvelope))
//! must hold for every carrier. The hooks only change what the caller
//! itself sends: they hold no key but the caller's own.

use rand_core::CryptoRng;

use crate::account::Account;
use crate::burnout::payload::Trailer;
use crate::error::Result;
use crate::forkout::{ForkoutPlan, Recipient, SealPolicy, SealReport, SealedForkout};
use crate::group::Group;
use crate::session::Session;
use crate::wire::PayloadKind;

/// [`Session::encrypt_burnout`] with `raw` in place of the envelope.
pub fn session_seal_raw_envelope<R: CryptoRng + ?Sized>(
    session: &mut Session,
    plaintext: &[u8],
    raw: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let trailer = Trailer::raw(raw)?;
    session.encrypt_payload(plaintext, trailer.as_bytes(), PayloadKind::BurnoutApp, rng)
}

/// [`Group::encrypt_with_envelope`] with `raw` in place of the envelope.
pub fn group_seal_raw_envelope<R: CryptoRng + ?Sized>(
    group: &mut Group,
    plaintext: &[u8],
    raw: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let trailer = Trailer::raw(raw)?;
    group.sender.encrypt_trailer(&group.id, &group.own, plaintext, trailer, rng)
}

/// [`forkout::seal`](crate::forkout::seal) (all or nothing) with `raw` in
/// place of the envelope in every slot.
pub fn forkout_seal_raw_envelope<'s, R: CryptoRng + ?Sized>(
    account: &Account,
    body: impl Into<Vec<u8>>,
    recipients: impl IntoIterator<Item = Recipient<'s>>,
    raw: &[u8],
    rng: &mut R,
) -> Result<(SealedForkout, SealReport)> {
    ForkoutPlan::new(account, recipients, rng)?.seal_with(body, || Trailer::raw(raw), SealPolicy::AllOrNothing, rng)
}

//! Test hooks for sealpost's own test kit (`sealpost-testkit`) and fuzzers.
//!
//! **Unstable, not semver-covered, for sealpost's own test kit and
//! fuzzers.** The module exists only with the non-default Cargo feature
//! `test-hooks` (the test kit enables it; tests get it through the test
//! kit, a dev-dependency) or under `cfg(fuzzing)` (cargo-fuzz). A normal
//! build of the library has none of it, and it is hidden from the docs.
//!
//! Two kinds of hooks:
//!
//! * **Senders that a public call cannot be**: they seal with the caller's
//!   own keys exactly as the public call named in their documentation, but
//!   put other bytes where the format has an envelope, a payload kind or a
//!   Forkout slot. What they build is authentic, so a receiver reaches the
//!   code only a malicious (or buggy, or newer) authenticated peer can
//!   reach. The receiving rule for a missing or unparseable envelope (the
//!   key is used up, [`BurnoutError::MalformedEnvelope`](crate::error::BurnoutError::MalformedEnvelope))
//!   must hold for every carrier. The hooks only change what the caller
//!   itself sends: they hold no key but the caller's own.
//! * **Encoders the public API does not offer**, so a fuzz target can
//!   check that a parser is canonical (decode, then encode, gives the
//!   input) and build or open encrypted exports under a known nonce.

#![allow(missing_docs, reason = "every item is documented; the lint does not apply to this hidden module")]

use rand_core::CryptoRng;

use zeroize::Zeroizing;

use crate::account::Account;
use crate::burnout::payload::Trailer;
use crate::error::{Error, Result, WireError};
use crate::forkout::{ForkoutBundle, ForkoutDelivery, ForkoutPlan, Recipient, SealPolicy, SealReport, SealedForkout};
use crate::group::{Distribution, Group, InstalledSenderKey};
use crate::persist::{self, ExportHeader};
use crate::session::Session;
use crate::wire::session_message::encode_prefix;
use crate::wire::{MessageType, PayloadKind, SessionMessage};

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

/// The 1:1 payload kind bytes (the last plaintext byte inside the AEAD).
pub mod payload_kind {
    /// An application message.
    pub const APP: u8 = super::PayloadKind::App as u8;
    /// An application message inside a Burnout envelope.
    pub const BURNOUT_APP: u8 = super::PayloadKind::BurnoutApp as u8;
    /// A group sender-key distribution.
    pub const GROUP_DISTRIBUTION: u8 = super::PayloadKind::GroupDistribution as u8;
    /// A Forkout key slot.
    pub const FORKOUT_SLOT: u8 = super::PayloadKind::ForkoutSlot as u8;
}

/// [`Session::encrypt`] with the payload `content || trailer` taken as is:
/// `trailer` is what the format puts after the content (an optional
/// envelope, then the payload kind byte), so any kind, any envelope and
/// any payload a malicious peer could seal. At most 64 trailer bytes.
pub fn session_seal_raw<R: CryptoRng + ?Sized>(
    session: &mut Session,
    content: &[u8],
    trailer: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    if trailer.len() > 64 {
        return Err(Error::InvalidState("raw trailer too long"));
    }
    session.encrypt_raw(content, trailer, rng)
}

/// [`Group::encrypt`] (plain, envelope flag clear) or, when `raw_envelope`
/// is given, [`group_seal_raw_envelope`]: the two flag values an honest
/// sender's code can produce, with any content.
pub fn group_seal_raw<R: CryptoRng + ?Sized>(
    group: &mut Group,
    content: &[u8],
    raw_envelope: Option<&[u8]>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    match raw_envelope {
        Some(raw) => group_seal_raw_envelope(group, content, raw, rng),
        None => group.encrypt(content, rng),
    }
}

/// The encoded (plaintext) sender-key distribution of `group`'s own key:
/// what [`Group::distribute`] seals into each 1:1 session as a
/// [`payload_kind::GROUP_DISTRIBUTION`] payload. Secret.
pub fn group_own_distribution(group: &Group) -> Zeroizing<Vec<u8>> {
    group.own_distribution().encode()
}

/// The next iteration `group`'s receiver for the sender key of `message`
/// (its sender and key id) expects, `None` if there is no such receiver:
/// so the fuzz outcome counters can tell which path of the receiver an
/// accepted message took (below it: a stored subtree is split; at or past
/// it: the ratchet advances, storing the skipped subtrees).
pub fn group_receiver_next(group: &Group, message: &[u8]) -> Option<u32> {
    let parsed = crate::group::GroupMessage::parse(message).ok()?;
    let member = group.members.get(parsed.sender_bytes())?;
    [&member.current, &member.previous]
        .into_iter()
        .flatten()
        .find(|r| r.key_id == parsed.key_id())
        .map(|r| r.ratchet.counter())
}

/// Installs an encoded distribution into `group` without a 1:1 session
/// (with the checks of [`Group::install_distribution`]): for fixtures.
pub fn group_install_plain(group: &mut Group, distribution: &[u8]) -> Result<InstalledSenderKey> {
    let parsed = Distribution::parse(distribution)?;
    group.check_install(&parsed)?;
    Ok(group.install(parsed))
}

/// Parses an encoded distribution and encodes it again.
pub fn distribution_reencode(bytes: &[u8]) -> core::result::Result<Zeroizing<Vec<u8>>, WireError> {
    Ok(Distribution::parse(bytes)?.encode())
}

/// The length of a group message's header (the authenticated bytes before
/// the ciphertext).
pub const GROUP_HEADER_LEN: usize = crate::group::HEADER_LEN;

/// Parses a 1:1 message and encodes its authenticated prefix again: the
/// result must be exactly the prefix the parser authenticated, and with
/// the ciphertext appended the input.
pub fn session_message_reencode(bytes: &[u8]) -> core::result::Result<Vec<u8>, WireError> {
    let parsed = SessionMessage::parse(bytes)?;
    let mut out = encode_prefix(parsed.setup.as_deref(), &parsed.header, parsed.ciphertext.len()).into_vec();
    if out.as_slice() != parsed.authenticated {
        return Err(WireError::InvalidField("prefix did not re-encode"));
    }
    out.extend_from_slice(parsed.ciphertext);
    Ok(out)
}

/// Parses a Forkout bundle and encodes it again.
pub fn forkout_bundle_reencode(bytes: &[u8]) -> core::result::Result<Vec<u8>, WireError> {
    Ok(ForkoutBundle::parse(bytes)?.reencode())
}

/// Parses a Forkout delivery and encodes it again.
pub fn forkout_delivery_reencode(bytes: &[u8]) -> core::result::Result<Vec<u8>, WireError> {
    Ok(ForkoutDelivery::parse(bytes)?.inner.to_vec())
}

/// `delivery` with its key-slot message replaced by `slot` (any 1:1
/// message, for example one from [`session_seal_raw`] with a
/// [`payload_kind::FORKOUT_SLOT`] payload of the caller's choosing); the
/// id and the body stay.
pub fn forkout_delivery_with_slot(delivery: &[u8], slot: &[u8]) -> core::result::Result<Vec<u8>, WireError> {
    let parsed = ForkoutDelivery::parse(delivery)?;
    let mut inner = parsed.inner;
    inner.slot = slot;
    Ok(inner.to_vec())
}

/// Whether a receive error still uses up the message key (an expired
/// Burnout message, a malformed envelope): the receiving state then
/// changes although the call failed.
pub fn consumes_key(error: &Error) -> bool {
    crate::burnout::payload::consumes_key(error)
}

/// An encrypted export, opened.
pub struct OpenedExport {
    /// The generation its header records.
    pub generation: u64,
    /// Its nonce.
    pub nonce: [u8; 24],
    /// The serialized state it holds.
    pub plaintext: Zeroizing<Vec<u8>>,
}

/// Opens an export of state type `inner` bound to `context` (as
/// [`Persist::import_encrypted_for`](crate::Persist::import_encrypted_for)
/// does before parsing the state).
pub fn export_open(key: &[u8; 32], inner: MessageType, export: &[u8], context: &[u8]) -> Result<OpenedExport> {
    let (header, plaintext) = persist::open(key, inner, export, &persist::context_digest(context))?;
    // The nonce follows the header (version, type, inner type, generation,
    // context digest).
    let nonce = export
        .get(3 + 8 + 32..3 + 8 + 32 + 24)
        .and_then(|n| <[u8; 24]>::try_from(n).ok())
        .ok_or(Error::ExportCorrupted)?;
    Ok(OpenedExport { generation: header.generation, nonce, plaintext })
}

/// Seals `plaintext` as an export of state type `inner` with the given
/// generation, context and nonce (what
/// [`Persist::export_encrypted_for`](crate::Persist::export_encrypted_for)
/// does with a random nonce, whatever the plaintext is).
pub fn export_seal(
    key: &[u8; 32],
    inner: MessageType,
    generation: u64,
    context: &[u8],
    plaintext: &[u8],
    nonce: &[u8; 24],
) -> Vec<u8> {
    let header = ExportHeader { inner, generation, context: persist::context_digest(context) };
    persist::seal_with_nonce(key, &header, plaintext, nonce)
}

/// A classical bundle of `account` (no KEM prekey, its signed prekey
/// signed for that): what a peer without post-quantum support publishes.
/// For tests of [`SetupPolicy`](crate::SetupPolicy) and of downgrades; the
/// public API never makes one.
pub fn classical_prekey_bundle(account: &Account, one_time_prekey_id: Option<u32>) -> Result<crate::PreKeyBundle> {
    account.prekey_store().classical_bundle(account.identity_keypair(), one_time_prekey_id)
}

/// Turns the post-quantum ratchet of `session`'s current state off (no
/// chunks, no ML-KEM work on either side; the 5-byte epoch field is still
/// sent), for benchmarks that measure a session with and without it. Call
/// it on the initiator's new session, before its first message.
pub fn disable_post_quantum_ratchet(session: &mut Session) {
    session.disable_post_quantum_ratchet();
}

//! # sealpost
//!
//! The cryptographic core of an end-to-end encrypted, asynchronous team
//! messenger. Sans-I/O: bytes in, bytes out; no sockets, clocks or global
//! state. Randomness comes from a caller-supplied [`rand_core::CryptoRng`]
//! (`sealpost::default_rng()` is the convenient default), time from a caller-supplied
//! `now_ms`.
//!
//! ## The protocol flow
//!
//! 1. **Identity.** Each device has an [`Account`]: a long-term
//!    [`IdentityKeyPair`] (Ed25519, with its X25519 key derived from it) and
//!    a [`PreKeyStore`]. Two people compare a [`SafetyNumber`] out of band.
//! 2. **Publish.** Bob uploads [`PreKeyBundle`]s: his identity, a signed
//!    prekey, and one one-time prekey per bundle. Then he may go offline.
//! 3. **Start offline (PQXDH).** Alice fetches one bundle, and
//!    [`Account::create_outbound_session`] verifies it and derives a shared
//!    secret from three or four Diffie-Hellman results and an ML-KEM-1024
//!    encapsulation to Bob's KEM prekey (so a recording of the session stays
//!    safe from a future quantum computer). She can encrypt at once; her
//!    messages carry the setup data until Bob replies. A
//!    [`SetupPolicy`] refuses classical setup by default.
//! 4. **Accept.** When Bob comes online, [`Account::create_inbound_session`]
//!    turns Alice's first message (any of them: earlier ones may be lost)
//!    into his session, consuming the one-time prekey only once the message
//!    authenticates.
//! 5. **Talk (Double Ratchet).** Every message uses a fresh key from a
//!    symmetric chain (forward secrecy); every change of speaker mixes a new
//!    Diffie-Hellman result into the root key (post-compromise security).
//!    Beside it, a post-quantum ratchet mixes a fresh ML-KEM-768 secret into
//!    the root key every few dozen messages
//!    ([`Session::post_quantum_epoch`]), so the session also heals against
//!    an adversary who breaks X25519.
//!    Messages may arrive late, out of order, or twice: bounded skipped
//!    keys handle the first two, and replays are refused.
//!
//! ```
//! use sealpost::Account;
//!
//! let mut rng = sealpost::default_rng();
//! let mut alice = Account::new(&mut rng, 1_700_000_000_000);
//! let mut bob = Account::new(&mut rng, 1_700_000_000_000);
//! bob.generate_one_time_prekeys(10, &mut rng)?;
//! let bundle = bob.prekey_bundle()?.to_bytes(); // via the server
//!
//! // Alice, while Bob is offline:
//! let bundle = sealpost::PreKeyBundle::from_bytes(&bundle)?;
//! let mut to_bob = alice.create_outbound_session(&bundle, &mut rng)?;
//! let m1 = to_bob.encrypt(b"are you around tomorrow?", &mut rng)?;
//! let m2 = to_bob.encrypt(b"(no rush)", &mut rng)?;
//!
//! // Bob, hours later, reads them in the opposite order:
//! let (mut to_alice, text) = bob.create_inbound_session(&m2)?;
//! assert_eq!(text, b"(no rush)");
//! assert_eq!(bob.decrypt(&mut to_alice, &m1)?, b"are you around tomorrow?");
//!
//! let reply = to_alice.encrypt(b"yes, 10am", &mut rng)?;
//! assert_eq!(alice.decrypt(&mut to_bob, &reply)?, b"yes, 10am");
//! # Ok::<(), sealpost::Error>(())
//! ```
//!
//! ## Beyond 1:1
//!
//! * [`group`]: a channel message is encrypted **once** under the sender's
//!   sender key and signed; the key reaches each member once, through their
//!   1:1 session ([`group::Group::distribute`]). Removing a member rotates
//!   every remaining sender's key.
//! * [`forkout`]: one body for many people who are not a group. The body is
//!   sealed once; each recipient gets a small key slot through their own
//!   1:1 session, and a relay splits the bundle per recipient without any
//!   key ([`forkout::seal`], [`forkout::split`], [`forkout::open`]).
//! * [`burnout`]: any of the above can carry an [`Envelope`](burnout::Envelope) (sent-at,
//!   expiry, burn-after-reading) inside its ciphertext, enforced when the
//!   message is opened against the caller's clock; opened messages live in a
//!   zeroizing [`burnout::Vault`].
//! * [`attachment`]: files and voice notes of any size, encrypted as a
//!   stream in constant memory and read back at any offset; the small
//!   [`attachment::Pointer`] (key, length, metadata) travels inside any of
//!   the above.
//! * [`device`]: one person, several devices. A user key signs the list of
//!   the user's device identities ([`device::DeviceList`], versioned, so a
//!   rollback is refused); a new device joins from an existing one over a
//!   QR code and a short authentication string ([`device::LinkRequest`],
//!   [`device::Linker`]), with no server able to read or change anything.
//!
//! ## The public API
//!
//! Every public item has exactly one path (checked by
//! `tests/public-api.txt`, written by `scripts/public-api.py` from rustdoc
//! JSON and compared in CI):
//!
//! | path | what |
//! |---|---|
//! | [`Account`] | the local device: identity, prekeys, session setup |
//! | [`Session`] | one 1:1 conversation (Double Ratchet) |
//! | [`IdentityKeyPair`], [`IdentityKey`], [`SafetyNumber`] | identities and their verification |
//! | [`PreKeyBundle`], [`PreKeyStore`] | published prekeys and the owner's store |
//! | [`Persist`] | versioned, encrypted export and import of every stateful type |
//! | [`Error`], [`Result`], [`WireError`] | shared errors |
//! | [`SessionError`], [`BurnoutError`], [`VaultError`], [`GroupError`], [`ForkoutError`], [`AttachmentError`], [`DeviceError`] | each protocol's errors, wrapped by [`Error`] |
//! | [`default_rng`] | the convenience random number generator |
//! | [`group`] | group messaging with sender keys |
//! | [`forkout`] | one body to many 1:1 recipients, sealed once |
//! | [`burnout`] | self-destructing envelopes and the zeroizing vault |
//! | [`attachment`] | streamed, seekable encryption of files, sent as a pointer |
//! | [`device`] | users with several devices: user keys, signed device lists, linking a new device |
//! | [`wire`] | format version, message types, routing a byte string without decrypting it |
//! | [`limits`] | every bound |
//! | [`docs`] | the protocol documents: formats, derivations, labels, deviations |
//!
//! ## Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | `serde` | `Serialize` / `Deserialize` for the identifiers below, as their text forms |
//! | `tracing` | [`tracing`](https://docs.rs/tracing) events (target `sealpost`): a 1:1 or group message refused and why (DEBUG), the session state that took a message and a new state from a setup (DEBUG), a one-time prekey consumed and an own sender key rotated (INFO). They carry ids, counts and error descriptions, never key material or plaintext |
//!
//! Neither is on by default; without them the crate depends on neither
//! crate.
//!
//! ## Text forms
//!
//! The identifiers apps put in maps, logs and JSON have `Display` and
//! `FromStr`, and with the `serde` feature `Serialize` / `Deserialize` as
//! the same strings. Each value has exactly one text form; parsing refuses
//! every other spelling (upper case, prefixes, spaces, leading zeros):
//!
//! | type | text form |
//! |---|---|
//! | [`IdentityKey`] | 64 lower-case hex digits (the 32-byte key), validated like [`IdentityKey::from_bytes`] |
//! | [`group::GroupId`], [`forkout::ForkoutId`] | 64 lower-case hex digits |
//! | [`burnout::Envelope`] | lower-case hex of [`burnout::Envelope::to_bytes`] |
//! | [`burnout::VaultId`] | the number in decimal, no sign, no leading zero |
//! | [`SafetyNumber`] | 60 digits in 12 groups of 5, separated by single spaces |
//!
//! ```
//! let key = *sealpost::IdentityKeyPair::generate(&mut sealpost::default_rng()).public();
//! let text = key.to_string();
//! assert_eq!(text.parse::<sealpost::IdentityKey>()?, key);
//! # Ok::<(), sealpost::Error>(())
//! ```
//!
//! Internally, one module per protocol concept: `identity`, `prekey`,
//! `x3dh` (offline session setup), `ratchet` (Double Ratchet: root, chain,
//! message keys, skipped keys), `session`, `account`, `persist`, `wire`
//! (codec and the 1:1 message format), `burnout`, `group`, `forkout`,
//! `attachment`. A
//! message is parsed once at the public entry point and passed parsed down
//! to the state change that commits it.
//!
//! ## Status
//!
//! sealpost is **pre-1.0**: formats and API may still change between 0.x
//! releases (every format is versioned, and an old encoding is refused with a
//! typed error, never misread). It has **not been independently audited**:
//! do not rely on it for high-risk use without a review of your own.
//!
//! The wire formats, every domain-separation label and every deviation from
//! the specifications followed (Signal's
//! [PQXDH](https://signal.org/docs/specifications/pqxdh/) and
//! [Double Ratchet](https://signal.org/docs/specifications/doubleratchet/),
//! Matrix's [Megolm](https://gitlab.matrix.org/matrix-org/olm/-/blob/master/docs/megolm.md))
//! are in [`docs`].

mod account;
pub mod attachment;
pub mod burnout;
mod crypto;
pub mod device;
pub mod docs;
mod error;
pub mod forkout;
pub mod group;
mod identity;
mod kem;
pub mod limits;
mod persist;
mod prekey;
mod ratchet;
mod session;
pub mod wire;
mod x3dh;

// Unstable, not semver-covered, for sealpost's own test kit and fuzzers:
// only with the non-default `test-hooks` feature or under cargo-fuzz.
#[cfg(any(fuzzing, feature = "test-hooks"))]
#[doc(hidden)]
pub mod test_hooks;
mod text;
mod trace;

/// The README's code blocks, compiled and run as doctests. They use the
/// workspace's `sealpost-client`, which the published crate does not
/// depend on: they run where the workspace's test kit is (it turns the
/// `test-hooks` feature on), not in the packaged crate.
#[cfg(all(doctest, feature = "test-hooks"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The convenience default random number generator: `rand::rng()` of
/// rand 0.10, a ChaCha-based CSPRNG per thread, seeded from the operating
/// system.
///
/// Every sealpost function takes the RNG as a parameter, so tests can pass a
/// seeded generator (`rand::rngs::StdRng::seed_from_u64`) and be
/// deterministic.
///
/// ```
/// let mut rng = sealpost::default_rng();
/// let account = sealpost::Account::new(&mut rng, 0);
/// # let _ = account;
/// ```
pub fn default_rng() -> rand::rngs::ThreadRng {
    rand::rng()
}

/// The `rand_core` (0.10) whose [`CryptoRng`](rand_core::CryptoRng) every
/// sealpost function takes. An app on another `rand` version passes
/// [`default_rng`], or implements this crate's trait for its own generator
/// (`rand` 0.10's generators implement it; those of `rand` 0.8 and 0.9 do
/// not: a mismatch shows as an E0277 "the trait bound `...: CryptoRng` is
/// not satisfied").
///
/// ```
/// // Any generator that implements sealpost's rand_core::CryptoRng:
/// fn new_account<R: sealpost::rand_core::CryptoRng>(rng: &mut R) -> sealpost::Account {
///     sealpost::Account::new(rng, 0)
/// }
/// new_account(&mut sealpost::default_rng());
/// ```
pub use rand_core;

pub use account::Account;
pub use error::{
    AttachmentError, BurnoutError, DeviceError, Error, ForkoutError, GroupError, Result, SessionError, VaultError,
    WireError,
};
pub use identity::{IdentityKey, IdentityKeyPair, SafetyNumber};
pub use persist::{Persist, generate_export_key};
pub use prekey::{PreKeyBundle, PreKeyStore};
pub use session::Session;
pub use x3dh::SetupPolicy;

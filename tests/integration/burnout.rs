//! Burnout: envelopes enforced at open, the vault, persistence.
//!
//! The first part is a suite written once against the [`Channel`] trait (a
//! way to carry Burnout content from Alice to Bob) and run for every message
//! kind: 1:1, group and Forkout each implement [`Channel`] and add one
//! `suite!` line (see `one_to_one_suite`), which adds one `#[test]` per suite
//! function. The Burnout rule (BURNOUT.md) is written once and holds for
//! every carrier: so is every suite function.

use rand::rngs::StdRng;
use sealpost::burnout::{BurnoutMessage, Envelope, Opened, Vault, VaultId};
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::group::Group;
use sealpost::limits::MAX_CLOCK_SKEW_MS;
use sealpost::limits::{MAX_VAULT_BYTES, MAX_VAULT_ENTRIES, MAX_VAULT_TOMBSTONES};
use sealpost::test_hooks;
use sealpost::{Account, Error, IdentityKey, IdentityKeyPair, Persist, Session};
use sealpost::{BurnoutError, VaultError};
use sealpost_testkit::{Conversation, ForkoutWorld, GroupWorld, NOW as T0, OfflineStart, contains, rng};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;

// ---------------------------------------------------------------------------
// The kind-agnostic suite
// ---------------------------------------------------------------------------

/// Carries Burnout content from a sender (Alice) to a receiver (Bob).
trait Channel {
    /// Seals `plaintext` under `envelope` as the sender, or says why not.
    fn try_seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Result<Vec<u8>, Error>;
    /// Seals as the sender with `raw` in place of the encoded envelope (the
    /// carrier's flag still saying there is one): an authentic message with
    /// a missing or unparseable envelope. No public call builds one, so this
    /// goes through the hidden `sealpost::test_hooks` (feature `test-hooks`,
    /// enabled for tests through sealpost-testkit).
    fn seal_raw_envelope(&mut self, plaintext: &[u8], raw: &[u8]) -> Vec<u8>;
    /// Opens as the receiver at `now_ms`.
    fn open(&mut self, sealed: &[u8], now_ms: u64) -> Result<BurnoutMessage, Error>;
    /// Everything the receiver keeps (serialized), to prove what an open
    /// changed.
    fn receiver_state(&self) -> Vec<u8>;
    /// Everything the sender keeps (serialized), to prove what a seal
    /// changed.
    fn sender_state(&self) -> Vec<u8>;
    /// The sender's identity, as the receiver should report it.
    fn sender(&self) -> IdentityKey;

    /// Seals `plaintext` under `envelope` as the sender.
    fn seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Vec<u8> {
        self.try_seal(plaintext, envelope).unwrap()
    }
}

/// Opens at the boundary and 1 ms either side: readable strictly before
/// the expiry, expired at and after it, plaintext never returned.
fn suite_expiry_boundary(c: &mut impl Channel) {
    let env = Envelope::with_ttl(T0, 10 * MINUTE);
    let expiry = T0 + 10 * MINUTE;
    for (now, readable) in [(expiry - 1, true), (expiry, false), (expiry + 1, false)] {
        let sealed = c.seal(b"boundary", &env);
        let result = c.open(&sealed, now);
        if readable {
            let m = result.unwrap();
            assert_eq!(m.envelope(), &env);
            assert_eq!(m.sender(), &c.sender());
            assert_eq!(m.into_plaintext(now).unwrap().as_slice(), b"boundary");
        } else {
            assert_eq!(
                result.unwrap_err(),
                Error::Burnout(BurnoutError::Expired { expired_at_ms: expiry }),
                "now = {now}"
            );
        }
    }
}

/// An expired message changes the receiver's state (its key is used up),
/// and opening it again never yields the plaintext.
fn suite_expired_consumes_key(c: &mut impl Channel) {
    let sealed = c.seal(b"too late", &Envelope::with_ttl(T0, MINUTE));
    let before = c.receiver_state();
    assert_eq!(
        c.open(&sealed, T0 + HOUR).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE })
    );
    assert_ne!(c.receiver_state(), before, "the expired message's key must be used up");
    // Even with a clock set back, the message is gone: its key no longer exists.
    assert_eq!(c.open(&sealed, T0).unwrap_err(), Error::DuplicateMessage, "the key must not have lingered");
    // And the channel still works.
    let next = c.seal(b"next", &Envelope::with_ttl(T0, MINUTE));
    assert_eq!(c.open(&next, T0 + 1).unwrap().into_plaintext(T0 + 1).unwrap().as_slice(), b"next");
}

/// An authentic message whose envelope is missing or unparseable (the flag
/// says there is one) is refused with `MalformedEnvelope` and, like an
/// expired one, uses up its key: its rule cannot be enforced, so its
/// content must not survive. A replay is a duplicate.
fn suite_malformed_envelope_consumes_key(c: &mut impl Channel) {
    let mut newer = Envelope::with_ttl(T0, MINUTE).to_bytes();
    newer[0] = 2; // an envelope version from a newer client
    for raw in [&[][..], &[0xee; 18], &newer] {
        let sealed = c.seal_raw_envelope(b"unenforceable", raw);
        let before = c.receiver_state();
        let err = c.open(&sealed, T0).unwrap_err();
        assert!(matches!(err, Error::Burnout(BurnoutError::MalformedEnvelope(_))), "{raw:?}: {err:?}");
        assert_ne!(c.receiver_state(), before, "{raw:?}: the key must be used up");
        assert_eq!(c.open(&sealed, T0).unwrap_err(), Error::DuplicateMessage, "{raw:?}");
    }
    // And the channel still works.
    let next = c.seal(b"next", &Envelope::with_ttl(T0, MINUTE));
    assert_eq!(c.open(&next, T0 + 1).unwrap().into_plaintext(T0 + 1).unwrap().as_slice(), b"next");
}

/// A sender refuses to seal an envelope already expired at its own sent-at
/// time (nobody could ever read it), and the refusal uses no key.
fn suite_dead_on_arrival_is_refused(c: &mut impl Channel) {
    for (env, expired_at_ms) in [
        (Envelope::with_ttl(T0, 0), T0),
        (Envelope::expiring_at(T0, T0 - 1).burn_after_reading(), T0 - 1),
        (Envelope::expiring_at(T0, 0), 0),
    ] {
        let before = c.sender_state();
        assert_eq!(
            c.try_seal(b"never readable", &env).unwrap_err(),
            Error::Burnout(BurnoutError::Expired { expired_at_ms }),
            "{env:?}"
        );
        assert_eq!(c.sender_state(), before, "{env:?}: a refused seal uses no key");
    }
    // One millisecond of life is enough to be sealed.
    let short = c.seal(b"just in time", &Envelope::with_ttl(T0, 1));
    assert_eq!(c.open(&short, T0).unwrap().into_plaintext(T0).unwrap().as_slice(), b"just in time");
}

/// Skew: a sent-at up to `MAX_CLOCK_SKEW_MS` ahead opens; 1 ms more is
/// refused without any state change and opens once the clock is right.
fn suite_clock_skew(c: &mut impl Channel) {
    let now = T0;
    let at_limit = c.seal(b"at limit", &Envelope::with_ttl(now + MAX_CLOCK_SKEW_MS, MINUTE));
    assert!(c.open(&at_limit, now).is_ok());

    let ahead = c.seal(b"ahead", &Envelope::with_ttl(now + MAX_CLOCK_SKEW_MS + 1, MINUTE));
    let before = c.receiver_state();
    assert_eq!(
        c.open(&ahead, now).unwrap_err(),
        Error::Burnout(BurnoutError::ClockSkew { sent_at_ms: now + MAX_CLOCK_SKEW_MS + 1, now_ms: now })
    );
    assert_eq!(c.receiver_state(), before, "clock skew must leave the state untouched");
    let later = now + 1;
    assert_eq!(c.open(&ahead, later).unwrap().into_plaintext(later).unwrap().as_slice(), b"ahead");

    // Expiry wins over skew, and consumes.
    let both = c.seal(b"both", &Envelope::expiring_at(now + HOUR, now + HOUR + 1));
    assert_eq!(
        c.open(&both, now + 2 * HOUR).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: now + HOUR + 1 })
    );
}

/// Every single-byte change to a sealed message (which covers every byte of
/// the encrypted envelope and of the authenticated flag that says it is
/// there), and every truncation, is refused with no state change.
fn suite_tampered_and_stripped(c: &mut impl Channel) {
    let sealed = c.seal(b"tamper me", &Envelope::with_ttl(T0, MINUTE).burn_after_reading());
    let before = c.receiver_state();
    for i in 0..sealed.len() {
        for bit in [0x01, 0x80] {
            let mut t = sealed.clone();
            t[i] ^= bit;
            let err = c.open(&t, T0).unwrap_err();
            assert!(
                !matches!(err, Error::Burnout(BurnoutError::Expired { .. })),
                "byte {i}: tampering reached the envelope check"
            );
            assert_eq!(c.receiver_state(), before, "byte {i}: a tampered message changed state");
        }
    }
    // Stripping bytes from the end (where the envelope travels) or anywhere else.
    for cut in 1..sealed.len() {
        assert!(c.open(&sealed[..sealed.len() - cut], T0).is_err());
        assert_eq!(c.receiver_state(), before);
    }
    assert!(c.open(&sealed, T0).is_ok(), "the untouched message still opens");
}

/// Burn-after-reading through the vault: one read, then a typed error.
fn suite_burn_after_reading(c: &mut impl Channel) {
    let sealed = c.seal(b"493817", &Envelope::new(T0).burn_after_reading());
    let m = c.open(&sealed, T0).unwrap();
    let mut vault = Vault::new();
    let id = vault.insert(m, T0).unwrap();
    let first = vault.read(id, T0 + 1).unwrap();
    assert!(first.was_burned());
    assert_eq!(&*first, b"493817");
    drop(first);
    assert_eq!(vault.read(id, T0 + 2).unwrap_err(), Error::Vault(VaultError::BurnedAfterReading));
    assert!(vault.is_empty());
}

// ---------------------------------------------------------------------------
// 1:1
// ---------------------------------------------------------------------------

/// Alice and Bob with an established 1:1 session (Bob has replied, so no
/// setup data is in flight).
struct OneToOne {
    rng: StdRng,
    alice: Account,
    bob: Account,
    to_bob: Session,
    to_alice: Session,
}

impl OneToOne {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let Conversation { alice, bob, a: to_bob, b: to_alice } = Conversation::established(&mut rng);
        Self { rng, alice, bob, to_bob, to_alice }
    }

    fn bob_state(&self) -> (Vec<u8>, Vec<u8>) {
        (self.bob.to_bytes().to_vec(), self.to_alice.to_bytes().to_vec())
    }
}

impl Channel for OneToOne {
    fn try_seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Result<Vec<u8>, Error> {
        self.to_bob.encrypt_burnout(plaintext, envelope, &mut self.rng)
    }
    fn seal_raw_envelope(&mut self, plaintext: &[u8], raw: &[u8]) -> Vec<u8> {
        test_hooks::session_seal_raw_envelope(&mut self.to_bob, plaintext, raw, &mut self.rng).unwrap()
    }
    fn open(&mut self, sealed: &[u8], now_ms: u64) -> Result<BurnoutMessage, Error> {
        self.bob.open_burnout(&mut self.to_alice, sealed, now_ms)
    }
    fn receiver_state(&self) -> Vec<u8> {
        let (a, s) = self.bob_state();
        [a, s].concat()
    }
    fn sender_state(&self) -> Vec<u8> {
        [self.alice.to_bytes().to_vec(), self.to_bob.to_bytes().to_vec()].concat()
    }
    fn sender(&self) -> IdentityKey {
        *self.alice.identity()
    }
}

/// The same suite through `Session::open_burnout` (no account involved).
struct OneToOneSession(OneToOne);

impl Channel for OneToOneSession {
    fn try_seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Result<Vec<u8>, Error> {
        self.0.try_seal(plaintext, envelope)
    }
    fn seal_raw_envelope(&mut self, plaintext: &[u8], raw: &[u8]) -> Vec<u8> {
        self.0.seal_raw_envelope(plaintext, raw)
    }
    fn open(&mut self, sealed: &[u8], now_ms: u64) -> Result<BurnoutMessage, Error> {
        self.0.to_alice.open_burnout(sealed, now_ms)
    }
    fn receiver_state(&self) -> Vec<u8> {
        self.0.receiver_state()
    }
    fn sender_state(&self) -> Vec<u8> {
        self.0.sender_state()
    }
    fn sender(&self) -> IdentityKey {
        self.0.sender()
    }
}

/// The same suite through the any-kind `Account::open`.
struct OneToOneAny(OneToOne);

impl Channel for OneToOneAny {
    fn try_seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Result<Vec<u8>, Error> {
        self.0.try_seal(plaintext, envelope)
    }
    fn seal_raw_envelope(&mut self, plaintext: &[u8], raw: &[u8]) -> Vec<u8> {
        self.0.seal_raw_envelope(plaintext, raw)
    }
    fn open(&mut self, sealed: &[u8], now_ms: u64) -> Result<BurnoutMessage, Error> {
        match self.0.bob.open(&mut self.0.to_alice, sealed, now_ms)? {
            Opened::Burnout(m) => Ok(m),
            Opened::Message(_) => panic!("a Burnout message opened as a plain one"),
        }
    }
    fn receiver_state(&self) -> Vec<u8> {
        self.0.receiver_state()
    }
    fn sender_state(&self) -> Vec<u8> {
        self.0.sender_state()
    }
    fn sender(&self) -> IdentityKey {
        self.0.sender()
    }
}

/// Runs every suite function over fresh channels made by `make`: one
/// `#[test]` per suite function, named after it without `suite_`.
macro_rules! suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;
            suite!(@tests $make;
                expiry_boundary = suite_expiry_boundary,
                expired_consumes_key = suite_expired_consumes_key,
                malformed_envelope_consumes_key = suite_malformed_envelope_consumes_key,
                dead_on_arrival_is_refused = suite_dead_on_arrival_is_refused,
                clock_skew = suite_clock_skew,
                tampered_and_stripped = suite_tampered_and_stripped,
                burn_after_reading = suite_burn_after_reading
            );
        }
    };
    (@tests $make:expr; $($test:ident = $run:ident),+) => {
        $(
            #[test]
            fn $test() {
                $run(&mut $make);
            }
        )+
    };
}

suite!(one_to_one_suite, OneToOne::new(1));
suite!(one_to_one_session_suite, OneToOneSession(OneToOne::new(2)));
suite!(one_to_one_any_suite, OneToOneAny(OneToOne::new(3)));
suite!(group_suite, GroupChannel::new(4));
suite!(forkout_suite, ForkoutChannel::new(6));

// ---------------------------------------------------------------------------
// Forkout
// ---------------------------------------------------------------------------

/// Alice seals Forkouts to Bob (`peers[0]`) and Carol (`pending[0]`, so
/// the bundle really fans out); the relay splits out Bob's delivery, which
/// Bob opens in his session.
struct ForkoutChannel(ForkoutWorld);

impl ForkoutChannel {
    fn new(seed: u64) -> Self {
        Self(ForkoutWorld::new(seed).with_peers(1).with_pending(1))
    }
}

impl ForkoutChannel {
    /// Seals to every recipient of the world, all or nothing, with `raw` in
    /// place of the envelope if given; returns Bob's delivery.
    fn seal_with(
        &mut self,
        plaintext: &[u8],
        envelope: Option<&Envelope>,
        raw: Option<&[u8]>,
    ) -> Result<Vec<u8>, Error> {
        let w = &mut self.0;
        let peers = w.peers.iter_mut().map(|p| Recipient::Session(&mut p.to_peer));
        let recipients = peers.chain(w.pending.iter_mut().map(|p| Recipient::Session(&mut p.to_peer)));
        let (sealed, _) = match raw {
            Some(raw) => test_hooks::forkout_seal_raw_envelope(&w.sender, plaintext, recipients, raw, &mut w.rng)?,
            None => forkout::seal(
                &w.sender,
                plaintext,
                recipients,
                SealPolicy::AllOrNothing,
                envelope.copied(),
                &mut w.rng,
            )?,
        };
        forkout::split(&sealed.to_bytes(), w.peers[0].account.identity())
    }
}

impl Channel for ForkoutChannel {
    fn try_seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Result<Vec<u8>, Error> {
        self.seal_with(plaintext, Some(envelope), None)
    }
    fn seal_raw_envelope(&mut self, plaintext: &[u8], raw: &[u8]) -> Vec<u8> {
        self.seal_with(plaintext, None, Some(raw)).unwrap()
    }
    fn open(&mut self, sealed: &[u8], now_ms: u64) -> Result<BurnoutMessage, Error> {
        let bob = &mut self.0.peers[0];
        match forkout::open(&mut bob.account, &mut bob.session, sealed, now_ms)?.into_opened() {
            Opened::Burnout(m) => Ok(m),
            Opened::Message(_) => panic!("a Burnout Forkout opened as a plain one"),
        }
    }
    fn receiver_state(&self) -> Vec<u8> {
        let bob = &self.0.peers[0];
        [bob.account.to_bytes().to_vec(), bob.session.to_bytes().to_vec()].concat()
    }
    fn sender_state(&self) -> Vec<u8> {
        let w = &self.0;
        let sessions = w.peers.iter().map(|p| &p.to_peer).chain(w.pending.iter().map(|p| &p.to_peer));
        let mut state = w.sender.to_bytes().to_vec();
        sessions.for_each(|s| state.extend_from_slice(&s.to_bytes()));
        state
    }
    fn sender(&self) -> IdentityKey {
        *self.0.sender.identity()
    }
}

// ---------------------------------------------------------------------------
// Group
// ---------------------------------------------------------------------------

/// Alice sends to a two-member group; Bob has installed her sender key
/// (and she his).
struct GroupChannel {
    alice: IdentityKey,
    alice_group: Group,
    bob_group: Group,
    rng: rand::rngs::StdRng,
}

impl GroupChannel {
    fn new(seed: u64) -> Self {
        let world = GroupWorld::new(2, &mut rng(seed));
        let alice = world.ids[0];
        let [alice_group, bob_group]: [Group; 2] = world.into_groups().try_into().unwrap();
        Self { alice, alice_group, bob_group, rng: rng(seed + 1) }
    }
}

impl Channel for GroupChannel {
    fn try_seal(&mut self, plaintext: &[u8], envelope: &Envelope) -> Result<Vec<u8>, Error> {
        self.alice_group.encrypt_with_envelope(plaintext, envelope, &mut self.rng)
    }
    fn seal_raw_envelope(&mut self, plaintext: &[u8], raw: &[u8]) -> Vec<u8> {
        test_hooks::group_seal_raw_envelope(&mut self.alice_group, plaintext, raw, &mut self.rng).unwrap()
    }
    fn open(&mut self, sealed: &[u8], now_ms: u64) -> Result<BurnoutMessage, Error> {
        match self.bob_group.decrypt(sealed, now_ms)?.into_opened() {
            Opened::Burnout(m) => Ok(m),
            Opened::Message(_) => panic!("a Burnout group message opened as a plain one"),
        }
    }
    fn receiver_state(&self) -> Vec<u8> {
        self.bob_group.to_bytes().to_vec()
    }
    fn sender_state(&self) -> Vec<u8> {
        self.alice_group.to_bytes().to_vec()
    }
    fn sender(&self) -> IdentityKey {
        self.alice
    }
}

#[test]
fn plain_group_messages_are_not_burnout_messages() {
    let mut c = GroupChannel::new(5);
    let sealed = c.alice_group.encrypt(b"lunch?", &mut c.rng).unwrap();
    match c.bob_group.decrypt(&sealed, T0).unwrap().into_opened() {
        Opened::Message(text) => assert_eq!(text, b"lunch?"),
        Opened::Burnout(_) => panic!("no envelope was attached"),
    }
}

#[test]
fn expired_replay_is_a_duplicate_in_one_to_one() {
    let mut c = OneToOne::new(10);
    let sealed = c.seal(b"x", &Envelope::with_ttl(T0, 1));
    assert!(matches!(c.open(&sealed, T0 + 1), Err(Error::Burnout(BurnoutError::Expired { .. }))));
    assert_eq!(c.open(&sealed, T0).unwrap_err(), Error::DuplicateMessage);
}

#[test]
fn plain_decrypt_refuses_burnout_without_touching_state() {
    let mut c = OneToOne::new(11);
    let sealed = c.seal(b"secret", &Envelope::with_ttl(T0, MINUTE));
    let before = c.bob_state();
    assert_eq!(c.to_alice.decrypt(&sealed).unwrap_err(), Error::UnexpectedPayload(0x01));
    assert_eq!(c.bob.decrypt(&mut c.to_alice, &sealed).unwrap_err(), Error::UnexpectedPayload(0x01));
    assert_eq!(c.bob_state(), before);
    // Still opens with the Burnout API (which enforces the envelope).
    assert!(c.open(&sealed, T0).is_ok());
}

#[test]
fn open_burnout_refuses_plain_messages_without_touching_state() {
    let mut c = OneToOne::new(12);
    let plain = c.to_bob.encrypt(b"not burnout", &mut c.rng).unwrap();
    let before = c.bob_state();
    assert_eq!(c.open(&plain, T0).unwrap_err(), Error::UnexpectedPayload(0x00));
    assert_eq!(c.to_alice.open_burnout(&plain, T0).unwrap_err(), Error::UnexpectedPayload(0x00));
    assert_eq!(c.bob_state(), before);
    match c.to_alice.open(&plain, T0).unwrap() {
        Opened::Message(m) => assert_eq!(m, b"not burnout"),
        Opened::Burnout(_) => panic!("plain message opened as Burnout"),
    }
}

#[test]
fn dead_on_arrival_envelopes_are_refused_when_sealing() {
    let mut c = OneToOne::new(13);
    let before = c.to_bob.to_bytes();
    let err = c.to_bob.encrypt_burnout(b"x", &Envelope::with_ttl(T0, 0), &mut c.rng).unwrap_err();
    assert_eq!(err, Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 }));
    assert_eq!(c.to_bob.to_bytes(), before, "a refused seal uses no key");
}

#[test]
fn expired_out_of_order_message_deletes_its_skipped_key() {
    let mut c = OneToOne::new(14);
    let early = c.seal(b"early, short-lived", &Envelope::with_ttl(T0, MINUTE));
    let late = c.seal(b"late", &Envelope::with_ttl(T0, HOUR));
    // `late` arrives first: the key for `early` is stored as a skipped key.
    assert!(c.open(&late, T0 + 1).is_ok());
    assert_eq!(c.to_alice.skipped_key_count(), 1);
    // `early` arrives after its expiry: refused, and its stored key deleted.
    assert_eq!(
        c.open(&early, T0 + MINUTE).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE })
    );
    assert_eq!(c.to_alice.skipped_key_count(), 0);
    assert_eq!(c.open(&early, T0).unwrap_err(), Error::DuplicateMessage);
}

#[test]
fn skewed_out_of_order_message_keeps_its_skipped_key() {
    let mut c = OneToOne::new(15);
    let ahead = c.seal(b"from the future", &Envelope::with_ttl(T0 + HOUR, MINUTE));
    let now = c.seal(b"now", &Envelope::with_ttl(T0, HOUR));
    assert!(c.open(&now, T0).is_ok());
    assert_eq!(c.to_alice.skipped_key_count(), 1);
    assert!(matches!(c.open(&ahead, T0), Err(Error::Burnout(BurnoutError::ClockSkew { .. }))));
    assert_eq!(c.to_alice.skipped_key_count(), 1, "skew must not consume");
    assert!(c.open(&ahead, T0 + HOUR).is_ok());
    assert_eq!(c.to_alice.skipped_key_count(), 0);
}

#[test]
fn expired_first_message_still_creates_the_session_and_consumes_the_prekey() {
    let mut rng = rng(20);
    let OfflineStart { mut bob, a: mut to_bob, .. } = OfflineStart::new(&mut rng, 1);
    let first =
        to_bob.encrypt_burnout(b"expires while Bob is offline", &Envelope::with_ttl(T0, HOUR), &mut rng).unwrap();
    let second = to_bob.encrypt(b"are you there?", &mut rng).unwrap();

    let (mut to_alice, opened) = bob.create_inbound_session_at(&first, T0 + 2 * HOUR).unwrap();
    assert_eq!(opened.unwrap_err(), Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + HOUR }));
    assert_eq!(bob.remaining_one_time_prekeys(), 0, "the one-time prekey is consumed");
    // The session works for the rest of Alice's messages...
    assert_eq!(bob.decrypt(&mut to_alice, &second).unwrap(), b"are you there?");
    // ...and the expired first message can never be opened again.
    assert_eq!(bob.open(&mut to_alice, &first, T0).unwrap_err(), Error::DuplicateMessage);
    assert!(bob.create_inbound_session_at(&first, T0).is_err());
}

#[test]
fn skewed_first_message_changes_nothing() {
    let mut rng = rng(21);
    let OfflineStart { mut bob, a: mut to_bob, .. } = OfflineStart::new(&mut rng, 1);
    let first = to_bob.encrypt_burnout(b"hi", &Envelope::with_ttl(T0 + HOUR, HOUR), &mut rng).unwrap();
    let before = bob.to_bytes();
    assert!(matches!(bob.create_inbound_session_at(&first, T0), Err(Error::Burnout(BurnoutError::ClockSkew { .. }))));
    assert_eq!(bob.to_bytes(), before);
    let (_, opened) = bob.create_inbound_session_at(&first, T0 + HOUR).unwrap();
    let m = opened.unwrap().into_burnout().unwrap();
    assert_eq!(m.into_plaintext(T0 + HOUR).unwrap().as_slice(), b"hi");
}

#[test]
fn expired_setup_message_for_a_new_state_installs_it() {
    // Alice re-initiates (new bundle) while Bob keeps his old session.
    let mut c = OneToOne::new(22);
    let bundle = c.bob.prekey_bundle().unwrap();
    let mut fresh = c.alice.create_outbound_session(&bundle, &mut c.rng).unwrap();
    let m1 = fresh.encrypt_burnout(b"stale", &Envelope::with_ttl(T0, MINUTE), &mut c.rng).unwrap();
    let m2 = fresh.encrypt(b"after", &mut c.rng).unwrap();
    let prekeys = c.bob.remaining_one_time_prekeys();
    assert!(matches!(
        c.bob.open_burnout(&mut c.to_alice, &m1, T0 + HOUR),
        Err(Error::Burnout(BurnoutError::Expired { .. }))
    ));
    assert_eq!(c.bob.remaining_one_time_prekeys(), prekeys - 1);
    assert_eq!(c.to_alice.previous_state_count(), 1, "the new state was installed");
    assert_eq!(c.bob.decrypt(&mut c.to_alice, &m2).unwrap(), b"after");
}

#[test]
fn stolen_state_after_expiry_cannot_open_the_recorded_message() {
    let mut c = OneToOne::new(23);
    let recorded = c.seal(b"top secret", &Envelope::with_ttl(T0, MINUTE));
    assert!(matches!(c.open(&recorded, T0 + MINUTE), Err(Error::Burnout(BurnoutError::Expired { .. }))));
    // An attacker who recorded the ciphertext later steals Bob's whole state.
    let key = [42u8; 32];
    let stolen_session = c.to_alice.export_encrypted(&key, &mut c.rng);
    let stolen_account = c.bob.export_encrypted(&key, &mut c.rng);
    let mut session = Session::import_encrypted(&key, &stolen_session).unwrap();
    let mut account = Account::import_encrypted(&key, &stolen_account).unwrap();
    assert!(session.decrypt(&recorded).is_err());
    assert!(session.open(&recorded, T0).is_err());
    assert_eq!(account.open_burnout(&mut session, &recorded, T0).unwrap_err(), Error::DuplicateMessage);
}

#[test]
fn burnout_message_debug_shows_no_plaintext() {
    let mut c = OneToOne::new(24);
    let sealed = c.seal(b"hunter2-hunter2", &Envelope::new(T0).burn_after_reading());
    let m = c.open(&sealed, T0).unwrap();
    let shown = format!(
        "{m:?} {:?}",
        Opened::Burnout(BurnoutMessage::outgoing(b"hunter2-hunter2", *m.envelope(), *c.alice.identity()))
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains(&format!("{:?}", b"hunter2")));
}

#[test]
fn into_plaintext_enforces_expiry() {
    let mut c = OneToOne::new(25);
    let sealed = c.seal(b"soon gone", &Envelope::with_ttl(T0, MINUTE));
    let m = c.open(&sealed, T0).unwrap();
    assert_eq!(
        m.into_plaintext(T0 + MINUTE).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE })
    );
}

// ---------------------------------------------------------------------------
// Vault
// ---------------------------------------------------------------------------

fn me() -> IdentityKey {
    static ME: std::sync::OnceLock<IdentityKey> = std::sync::OnceLock::new();
    *ME.get_or_init(|| *IdentityKeyPair::from_seed(&[9u8; 32]).public())
}

fn own(text: &[u8], env: Envelope) -> BurnoutMessage {
    BurnoutMessage::outgoing(text, env, me())
}

#[test]
fn vault_read_at_the_boundary() {
    let expiry = T0 + MINUTE;
    for (now, readable) in [(expiry - 1, true), (expiry, false), (expiry + 1, false)] {
        let mut vault = Vault::new();
        let id = vault.insert(own(b"note", Envelope::expiring_at(T0, expiry)), T0).unwrap();
        match vault.read(id, now) {
            Ok(p) => {
                assert!(readable);
                assert_eq!(&*p, b"note");
                assert!(!p.was_burned());
            }
            Err(e) => {
                assert!(!readable, "now = {now}");
                assert_eq!(e, Error::Burnout(BurnoutError::Expired { expired_at_ms: expiry }));
                assert!(vault.is_empty());
            }
        }
    }
}

#[test]
fn vault_non_burning_entries_read_repeatedly_until_expiry() {
    let mut vault = Vault::new();
    let id = vault.insert(own(b"meeting at 3", Envelope::with_ttl(T0, HOUR)), T0).unwrap();
    for i in 0..3 {
        assert_eq!(&*vault.read(id, T0 + i).unwrap(), b"meeting at 3");
    }
    assert_eq!(vault.len(), 1);
}

#[test]
fn vault_purge_and_next_expiry() {
    let mut vault = Vault::new();
    assert_eq!(vault.next_expiry(), None);
    let a = vault.insert(own(b"a", Envelope::with_ttl(T0, MINUTE)), T0).unwrap();
    let b = vault.insert(own(b"b", Envelope::with_ttl(T0, 2 * MINUTE)), T0).unwrap();
    let c = vault.insert(own(b"c", Envelope::with_ttl(T0, 2 * MINUTE).burn_after_reading()), T0).unwrap();
    let d = vault.insert(own(b"d", Envelope::new(T0).burn_after_reading()), T0).unwrap();
    assert_eq!(vault.next_expiry(), Some(T0 + MINUTE));
    assert_eq!(vault.plaintext_bytes(), 4);

    assert_eq!(vault.purge(T0 + MINUTE - 1), 0);
    assert_eq!(vault.purge(T0 + MINUTE), 1);
    assert_eq!(vault.next_expiry(), Some(T0 + 2 * MINUTE));
    assert_eq!(
        vault.read(a, T0 + MINUTE).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE })
    );
    assert_eq!(vault.purge(T0 + 10 * MINUTE), 2);
    assert_eq!(vault.next_expiry(), None, "the remaining entry never expires");
    assert_eq!(vault.len(), 1);
    assert_eq!(vault.plaintext_bytes(), 1);
    for id in [b, c] {
        assert_eq!(
            vault.read(id, T0 + 10 * MINUTE).unwrap_err(),
            Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + 2 * MINUTE })
        );
    }
    assert_eq!(vault.ids().collect::<Vec<_>>(), vec![d]);
}

#[test]
fn vault_every_method_taking_now_purges_first() {
    let mut vault = Vault::new();
    let a = vault.insert(own(b"a", Envelope::with_ttl(T0, MINUTE)), T0).unwrap();
    let _b = vault.insert(own(b"b", Envelope::with_ttl(T0, HOUR)), T0).unwrap();
    // insert at a later clock purges `a`.
    vault.insert(own(b"c", Envelope::with_ttl(T0, HOUR)), T0 + MINUTE).unwrap();
    assert!(vault.info(a).is_none());
    assert_eq!(vault.len(), 2);
    // read of another entry at a later clock purges everything expired.
    let c = vault.ids().last().unwrap();
    assert!(vault.read(c, T0 + HOUR).is_err());
    assert!(vault.is_empty());
}

#[test]
fn vault_insert_refuses_expired_messages() {
    let mut vault = Vault::new();
    let err = vault.insert(own(b"late", Envelope::with_ttl(T0, MINUTE)), T0 + MINUTE).unwrap_err();
    assert_eq!(err, Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE }));
    assert!(vault.is_empty());
}

#[test]
fn vault_remove_unknown_and_clear() {
    let mut vault = Vault::new();
    let a = vault.insert(own(b"a", Envelope::new(T0)), T0).unwrap();
    let b = vault.insert(own(b"b", Envelope::new(T0)), T0).unwrap();
    assert!(vault.remove(a));
    assert!(!vault.remove(a));
    assert_eq!(vault.read(a, T0).unwrap_err(), Error::Vault(VaultError::NotInVault));
    assert_eq!(vault.read(VaultId::from_u64(1_000), T0).unwrap_err(), Error::Vault(VaultError::NotInVault));
    vault.clear();
    assert!(vault.is_empty());
    assert_eq!(vault.plaintext_bytes(), 0);
    assert_eq!(vault.read(b, T0).unwrap_err(), Error::Vault(VaultError::NotInVault));
    // Ids are not reused.
    let c = vault.insert(own(b"c", Envelope::new(T0)), T0).unwrap();
    assert!(c > b);
}

#[test]
fn vault_sender_copy_lives_under_the_same_rule() {
    let mut c = OneToOne::new(30);
    let env = Envelope::with_ttl(T0, MINUTE).burn_after_reading();
    let sealed = c.seal(b"shared secret", &env);
    let mut alice_vault = Vault::new();
    let mine =
        alice_vault.insert(BurnoutMessage::outgoing(b"shared secret", env, *c.to_bob.local_identity()), T0).unwrap();
    let mut bob_vault = Vault::new();
    let theirs = bob_vault.insert(c.open(&sealed, T0).unwrap(), T0).unwrap();

    let (a, b) = (alice_vault.info(mine).unwrap(), bob_vault.info(theirs).unwrap());
    assert_eq!(a.envelope, b.envelope);
    assert_eq!(a.sender, b.sender, "both copies name Alice as the sender");
    assert!(a.outgoing && !b.outgoing);
    assert_eq!(a.len, 13);
    // Same rule on both sides: one read, and gone at the expiry.
    assert_eq!(&*alice_vault.read(mine, T0 + 1).unwrap(), b"shared secret");
    assert_eq!(alice_vault.read(mine, T0 + 2).unwrap_err(), Error::Vault(VaultError::BurnedAfterReading));
    assert_eq!(bob_vault.purge(T0 + MINUTE), 1);
    assert_eq!(
        bob_vault.read(theirs, T0 + MINUTE).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE })
    );
}

#[test]
fn vault_debug_and_plaintext_debug_show_no_content() {
    let mut vault = Vault::new();
    let id = vault.insert(own(b"correct horse battery", Envelope::new(T0)), T0).unwrap();
    let mut shown = format!("{vault:?} {:?}", vault.info(id));
    shown += &format!("{:?}", vault.read(id, T0).unwrap());
    assert!(!shown.contains("correct horse"), "{shown}");
    assert!(!shown.contains("99, 111, 114"), "{shown}"); // b"cor" as a byte list
}

#[test]
fn vault_entry_limit() {
    let mut vault = Vault::new();
    for _ in 0..MAX_VAULT_ENTRIES {
        vault.insert(own(b"", Envelope::new(T0)), T0).unwrap();
    }
    assert_eq!(
        vault.insert(own(b"", Envelope::new(T0)), T0).unwrap_err(),
        Error::LimitReached { what: "vault entries", max: MAX_VAULT_ENTRIES }
    );
    // A full vault still exports and imports (it fits the state limit).
    let restored = Vault::from_bytes(&vault.to_bytes()).unwrap();
    assert_eq!(restored.len(), MAX_VAULT_ENTRIES);
}

#[test]
fn vault_byte_limit() {
    let mut vault = Vault::new();
    let big = vec![7u8; MAX_VAULT_BYTES];
    assert_eq!(
        vault.insert(own(&[0u8; MAX_VAULT_BYTES + 1], Envelope::new(T0)), T0).unwrap_err(),
        Error::TooLarge { what: "vault message", len: MAX_VAULT_BYTES + 1, max: MAX_VAULT_BYTES }
    );
    vault.insert(own(&big, Envelope::new(T0)), T0).unwrap();
    assert_eq!(
        vault.insert(own(b"1", Envelope::new(T0)), T0).unwrap_err(),
        Error::LimitReached { what: "vault bytes", max: MAX_VAULT_BYTES }
    );
    assert!(vault.insert(own(b"", Envelope::new(T0)), T0).is_ok());
    let restored = Vault::from_bytes(&vault.to_bytes()).unwrap();
    assert_eq!(restored.plaintext_bytes(), MAX_VAULT_BYTES);
}

#[test]
fn vault_tombstones_are_bounded() {
    let mut vault = Vault::new();
    let first = vault.insert(own(b"x", Envelope::new(T0).burn_after_reading()), T0).unwrap();
    let _ = vault.read(first, T0).unwrap();
    for _ in 0..MAX_VAULT_TOMBSTONES {
        let id = vault.insert(own(b"y", Envelope::new(T0)), T0).unwrap();
        assert!(vault.remove(id));
    }
    // The oldest record is forgotten: the id now reads as unknown.
    assert_eq!(vault.read(first, T0).unwrap_err(), Error::Vault(VaultError::NotInVault));
}

// ---------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------

#[test]
fn export_drops_expired_and_burned_entries() {
    let mut r = rng(40);
    let key = [5u8; 32];
    let mut vault = Vault::new();
    let short = vault.insert(own(b"SHORT-LIVED", Envelope::with_ttl(T0, MINUTE)), T0).unwrap();
    let burned = vault.insert(own(b"BURN-ME", Envelope::new(T0).burn_after_reading()), T0).unwrap();
    let kept = vault.insert(own(b"KEEP-ME", Envelope::with_ttl(T0, HOUR)), T0).unwrap();
    let unread = vault.insert(own(b"UNREAD-BAR", Envelope::new(T0).burn_after_reading()), T0).unwrap();
    assert_eq!(&*vault.read(burned, T0).unwrap(), b"BURN-ME");

    let export = vault.export_encrypted_at(T0 + MINUTE, &key, &mut r);
    assert!(!contains(&export, b"KEEP-ME"), "the export is encrypted");
    let plain = vault.to_bytes();
    assert!(!contains(&plain, b"SHORT-LIVED") && !contains(&plain, b"BURN-ME"));
    assert!(contains(&plain, b"KEEP-ME") && contains(&plain, b"UNREAD-BAR"));

    let mut restored = Vault::import_encrypted(&key, &export).unwrap();
    assert_eq!(restored.ids().collect::<Vec<_>>(), vec![kept, unread]);
    assert_eq!(
        restored.read(short, T0 + MINUTE).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + MINUTE })
    );
    assert_eq!(restored.read(burned, T0 + MINUTE).unwrap_err(), Error::Vault(VaultError::BurnedAfterReading));
    assert_eq!(&*restored.read(unread, T0 + MINUTE).unwrap(), b"UNREAD-BAR");
    assert_eq!(restored.read(unread, T0 + MINUTE).unwrap_err(), Error::Vault(VaultError::BurnedAfterReading));
    assert!(Vault::import_encrypted(&[6u8; 32], &export).is_err());
}

#[test]
fn restored_vault_purges_at_the_next_now_it_sees() {
    let mut r = rng(41);
    let key = [5u8; 32];
    let mut vault = Vault::new();
    let id = vault.insert(own(b"an hour", Envelope::with_ttl(T0, HOUR)), T0).unwrap();
    vault.insert(own(b"a day", Envelope::with_ttl(T0, 24 * HOUR)), T0).unwrap();
    let export = vault.export_encrypted_at(T0 + 1, &key, &mut r);

    // Restored two hours later: the first read purges the expired entry.
    let mut restored = Vault::import_encrypted(&key, &export).unwrap();
    assert_eq!(restored.len(), 2, "nothing is purged before a clock is seen");
    assert_eq!(
        restored.read(id, T0 + 2 * HOUR).unwrap_err(),
        Error::Burnout(BurnoutError::Expired { expired_at_ms: T0 + HOUR })
    );
    assert_eq!(restored.len(), 1);
    assert_eq!(restored.next_expiry(), Some(T0 + 24 * HOUR));
    // And a later purge or export drops the rest.
    let mut restored = Vault::import_encrypted(&key, &export).unwrap();
    let again = restored.export_encrypted_at(T0 + 48 * HOUR, &key, &mut r);
    assert!(Vault::import_encrypted(&key, &again).unwrap().is_empty());
}

#[test]
fn vault_serialization_round_trips_and_keeps_ids_unique() {
    let mut vault = Vault::new();
    let a = vault.insert(own(b"a", Envelope::with_ttl(T0, HOUR).burn_after_reading()), T0).unwrap();
    let b = vault.insert(own(b"bb", Envelope::new(T0)), T0).unwrap();
    assert!(vault.remove(b));
    let bytes = vault.to_bytes();
    let mut restored = Vault::from_bytes(&bytes).unwrap();
    assert_eq!(restored.to_bytes(), bytes);
    assert_eq!(restored.clock_ms(), T0);
    assert_eq!(restored.info(a), vault.info(a));
    assert_eq!(restored.read(b, T0).unwrap_err(), Error::Vault(VaultError::NotInVault));
    let c = restored.insert(own(b"c", Envelope::new(T0)), T0).unwrap();
    assert!(c > b, "restored vault does not reuse ids");
}

#[test]
fn vault_import_rejects_malformed_state() {
    let mut vault = Vault::new();
    vault.insert(own(b"a", Envelope::with_ttl(T0, HOUR)), T0).unwrap();
    let good = vault.to_bytes().to_vec();
    // Every truncation and trailing byte is refused.
    for cut in 0..good.len() {
        assert!(Vault::from_bytes(&good[..cut]).is_err());
    }
    assert!(Vault::from_bytes(&[good.clone(), vec![0]].concat()).is_err());
    // A clock past the entry's expiry: an entry that should have been dropped.
    let mut expired = good.clone();
    expired[2..10].copy_from_slice(&(T0 + HOUR).to_be_bytes());
    assert!(Vault::from_bytes(&expired).is_err());
    // next id not above the entry's id.
    let mut ids = good.clone();
    ids[10..18].copy_from_slice(&0u64.to_be_bytes());
    assert!(Vault::from_bytes(&ids).is_err());
}

#[test]
fn session_persistence_does_not_resurrect_an_expired_message() {
    let mut c = OneToOne::new(42);
    let sealed = c.seal(b"gone", &Envelope::with_ttl(T0, MINUTE));
    let saved_before = c.to_alice.to_bytes();
    assert!(matches!(c.open(&sealed, T0 + MINUTE), Err(Error::Burnout(BurnoutError::Expired { .. }))));
    let saved_after = c.to_alice.to_bytes();
    let mut restored = Session::from_bytes(&saved_after).unwrap();
    assert_eq!(restored.open_burnout(&sealed, T0).unwrap_err(), Error::DuplicateMessage);
    // (A state saved *before* the message expired can of course still open
    // it: deleting old exports is the application's job.)
    let mut old = Session::from_bytes(&saved_before).unwrap();
    assert!(old.open_burnout(&sealed, T0).is_ok());
}

// ---------------------------------------------------------------------------
// The fuzz target body on structured random inputs
// ---------------------------------------------------------------------------

mod fuzz_body {
    use proptest::prelude::*;

    use super::{MAX_CLOCK_SKEW_MS, T0};

    fn input(now: u64, body: &[u8], version: u8, sent: u64, expires: u64, flags: u8) -> Vec<u8> {
        let mut data = now.to_be_bytes().to_vec();
        data.extend_from_slice(body);
        data.push(version);
        data.extend_from_slice(&sent.to_be_bytes());
        data.extend_from_slice(&expires.to_be_bytes());
        data.push(flags);
        data
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Near-valid envelopes around every boundary: the fuzz body
        /// asserts the outcome matches the envelope rules exactly.
        #[test]
        fn envelopes_near_the_boundaries(
            skew in prop_oneof![-2i64..3, (MAX_CLOCK_SKEW_MS as i64 - 2)..(MAX_CLOCK_SKEW_MS as i64 + 3)],
            expiry in -2i64..3,
            version in prop_oneof![4 => Just(1u8), 1 => any::<u8>()],
            flags in prop_oneof![4 => 0u8..4, 1 => any::<u8>()],
            body in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            // Sent-at and expiry within a few ms of the skew limit and of
            // the opening time.
            let now = T0;
            let sent = now.saturating_add_signed(skew);
            let expires = if flags & 2 != 0 || expiry == 2 { now.saturating_add_signed(expiry) } else { 0 };
            sealpost_testkit::fuzz::burnout_envelope(&input(now, &body, version, sent, expires, flags));
        }

        /// Arbitrary bytes.
        #[test]
        fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            sealpost_testkit::fuzz::burnout_envelope(&data);
        }
    }
}

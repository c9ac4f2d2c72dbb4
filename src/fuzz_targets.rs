//! Fuzz target bodies, shared by `fuzz/` (cargo-fuzz) and by
//! `tests/integration/fuzz_corpus.rs`, which replays every committed corpus file through
//! the same functions on stable Rust.
//!
//! Each function takes arbitrary bytes and must never panic; where a
//! property can be checked cheaply (a parsed value re-encodes to the same
//! bytes, a failed decrypt leaves state unchanged, an untampered message
//! decrypts exactly once) it is asserted here, so a violation is a crash the
//! fuzzer reports.
//!
//! Stateful targets start from [`live_session`]: a conversation built once
//! from a fixed seed, with a list of [`Pending`] messages Bob has not read
//! yet. Its messages are what the seed corpora of `session_decrypt` and
//! `session_sequence` are made of, so the fuzzers start from inputs that
//! really decrypt.
//!
//! See `fuzz/README.md` for how to run the targets and add new ones.
//!
//! Not part of the public API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::account::Account;
use crate::burnout::{Envelope, Vault};
use crate::error::Error;
use crate::error::{BurnoutError, SessionError};
use crate::persist::{self, Persist};
use crate::prekey::PreKeyBundle;
use crate::session::Session;
use crate::wire::session_message::{SessionMessage, encode_prefix};
use crate::wire::{MessageType, PayloadKind};

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every target by name: the corpus directory `fuzz/corpus/<name>/` feeds
/// the function of the same name, and `fuzz/fuzz_targets/<name>.rs` calls it.
pub const TARGETS: &[(&str, Target)] = &[
    ("prekey_bundle", prekey_bundle),
    ("session_message", session_message),
    ("session_decrypt", session_decrypt),
    ("session_sequence", session_sequence),
    ("state_import", state_import),
    ("burnout_envelope", burnout_envelope),
    ("group_message", group_message),
    ("group_distribution", group_distribution),
    ("group_decrypt", group_decrypt),
    ("group_state", group_state),
    ("encrypted_import", encrypted_import),
    ("forkout_bundle", forkout_bundle),
    ("forkout_delivery", forkout_delivery),
    ("forkout_split", forkout_split),
    ("forkout_open", forkout_open),
];

pub use crate::forkout::fuzz::{
    FIXTURE_NOW as FORKOUT_FIXTURE_NOW, ForkoutWorld, forkout_bundle, forkout_delivery, forkout_open, forkout_seeds,
    forkout_split, forkout_world,
};

/// The fixed key the `encrypted_import` target seals and opens exports with
/// (seed exports in `fuzz/corpus/encrypted_import/` are sealed under it).
pub const EXPORT_KEY: [u8; 32] = [0x42; 32];

/// The clock of the live conversation (all accounts are created at it).
pub const NOW_MS: u64 = 1_700_000_000_000;

/// How a pending message reaches Bob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `bob.decrypt(&mut bob_session, msg)`: a message from Alice.
    Session,
    /// `bob.create_inbound_session(msg)`: a setup message from someone Bob
    /// has no session with (Carol).
    NewSession,
}

/// A message to Bob that he has not read yet.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Short name, used for seed file names.
    pub name: &'static str,
    /// The wire message.
    pub bytes: Vec<u8>,
    /// What Bob must read, or `None` when the message must never be
    /// accepted on its route (a Burnout payload sent to the plain 1:1 API).
    pub plaintext: Option<Vec<u8>>,
    /// Where it goes.
    pub route: Route,
}

/// A live conversation between Alice and Bob, built once from a fixed seed.
///
/// The story (every message deterministic):
///
/// 1. Alice starts a session from Bob's bundle with one-time prekey 1 and
///    sends a setup message; Bob accepts it and replies; Alice reads the
///    reply and sends `second` on her new chain, which Bob reads.
/// 2. Alice sends three more messages on that chain (the third is a
///    Burnout payload), which Bob has not read yet.
/// 3. Bob sends a second reply (a new ratchet key): `bob_session` is Bob's
///    state at this point. Alice reads it and sends two messages on her next
///    chain.
/// 4. Carol starts a session from Bob's bundle with one-time prekey 2 and
///    sends one setup message.
/// 5. Alice re-initiates (a new session from Bob's bundle without a
///    one-time prekey) and sends two setup messages.
///
/// Every [`Pending`] message of steps 2-5 is valid exactly once, in any
/// order (the skipped-key window is far larger than the conversation).
pub struct LiveSession {
    /// Alice's account (for targets that start sessions of their own).
    pub alice: Account,
    /// Bob's account: one-time prekey 2 still unused.
    pub bob: Account,
    /// Bob's session with Alice, after step 3.
    pub bob_session: Session,
    /// Messages Bob has not read, in the order they were sent.
    pub pending: Vec<Pending>,
}

/// The conversation of [`LiveSession`], built on first use.
pub fn live_session() -> &'static LiveSession {
    static LIVE: OnceLock<LiveSession> = OnceLock::new();
    LIVE.get_or_init(build_live_session)
}

fn build_live_session() -> LiveSession {
    let mut rng = StdRng::seed_from_u64(0x5ea1_9057);
    let alice = Account::new(&mut rng, NOW_MS);
    let mut bob = Account::new(&mut rng, NOW_MS);
    let carol = Account::new(&mut rng, NOW_MS);
    bob.generate_one_time_prekeys(2, &mut rng).unwrap();

    // 1. Handshake and one exchange.
    let mut a = alice.create_outbound_session(&bob.prekey_bundle_with(Some(1)).unwrap(), &mut rng).unwrap();
    let m1 = a.encrypt(b"first", &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&m1).unwrap();
    let reply = b.encrypt(b"reply", &mut rng).unwrap();
    a.decrypt(&reply).unwrap();
    let m2 = a.encrypt(b"second", &mut rng).unwrap();
    bob.decrypt(&mut b, &m2).unwrap();

    let mut pending = Vec::new();
    let mut push = |name, bytes, plaintext: Option<&[u8]>, route| {
        pending.push(Pending { name, bytes, plaintext: plaintext.map(<[u8]>::to_vec), route });
    };

    // 2. Unread messages on Alice's current chain.
    for (name, text) in [("chain-a2-1", &b"in chain, 1"[..]), ("chain-a2-2", b"in chain, 2")] {
        push(name, a.encrypt(text, &mut rng).unwrap(), Some(text), Route::Session);
    }
    let envelope = Envelope::with_ttl(NOW_MS, 60_000).to_bytes();
    let burn = a.encrypt_payload(b"burnout body", &envelope, PayloadKind::BurnoutApp, &mut rng).unwrap();
    push("chain-a2-3-burnout", burn, None, Route::Session);

    // 3. Bob's second reply (new ratchet key), then Alice's next chain.
    let reply2 = b.encrypt(b"reply 2", &mut rng).unwrap();
    a.decrypt(&reply2).unwrap();
    for (name, text) in [("chain-a3-0", &b"next chain, 0"[..]), ("chain-a3-1", b"next chain, 1")] {
        push(name, a.encrypt(text, &mut rng).unwrap(), Some(text), Route::Session);
    }

    // 4. Carol's setup message (one-time prekey 2).
    let mut c = carol.create_outbound_session(&bob.prekey_bundle_with(Some(2)).unwrap(), &mut rng).unwrap();
    let text = b"hello from carol";
    push("carol-setup", c.encrypt(text, &mut rng).unwrap(), Some(text), Route::NewSession);

    // 5. Alice re-initiates without a one-time prekey.
    let mut again = alice.create_outbound_session(&bob.prekey_bundle_with(None).unwrap(), &mut rng).unwrap();
    for (name, text) in [("reinit-0", &b"starting over, 0"[..]), ("reinit-1", b"starting over, 1")] {
        push(name, again.encrypt(text, &mut rng).unwrap(), Some(text), Route::Session);
    }

    LiveSession { alice, bob, bob_session: b, pending }
}

/// Parses a prekey bundle; a parsed bundle re-encodes to the same bytes. A
/// bundle whose signature verifies must start a session (unless a key has
/// low order, which is refused as [`Error::WeakKey`]).
pub fn prekey_bundle(data: &[u8]) {
    let Ok(bundle) = PreKeyBundle::from_bytes(data) else { return };
    assert_eq!(bundle.to_bytes(), data, "bundle did not re-encode to its input");
    if bundle.verify().is_err() {
        return;
    }
    let alice = &live_session().alice;
    let mut rng = StdRng::seed_from_u64(1);
    match alice.create_outbound_session(&bundle, &mut rng) {
        Ok(mut session) => {
            let message = session.encrypt(b"hi", &mut rng).unwrap();
            let parsed = SessionMessage::parse(&message).unwrap();
            assert!(parsed.is_setup(), "first message of a new session carries setup data");
        }
        Err(Error::WeakKey) => {}
        Err(Error::Session(SessionError::PeerMismatch)) => assert_eq!(bundle.identity(), alice.identity()),
        Err(e) => panic!("verified bundle refused: {e}"),
    }
}

/// Parses a 1:1 message: the parsed prefix re-encodes to exactly the
/// authenticated bytes, and `peek_type` agrees with the parser.
pub fn session_message(data: &[u8]) {
    let peeked = crate::wire::peek_type(data);
    let Ok(parsed) = SessionMessage::parse(data) else { return };
    assert_eq!(parsed.authenticated.len() + parsed.ciphertext.len(), data.len());
    let prefix = encode_prefix(parsed.setup.as_ref(), &parsed.header, 0);
    assert_eq!(prefix.as_slice(), parsed.authenticated, "message prefix did not re-encode");
    let expected = if parsed.is_setup() { MessageType::Setup } else { MessageType::Ratchet };
    assert_eq!(peeked, Ok(expected));
    assert_eq!(parsed.claimed_sender().is_some(), parsed.is_setup());
}

/// Decrypts arbitrary bytes against Bob's live session and account.
///
/// A failure must leave the session and the account byte-for-byte
/// unchanged; a success must not repeat (the replay fails, again without
/// changing anything). The same holds for `create_inbound_session`.
pub fn session_decrypt(data: &[u8]) {
    let live = live_session();
    let mut bob = live.bob.clone();
    let mut session = live.bob_session.clone();
    if attempt(&mut bob, &mut session, Route::Session, data).is_ok() {
        attempt(&mut bob, &mut session, Route::Session, data).unwrap_err();
    }

    let mut bob = live.bob.clone();
    let mut unused = live.bob_session.clone();
    if attempt(&mut bob, &mut unused, Route::NewSession, data).is_ok() {
        let reused = SessionMessage::parse(data).unwrap().setup.and_then(|s| s.one_time_prekey_id);
        let again = attempt(&mut bob, &mut unused, Route::NewSession, data);
        if let Some(id) = reused {
            assert_eq!(again.unwrap_err(), Error::Session(SessionError::OneTimePreKeyReused(id)));
        }
    }
}

/// Delivers one message on `route`, asserting that an error changes neither
/// the account nor the session.
fn attempt(bob: &mut Account, session: &mut Session, route: Route, msg: &[u8]) -> Result<Vec<u8>, Error> {
    let (account_before, session_before) = (bob.to_bytes(), session.to_bytes());
    let result = match route {
        Route::Session => bob.decrypt(session, msg),
        Route::NewSession => bob.create_inbound_session(msg).map(|(_, text)| text),
    };
    if result.is_err() {
        assert_eq!(bob.to_bytes(), account_before, "failed decrypt changed the account");
        assert_eq!(session.to_bytes(), session_before, "failed decrypt changed the session");
    }
    result
}

/// Most operations one `session_sequence` input runs.
pub const MAX_SEQUENCE_OPS: usize = 24;

/// Delivers the live conversation's [`Pending`] messages to Bob in an order
/// (with replays, tampering and reloads) chosen by the input.
///
/// Each input byte is one operation:
///
/// ```text
/// bits 0-3  which pending message (mod the number of messages)
/// bit  4    wrong route (Carol's message to Alice's session, Alice's to
///           create_inbound_session)
/// bit  5    truncate: drop (next byte % len) + 1 bytes from the end
/// bit  6    flip one bit: position from the next two bytes (big-endian)
/// bit  7    reload: serialize Bob's account and session and restore them
///           before delivering
/// ```
///
/// Properties: an untampered message on its route decrypts exactly once,
/// to its plaintext, in any order; a tampered, replayed or misrouted one
/// fails; every failure leaves all state unchanged; reloading changes
/// nothing.
pub fn session_sequence(data: &[u8]) {
    let live = live_session();
    let n = live.pending.len();
    let mut bob = live.bob.clone();
    let mut session = live.bob_session.clone();
    let mut delivered = vec![false; n];
    let mut input = data.iter().copied();
    for _ in 0..MAX_SEQUENCE_OPS {
        let Some(op) = input.next() else { break };
        let index = usize::from(op & 0x0f) % n;
        let pending = &live.pending[index];
        let mut msg = pending.bytes.clone();
        let mut tampered = false;
        if op & 0x20 != 0 {
            let cut = usize::from(input.next().unwrap_or(0)) % msg.len() + 1;
            msg.truncate(msg.len() - cut);
            tampered = true;
        }
        if op & 0x40 != 0 {
            let hi = usize::from(input.next().unwrap_or(0));
            let lo = usize::from(input.next().unwrap_or(0));
            let bit = ((hi << 8) | lo) % (msg.len() * 8).max(1);
            if let Some(byte) = msg.get_mut(bit / 8) {
                *byte ^= 1 << (bit % 8);
                tampered = true;
            }
        }
        if op & 0x80 != 0 {
            let (account, state) = (bob.to_bytes(), session.to_bytes());
            bob = Account::from_bytes(&account).unwrap();
            session = Session::from_bytes(&state).unwrap();
            assert_eq!(bob.to_bytes(), account, "account changed across a reload");
            assert_eq!(session.to_bytes(), state, "session changed across a reload");
        }
        let misrouted = op & 0x10 != 0;
        let route = match (pending.route, misrouted) {
            (r, false) => r,
            (Route::Session, true) => Route::NewSession,
            (Route::NewSession, true) => Route::Session,
        };
        let result = attempt(&mut bob, &mut session, route, &msg);
        if tampered {
            assert!(result.is_err(), "tampered {} accepted", pending.name);
        } else if misrouted {
            // Alice's setup messages are valid setup messages on their own
            // (Bob may start a second session from them); nothing else is.
            let is_setup = SessionMessage::parse(&msg).map(|m| m.is_setup()).unwrap_or(false);
            if pending.route == Route::NewSession || !is_setup {
                assert!(result.is_err(), "misrouted {} accepted", pending.name);
            }
            // A setup accepted this way is used up: its one-time prekey is
            // consumed, or its base key recorded, so the proper delivery
            // later is refused as a replay.
            if result.is_ok() {
                delivered[index] = true;
            }
        } else {
            match (&pending.plaintext, result) {
                (None, result) => assert!(result.is_err(), "{} must never be accepted", pending.name),
                (Some(expected), Ok(text)) => {
                    assert_eq!(&text, expected, "{} decrypted to the wrong text", pending.name);
                    assert!(!delivered[index], "{} accepted twice", pending.name);
                    delivered[index] = true;
                }
                (Some(_), Err(e)) => {
                    assert!(delivered[index], "{} refused on first delivery: {e}", pending.name);
                }
            }
        }
    }
}

/// Restores account and session state from plaintext bytes: a restored
/// value re-encodes to the same bytes, and using it (making a bundle,
/// accepting a setup message, encrypting, decrypting) never panics, with
/// failures leaving it unchanged.
pub fn state_import(data: &[u8]) {
    let live = live_session();
    let mut rng = StdRng::seed_from_u64(2);
    if let Ok(mut account) = Account::from_bytes(data) {
        assert_eq!(account.to_bytes().as_slice(), data, "account state did not re-encode");
        let _ = account.prekey_bundle();
        let carol = live.pending.iter().find(|p| p.route == Route::NewSession).unwrap();
        let mut unused = live.bob_session.clone();
        let _ = attempt(&mut account, &mut unused, Route::NewSession, &carol.bytes);
    }
    if let Ok(mut session) = Session::from_bytes(data) {
        assert_eq!(session.to_bytes().as_slice(), data, "session state did not re-encode");
        let mut bob = live.bob.clone();
        for pending in live.pending.iter().filter(|p| p.route == Route::Session).take(2) {
            let _ = attempt(&mut bob, &mut session, Route::Session, &pending.bytes);
        }
        let _ = session.encrypt(b"from restored state", &mut rng);
    }
}

/// Opens encrypted exports and imports what they hold.
///
/// The first byte picks the mode:
///
/// * even: the rest is an export. For both state types, an export that
///   opens under [`EXPORT_KEY`] must be the canonical sealing of what it
///   opened to (re-sealing with its nonce gives the same bytes), and
///   `import_encrypted` must agree with `from_bytes` of the plaintext.
/// * odd: the rest is a plaintext state, sealed here under [`EXPORT_KEY`]
///   (as an account when bit 1 is set, else as a session) with a nonce from
///   the input. `import_encrypted` must then agree with `from_bytes`, a
///   round trip through `export_encrypted` must restore the same state, and
///   the wrong key or the wrong type must be refused.
pub fn encrypted_import(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        let context = persist::context_digest(&[]);
        for inner in [MessageType::AccountState, MessageType::SessionState] {
            if let Ok((header, plain)) = persist::open(&EXPORT_KEY, inner, rest, &context) {
                let nonce: [u8; 24] = rest[43..67].try_into().unwrap();
                let resealed = persist::seal_with_nonce(&EXPORT_KEY, &header, &plain, &nonce);
                assert_eq!(resealed, rest, "export not canonical");
            }
        }
        check_import::<Account>(rest);
        check_import::<Session>(rest);
        return;
    }
    let mut nonce = [0u8; 24];
    for (slot, byte) in nonce.iter_mut().zip(rest.iter().rev()) {
        *slot = *byte;
    }
    let inner = if mode & 2 != 0 { MessageType::AccountState } else { MessageType::SessionState };
    // The generation the state records, so that a valid state imports.
    let generation = match inner {
        MessageType::AccountState => Account::from_bytes(rest).map(|a| a.export_generation()),
        _ => Session::from_bytes(rest).map(|s| s.export_generation()),
    }
    .unwrap_or(0);
    let context = persist::context_digest(&[]);
    let header = persist::ExportHeader { inner, generation, context };
    let export = persist::seal_with_nonce(&EXPORT_KEY, &header, rest, &nonce);
    assert_eq!(persist::open(&EXPORT_KEY, inner, &export, &context).unwrap().1.as_slice(), rest);
    assert_eq!(persist::open(&[0x43; 32], inner, &export, &context).err(), Some(Error::ExportCorrupted));
    let elsewhere = persist::context_digest(b"elsewhere");
    assert_eq!(persist::open(&EXPORT_KEY, inner, &export, &elsewhere).err(), Some(Error::ExportContextMismatch));
    let other = if inner == MessageType::AccountState { MessageType::SessionState } else { MessageType::AccountState };
    assert!(persist::open(&EXPORT_KEY, other, &export, &context).is_err(), "export opened as the wrong type");
    if inner == MessageType::AccountState {
        check_import::<Account>(&export);
    } else {
        check_import::<Session>(&export);
    }
}

/// `import_encrypted` agrees with opening and `from_bytes`; what it
/// restores survives another export and import unchanged.
fn check_import<T: Persist>(export: &[u8]) {
    let imported = T::import_encrypted(&EXPORT_KEY, export);
    let opened = persist::open(&EXPORT_KEY, T::STATE_TYPE, export, &persist::context_digest(&[]));
    match (imported, opened) {
        (Ok(mut value), Ok((header, plain))) => {
            assert_eq!(value.to_bytes().as_slice(), plain.as_slice(), "imported state did not re-encode");
            assert_eq!(value.export_generation(), header.generation);
            let mut rng = StdRng::seed_from_u64(3);
            let export = value.export_encrypted(&EXPORT_KEY, &mut rng);
            assert_eq!(value.export_generation(), header.generation.saturating_add(1), "export did not count");
            let again = T::import_encrypted(&EXPORT_KEY, &export).unwrap();
            assert_eq!(again.to_bytes(), value.to_bytes(), "state changed across export and import");
        }
        (Ok(_), Err(e)) => panic!("imported an export that does not open: {e}"),
        (Err(e), Ok((header, plain))) => match T::from_bytes(&plain) {
            // Authentic bytes whose header and state disagree on the
            // generation (only a forger with the key can make them).
            Ok(state) => {
                assert_ne!(state.export_generation(), header.generation, "import refused a consistent export: {e}");
                assert_eq!(e, Error::InvalidState("export generation differs from the state's"));
            }
            Err(parse) => assert_eq!(e, parse, "import and from_bytes disagree"),
        },
        (Err(_), Err(_)) => {}
    }
}

/// Alice's and Bob's sides of a live conversation for Burnout, built once
/// from a fixed seed: both chains are established, so sealing and opening
/// need no Diffie-Hellman work per input.
pub struct BurnoutLive {
    pub alice_session: Session,
    pub bob: Account,
    pub bob_session: Session,
}

pub fn burnout_live() -> &'static BurnoutLive {
    static LIVE: OnceLock<BurnoutLive> = OnceLock::new();
    LIVE.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(0xb0_0e7);
        let alice = Account::new(&mut rng, BURNOUT_T0);
        let mut bob = Account::new(&mut rng, BURNOUT_T0);
        bob.generate_one_time_prekeys(1, &mut rng).unwrap();
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"first", &mut rng).unwrap()).unwrap();
        a.decrypt(&b.encrypt(b"reply", &mut rng).unwrap()).unwrap();
        bob.decrypt(&mut b, &a.encrypt(b"second", &mut rng).unwrap()).unwrap();
        BurnoutLive { alice_session: a, bob, bob_session: b }
    })
}

/// The clock used when an input is too short to carry one.
const BURNOUT_T0: u64 = 1_700_000_000_000;

/// Burnout envelopes with arbitrary metadata bytes.
///
/// * The whole input as an envelope and as a vault state: parsers are
///   total and canonical (a parsed value re-encodes to the input).
/// * Input = `now (u64 BE) | metadata`: a live 1:1 session seals
///   `"fuzz body " | metadata` as a Burnout payload (so the last 18 bytes
///   are taken as the envelope, whatever they are) and Bob opens it at
///   `now`. The outcome must match the envelope rules exactly: plaintext
///   only for a well-formed, unexpired, unskewed envelope; an expired or
///   malformed one uses up the key (a replay is a duplicate); skew changes
///   nothing.
pub fn burnout_envelope(data: &[u8]) {
    if let Ok(env) = Envelope::from_bytes(data) {
        assert_eq!(env.to_bytes(), data);
    }
    if let Ok(vault) = Vault::from_bytes(data) {
        assert_eq!(vault.to_bytes().as_slice(), data);
    }

    let (now, meta) = match data.split_first_chunk::<8>() {
        Some((n, rest)) => (u64::from_be_bytes(*n), rest),
        None => (BURNOUT_T0, data),
    };
    let meta = meta.get(..meta.len().min(4096)).unwrap_or(meta);
    let mut content = b"fuzz body ".to_vec();
    content.extend_from_slice(meta);

    let live = burnout_live();
    let mut alice = live.alice_session.clone();
    let mut bob = live.bob.clone();
    let mut session = live.bob_session.clone();
    let mut rng = StdRng::seed_from_u64(1);
    let sealed = alice.encrypt_payload(&content, &[], crate::wire::PayloadKind::BurnoutApp, &mut rng).unwrap();

    let expected = Envelope::split_from(&content)
        .map_err(|e| Error::Burnout(BurnoutError::MalformedEnvelope(e)))
        .and_then(|(body, env)| env.check(now).map(|()| (body, env)));
    let before = session.to_bytes();
    match (bob.open_burnout(&mut session, &sealed, now), expected) {
        (Ok(message), Ok((body, env))) => {
            assert_eq!(message.envelope(), &env);
            assert!(!env.is_expired(now), "plaintext returned for an expired message");
            let mut vault = Vault::new();
            let id = vault.insert(message, now).unwrap();
            let read = vault.read(id, now).unwrap();
            assert_eq!(&*read, body);
            assert_eq!(read.was_burned(), env.is_burn_after_reading());
        }
        (Err(err), Err(want)) => {
            assert_eq!(err, want);
            if matches!(err, Error::Burnout(BurnoutError::ClockSkew { .. })) {
                assert_eq!(session.to_bytes(), before, "clock skew changed the session");
            } else {
                assert_ne!(session.to_bytes(), before, "{err:?} did not use up the key");
                assert_eq!(bob.open_burnout(&mut session, &sealed, BURNOUT_T0).unwrap_err(), Error::DuplicateMessage);
            }
        }
        (got, want) => panic!("open_burnout gave {got:?}, the envelope rules say {want:?}"),
    }
}
/// Parses a group message; accessors agree with the bytes.
pub fn group_message(data: &[u8]) {
    if let Ok(m) = crate::group::GroupMessage::parse(data) {
        assert_eq!(data.get(2..34), Some(m.group_id().as_bytes().as_slice()));
        assert_eq!(data.get(34..66), Some(m.sender_bytes().as_slice()));
        let _ = m.sender();
        assert_ne!(m.iteration(), u32::MAX);
    }
    let _ = crate::wire::peek_type(data);
}

/// Parses a sender-key distribution; a parsed one re-encodes to the same
/// bytes.
pub fn group_distribution(data: &[u8]) {
    if let Ok(d) = crate::group::Distribution::parse(data) {
        assert_eq!(d.encode().as_slice(), data);
    }
}

/// A live group conversation, built once from a fixed seed: Bob's view after
/// reading some of Alice's messages out of order (so it holds single skipped
/// keys and a run), Alice's view (to make more valid messages), messages
/// Bob has not read yet, and one he has.
pub struct LiveGroup {
    pub alice: crate::group::Group,
    pub bob: crate::group::Group,
    pub unread: Vec<Vec<u8>>,
    pub read: Vec<u8>,
}

#[allow(clippy::indexing_slicing)]
pub fn live_group() -> &'static LiveGroup {
    static LIVE: OnceLock<LiveGroup> = OnceLock::new();
    LIVE.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(0x6a0_0b5e);
        let alice_id = *crate::identity::IdentityKeyPair::generate(&mut rng).public();
        let bob_id = *crate::identity::IdentityKeyPair::generate(&mut rng).public();
        let carol_id = *crate::identity::IdentityKeyPair::generate(&mut rng).public();
        let group_id = crate::group::GroupId::random(&mut rng);
        let mut alice = crate::group::Group::new(group_id, alice_id, [bob_id, carol_id], &mut rng).unwrap();
        let mut bob = crate::group::Group::new(group_id, bob_id, [alice_id, carol_id], &mut rng).unwrap();
        bob.install(alice.own_distribution());
        let sent: Vec<Vec<u8>> = (0..=300u32)
            .map(|i| {
                let text = format!("message {i}");
                if i % 7 == 0 {
                    let envelope = crate::burnout::Envelope::with_ttl(1_700_000_000_000, 60_000);
                    alice.encrypt_with_envelope(text.as_bytes(), &envelope, &mut rng).unwrap()
                } else {
                    alice.encrypt(text.as_bytes(), &mut rng).unwrap()
                }
            })
            .collect();
        for i in [0usize, 2, 300] {
            bob.decrypt(&sent[i], 1_700_000_000_000).unwrap();
        }
        let unread = [1usize, 100, 255, 299].iter().map(|&i| sent[i].clone()).collect();
        LiveGroup { alice, bob, unread, read: sent[2].clone() }
    })
}

/// Decrypts arbitrary bytes in a live group: must not panic, and a failure
/// must leave the group byte-for-byte unchanged (an expired or malformed
/// Burnout envelope, whose key is consumed by design, excepted).
pub fn group_decrypt(data: &[u8]) {
    let live = live_group();
    let mut bob = live.bob.clone();
    let before = bob.to_bytes();
    match bob.decrypt(data, 1_700_000_000_000) {
        Err(ref e) if crate::burnout::payload::consumes_key(e) => {
            assert_eq!(bob.decrypt(data, 1_700_000_000_000).err(), Some(crate::error::Error::DuplicateMessage));
        }
        Ok(_) => {
            assert_eq!(bob.decrypt(data, 1_700_000_000_000).err(), Some(crate::error::Error::DuplicateMessage));
        }
        Err(_) => assert_eq!(bob.to_bytes(), before, "failed group decrypt changed the state"),
    }
}

/// Restores group state; a restored group re-encodes to the same bytes.
pub fn group_state(data: &[u8]) {
    if let Ok(group) = crate::group::Group::from_bytes(data) {
        assert_eq!(group.to_bytes().as_slice(), data);
    }
}

/// Seed inputs for the group targets: `(target, file name, bytes)`. Written
/// to `fuzz/corpus/` by the ignored test in `tests/integration/group_fuzz_seeds.rs`.
#[allow(clippy::indexing_slicing)]
pub fn group_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let live = live_group();
    let mut out = Vec::new();
    let mut alice = live.alice.clone();
    let next = alice.encrypt(b"next message", &mut StdRng::seed_from_u64(0x5eed)).unwrap();
    let mut tampered_sig = next.clone();
    *tampered_sig.last_mut().unwrap() ^= 1;
    let mut tampered_body = next.clone();
    tampered_body[crate::group::HEADER_LEN + 5] ^= 1;
    let mut other_group = next.clone();
    other_group[2] ^= 1;
    let mut other_key_id = next.clone();
    other_key_id[66] ^= 1;
    let mut reserved_iteration = next.clone();
    reserved_iteration[70..74].copy_from_slice(&[0xff; 4]);

    for (name, bytes) in [
        ("valid", next.clone()),
        ("truncated", next[..100].to_vec()),
        ("bad_signature", tampered_sig.clone()),
        ("reserved_iteration", reserved_iteration),
        ("wrong_version", [&[2u8][..], &next[1..]].concat()),
    ] {
        out.push(("group_message", name.to_string(), bytes));
    }
    for (name, bytes) in [
        ("next", next.clone()),
        ("late_1", live.unread[0].clone()),
        ("late_100", live.unread[1].clone()),
        ("late_255", live.unread[2].clone()),
        ("late_299", live.unread[3].clone()),
        ("replay", live.read.clone()),
        ("bad_signature", tampered_sig),
        ("bad_ciphertext", tampered_body),
        ("other_group", other_group),
        ("other_key_id", other_key_id),
    ] {
        out.push(("group_decrypt", name.to_string(), bytes));
    }
    let distribution = live.alice.own_distribution().encode().to_vec();
    let mut weak_key = distribution.clone();
    let len = weak_key.len();
    weak_key[len - 32..].copy_from_slice(&[0u8; 32]);
    for (name, bytes) in [
        ("valid", distribution.clone()),
        ("truncated", distribution[..distribution.len() - 1].to_vec()),
        ("weak_signing_key", weak_key),
        ("trailing", [&distribution[..], &[0u8][..]].concat()),
    ] {
        out.push(("group_distribution", name.to_string(), bytes));
    }
    let bob_state = live.bob.to_bytes().to_vec();
    for (name, bytes) in [
        ("receiver", bob_state.clone()),
        ("sender", live.alice.to_bytes().to_vec()),
        ("truncated", bob_state[..bob_state.len() - 5].to_vec()),
    ] {
        out.push(("group_state", name.to_string(), bytes));
    }
    out
}

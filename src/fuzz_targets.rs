//! Fuzz target bodies, shared by `fuzz/` (cargo-fuzz) and by
//! `tests/fuzz_corpus.rs`, which replays every committed corpus file through
//! the same functions on stable Rust.
//!
//! Each function takes arbitrary bytes and must never panic; where a
//! property can be checked cheaply (a parsed value re-encodes to the same
//! bytes, a failed decrypt leaves state unchanged) it is asserted here, so
//! a violation is a crash the fuzzer reports.
//!
//! Not part of the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, unreachable_pub)]

use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::{Account, PreKeyBundle, Session};

/// Every target by name: the corpus directory `fuzz/corpus/<name>/` feeds
/// the function of the same name.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("prekey_bundle", prekey_bundle),
    ("session_message", session_message),
    ("session_decrypt", session_decrypt),
    ("state_import", state_import),
];

/// Parses a prekey bundle; a parsed bundle re-encodes to the same bytes.
pub fn prekey_bundle(data: &[u8]) {
    if let Ok(bundle) = PreKeyBundle::from_bytes(data) {
        assert_eq!(bundle.to_bytes(), data);
        let _ = bundle.verify();
    }
}

/// Parses a 1:1 message.
pub fn session_message(data: &[u8]) {
    let _ = crate::wire::session_message::SessionMessage::parse(data);
    let _ = crate::wire::peek_type(data);
}

/// A live conversation between Alice and Bob, built once from a fixed seed:
/// Bob's account and session after he has read two of Alice's messages.
pub struct LiveSession {
    pub bob: Account,
    pub bob_session: Session,
}

pub fn live_session() -> &'static LiveSession {
    static LIVE: OnceLock<LiveSession> = OnceLock::new();
    LIVE.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(0x5ea1_9057);
        let alice = Account::new(&mut rng, 1_700_000_000_000);
        let mut bob = Account::new(&mut rng, 1_700_000_000_000);
        bob.generate_one_time_prekeys(2, &mut rng).unwrap();
        let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
        let m1 = a.encrypt(b"first", &mut rng).unwrap();
        let (mut b, _) = bob.create_inbound_session(&m1).unwrap();
        let reply = b.encrypt(b"reply", &mut rng).unwrap();
        a.decrypt(&reply).unwrap();
        let m2 = a.encrypt(b"second", &mut rng).unwrap();
        bob.decrypt(&mut b, &m2).unwrap();
        LiveSession { bob, bob_session: b }
    })
}

/// Decrypts arbitrary bytes against a live session: must not panic, and a
/// failure must leave the session and the account byte-for-byte unchanged.
pub fn session_decrypt(data: &[u8]) {
    let live = live_session();
    let mut bob = live.bob.clone();
    let mut session = live.bob_session.clone();
    let (account_before, session_before) = (bob.to_bytes(), session.to_bytes());
    if bob.decrypt(&mut session, data).is_err() {
        assert_eq!(bob.to_bytes(), account_before, "failed decrypt changed the account");
        assert_eq!(session.to_bytes(), session_before, "failed decrypt changed the session");
    }
    let mut bob = live.bob.clone();
    let _ = bob.create_inbound_session(data);
}

/// Restores account and session state and opens encrypted exports.
pub fn state_import(data: &[u8]) {
    if let Ok(account) = Account::from_bytes(data) {
        assert_eq!(account.to_bytes().as_slice(), data);
    }
    if let Ok(session) = Session::from_bytes(data) {
        assert_eq!(session.to_bytes().as_slice(), data);
    }
    let _ = crate::persist::open(&[0u8; 32], crate::wire::MessageType::SessionState, data);
}

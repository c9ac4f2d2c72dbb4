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

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    missing_docs,
    unreachable_pub
)]

use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::burnout::{Envelope, Vault};
use crate::{Account, Error, Persist, PreKeyBundle, Session};

/// Every target by name: the corpus directory `fuzz/corpus/<name>/` feeds
/// the function of the same name.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("prekey_bundle", prekey_bundle),
    ("session_message", session_message),
    ("session_decrypt", session_decrypt),
    ("state_import", state_import),
    ("burnout_envelope", burnout_envelope),
    ("group_message", group_message),
    ("group_distribution", group_distribution),
    ("group_decrypt", group_decrypt),
    ("group_state", group_state),
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
        .map_err(Error::MalformedEnvelope)
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
            if matches!(err, Error::ClockSkew { .. }) {
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
    pub alice: crate::Group,
    pub bob: crate::Group,
    pub unread: Vec<Vec<u8>>,
    pub read: Vec<u8>,
}

#[allow(clippy::indexing_slicing)]
pub fn live_group() -> &'static LiveGroup {
    static LIVE: OnceLock<LiveGroup> = OnceLock::new();
    LIVE.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(0x6a0_0b5e);
        let alice_id = *crate::IdentityKeyPair::generate(&mut rng).public();
        let bob_id = *crate::IdentityKeyPair::generate(&mut rng).public();
        let carol_id = *crate::IdentityKeyPair::generate(&mut rng).public();
        let group_id = crate::GroupId::random(&mut rng);
        let mut alice = crate::Group::new(group_id, alice_id, [bob_id, carol_id], &mut rng).unwrap();
        let mut bob = crate::Group::new(group_id, bob_id, [alice_id, carol_id], &mut rng).unwrap();
        bob.install(alice.own_distribution());
        let sent: Vec<Vec<u8>> = (0..=300u32)
            .map(|i| {
                let text = format!("message {i}");
                if i % 7 == 0 {
                    let envelope = crate::Envelope::with_ttl(1_700_000_000_000, 60_000);
                    alice.encrypt_with_envelope(text.as_bytes(), &envelope).unwrap()
                } else {
                    alice.encrypt(text.as_bytes()).unwrap()
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
/// must leave the group byte-for-byte unchanged (an expired Burnout message,
/// whose key is consumed by design, excepted).
pub fn group_decrypt(data: &[u8]) {
    let live = live_group();
    let mut bob = live.bob.clone();
    let before = bob.to_bytes();
    match bob.decrypt(data, 1_700_000_000_000) {
        Err(crate::Error::Expired { .. }) | Ok(_) => {
            assert_eq!(bob.decrypt(data, 1_700_000_000_000).err(), Some(crate::Error::DuplicateMessage));
        }
        Err(_) => assert_eq!(bob.to_bytes(), before, "failed group decrypt changed the state"),
    }
}

/// Restores group state; a restored group re-encodes to the same bytes.
pub fn group_state(data: &[u8]) {
    if let Ok(group) = crate::Group::from_bytes(data) {
        assert_eq!(group.to_bytes().as_slice(), data);
    }
}

/// Seed inputs for the group targets: `(target, file name, bytes)`. Written
/// to `fuzz/corpus/` by the ignored test in `tests/group_fuzz_seeds.rs`.
#[allow(clippy::indexing_slicing)]
pub fn group_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let live = live_group();
    let mut out = Vec::new();
    let mut alice = live.alice.clone();
    let next = alice.encrypt(b"next message").unwrap();
    let mut tampered_sig = next.clone();
    *tampered_sig.last_mut().unwrap() ^= 1;
    let mut tampered_body = next.clone();
    tampered_body[80] ^= 1;
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

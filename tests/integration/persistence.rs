//! Export and import of accounts and sessions (plain `to_bytes` and
//! encrypted `Persist::export_encrypted`), resuming mid-conversation, and
//! signed-prekey rotation with its grace period.

use rand::rngs::StdRng;
use sealpost::SessionError;
use sealpost::limits::{MAX_PREVIOUS_SIGNED_PREKEYS, SIGNED_PREKEY_GRACE_MS};
use sealpost::wire::MessageType;
use sealpost::{Account, Error, Persist, Session, WireError};
use sealpost_testkit::*;

const KEY: [u8; 32] = [0x42; 32];

/// How a party is saved and restored.
#[derive(Clone, Copy, Debug)]
enum Storage {
    Plain,
    Encrypted,
}

/// Saves and restores an account or a session.
fn reload<T: Persist>(state: &mut T, how: Storage, rng: &mut StdRng) -> T {
    let restored = match how {
        Storage::Plain => T::from_bytes(&state.to_bytes()).unwrap(),
        Storage::Encrypted => T::import_encrypted(&KEY, &state.export_encrypted(&KEY, rng)).unwrap(),
    };
    // The encoding is canonical: restoring and re-encoding is the identity
    // (the export counted itself in `state` before it was serialized).
    assert_eq!(*restored.to_bytes(), *state.to_bytes());
    restored
}

/// Saves and restores both parties completely.
fn reload_all(c: &mut Conversation, how: Storage, rng: &mut StdRng) {
    c.alice = reload(&mut c.alice, how, rng);
    c.bob = reload(&mut c.bob, how, rng);
    c.a = reload(&mut c.a, how, rng);
    c.b = reload(&mut c.b, how, rng);
}

/// Regression test: an initiator that has sent but not yet received a reply
/// holds the peer's ratchet key (the signed prekey) without a receiving
/// chain. `RatchetState::decode` used to reject that state as
/// "ratchet chains inconsistent", so the session could not be restored.
#[test]
fn initiator_state_before_first_reply_restores() {
    for how in [Storage::Plain, Storage::Encrypted] {
        let mut rng = rng(1);
        let OfflineStart { mut bob, mut a, .. } = OfflineStart::new(&mut rng, 2);
        // Before the first message (sending step still pending).
        let mut a = reload(&mut a, how, &mut rng);
        let m1 = a.encrypt(b"one", &mut rng).unwrap();
        // After the first message, before any reply.
        let mut a = reload(&mut a, how, &mut rng);
        let m2 = a.encrypt(b"two", &mut rng).unwrap();
        assert!(!a.is_confirmed());

        let (mut b, text) = bob.create_inbound_session(&m1).unwrap();
        assert_eq!(text, b"one");
        assert_eq!(bob.decrypt(&mut b, &m2).unwrap(), b"two");
        let reply = b.encrypt(b"three", &mut rng).unwrap();
        let mut a = reload(&mut a, how, &mut rng);
        assert_eq!(a.decrypt(&reply).unwrap(), b"three");
        assert!(a.is_confirmed());
    }
}

#[test]
fn resume_mid_conversation_with_skipped_keys() {
    for how in [Storage::Plain, Storage::Encrypted] {
        let mut rng = rng(2);
        let mut c = Conversation::established(&mut rng);
        c.a_to_b(b"a1", &mut rng);
        c.b_to_a(b"b1", &mut rng);

        // Alice sends five messages; Bob receives only the last one, so he
        // stores four skipped keys.
        let held: Vec<Vec<u8>> =
            (0..5).map(|i| c.a.encrypt(format!("late {i}").as_bytes(), &mut rng).unwrap()).collect();
        assert_eq!(c.bob.decrypt(&mut c.b, &held[4]).unwrap(), b"late 4");
        assert_eq!(c.b.skipped_key_count(), 4);
        // Bob also has an unanswered message in flight to Alice.
        let in_flight = c.b.encrypt(b"in flight", &mut rng).unwrap();

        reload_all(&mut c, how, &mut rng);
        assert_eq!(c.b.skipped_key_count(), 4);

        // The restored parties read what was outstanding...
        for i in [2usize, 0, 3, 1] {
            assert_eq!(c.bob.decrypt(&mut c.b, &held[i]).unwrap(), format!("late {i}").as_bytes());
        }
        assert_eq!(c.b.skipped_key_count(), 0);
        assert_eq!(c.alice.decrypt(&mut c.a, &in_flight).unwrap(), b"in flight");
        // ...refuse replays of what was read before the save...
        assert_eq!(decrypt_fails(&mut c.bob, &mut c.b, &held[4]), Error::DuplicateMessage);
        // ...and keep talking, including across further saves.
        for round in 0..4 {
            c.a_to_b(format!("after {round}").as_bytes(), &mut rng);
            reload_all(&mut c, how, &mut rng);
            c.b_to_a(format!("reply {round}").as_bytes(), &mut rng);
        }
    }
}

#[test]
fn restored_account_still_refuses_consumed_one_time_prekey() {
    let mut rng = rng(3);
    let OfflineStart { mut bob, bundle, mut a, .. } = OfflineStart::new(&mut rng, 3);
    let m1 = a.encrypt(b"hi", &mut rng).unwrap();
    bob.create_inbound_session(&m1).unwrap();
    assert_eq!(bob.remaining_one_time_prekeys(), 2);

    let mut bob = reload(&mut bob, Storage::Encrypted, &mut rng);
    assert_eq!(bob.remaining_one_time_prekeys(), 2);
    let before = bob.to_bytes();
    let err = bob.create_inbound_session(&m1).unwrap_err();
    assert_eq!(err, Error::Session(SessionError::OneTimePreKeyReused(bundle.one_time_prekey_id().unwrap())));
    assert_eq!(*bob.to_bytes(), *before);
}

#[test]
fn wrong_key_is_export_corrupted() {
    let mut rng = rng(4);
    let mut c = Conversation::established(&mut rng);
    let account_export = c.bob.export_encrypted(&KEY, &mut rng);
    let session_export = c.b.export_encrypted(&KEY, &mut rng);
    for wrong in [[0u8; 32], [0x43; 32], {
        let mut k = KEY;
        k[31] ^= 1;
        k
    }] {
        assert_eq!(Account::import_encrypted(&wrong, &account_export).unwrap_err(), Error::ExportCorrupted);
        assert_eq!(Session::import_encrypted(&wrong, &session_export).unwrap_err(), Error::ExportCorrupted);
    }
    // Two exports of the same state differ (random nonce) but both open.
    let again = c.b.export_encrypted(&KEY, &mut rng);
    assert_ne!(again, session_export);
    assert_eq!(*Session::import_encrypted(&KEY, &again).unwrap().to_bytes(), *c.b.to_bytes());
}

#[test]
fn corrupted_export_is_typed_error() {
    let mut rng = rng(5);
    let mut c = Conversation::established(&mut rng);
    let export = c.b.export_encrypted(&KEY, &mut rng);
    // Header: version | 0x3f | inner type | generation (8) | context digest
    // (32) | nonce (24) | ciphertext | tag.
    let cases: [(usize, Error); 8] = [
        (0, WireError::UnsupportedVersion(3).into()),
        (1, WireError::UnexpectedType { found: 0x3e, expected: 0x3f }.into()),
        (2, WireError::UnexpectedType { found: 0x30, expected: 0x31 }.into()),
        (3, Error::ExportCorrupted),                // generation
        (11, Error::ExportContextMismatch),         // context digest
        (43, Error::ExportCorrupted),               // nonce
        (80, Error::ExportCorrupted),               // ciphertext
        (export.len() - 1, Error::ExportCorrupted), // tag
    ];
    for (at, expected) in cases {
        let mut bad = export.clone();
        bad[at] ^= 0x01;
        assert_eq!(Session::import_encrypted(&KEY, &bad).unwrap_err(), expected, "byte {at}");
    }
    assert_eq!(
        Session::import_encrypted(&KEY, &export[..3 + 8 + 32 + 24]).unwrap_err(),
        WireError::Truncated { needed: 16 }.into()
    );
    assert_eq!(Session::import_encrypted(&KEY, &[]).unwrap_err(), WireError::Truncated { needed: 1 }.into());

    // Corrupted plaintext serializations are typed errors too (never a panic).
    let plain = c.b.to_bytes();
    assert_eq!(Session::from_bytes(&plain[..plain.len() - 1]).unwrap_err(), WireError::Truncated { needed: 1 }.into());
    let mut long = plain.to_vec();
    long.push(0);
    assert_eq!(Session::from_bytes(&long).unwrap_err(), WireError::TrailingBytes(1).into());
    for i in 0..plain.len() {
        let mut bad = plain.to_vec();
        bad[i] ^= 0x80;
        // Secret bytes have no redundancy, so many flips still parse; the
        // property is that parsing is total and re-encodes canonically.
        if let Ok(s) = Session::from_bytes(&bad) {
            assert_eq!(*s.to_bytes(), bad);
        }
    }
}

#[test]
fn importing_the_wrong_type_is_typed_error() {
    let mut rng = rng(6);
    let mut c = Conversation::established(&mut rng);
    let account_export = c.bob.export_encrypted(&KEY, &mut rng);
    let session_export = c.b.export_encrypted(&KEY, &mut rng);
    let account_tag = MessageType::AccountState as u8;
    let session_tag = MessageType::SessionState as u8;
    assert_eq!(
        Session::import_encrypted(&KEY, &account_export).unwrap_err(),
        WireError::UnexpectedType { found: account_tag, expected: session_tag }.into()
    );
    assert_eq!(
        Account::import_encrypted(&KEY, &session_export).unwrap_err(),
        WireError::UnexpectedType { found: session_tag, expected: account_tag }.into()
    );
    // Relabelling the inner type does not help: it is authenticated.
    let mut relabelled = session_export.clone();
    relabelled[2] = account_tag;
    assert_eq!(Account::import_encrypted(&KEY, &relabelled).unwrap_err(), Error::ExportCorrupted);
    // Plain serializations are typed as well.
    assert_eq!(
        Session::from_bytes(&c.bob.to_bytes()).unwrap_err(),
        WireError::UnexpectedType { found: account_tag, expected: session_tag }.into()
    );
    assert_eq!(
        Account::from_bytes(&c.b.to_bytes()).unwrap_err(),
        WireError::UnexpectedType { found: session_tag, expected: account_tag }.into()
    );
    // A message or a bundle is not state.
    let bundle = c.bob.prekey_bundle().unwrap().to_bytes();
    assert!(matches!(Account::from_bytes(&bundle), Err(Error::Wire(WireError::UnexpectedType { .. }))));
}

#[test]
fn signed_prekey_rotation_grace_period() {
    let mut rng = rng(7);
    let (alice, mut bob) = accounts(&mut rng, 4);
    let carol = Account::new(&mut rng, NOW);
    let old_bundle = fetch_bundle(&bob);
    assert_eq!(old_bundle.signed_prekey_id(), 1);

    // Alice and Carol fetch bundles before the rotation and send later.
    let mut a = alice.create_outbound_session(&old_bundle, &mut rng).unwrap();
    let from_alice = a.encrypt(b"from alice", &mut rng).unwrap();
    let mut k = carol.create_outbound_session(&bob.prekey_bundle_with(Some(2)).unwrap(), &mut rng).unwrap();
    let from_carol = k.encrypt(b"from carol", &mut rng).unwrap();
    let mut k_without_otk = carol.create_outbound_session(&bob.prekey_bundle_with(None).unwrap(), &mut rng).unwrap();
    let from_carol_no_otk = k_without_otk.encrypt(b"carol, no otk", &mut rng).unwrap();

    let rotated_at = NOW + 1_000;
    assert_eq!(bob.rotate_signed_prekey(&mut rng, rotated_at).unwrap(), 2);
    let rotated_bundle = fetch_bundle(&bob);
    assert_eq!(rotated_bundle.signed_prekey_id(), 2);
    rotated_bundle.verify().unwrap();

    // Within the grace period the old signed prekey still opens setup messages.
    bob.expire_signed_prekeys(rotated_at + SIGNED_PREKEY_GRACE_MS - 1);
    let (_, text) = bob.create_inbound_session(&from_alice).unwrap();
    assert_eq!(text, b"from alice");

    // After it, the old signed prekey is gone: typed error, nothing consumed.
    bob.expire_signed_prekeys(rotated_at + SIGNED_PREKEY_GRACE_MS);
    let remaining = bob.remaining_one_time_prekeys();
    let before = bob.to_bytes();
    assert_eq!(
        bob.create_inbound_session(&from_carol).unwrap_err(),
        Error::Session(SessionError::UnknownSignedPreKey(1))
    );
    assert_eq!(
        bob.create_inbound_session(&from_carol_no_otk).unwrap_err(),
        Error::Session(SessionError::UnknownSignedPreKey(1))
    );
    assert_eq!(*bob.to_bytes(), *before);
    assert_eq!(bob.remaining_one_time_prekeys(), remaining);

    // The new bundle works, and so does the rotated account after a reload.
    let mut bob = reload(&mut bob, Storage::Encrypted, &mut rng);
    let new_bundle = fetch_bundle(&bob);
    assert_eq!(new_bundle.signed_prekey_id(), 2);
    let mut k = carol.create_outbound_session(&new_bundle, &mut rng).unwrap();
    let m = k.encrypt(b"new bundle", &mut rng).unwrap();
    let (mut kb, text) = bob.create_inbound_session(&m).unwrap();
    assert_eq!(text, b"new bundle");
    let reply = kb.encrypt(b"ok", &mut rng).unwrap();
    assert_eq!(k.decrypt(&reply).unwrap(), b"ok");
}

#[test]
fn rotation_keeps_a_bounded_number_of_old_signed_prekeys() {
    let mut rng = rng(8);
    let (alice, mut bob) = accounts(&mut rng, 0);
    let mut messages = Vec::new();
    // One setup message per signed prekey generation 1..=6.
    let generations = MAX_PREVIOUS_SIGNED_PREKEYS as u32 + 2;
    for generation in 1..=generations {
        let bundle = fetch_bundle(&bob);
        assert_eq!(bundle.signed_prekey_id(), generation);
        let mut a = alice.create_outbound_session(&bundle, &mut rng).unwrap();
        messages.push(a.encrypt(format!("gen {generation}").as_bytes(), &mut rng).unwrap());
        if generation < generations {
            bob.rotate_signed_prekey(&mut rng, NOW + u64::from(generation)).unwrap();
        }
    }
    // All rotations are within the grace period, but only the current and
    // MAX_PREVIOUS_SIGNED_PREKEYS previous signed prekeys are kept.
    for (i, m) in messages.iter().enumerate() {
        let generation = i as u32 + 1;
        let result = bob.clone().create_inbound_session(m);
        if generation <= generations - 1 - MAX_PREVIOUS_SIGNED_PREKEYS as u32 {
            assert_eq!(result.unwrap_err(), Error::Session(SessionError::UnknownSignedPreKey(generation)));
        } else {
            assert_eq!(result.unwrap().1, format!("gen {generation}").as_bytes());
        }
    }
}

#[test]
fn bundle_without_one_time_prekeys() {
    let mut rng = rng(9);
    let (alice, mut bob) = accounts(&mut rng, 0);
    let bundle = fetch_bundle(&bob);
    assert_eq!(bundle.one_time_prekey_id(), None);
    assert!(bob.prekey_bundles().unwrap().is_empty());

    let mut a = alice.create_outbound_session(&bundle, &mut rng).unwrap();
    let m1 = a.encrypt(b"no one-time prekey", &mut rng).unwrap();
    let (b, text) = bob.create_inbound_session(&m1).unwrap();
    assert_eq!(text, b"no one-time prekey");
    assert_eq!(bob.remaining_one_time_prekeys(), 0);
    let mut c = Conversation { alice, bob, a, b };
    c.b_to_a(b"works", &mut rng);
    c.a_to_b(b"both ways", &mut rng);
    reload_all(&mut c, Storage::Encrypted, &mut rng);
    c.b_to_a(b"after reload", &mut rng);

    // Once every one-time prekey is used, prekey_bundle falls back to none.
    let mut bob = c.bob;
    bob.generate_one_time_prekeys(1, &mut rng).unwrap();
    let with = fetch_bundle(&bob);
    assert!(with.one_time_prekey_id().is_some());
    let mut a2 = c.alice.create_outbound_session(&with, &mut rng).unwrap();
    bob.create_inbound_session(&a2.encrypt(b"x", &mut rng).unwrap()).unwrap();
    assert_eq!(bob.remaining_one_time_prekeys(), 0);
    assert_eq!(fetch_bundle(&bob).one_time_prekey_id(), None);
}

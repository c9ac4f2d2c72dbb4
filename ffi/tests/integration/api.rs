//! The exported API used from Rust, as the foreign bindings use it:
//! owned bytes in and out, typed errors, objects shared across threads.

use std::sync::Arc;
use std::thread;

use sealpost_ffi::{
    Account, Key32, SealpostError, Session, SetupPolicy, generate_export_key, safety_number, verify_prekey_bundle,
};
use sealpost_testkit::NOW;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn objects_are_send_and_sync() {
    assert_send_sync::<Account>();
    assert_send_sync::<Session>();
}

/// Alice starts offline from Bob's bundle; Bob accepts and replies.
fn pair() -> (Arc<Account>, Arc<Session>, Arc<Account>, Arc<Session>) {
    let alice = Account::new(NOW);
    let bob = Account::new(NOW);
    bob.generate_one_time_prekeys(2).unwrap();
    let a = alice.create_outbound_session(bob.prekey_bundle().unwrap()).unwrap();
    let first = a.encrypt(b"hello".to_vec()).unwrap();
    let inbound = bob.create_inbound_session(first).unwrap();
    assert_eq!(inbound.plaintext, b"hello");
    let b = inbound.session;
    let reply = b.encrypt(b"hi".to_vec()).unwrap();
    assert_eq!(alice.decrypt(a.clone(), reply).unwrap(), b"hi");
    (alice, a, bob, b)
}

#[test]
fn bundle_identity_and_safety_numbers_agree() {
    let alice = Account::new(NOW);
    let bob = Account::new(NOW);
    bob.generate_one_time_prekeys(3).unwrap();
    let info = verify_prekey_bundle(bob.prekey_bundle().unwrap()).unwrap();
    assert_eq!(info.identity_key, bob.identity_key());
    assert_eq!(info.one_time_prekey_id, Some(1));
    assert!(info.is_post_quantum);
    assert_eq!(bob.prekey_bundles().unwrap().len(), 3);

    let n = alice.safety_number(bob.identity_key()).unwrap();
    assert_eq!(n, bob.safety_number(alice.identity_key()).unwrap());
    assert_eq!(n, safety_number(bob.identity_key(), alice.identity_key()).unwrap());
    assert_eq!(n.len(), 12 * 5 + 11);

    let mut bad = bob.prekey_bundle().unwrap();
    let last = bad.len() - 40;
    bad[last] ^= 1;
    assert!(verify_prekey_bundle(bad).is_err());
    // A bad identity key is refused (`Malformed`) when the bindings lift the
    // argument, before any function runs: see ffi/src/keys.rs and the Python tests.
}

#[test]
fn tampering_and_replays_are_typed_errors_and_change_nothing() {
    let (alice, a, _bob, b) = pair();
    let m = a.encrypt(b"pay 10".to_vec()).unwrap();
    let before = b.to_bytes().unwrap();
    let mut tampered = m.clone();
    *tampered.last_mut().unwrap() ^= 0x80;
    assert!(matches!(b.decrypt(tampered), Err(SealpostError::AuthenticationFailed(_))));
    assert_eq!(b.to_bytes().unwrap(), before);
    assert_eq!(b.decrypt(m.clone()).unwrap(), b"pay 10");
    let after = b.to_bytes().unwrap();
    let replay = b.decrypt(m).unwrap_err();
    assert!(matches!(replay, SealpostError::DuplicateMessage(_)));
    assert!(replay.to_string().contains("duplicate"));
    assert_eq!(b.to_bytes().unwrap(), after);
    // Garbage is malformed, not a panic.
    assert!(matches!(alice.decrypt(a, vec![1, 2, 3]), Err(SealpostError::Malformed(_))));
}

#[test]
fn export_import_resume_and_wrong_keys() {
    let (alice, a, bob, b) = pair();
    let key = generate_export_key();
    assert_eq!(key.as_bytes().len(), 32);
    let saved_bob = bob.export_encrypted(key.clone()).unwrap();
    let saved_b = b.export_encrypted(key.clone()).unwrap();
    drop((bob, b));

    let bob = Account::import_encrypted(key.clone(), saved_bob.clone()).unwrap();
    let b = Session::import_encrypted(key.clone(), saved_b.clone()).unwrap();
    assert_eq!(b.peer_identity_key(), alice.identity_key());
    assert_eq!(b.local_identity_key(), bob.identity_key());
    assert_eq!(b.session_id().unwrap(), a.session_id().unwrap());
    let m = a.encrypt(b"still there?".to_vec()).unwrap();
    assert_eq!(bob.decrypt(b.clone(), m).unwrap(), b"still there?");

    let other = generate_export_key();
    assert!(matches!(Session::import_encrypted(other, saved_b.clone()), Err(SealpostError::ExportCorrupted(_))));
    assert!(matches!(Account::import_encrypted(key.clone(), saved_b), Err(SealpostError::Malformed(_))));
    assert!(matches!(Key32::try_from(&[0u8; 16][..]), Err(SealpostError::InvalidArgument(_))));
    // Plaintext state round trip.
    let copy = Account::from_bytes(bob.to_bytes().unwrap()).unwrap();
    assert_eq!(copy.identity_key(), bob.identity_key());
    assert!(matches!(Session::from_bytes(vec![]), Err(SealpostError::Malformed(_))));
}

#[test]
fn one_session_shared_by_threads() {
    let (_alice, a, bob, b) = pair();
    // Four threads encrypt on the same session object at once.
    let handles: Vec<_> = (0..4u8)
        .map(|t| {
            let a = a.clone();
            thread::spawn(move || (0..10u8).map(|i| a.encrypt(vec![t, i]).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    let mut messages: Vec<Vec<u8>> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    messages.reverse();
    // Bob decrypts them from two threads through the account (lock order
    // account -> session), in an order unrelated to sending.
    let (first, second) = messages.split_at(20);
    let (first, second) = (first.to_vec(), second.to_vec());
    let (bob2, b2) = (bob.clone(), b.clone());
    let h = thread::spawn(move || first.into_iter().map(|m| bob2.decrypt(b2.clone(), m).unwrap()).collect::<Vec<_>>());
    let mut read: Vec<Vec<u8>> = second.into_iter().map(|m| bob.decrypt(b.clone(), m).unwrap()).collect();
    read.extend(h.join().unwrap());
    read.sort();
    let mut expected: Vec<Vec<u8>> = (0..4u8).flat_map(|t| (0..10u8).map(move |i| vec![t, i])).collect();
    expected.sort();
    assert_eq!(read, expected);
    assert_eq!(b.skipped_key_count().unwrap(), 0);
}

#[test]
fn limits_are_errors() {
    let bob = Account::new(NOW);
    let err = bob.generate_one_time_prekeys(u32::MAX).unwrap_err();
    assert!(matches!(err, SealpostError::LimitReached(_)), "{err:?}");
    assert_eq!(bob.remaining_one_time_prekeys().unwrap(), 0);
    assert_eq!(bob.rotate_signed_prekey(NOW + 1).unwrap(), 2);
    bob.expire_signed_prekeys(NOW + 1).unwrap();
}

#[test]
fn sessions_are_post_quantum_and_the_setup_policy_is_kept() {
    let (alice, a, _bob, b) = pair();
    assert!(a.is_post_quantum().unwrap() && b.is_post_quantum().unwrap());
    for _ in 0..30 {
        assert_eq!(alice.decrypt(a.clone(), b.encrypt(b"ping".to_vec()).unwrap()).unwrap(), b"ping");
        assert_eq!(b.decrypt(a.encrypt(b"pong".to_vec()).unwrap()).unwrap(), b"pong");
    }
    assert!(a.post_quantum_epoch().unwrap() >= 1, "the post-quantum ratchet advanced");

    assert_eq!(alice.setup_policy().unwrap(), SetupPolicy::RequirePostQuantum);
    alice.set_setup_policy(SetupPolicy::AllowClassical).unwrap();
    let key = generate_export_key();
    let restored = Account::import_encrypted(key.clone(), alice.export_encrypted(key).unwrap()).unwrap();
    assert_eq!(restored.setup_policy().unwrap(), SetupPolicy::AllowClassical);
}

//! The `Client` end to end: conversations across restarts (memory and
//! SQLite), identity trust, the outbox, what a copied store file shows,
//! rollback detection, opening cost (threads: `threads.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use sealpost::IdentityKey;
use sealpost_client::store::{Batch, Key, MemoryStore, SqliteStore, Store, StoreError, Table};
use sealpost_client::{Client, ClientError, Destination, Event};
use sealpost_testkit::{NOW, rng};

const KEY_A: [u8; 32] = [0xa1; 32];
const KEY_B: [u8; 32] = [0xb2; 32];

fn text(event: Event) -> (String, Vec<u8>, bool) {
    match event {
        Event::Message { from, plaintext, new_session, .. } => (from, plaintext, new_session),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Alice and Bob, each on a memory store, with a session from Alice to Bob
/// that Bob has accepted.
fn pair() -> (Client<MemoryStore>, MemoryStore, Client<MemoryStore>, MemoryStore) {
    let mut r = rng(1);
    let (sa, sb) = (MemoryStore::new(), MemoryStore::new());
    let alice = Client::create(sa.clone(), &KEY_A, &mut r, NOW).unwrap();
    let bob = Client::create(sb.clone(), &KEY_B, &mut r, NOW).unwrap();
    let bundle = bob.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    alice.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let first = alice.send("bob", b"hello", &mut r).unwrap();
    assert_eq!(text(bob.receive("alice", &first.bytes, NOW).unwrap()), ("alice".into(), b"hello".to_vec(), true));
    (alice, sa, bob, sb)
}

#[test]
fn a_conversation_survives_restarts_on_both_sides() {
    let mut r = rng(2);
    let (mut alice, sa, mut bob, sb) = pair();
    for round in 0..20 {
        let m = format!("round {round}");
        let a = alice.send("bob", m.as_bytes(), &mut r).unwrap();
        assert_eq!(text(bob.receive("alice", &a.bytes, NOW).unwrap()).1, m.as_bytes());
        let b = bob.send("alice", m.as_bytes(), &mut r).unwrap();
        assert_eq!(text(alice.receive("bob", &b.bytes, NOW).unwrap()).1, m.as_bytes());
        if round % 3 == 0 {
            alice = Client::open(sa.clone(), &KEY_A).unwrap();
        }
        if round % 4 == 1 {
            bob = Client::open(sb.clone(), &KEY_B).unwrap();
        }
    }
    // A redelivery after a restart is a duplicate, nothing else.
    let late = alice.send("bob", b"once", &mut r).unwrap();
    assert_eq!(text(bob.receive("alice", &late.bytes, NOW).unwrap()).1, b"once");
    let bob = Client::open(sb, &KEY_B).unwrap();
    assert!(matches!(bob.receive("alice", &late.bytes, NOW).unwrap(), Event::Duplicate));
}

#[test]
fn sqlite_files_carry_a_conversation_across_process_restarts() {
    let dir = std::env::temp_dir().join(format!("sealpost-client-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pa, pb) = (dir.join("alice.db"), dir.join("bob.db"));
    let _ = (std::fs::remove_file(&pa), std::fs::remove_file(&pb));
    let mut r = rng(3);
    {
        let alice = Client::create(SqliteStore::open(&pa).unwrap(), &KEY_A, &mut r, NOW).unwrap();
        let bob = Client::create(SqliteStore::open(&pb).unwrap(), &KEY_B, &mut r, NOW).unwrap();
        let bundle = bob.prekey_bundles(&mut r, NOW).unwrap().remove(3);
        alice.start_session("bob", &bundle, NOW, &mut r).unwrap();
        let m = alice.send("bob", b"before the restart", &mut r).unwrap();
        assert_eq!(text(bob.receive("alice", &m.bytes, NOW).unwrap()).1, b"before the restart");
    }
    let alice = Client::open(SqliteStore::open(&pa).unwrap(), &KEY_A).unwrap();
    let bob = Client::open(SqliteStore::open(&pb).unwrap(), &KEY_B).unwrap();
    assert_eq!(alice.outbox().unwrap().len(), 1, "nothing was acknowledged");
    let reply = bob.send("alice", b"after it", &mut r).unwrap();
    assert_eq!(text(alice.receive("bob", &reply.bytes, NOW).unwrap()).1, b"after it");
    assert_eq!(SqliteStore::open(&pa).unwrap().schema_version().unwrap(), 1);
    assert!(matches!(Client::open(SqliteStore::open(&pa).unwrap(), &KEY_B), Err(ClientError::Corrupted { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn create_open_and_wrong_keys_are_typed_errors() {
    let mut r = rng(4);
    let store = MemoryStore::new();
    assert!(matches!(Client::open(store.clone(), &KEY_A), Err(ClientError::NotFound)));
    let client = Client::create(store.clone(), &KEY_A, &mut r, NOW).unwrap();
    assert!(matches!(Client::create(store.clone(), &KEY_A, &mut r, NOW), Err(ClientError::AlreadyExists)));
    assert!(matches!(Client::create(store.clone(), &KEY_B, &mut r, NOW), Err(ClientError::AlreadyExists)));
    assert!(matches!(Client::open(store.clone(), &KEY_B), Err(ClientError::Corrupted { .. })));
    let reopened = Client::open(store, &KEY_A).unwrap();
    assert_eq!(reopened.identity().unwrap(), client.identity().unwrap());
    assert!(matches!(client.send("nobody", b"x", &mut r), Err(ClientError::NoSession { .. })));
}

#[test]
fn the_outbox_offers_what_was_sealed_until_acknowledged() {
    let mut r = rng(5);
    let (alice, sa, bob, _) = pair();
    let sent: Vec<_> = (0..4).map(|i| alice.send("bob", format!("m{i}").as_bytes(), &mut r).unwrap()).collect();
    alice.acknowledge(sent[1].id).unwrap();
    let alice = Client::open(sa, &KEY_A).unwrap();
    let pending = alice.outbox().unwrap();
    let ids: Vec<u64> = pending.iter().map(|o| o.id).collect();
    // The first message of `pair` was never acknowledged either.
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(!ids.contains(&sent[1].id));
    for o in &pending[1..] {
        assert_eq!(o.to, Destination::Peer("bob".into()));
        assert!(matches!(bob.receive("alice", &o.bytes, NOW).unwrap(), Event::Message { .. }));
        alice.acknowledge(o.id).unwrap();
    }
    alice.acknowledge(12345).unwrap();
    assert_eq!(alice.outbox().unwrap().len(), 1);
}

#[test]
fn identities_are_trusted_on_first_use_and_a_change_is_never_silent() {
    let mut r = rng(6);
    let (alice, _, bob, sb) = pair();
    let alice_id = alice.identity().unwrap();
    let trust = bob.peer_trust("alice").unwrap().unwrap();
    assert_eq!((trust.identity, trust.verified, trust.blocked), (alice_id, false, false));

    // "alice" comes back from a new device (a new identity): refused, typed.
    let mallory = Client::create(MemoryStore::new(), &[9; 32], &mut r, NOW).unwrap();
    let bundle = bob.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    mallory.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let setup = mallory.send("bob", b"it's me, alice", &mut r).unwrap();
    let before = sb.dump().unwrap().len();
    match bob.receive("alice", &setup.bytes, NOW).unwrap() {
        Event::IdentityChanged { from, recorded, offered } => {
            assert_eq!((from.as_str(), *recorded, *offered), ("alice", alice_id, mallory.identity().unwrap()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.dump().unwrap().len(), before, "no session was created");
    assert_eq!(bob.peer_trust("alice").unwrap().unwrap().pending, Some(mallory.identity().unwrap()));
    // Messages of the old identity still flow until the user decides.
    let old = alice.send("bob", b"still me", &mut r).unwrap();
    assert_eq!(text(bob.receive("alice", &old.bytes, NOW).unwrap()).1, b"still me");
    // The user accepts the new identity; the same bytes are now accepted.
    bob.accept_identity_change("alice", &mallory.identity().unwrap()).unwrap();
    assert_eq!(text(bob.receive("alice", &setup.bytes, NOW).unwrap()).1, b"it's me, alice");
}

#[test]
fn a_verified_peer_whose_identity_changes_is_blocked_until_verified_again() {
    let mut r = rng(7);
    let (alice, _, bob, _) = pair();
    let alice_id = alice.identity().unwrap();
    let number = bob.safety_number("alice").unwrap().unwrap();
    assert!(number.ct_eq(&alice.safety_number("bob").unwrap().unwrap()));
    bob.verify_identity("alice", &alice_id).unwrap();
    assert!(bob.peer_trust("alice").unwrap().unwrap().verified);

    let other = Client::create(MemoryStore::new(), &[8; 32], &mut r, NOW).unwrap();
    let bundle = bob.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    other.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let setup = other.send("bob", b"new phone", &mut r).unwrap();
    assert!(matches!(bob.receive("alice", &setup.bytes, NOW).unwrap(), Event::Blocked { .. }));
    assert!(bob.peer_trust("alice").unwrap().unwrap().blocked);
    // Blocked both ways, and accepting without verifying is refused.
    assert!(matches!(bob.send("alice", b"x", &mut r), Err(ClientError::Blocked { .. })));
    let old = alice.send("bob", b"x", &mut r).unwrap();
    assert!(matches!(bob.receive("alice", &old.bytes, NOW), Err(ClientError::Blocked { .. })));
    let new_id: IdentityKey = other.identity().unwrap();
    assert!(matches!(bob.accept_identity_change("alice", &new_id), Err(ClientError::Blocked { .. })));
    // The user verifies the new identity: unblocked, the old session gone.
    bob.verify_identity("alice", &new_id).unwrap();
    assert!(!bob.has_session("alice").unwrap());
    assert_eq!(text(bob.receive("alice", &setup.bytes, NOW).unwrap()).1, b"new phone");
}

#[test]
fn a_copied_store_shows_no_names_identities_or_content() {
    let mut r = rng(8);
    let (alice, sa, bob, sb) = pair();
    let secret = b"the merger closes friday";
    let m = alice.send("bob", secret, &mut r).unwrap();
    bob.receive("alice", &m.bytes, NOW).unwrap();
    for (store, names) in [(&sa, [&b"bob"[..], b"alice"]), (&sb, [&b"alice"[..], b"bob"])] {
        let bytes: Vec<u8> = store.dump().unwrap().into_iter().flat_map(|(_, k, v)| [k.to_vec(), v].concat()).collect();
        let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        for name in names {
            assert!(!contains(name), "a peer name is visible");
        }
        assert!(!contains(secret));
        assert!(!contains(alice.identity().unwrap().as_bytes()));
        assert!(!contains(bob.identity().unwrap().as_bytes()));
    }
}

#[test]
fn a_rolled_back_store_is_detected_when_the_app_kept_the_generation() {
    let mut r = rng(9);
    let (alice, sa, _, _) = pair();
    let old = sa.dump().unwrap();
    alice.send("bob", b"after the backup", &mut r).unwrap();
    let seen = alice.generation().unwrap();
    sa.restore(old).unwrap();
    match Client::open_at_least(sa.clone(), &KEY_A, seen) {
        Err(ClientError::RolledBack { generation, minimum }) => assert!(generation < minimum),
        other => panic!("{:?}", other.err()),
    }
    assert!(Client::open_at_least(sa, &KEY_A, seen - 1).is_ok());
}

#[test]
fn a_store_pieced_together_from_two_times_is_detected_without_help() {
    let mut r = rng(10);
    let (alice, sa, bob, _) = pair();
    let old = sa.dump().unwrap();
    let out = alice.send("bob", b"newer session record", &mut r).unwrap();
    assert!(matches!(bob.receive("alice", &out.bytes, NOW).unwrap(), Event::Message { .. }));
    // Only the client-wide records (generation, account) are put back from
    // the old copy; the session record stays the newer one.
    let mut pieced: Vec<_> = sa.dump().unwrap().into_iter().filter(|(t, _, _)| *t != Table::Meta).collect();
    pieced.extend(old.into_iter().filter(|(t, _, _)| *t == Table::Meta));
    sa.restore(pieced).unwrap();
    let alice = Client::open(sa, &KEY_A).unwrap();
    let generation = alice.generation().unwrap();
    // The session record was written after the generation it is read under.
    assert_eq!(
        alice.send("bob", b"x", &mut r).unwrap_err(),
        ClientError::RolledBack { generation, minimum: generation + 1 }
    );
}

#[test]
fn an_old_account_or_vault_record_put_back_alone_is_detected() {
    let mut r = rng(13);
    let (alice, _sa, bob, sb) = pair();
    let account_key_of = |records: &[(Table, Key, Vec<u8>)]| {
        records.iter().filter(|(t, _, _)| *t == Table::Meta).cloned().collect::<Vec<_>>()
    };
    // Bob's account before a second setup consumed a one-time prekey.
    let before = sb.dump().unwrap();
    let carol = Client::create(MemoryStore::new(), &[7; 32], &mut r, NOW).unwrap();
    let bundle = bob.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    carol.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let hi = carol.send("bob", b"hi", &mut r).unwrap();
    bob.receive("carol", &hi.bytes, NOW).unwrap();
    let now = sb.dump().unwrap();
    // Put back the old account record only (its one-time prekey unused),
    // keeping the current generation record (the small one of the two).
    let largest = |records: Vec<(Table, Key, Vec<u8>)>| records.into_iter().max_by_key(|r| r.2.len()).unwrap();
    let smallest = |records: Vec<(Table, Key, Vec<u8>)>| records.into_iter().min_by_key(|r| r.2.len()).unwrap();
    let mut pieced: Vec<_> = now.iter().filter(|(t, _, _)| *t != Table::Meta).cloned().collect();
    pieced.push(smallest(account_key_of(&now)));
    pieced.push(largest(account_key_of(&before)));
    sb.restore(pieced).unwrap();
    assert!(matches!(Client::open(sb.clone(), &KEY_B), Err(ClientError::RolledBack { .. })));

    // The vault: a burn-after-reading message read, then its vault record
    // put back.
    sb.restore(now).unwrap();
    let bob = Client::open(sb.clone(), &KEY_B).unwrap();
    let once = sealpost::burnout::Envelope::new(NOW).burn_after_reading();
    let m = alice.send_burnout("bob", b"door code", &once, &mut r).unwrap();
    let Event::Burnout { entry, .. } = bob.receive("alice", &m.bytes, NOW).unwrap() else { panic!() };
    let with_message = sb.dump().unwrap();
    bob.vault_read(entry, NOW).unwrap();
    let vault_of =
        |records: &[(Table, Key, Vec<u8>)]| records.iter().find(|(t, _, _)| *t == Table::Vault).cloned().unwrap();
    let mut pieced: Vec<_> = sb.dump().unwrap().into_iter().filter(|(t, _, _)| *t != Table::Vault).collect();
    pieced.push(vault_of(&with_message));
    sb.restore(pieced).unwrap();
    let bob = Client::open(sb, &KEY_B).unwrap();
    assert!(matches!(bob.vault_read(entry, NOW), Err(ClientError::RolledBack { .. })), "the burned message came back");
}

/// A store that counts reads, to show what opening costs.
#[derive(Clone, Default)]
struct Counting {
    inner: MemoryStore,
    reads: Arc<std::sync::atomic::AtomicUsize>,
}

impl Store for Counting {
    fn get(&self, table: Table, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.get(table, key)
    }
    fn scan(&self, table: Table) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        self.reads.fetch_add(1000, std::sync::atomic::Ordering::Relaxed);
        self.inner.scan(table)
    }
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        self.inner.commit(batch)
    }
}

#[test]
fn opening_reads_two_records_whatever_the_number_of_sessions() {
    let mut r = rng(10);
    let store = Counting::default();
    let hub = Client::create(store.clone(), &KEY_A, &mut r, NOW).unwrap();
    let peers = Client::create(MemoryStore::new(), &KEY_B, &mut r, NOW).unwrap();
    let bundles = peers.prekey_bundles(&mut r, NOW).unwrap();
    for (i, bundle) in bundles.iter().take(60).enumerate() {
        hub.start_session(&format!("peer {i}"), bundle, NOW, &mut r).unwrap();
    }
    store.reads.store(0, std::sync::atomic::Ordering::Relaxed);
    let hub = Client::open(store.clone(), &KEY_A).unwrap();
    assert_eq!(store.reads.load(std::sync::atomic::Ordering::Relaxed), 2, "the generation and the account");
    assert!(hub.has_session("peer 59").unwrap());
}

#[test]
fn accepting_the_recorded_identity_again_keeps_it_verified() {
    let (_alice, _, bob, _) = pair();
    let id = bob.peer_trust("alice").unwrap().unwrap().identity;
    bob.verify_identity("alice", &id).unwrap();
    bob.accept_identity_change("alice", &id).unwrap();
    assert!(bob.peer_trust("alice").unwrap().unwrap().verified);
}

#[test]
fn prekey_bundles_commits_only_what_the_policy_changed() {
    let mut r = rng(12);
    let store = MemoryStore::new();
    let client = Client::create(store.clone(), &KEY_A, &mut r, NOW).unwrap();
    let week = sealpost_client::SIGNED_PREKEY_ROTATION_MS;
    client.prekey_bundles(&mut r, NOW + week).unwrap(); // rotates; the old one is in its grace period
    let before = client.generation().unwrap();
    // Past the old key's grace period: the rotation and the expiry are
    // committed (once).
    let later = NOW + week + sealpost::limits::SIGNED_PREKEY_GRACE_MS + 1;
    client.prekey_bundles(&mut r, later).unwrap();
    assert_eq!(client.generation().unwrap(), before + 1);
    client.prekey_bundles(&mut r, later).unwrap();
    assert_eq!(client.generation().unwrap(), before + 1, "nothing left to expire: no commit");
}

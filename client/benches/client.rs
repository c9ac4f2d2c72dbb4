//! 1:1 send + receive of 100 B in an established conversation (each
//! message acknowledged on both sides: four transactions) through `Client` on SQLite (a file, WAL,
//! `synchronous = NORMAL`), through the in-memory store, and through bare
//! `Session`s, in thread CPU time (testkit's bench clock; `SEALPOST_BENCH_CLOCK=wall`
//! for wall time, which includes SQLite's file I/O).
//!
//! ```text
//! cargo bench -p sealpost-client --bench client
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main};
use sealpost_client::store::{Batch, MemoryStore, SqliteStore, Store, Table};
use sealpost_client::{Client, Event};
use sealpost_testkit::bench::{BenchCriterion, criterion};
use sealpost_testkit::{Conversation, NOW, rng};

fn pair<S: Store>(a: S, b: S) -> (Client<S>, Client<S>) {
    let mut r = rng(1);
    let alice = Client::create(a, &[1; 32], &mut r, NOW).unwrap();
    let bob = Client::create(b, &[2; 32], &mut r, NOW).unwrap();
    let bundle = bob.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    alice.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let m = alice.send("bob", b"hi", &mut r).unwrap();
    bob.receive("alice", &m.bytes, NOW).unwrap();
    // Bob replies once: Alice's messages no longer carry the setup.
    let reply = bob.send("alice", b"hello", &mut r).unwrap();
    alice.receive("bob", &reply.bytes, NOW).unwrap();
    (alice, bob)
}

fn round_trip<S: Store>(alice: &Client<S>, bob: &Client<S>, r: &mut rand::rngs::StdRng, payload: &[u8]) {
    let out = alice.send("bob", payload, r).unwrap();
    alice.acknowledge(out.id).unwrap();
    match bob.receive("alice", &out.bytes, NOW).unwrap() {
        Event::Message { id, .. } => bob.acknowledge_received(id).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn benches(c: &mut BenchCriterion) {
    let payload = [0x5au8; 100];
    let mut g = c.benchmark_group("client");
    let mut r = rng(2);

    let mut conv = Conversation::established(&mut r);
    g.bench_function("bare_sessions_100B", |b| {
        b.iter(|| {
            let m = conv.a.encrypt(black_box(&payload), &mut r).unwrap();
            black_box(conv.b.decrypt(&m).unwrap());
        })
    });

    let (alice, bob) = pair(MemoryStore::new(), MemoryStore::new());
    g.bench_function("memory_store_100B", |b| b.iter(|| round_trip(&alice, &bob, &mut r, &payload)));

    let dir = std::env::temp_dir().join(format!("sealpost-client-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (alice, bob) =
        pair(SqliteStore::open(dir.join("alice.db")).unwrap(), SqliteStore::open(dir.join("bob.db")).unwrap());
    g.bench_function("sqlite_store_100B", |b| b.iter(|| round_trip(&alice, &bob, &mut r, &payload)));

    // One send is one transaction: the session record, the outbox entry and
    // the store generation. The same writes (same sizes) straight into the
    // store, without the client's work, show SQLite's own share.
    let sizes: Vec<usize> = {
        let probe = MemoryStore::new();
        let (a, _b) = pair(probe.clone(), MemoryStore::new());
        let before = probe.dump().unwrap();
        a.send("bob", &payload, &mut r).unwrap();
        let after = probe.dump().unwrap();
        after.iter().filter(|rec| !before.contains(rec)).map(|(_, _, v)| v.len()).collect()
    };
    g.bench_function("send_100B_sqlite", |b| b.iter(|| black_box(alice.send("bob", &payload, &mut r).unwrap())));
    let mut raw = SqliteStore::open(dir.join("raw.db")).unwrap();
    let mut n = 0u64;
    g.bench_function("same_writes_sqlite_only", |b| {
        b.iter(|| {
            n += 1;
            let mut batch = Batch::new();
            for (i, len) in sizes.iter().enumerate() {
                let mut key = [0u8; 32];
                key[0] = i as u8;
                if i == 1 {
                    key[24..].copy_from_slice(&n.to_be_bytes()); // the outbox entry is new each time
                }
                batch.put(Table::Session, key, vec![0x33; *len]);
            }
            raw.commit(batch).unwrap();
        })
    });

    // A group of three on SQLite files: one message sent by Alice and read
    // by Bob, both acknowledged (four transactions), beside the bare
    // `Group`s' encrypt + decrypt.
    let carol_store = SqliteStore::open(dir.join("carol.db")).unwrap();
    let carol = Client::create(carol_store, &[3; 32], &mut r, NOW).unwrap();
    for (from, name) in [(&alice, "alice"), (&bob, "bob")] {
        let bundle = carol.prekey_bundles(&mut r, NOW).unwrap().remove(0);
        from.start_session("carol", &bundle, NOW, &mut r).unwrap();
        let hello = from.send("carol", b"hi", &mut r).unwrap();
        carol.receive(name, &hello.bytes, NOW).unwrap();
    }
    let (id, to_others) = alice.create_group(&["bob", "carol"], &mut r).unwrap();
    bob.join_group(&id, &["alice", "carol"], &mut r).unwrap();
    for out in &to_others {
        if out.to == sealpost_client::Destination::Peer("bob".into()) {
            bob.receive("alice", &out.bytes, NOW).unwrap();
        }
    }
    g.bench_function("group_sqlite_100B", |b| {
        b.iter(|| {
            let out = alice.send_group(&id, &payload, None, &mut r).unwrap();
            alice.acknowledge(out.id).unwrap();
            match bob.receive("alice", &out.bytes, NOW).unwrap() {
                Event::GroupMessage { id, .. } => bob.acknowledge_received(id).unwrap(),
                other => panic!("{other:?}"),
            }
        })
    });
    let mut groups = sealpost_testkit::GroupWorld::new(3, &mut r).into_groups();
    let (mut sender, mut reader) = (groups.remove(0), groups.remove(0));
    g.bench_function("bare_group_100B", |b| {
        b.iter(|| {
            let m = sender.encrypt(black_box(&payload), &mut r).unwrap();
            black_box(reader.decrypt(&m, NOW).unwrap());
        })
    });
    g.finish();
    drop((alice, bob, carol));
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = group;
    config = criterion();
    targets = benches
}
criterion_main!(group);

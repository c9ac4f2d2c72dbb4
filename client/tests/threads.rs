//! `Client` under threads: several threads share two clients (in a group
//! and a 1:1 session) and at once send (1:1 and group), deliver random
//! messages from the shared wire (the same message often by two threads at
//! once), acknowledge and reopen nothing; then the same invariants as the
//! crash property hold: no two different messages at one key position,
//! every message delivered to its app exactly once, the outbox offering
//! only what was sealed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rand::RngExt;
use sealpost_client::store::MemoryStore;
use sealpost_client::{Client, Event};
use sealpost_testkit::{NOW, rng};

mod common;
use common::Wire;

const THREADS: u64 = 4;
const STEPS: usize = 150;
const NAMES: [&str; 2] = ["alice", "bob"];

fn content(event: Event) -> Option<String> {
    match event {
        Event::Message { plaintext, .. } | Event::GroupMessage { plaintext, .. } => {
            Some(String::from_utf8(plaintext).unwrap())
        }
        Event::Duplicate => None,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn threads_sending_and_receiving_at_once_keep_the_crash_invariants() {
    let mut r = rng(1);
    let clients: Arc<[Client<MemoryStore>; 2]> = Arc::new([
        Client::create(MemoryStore::new(), &[1; 32], &mut r, NOW).unwrap(),
        Client::create(MemoryStore::new(), &[2; 32], &mut r, NOW).unwrap(),
    ]);
    let bundle = clients[1].prekey_bundles(&mut r, NOW).unwrap().remove(0);
    clients[0].start_session("bob", &bundle, NOW, &mut r).unwrap();
    let hello = clients[0].send("bob", b"hello", &mut r).unwrap();
    clients[1].receive("alice", &hello.bytes, NOW).unwrap();
    let (group, to_bob) = clients[0].create_group(&["bob"], &mut r).unwrap();
    let to_alice = clients[1].join_group(&group, &["alice"], &mut r).unwrap();
    clients[1].receive("alice", &to_bob[0].bytes, NOW).unwrap();
    clients[0].receive("bob", &to_alice[0].bytes, NOW).unwrap();
    for client in clients.iter() {
        for o in client.outbox().unwrap() {
            client.acknowledge(o.id).unwrap();
        }
    }

    let wire = Arc::new(Mutex::new(Wire::default()));
    let delivered: Arc<[Mutex<BTreeSet<String>>; 2]> = Arc::new(Default::default());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (clients, wire, delivered) = (clients.clone(), wire.clone(), delivered.clone());
            std::thread::spawn(move || {
                let mut r = rng(100 + t);
                for i in 0..STEPS {
                    let side = r.random_range(0..2usize);
                    match r.random_range(0..5u8) {
                        0 | 1 => {
                            let text = format!("t{t} m{i}");
                            let out = if r.random() {
                                clients[side].send_group(&group, text.as_bytes(), None, &mut r).unwrap()
                            } else {
                                clients[side].send(NAMES[1 - side], text.as_bytes(), &mut r).unwrap()
                            };
                            wire.lock().unwrap().carry(side, out.bytes);
                        }
                        2 | 3 => {
                            let picked = {
                                let w = wire.lock().unwrap();
                                (!w.messages.is_empty())
                                    .then(|| w.messages[r.random_range(0..w.messages.len())].clone())
                            };
                            let Some((from, bytes)) = picked else { continue };
                            let to = 1 - from;
                            if let Some(m) = content(clients[to].receive(NAMES[from], &bytes, NOW).unwrap()) {
                                assert!(delivered[to].lock().unwrap().insert(m.clone()), "{m} delivered twice");
                            }
                        }
                        _ => {
                            if let Some(o) = clients[side].outbox().unwrap().first() {
                                clients[side].acknowledge(o.id).unwrap();
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }

    // Everything still undelivered arrives now, once.
    let wire = wire.lock().unwrap();
    for (from, bytes) in &wire.messages {
        let to = 1 - from;
        if let Some(m) = content(clients[to].receive(NAMES[*from], bytes, NOW).unwrap()) {
            assert!(delivered[to].lock().unwrap().insert(m.clone()), "{m} delivered twice");
        }
    }
    let total: usize = delivered.iter().map(|d| d.lock().unwrap().len()).sum();
    assert_eq!(total, wire.messages.len(), "every message reached its app exactly once");
    assert!(total > 50, "the threads sent: {total}");
    for (side, client) in clients.iter().enumerate() {
        for o in client.outbox().unwrap() {
            let known = wire.messages.iter().any(|(s, b)| *s == side && *b == o.bytes);
            assert!(known, "the outbox offers only what was sealed");
        }
        // The inbox holds exactly what was delivered (nothing was
        // acknowledged), hello and all.
        let inbox: BTreeSet<String> =
            client.inbox().unwrap().into_iter().map(|e| String::from_utf8(e.plaintext.to_vec()).unwrap()).collect();
        let mut expected = delivered[side].lock().unwrap().clone();
        if side == 1 {
            expected.insert("hello".into());
        }
        assert_eq!(inbox, expected);
    }
}

//! Crash safety, by property: two clients talk through stores that fail or
//! "crash" at chosen commits (before the batch is applied, or right after
//! it became durable but before the caller heard back), and restart at any
//! point. After any such history:
//!
//! * no two different messages on the wire share a sender's chain position
//!   (ratchet key, message number): no key and nonce was used twice;
//! * every message the network carried is delivered to the app exactly once
//!   (an event, or an inbox entry left by a crash after the commit);
//! * the outbox offers only what was sealed (and reached the wire);
//! * the responder's one-time prekey is consumed exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use sealpost_client::store::{Batch, Key, MemoryStore, Store, StoreError, Table};
use sealpost_client::{Client, ClientError, Event};
use sealpost_testkit::{NOW, rng};

/// When the next commits fail: `Before` (nothing applied) or `After`
/// (applied, then the caller gets an error, as if the process died right
/// after the commit).
#[derive(Clone, Copy, Debug)]
enum Crash {
    Before,
    After,
}

#[derive(Clone, Default)]
struct Faulty {
    inner: MemoryStore,
    next: Arc<Mutex<Option<Crash>>>,
}

impl Store for Faulty {
    fn get(&self, table: Table, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(table, key)
    }
    fn scan(&self, table: Table) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        self.inner.scan(table)
    }
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        match self.next.lock().unwrap().take() {
            None => self.inner.commit(batch),
            Some(Crash::Before) => Err(StoreError::Backend("crash before commit".into())),
            Some(Crash::After) => {
                self.inner.commit(batch)?;
                Err(StoreError::Backend("crash after commit".into()))
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Send {
        from_alice: bool,
    },
    Deliver {
        pick: usize,
    },
    Restart {
        alice: bool,
    },
    Ack {
        alice: bool,
    },
    AckInbox {
        alice: bool,
    },
    /// The next commit of that side fails; afterwards the app either
    /// reopens the store (`reopen`) or keeps using the same client, which
    /// must reload what the failed commit may have left.
    ArmCrash {
        alice: bool,
        after: bool,
        reopen: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(|from_alice| Op::Send { from_alice }),
        4 => any::<usize>().prop_map(|pick| Op::Deliver { pick }),
        1 => any::<bool>().prop_map(|alice| Op::Restart { alice }),
        1 => any::<bool>().prop_map(|alice| Op::Ack { alice }),
        1 => any::<bool>().prop_map(|alice| Op::AckInbox { alice }),
        2 => (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(alice, after, reopen)| Op::ArmCrash { alice, after, reopen }),
    ]
}

struct Side {
    name: &'static str,
    key: [u8; 32],
    store: Faulty,
    client: Client<Faulty>,
    reopen_on_error: bool,
}

impl Side {
    fn restart(&mut self) {
        self.client = Client::open(self.store.clone(), &self.key).unwrap();
    }

    /// After a failed operation: what the app does.
    fn recover(&mut self) {
        if self.reopen_on_error {
            self.restart();
        }
    }
}

/// A message's chain position: the ratchet key and message number, read
/// from the header (layout in docs/PROTOCOL.md: version, type, the setup
/// block if the type is 0x02, then the ratchet key and counters).
fn position(bytes: &[u8]) -> ([u8; 32], u32) {
    let setup = match sealpost::wire::peek_type(bytes).unwrap() {
        sealpost::wire::MessageType::Setup => 32 + 32 + 4 + 1 + if bytes[2 + 68] == 1 { 4 } else { 0 } + 1,
        _ => 0,
    };
    let at = 2 + setup;
    let key: [u8; 32] = bytes[at..at + 32].try_into().unwrap();
    let number = u32::from_be_bytes(bytes[at + 36..at + 40].try_into().unwrap());
    (key, number)
}

fn run(ops: Vec<Op>) {
    let mut r = rng(1);
    let mk = |name, key: [u8; 32], r: &mut _| {
        let store = Faulty::default();
        let client = Client::create(store.clone(), &key, r, NOW).unwrap();
        Side { name, key, store, client, reopen_on_error: true }
    };
    let mut sides = [mk("alice", [1; 32], &mut r), mk("bob", [2; 32], &mut r)];
    let bundle = sides[1].client.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    sides[0].client.start_session("bob", &bundle, NOW, &mut r).unwrap();

    // The network: every wire message seen, by sender, with its content.
    let mut wire: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut seen_bytes: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut positions: BTreeMap<(usize, [u8; 32], u32), Vec<u8>> = BTreeMap::new();
    // What each receiver's app got (content strings), from events and inboxes.
    let mut delivered: [BTreeSet<String>; 2] = [BTreeSet::new(), BTreeSet::new()];
    let mut counter = 0u32;
    let mut bob_started = false;

    let mut on_wire = |from: usize, bytes: Vec<u8>, wire: &mut Vec<(usize, Vec<u8>)>| {
        if seen_bytes.insert(bytes.clone()) {
            let (k, n) = position(&bytes);
            if let Some(other) = positions.insert((from, k, n), bytes.clone()) {
                assert_eq!(other, bytes, "two different messages at one chain position");
            }
            wire.push((from, bytes));
        }
    };

    for op in ops {
        match op {
            Op::Send { from_alice } => {
                let s = if from_alice { 0 } else { 1 };
                if s == 1 && !bob_started {
                    continue; // Bob can reply only once Alice's setup arrived.
                }
                counter += 1;
                let peer = sides[1 - s].name;
                match sides[s].client.send(peer, format!("m{counter}").as_bytes(), &mut r) {
                    Ok(out) => on_wire(s, out.bytes, &mut wire),
                    Err(ClientError::Store(_)) => {
                        sides[s].recover();
                        // A crash after the commit left the message in the
                        // outbox: the app resends what the outbox offers.
                        for o in sides[s].client.outbox().unwrap() {
                            on_wire(s, o.bytes, &mut wire);
                        }
                    }
                    Err(e) => panic!("send: {e}"),
                }
            }
            Op::Deliver { pick } => {
                if wire.is_empty() {
                    continue;
                }
                let (from, bytes) = wire[pick % wire.len()].clone();
                let to = 1 - from;
                match sides[to].client.receive(sides[from].name, &bytes, NOW) {
                    Ok(Event::Message { plaintext, .. }) => {
                        let m = String::from_utf8(plaintext).unwrap();
                        assert!(delivered[to].insert(m.clone()), "{m} delivered twice");
                        if to == 1 {
                            bob_started = true;
                        }
                    }
                    Ok(Event::Duplicate) => {}
                    Ok(other) => panic!("unexpected {other:?}"),
                    Err(ClientError::Store(_)) => {
                        sides[to].recover();
                        // What the app did not see may wait in the inbox.
                        for e in sides[to].client.inbox().unwrap() {
                            let m = String::from_utf8(e.plaintext.to_vec()).unwrap();
                            if delivered[to].insert(m) && to == 1 {
                                bob_started = true;
                            }
                        }
                    }
                    Err(e) => panic!("receive: {e}"),
                }
            }
            Op::Restart { alice } => sides[usize::from(!alice)].restart(),
            Op::Ack { alice } => {
                let s = usize::from(!alice);
                if let Some(o) = sides[s].client.outbox().unwrap().first()
                    && sides[s].client.acknowledge(o.id).is_err()
                {
                    sides[s].recover();
                }
            }
            Op::AckInbox { alice } => {
                let s = usize::from(!alice);
                if let Some(e) = sides[s].client.inbox().unwrap().first()
                    && sides[s].client.acknowledge_received(e.id).is_err()
                {
                    sides[s].recover();
                }
            }
            Op::ArmCrash { alice, after, reopen } => {
                let crash = if after { Crash::After } else { Crash::Before };
                let side = &mut sides[usize::from(!alice)];
                *side.store.next.lock().unwrap() = Some(crash);
                side.reopen_on_error = reopen;
            }
        }
    }
    // Disarm, restart both, and deliver everything still on the wire, in
    // order: every message reaches its app exactly once.
    for s in &mut sides {
        *s.store.next.lock().unwrap() = None;
        s.restart();
    }
    for (s, side) in sides.iter().enumerate() {
        for e in side.client.inbox().unwrap() {
            delivered[s].insert(String::from_utf8(e.plaintext.to_vec()).unwrap());
        }
    }
    for (from, bytes) in wire.clone() {
        let to = 1 - from;
        match sides[to].client.receive(sides[from].name, &bytes, NOW).unwrap() {
            Event::Message { plaintext, .. } => {
                let m = String::from_utf8(plaintext).unwrap();
                assert!(delivered[to].insert(m.clone()), "{m} delivered twice");
            }
            Event::Duplicate => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // The outbox offers nothing the network did not see (every send that
    // committed reached the wire, directly or through the outbox).
    for side in &sides {
        for o in side.client.outbox().unwrap() {
            assert!(wire.iter().any(|(_, b)| b == &o.bytes), "the outbox offers only what was sealed");
        }
    }
    let total: usize = delivered.iter().map(BTreeSet::len).sum();
    assert_eq!(total, wire.len(), "each wire message reached its app exactly once");
    // Bob's one-time prekey was consumed exactly once: by the first setup
    // he accepted, whatever crashed around it (and never came back).
    let alice_wrote = wire.iter().any(|(from, _)| *from == 0);
    let left = sides[1].client.prekey_bundles(&mut r, NOW).unwrap().len();
    assert_eq!(left, if alice_wrote { 99 } else { 100 }, "one-time prekeys left");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn crashes_and_restarts_never_reuse_a_key_lose_or_repeat_a_message(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

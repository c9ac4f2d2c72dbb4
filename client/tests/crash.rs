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

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use sealpost_client::store::{Batch, Key, MemoryStore, Store, StoreError, Table};
use sealpost_client::{Client, ClientError, Event};
use sealpost_testkit::{NOW, rng};

mod common;
use common::Wire;

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

    /// The transport took the oldest outbox entry.
    fn ack_oldest_sent(&mut self) {
        if let Some(o) = self.client.outbox().unwrap().first()
            && self.client.acknowledge(o.id).is_err()
        {
            self.recover();
        }
    }

    /// The app stored the oldest inbox entry.
    fn ack_oldest_received(&mut self) {
        if let Some(e) = self.client.inbox().unwrap().first()
            && self.client.acknowledge_received(e.id).is_err()
        {
            self.recover();
        }
    }

    /// The next commit fails (`after`: once applied); then the app reopens
    /// (`reopen`) or goes on with the same client.
    fn arm_crash(&mut self, after: bool, reopen: bool) {
        *self.store.next.lock().unwrap() = Some(if after { Crash::After } else { Crash::Before });
        self.reopen_on_error = reopen;
    }
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
    let mut wire = Wire::default();
    // What each receiver's app got (content strings), from events and inboxes.
    let mut delivered: [BTreeSet<String>; 2] = [BTreeSet::new(), BTreeSet::new()];
    let mut counter = 0u32;
    let mut bob_started = false;

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
                    Ok(out) => wire.carry(s, out.bytes),
                    Err(ClientError::Store(_)) => {
                        sides[s].recover();
                        // A crash after the commit left the message in the
                        // outbox: the app resends what the outbox offers.
                        for o in sides[s].client.outbox().unwrap() {
                            wire.carry(s, o.bytes);
                        }
                    }
                    Err(e) => panic!("send: {e}"),
                }
            }
            Op::Deliver { pick } => {
                if wire.messages.is_empty() {
                    continue;
                }
                let (from, bytes) = wire.messages[pick % wire.messages.len()].clone();
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
            Op::Ack { alice } => sides[usize::from(!alice)].ack_oldest_sent(),
            Op::AckInbox { alice } => sides[usize::from(!alice)].ack_oldest_received(),
            Op::ArmCrash { alice, after, reopen } => sides[usize::from(!alice)].arm_crash(after, reopen),
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
    for (from, bytes) in wire.messages.clone() {
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
            assert!(wire.messages.iter().any(|(_, b)| b == &o.bytes), "the outbox offers only what was sealed");
        }
    }
    let total: usize = delivered.iter().map(BTreeSet::len).sum();
    assert_eq!(total, wire.messages.len(), "each wire message reached its app exactly once");
    // Bob's one-time prekey was consumed exactly once: by the first setup
    // he accepted, whatever crashed around it (and never came back).
    let alice_wrote = wire.messages.iter().any(|(from, _)| *from == 0);
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

#[derive(Clone, Debug)]
enum GroupOp {
    /// A group message (`group`) or a 1:1 message.
    Send {
        from_alice: bool,
        group: bool,
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
    ArmCrash {
        alice: bool,
        after: bool,
        reopen: bool,
    },
}

fn group_op() -> impl Strategy<Value = GroupOp> {
    prop_oneof![
        5 => (any::<bool>(), any::<bool>()).prop_map(|(from_alice, group)| GroupOp::Send { from_alice, group }),
        4 => any::<usize>().prop_map(|pick| GroupOp::Deliver { pick }),
        1 => any::<bool>().prop_map(|alice| GroupOp::Restart { alice }),
        1 => any::<bool>().prop_map(|alice| GroupOp::Ack { alice }),
        1 => any::<bool>().prop_map(|alice| GroupOp::AckInbox { alice }),
        2 => (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(alice, after, reopen)| GroupOp::ArmCrash { alice, after, reopen }),
    ]
}

/// The same properties for a group of two beside their 1:1 session: no two
/// different group messages share a sender-key position (sender, key id,
/// iteration), every message on the wire reaches its app exactly once, the
/// outbox offers only what was sealed.
fn run_group(ops: Vec<GroupOp>) {
    let mut r = rng(2);
    let mk = |name, key: [u8; 32], r: &mut _| {
        let store = Faulty::default();
        let client = Client::create(store.clone(), &key, r, NOW).unwrap();
        Side { name, key, store, client, reopen_on_error: true }
    };
    let mut sides = [mk("alice", [1; 32], &mut r), mk("bob", [2; 32], &mut r)];
    let bundle = sides[1].client.prekey_bundles(&mut r, NOW).unwrap().remove(0);
    sides[0].client.start_session("bob", &bundle, NOW, &mut r).unwrap();
    let hello = sides[0].client.send("bob", b"hello", &mut r).unwrap();
    sides[1].client.receive("alice", &hello.bytes, NOW).unwrap();
    let (group, to_bob) = sides[0].client.create_group(&["bob"], &mut r).unwrap();
    let to_alice = sides[1].client.join_group(&group, &["alice"], &mut r).unwrap();
    sides[1].client.receive("alice", &to_bob[0].bytes, NOW).unwrap();
    sides[0].client.receive("bob", &to_alice[0].bytes, NOW).unwrap();
    for s in &sides {
        for o in s.client.outbox().unwrap() {
            s.client.acknowledge(o.id).unwrap();
        }
        for e in s.client.inbox().unwrap() {
            s.client.acknowledge_received(e.id).unwrap();
        }
    }

    let mut wire = Wire::default();
    let mut delivered: [BTreeSet<String>; 2] = [BTreeSet::new(), BTreeSet::new()];
    let mut counter = 0u32;
    let content = |event: Event| match event {
        Event::Message { plaintext, .. } | Event::GroupMessage { plaintext, .. } => {
            Some(String::from_utf8(plaintext).unwrap())
        }
        Event::Duplicate => None,
        other => panic!("unexpected {other:?}"),
    };

    for op in ops {
        match op {
            GroupOp::Send { from_alice, group: to_group } => {
                let s = usize::from(!from_alice);
                counter += 1;
                let text = format!("m{counter}");
                let sent = if to_group {
                    sides[s].client.send_group(&group, text.as_bytes(), None, &mut r)
                } else {
                    sides[s].client.send(sides[1 - s].name, text.as_bytes(), &mut r)
                };
                match sent {
                    Ok(out) => wire.carry(s, out.bytes),
                    Err(ClientError::Store(_)) => {
                        sides[s].recover();
                        for o in sides[s].client.outbox().unwrap() {
                            wire.carry(s, o.bytes);
                        }
                    }
                    Err(e) => panic!("send: {e}"),
                }
            }
            GroupOp::Deliver { pick } => {
                if wire.messages.is_empty() {
                    continue;
                }
                let (from, bytes) = wire.messages[pick % wire.messages.len()].clone();
                let to = 1 - from;
                match sides[to].client.receive(sides[from].name, &bytes, NOW) {
                    Ok(event) => {
                        if let Some(m) = content(event) {
                            assert!(delivered[to].insert(m.clone()), "{m} delivered twice");
                        }
                    }
                    Err(ClientError::Store(_)) => {
                        sides[to].recover();
                        for e in sides[to].client.inbox().unwrap() {
                            delivered[to].insert(String::from_utf8(e.plaintext.to_vec()).unwrap());
                        }
                    }
                    Err(e) => panic!("receive: {e}"),
                }
            }
            GroupOp::Restart { alice } => sides[usize::from(!alice)].restart(),
            GroupOp::Ack { alice } => sides[usize::from(!alice)].ack_oldest_sent(),
            GroupOp::AckInbox { alice } => sides[usize::from(!alice)].ack_oldest_received(),
            GroupOp::ArmCrash { alice, after, reopen } => sides[usize::from(!alice)].arm_crash(after, reopen),
        }
    }
    for s in &mut sides {
        *s.store.next.lock().unwrap() = None;
        s.restart();
    }
    for (s, side) in sides.iter().enumerate() {
        for e in side.client.inbox().unwrap() {
            delivered[s].insert(String::from_utf8(e.plaintext.to_vec()).unwrap());
        }
    }
    for (from, bytes) in wire.messages.clone() {
        let to = 1 - from;
        if let Some(m) = content(sides[to].client.receive(sides[from].name, &bytes, NOW).unwrap()) {
            assert!(delivered[to].insert(m.clone()), "{m} delivered twice");
        }
    }
    for side in &sides {
        for o in side.client.outbox().unwrap() {
            assert!(wire.messages.iter().any(|(_, b)| b == &o.bytes), "the outbox offers only what was sealed");
        }
    }
    let total: usize = delivered.iter().map(BTreeSet::len).sum();
    assert_eq!(total, wire.messages.len(), "each wire message reached its app exactly once");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn group_crashes_and_restarts_never_reuse_a_sender_key_position_lose_or_repeat(
        ops in proptest::collection::vec(group_op(), 1..60)
    ) {
        run_group(ops);
    }
}

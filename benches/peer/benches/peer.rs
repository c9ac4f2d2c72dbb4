//! sealpost side by side with Matrix's vodozemac (0.11, Olm and Megolm), in
//! one run: the same scenarios, the same payloads, the same timed regions,
//! paired and interleaved (`sealpost_testkit::bench::paired`), thread CPU
//! time. Prints one line per scenario: both medians and the median of the
//! per-round ratios sealpost / vodozemac (below 1: sealpost is faster).
//!
//! ```text
//! cd benches/peer && cargo bench            # every scenario, about 3 minutes
//! cargo bench -- catch_up                    # only the scenarios whose name contains "catch_up"
//! ```
//!
//! The lines are collected in BENCHMARKS.md ("Side by side with vodozemac");
//! `scripts/peer-chart.py` draws them as an SVG.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use rand::rngs::StdRng;
use sealpost::Account;
use sealpost::group::Group;
use sealpost_testkit::bench::{cpu_timed, paired};
use sealpost_testkit::{Conversation, GroupWorld, NOW, rng};
use vodozemac::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig};
use vodozemac::olm::{Account as OlmAccount, OlmMessage, Session as OlmSession, SessionConfig as OlmConfig};

/// Rounds per paired comparison (after two warm-up rounds).
const ROUNDS: usize = 15;

/// One paired comparison: `a` and `b` each time `n` operations and return
/// the total; prints per-operation medians and the ratio.
fn compare(
    filter: &Option<String>,
    name: &str,
    n: u32,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) {
    if filter.as_deref().is_some_and(|f| !name.contains(f)) {
        return;
    }
    let [m] = paired(2, ROUNDS, || [a() / n], || [b() / n]);
    println!(
        "peer {name:<28} sealpost {:>11.2} µs   vodozemac {:>11.2} µs   ratio {:.3}",
        m.a_ns() / 1e3,
        m.b_ns() / 1e3,
        m.ratio
    );
}

/// An established vodozemac Olm session pair (Bob has replied once, so both
/// have left the pre-key stage).
fn olm_pair() -> (OlmSession, OlmSession) {
    let alice = OlmAccount::new();
    let mut bob = OlmAccount::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut a = alice.create_outbound_session(OlmConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(first) = a.encrypt("hello").unwrap() else { panic!("a pre-key message") };
    let mut b = bob.create_inbound_session(OlmConfig::version_1(), alice.curve25519_key(), &first).unwrap().session;
    let reply = b.encrypt("hi").unwrap();
    a.decrypt(&reply).unwrap();
    let again = a.encrypt("again").unwrap();
    b.decrypt(&again).unwrap();
    (a, b)
}

/// sealpost: `n` messages of `size` bytes from Alice to Bob, each encrypted
/// and decrypted.
fn sealpost_one_to_one(c: &mut Conversation, rng: &mut StdRng, payload: &[u8], n: u32) -> Duration {
    cpu_timed(|| {
        for _ in 0..n {
            let m = c.a.encrypt(payload, rng).unwrap();
            black_box(c.b.decrypt(&m).unwrap());
        }
    })
    .1
}

fn olm_one_to_one(a: &mut OlmSession, b: &mut OlmSession, payload: &[u8], n: u32) -> Duration {
    cpu_timed(|| {
        for _ in 0..n {
            let m = a.encrypt(payload).unwrap();
            black_box(b.decrypt(&m).unwrap());
        }
    })
    .1
}

fn one_to_one(filter: &Option<String>) {
    let mut r = rng(1);
    let mut c = Conversation::established(&mut r);
    let (mut a, mut b) = olm_pair();
    for (name, size, n) in [("100B", 100usize, 400u32), ("64KiB", 64 << 10, 20), ("1MiB", 1 << 20, 2)] {
        let payload = vec![0x5au8; size];
        compare(
            filter,
            &format!("1to1/{name}"),
            n,
            || sealpost_one_to_one(&mut c, &mut r, &payload, n),
            || olm_one_to_one(&mut a, &mut b, &payload, n),
        );
    }
}

fn setup(filter: &Option<String>) {
    // Per operation: the initiator starts a session from the responder's
    // keys (bundle / identity and one-time key), encrypts the first message,
    // and the responder creates its session from it.
    const N: u32 = 20;
    let mut r = rng(2);
    let alice = Account::new(&mut r, NOW);
    let alice_olm = OlmAccount::new();
    compare(
        filter,
        "setup",
        N,
        || {
            let mut bob = Account::new(&mut r, NOW);
            bob.generate_one_time_prekeys(N as usize, &mut r).unwrap();
            let bundles: Vec<_> = (1..=N).map(|id| bob.prekey_bundle_with(Some(id)).unwrap()).collect();
            cpu_timed(|| {
                for bundle in &bundles {
                    let mut s = alice.create_outbound_session(bundle, &mut r).unwrap();
                    let first = s.encrypt(b"hello", &mut r).unwrap();
                    black_box(bob.create_inbound_session(&first).unwrap());
                }
            })
            .1
        },
        || {
            let mut bob = OlmAccount::new();
            bob.generate_one_time_keys(N as usize);
            let keys: Vec<_> = bob.one_time_keys().values().copied().collect();
            let identity = bob.curve25519_key();
            cpu_timed(|| {
                for otk in &keys {
                    let mut s = alice_olm.create_outbound_session(OlmConfig::version_1(), identity, *otk).unwrap();
                    let OlmMessage::PreKey(first) = s.encrypt("hello").unwrap() else { panic!("a pre-key message") };
                    black_box(
                        bob.create_inbound_session(OlmConfig::version_1(), alice_olm.curve25519_key(), &first).unwrap(),
                    );
                }
            })
            .1
        },
    );
}

/// A sealpost group of two (sender, reader) and a Megolm pair.
fn group_pairs(r: &mut StdRng) -> ((Group, Group), (GroupSession, InboundGroupSession)) {
    let [a, b]: [Group; 2] = GroupWorld::new(2, r).into_groups().try_into().unwrap();
    let outbound = GroupSession::new(MegolmConfig::version_1());
    let inbound = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
    ((a, b), (outbound, inbound))
}

fn group_messages(filter: &Option<String>) {
    let mut r = rng(3);
    let ((mut a, mut b), (mut outbound, mut inbound)) = group_pairs(&mut r);
    for (name, size, n) in [("100B", 100usize, 400u32), ("64KiB", 64 << 10, 20)] {
        let payload = vec![0x5au8; size];
        compare(
            filter,
            &format!("group/{name}"),
            n,
            || {
                cpu_timed(|| {
                    for _ in 0..n {
                        let m = a.encrypt(&payload, &mut r).unwrap();
                        black_box(b.decrypt(&m, NOW).unwrap());
                    }
                })
                .1
            },
            || {
                cpu_timed(|| {
                    for _ in 0..n {
                        let m = outbound.encrypt(&payload);
                        black_box(inbound.decrypt(&m).unwrap());
                    }
                })
                .1
            },
        );
    }
}

fn catch_up(filter: &Option<String>) {
    // A reader that holds the sender key from iteration 0 decrypts the
    // message `gap` iterations later (a fresh reader per operation).
    for gap in [1_000u32, 25_000, 1_000_000] {
        let name = format!("group_catch_up/{gap}");
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let mut r = rng(4);
        let ((mut a, b), (mut outbound, _)) = group_pairs(&mut r);
        let session_key = outbound.session_key();
        for _ in 1..gap {
            a.encrypt(b"", &mut r).unwrap();
            outbound.encrypt(b"");
        }
        let ahead = a.encrypt(&[0x5au8; 100], &mut r).unwrap();
        let ahead_megolm: MegolmMessage = outbound.encrypt([0x5au8; 100]);
        let n = 20u32;
        compare(
            filter,
            &name,
            n,
            || {
                let mut readers = vec![b.clone(); n as usize];
                cpu_timed(|| readers.iter_mut().for_each(|g| drop(black_box(g.decrypt(&ahead, NOW).unwrap())))).1
            },
            || {
                let mut readers: Vec<_> =
                    (0..n).map(|_| InboundGroupSession::new(&session_key, MegolmConfig::version_1())).collect();
                cpu_timed(|| readers.iter_mut().for_each(|g| drop(black_box(g.decrypt(&ahead_megolm).unwrap())))).1
            },
        );
    }
}

fn next_message(filter: &Option<String>) {
    // Gap 1: a reader decrypts the next message, in order, 256 in a row (one
    // whole block, so the tree's per-block cost is averaged in as it is in
    // a conversation).
    let mut r = rng(5);
    let ((mut a, b), (mut outbound, _)) = group_pairs(&mut r);
    let session_key = outbound.session_key();
    let sealed: Vec<Vec<u8>> = (0..256).map(|_| a.encrypt(&[0x5au8; 100], &mut r).unwrap()).collect();
    let megolm: Vec<MegolmMessage> = (0..256).map(|_| outbound.encrypt([0x5au8; 100])).collect();
    compare(
        filter,
        "group_next/100B",
        256,
        || {
            let mut reader = b.clone();
            cpu_timed(|| sealed.iter().for_each(|m| drop(black_box(reader.decrypt(m, NOW).unwrap())))).1
        },
        || {
            let mut reader = InboundGroupSession::new(&session_key, MegolmConfig::version_1());
            cpu_timed(|| megolm.iter().for_each(|m| drop(black_box(reader.decrypt(m).unwrap())))).1
        },
    );
}

fn main() {
    // `cargo bench -- NAME` runs the scenarios whose name contains NAME.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    one_to_one(&filter);
    setup(&filter);
    group_messages(&filter);
    next_message(&filter);
    catch_up(&filter);
}

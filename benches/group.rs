//! Group messaging against the primitives it is built from, in one run.
//!
//! * `raw/*`: Ed25519 sign and strict verify, ChaCha20-Poly1305 seal and
//!   open (in place, detached tag) over the plaintext size.
//! * `group/encrypt`, `group/decrypt`: a full group message (ratchet step,
//!   AEAD, signature; parse, verify, AEAD, commit).
//! * `distribute/*`: [`Group::distribute`] to 10, 100 and 1000 members,
//!   against `Session::encrypt` of a payload of the same size on the same
//!   sessions (the 1:1 encryptions a distribution needs).
//! * `catch_up/*`: decrypting a message 1,000 and 25,000 iterations ahead of
//!   the receiver.
//!
//! * `paired …` lines at the end: each comparison again, run interleaved
//!   (the testkit's paired A/B helper, thread CPU time): the median
//!   per-operation times and the median per-round ratio.
//!
//! Run: `cargo bench --bench group -- --warm-up-time 1 --measurement-time 3`.

// Benchmark set-up unwraps and indexes: a failure is a bug to stop at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cell::RefCell;
use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::rngs::StdRng;
use sealpost::Session;
use sealpost::group::{Group, GroupId};
use sealpost_testkit::bench::{AbMedians, cpu_timed, paired};
use sealpost_testkit::{ForkoutWorld, GroupWorld, NOW, rng};

const SIZES: [(usize, &str); 2] = [(100, "100B"), (64 * 1024, "64KiB")];

/// Two members with each other's sender keys.
fn pair(rng: &mut StdRng) -> (Group, Group) {
    let [a, b]: [Group; 2] = GroupWorld::new(2, rng).into_groups().try_into().unwrap();
    (a, b)
}

/// A group owner with started 1:1 sessions (sending chains warmed up) to
/// the `members` other members, and a payload as long as the 1:1 part of
/// one distribution.
struct Owner {
    rng: StdRng,
    group: Group,
    sessions: Vec<Session>,
    payload: Vec<u8>,
}

fn owner(members: usize, seed: u64) -> Owner {
    let mut w = ForkoutWorld::new(seed).with_pending(members);
    let ids: Vec<_> = w.pending.iter().map(|p| *p.account.identity()).collect();
    let group = Group::new(GroupId::random(&mut w.rng), *w.sender.identity(), ids, &mut w.rng).unwrap();
    let mut sessions: Vec<Session> = w.pending.into_iter().map(|p| p.to_peer).collect();
    let first = group.distribute([&mut sessions[0]], &mut w.rng).unwrap();
    let payload = vec![0u8; sealpost_distribution_len(&first[0].1, &sessions[0], &mut w.rng)];
    Owner { rng: w.rng, group, sessions, payload }
}

/// The primitives a group message is built from: an Ed25519 key pair, a
/// ChaCha20-Poly1305 cipher, a nonce and associated data of the header's
/// size.
struct Primitives {
    signing: SigningKey,
    verifying: VerifyingKey,
    cipher: ChaCha20Poly1305,
    nonce: [u8; 12],
    ad: [u8; 74],
}

fn primitives(rng: &mut StdRng) -> Primitives {
    let signing = SigningKey::generate(rng);
    let verifying = signing.verifying_key();
    Primitives { signing, verifying, cipher: ChaCha20Poly1305::new(&[7u8; 32].into()), nonce: [0u8; 12], ad: [0u8; 74] }
}

fn raw(c: &mut Criterion) {
    let Primitives { signing, verifying, cipher, nonce, ad } = primitives(&mut rng(1));
    let mut g = c.benchmark_group("raw");
    for (size, name) in SIZES {
        let msg = vec![0x5au8; size];
        g.bench_function(BenchmarkId::new("ed25519_sign", name), |b| b.iter(|| signing.sign(black_box(&msg))));
        let sig: Signature = signing.sign(&msg);
        g.bench_function(BenchmarkId::new("ed25519_verify", name), |b| {
            b.iter(|| verifying.verify_strict(black_box(&msg), &sig).unwrap())
        });
        g.bench_function(BenchmarkId::new("aead_seal", name), |b| {
            b.iter_batched_ref(
                || msg.clone(),
                |buf| cipher.encrypt_inout_detached(&nonce.into(), &ad, buf.as_mut_slice().into()).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let mut sealed = msg.clone();
        let tag = cipher.encrypt_inout_detached(&nonce.into(), &ad, sealed.as_mut_slice().into()).unwrap();
        g.bench_function(BenchmarkId::new("aead_open", name), |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| cipher.decrypt_inout_detached(&nonce.into(), &ad, buf.as_mut_slice().into(), &tag).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn group_messages(c: &mut Criterion) {
    let mut rng = rng(2);
    let (mut alice, _) = pair(&mut rng);
    let mut g = c.benchmark_group("group");
    for (size, name) in SIZES {
        let msg = vec![0x5au8; size];
        g.bench_function(BenchmarkId::new("encrypt", name), |b| {
            b.iter(|| alice.encrypt(black_box(&msg), &mut rng).unwrap())
        });
        // A fresh pair, so the message is the reader's next one (not a catch-up).
        let (mut sender, bob) = pair(&mut rng);
        let sealed = sender.encrypt(&msg, &mut rng).unwrap();
        g.bench_function(BenchmarkId::new("decrypt", name), |b| {
            b.iter_batched_ref(|| bob.clone(), |r| r.decrypt(black_box(&sealed), NOW).unwrap(), BatchSize::SmallInput)
        });
    }
    g.finish();
}

fn distribution(c: &mut Criterion) {
    let mut g = c.benchmark_group("distribute");
    g.sample_size(20);
    for members in [10usize, 100, 1000] {
        let Owner { mut rng, group, mut sessions, payload } = owner(members, 3);
        g.bench_function(BenchmarkId::new("group_distribute", members), |b| {
            b.iter(|| group.distribute(sessions.iter_mut(), &mut rng).unwrap())
        });
        g.bench_function(BenchmarkId::new("session_encrypts", members), |b| {
            b.iter(|| {
                sessions
                    .iter_mut()
                    .map(|s| (*s.peer_identity(), s.encrypt(black_box(&payload), &mut rng).unwrap()))
                    .collect::<Vec<_>>()
            })
        });
    }
    g.finish();
}

/// The distribution payload length, read off a real distribution: its 1:1
/// ciphertext minus the ciphertext of an empty application message.
fn sealpost_distribution_len(distribution: &[u8], session: &Session, rng: &mut StdRng) -> usize {
    let empty = session.clone().encrypt(b"", rng).unwrap();
    distribution.len() - empty.len()
}

fn catch_up(c: &mut Criterion) {
    let mut rng = rng(4);
    let mut g = c.benchmark_group("catch_up");
    for gap in [1_000u32, 25_000] {
        let (mut alice, bob) = pair(&mut rng);
        for _ in 0..gap {
            alice.encrypt(b"missed", &mut rng).unwrap();
        }
        let ahead = alice.encrypt(&[0x5au8; 100], &mut rng).unwrap();
        g.bench_function(BenchmarkId::new("decrypt_ahead", gap), |b| {
            b.iter_batched_ref(|| bob.clone(), |r| r.decrypt(black_box(&ahead), NOW).unwrap(), BatchSize::SmallInput)
        });
    }
    g.finish();
}

/// Rounds of each paired comparison.
const ROUNDS: usize = 21;

/// The thread CPU time of `n` operations run by `f` (inputs prepared
/// before), per operation.
fn per_op(n: usize, f: impl FnOnce()) -> [Duration; 1] {
    [cpu_timed(f).1 / u32::try_from(n).unwrap()]
}

/// Runs `a` (sealpost) and `b` (its baseline), each timing `n` operations
/// with [`per_op`], interleaved for [`ROUNDS`] rounds ([`paired`]), and
/// prints the median per-operation times and the median of the per-round
/// ratios. On a shared, noisy machine the interleaving keeps both sides
/// under the same load, so the ratio is far steadier than comparing two
/// separate criterion runs.
fn print_paired(
    name: &str,
    n: usize,
    mut a: impl FnMut(usize) -> [Duration; 1],
    mut b: impl FnMut(usize) -> [Duration; 1],
) {
    let [m]: [AbMedians; 1] = paired(0, ROUNDS, || a(n), || b(n));
    println!(
        "paired {name:<28} sealpost {:>10.1} µs   baseline {:>10.1} µs   ratio {:.3}",
        m.a_ns() / 1e3,
        m.b_ns() / 1e3,
        m.ratio
    );
}

fn paired_ratios(_: &mut Criterion) {
    let mut rng = rng(5);
    let Primitives { signing, verifying, cipher, nonce, ad } = primitives(&mut rng);
    let (mut alice, _) = pair(&mut rng);
    for (size, name, n) in [(100usize, "100B", 200usize), (64 * 1024, "64KiB", 10)] {
        let msg = vec![0x5au8; size];
        print_paired(
            &format!("encrypt/{name}"),
            n,
            |n| per_op(n, || (0..n).for_each(|_| drop(black_box(alice.encrypt(&msg, &mut rng).unwrap())))),
            |n| {
                let mut bufs = vec![msg.clone(); n];
                per_op(n, || {
                    for buf in &mut bufs {
                        black_box(signing.sign(&msg));
                        black_box(
                            cipher.encrypt_inout_detached(&nonce.into(), &ad, buf.as_mut_slice().into()).unwrap(),
                        );
                    }
                })
            },
        );
        // A fresh pair, so the message is the reader's next one (not a catch-up).
        let (mut sender, bob) = pair(&mut rng);
        let sealed = sender.encrypt(&msg, &mut rng).unwrap();
        let sig = signing.sign(&msg);
        let mut raw = msg.clone();
        let tag = cipher.encrypt_inout_detached(&nonce.into(), &ad, raw.as_mut_slice().into()).unwrap();
        print_paired(
            &format!("decrypt/{name}"),
            n,
            |n| {
                let mut readers = vec![bob.clone(); n];
                per_op(n, || readers.iter_mut().for_each(|r| drop(black_box(r.decrypt(&sealed, NOW).unwrap()))))
            },
            |n| {
                let mut bufs = vec![raw.clone(); n];
                per_op(n, || {
                    for buf in &mut bufs {
                        verifying.verify_strict(&msg, &sig).unwrap();
                        cipher.decrypt_inout_detached(&nonce.into(), &ad, buf.as_mut_slice().into(), &tag).unwrap();
                    }
                })
            },
        );
    }
    for members in [10usize, 100, 1000] {
        let Owner { rng: owner_rng, group, sessions, payload } = owner(members, 6);
        let sessions = RefCell::new(sessions);
        let rng = RefCell::new(owner_rng);
        print_paired(
            &format!("distribute/{members}"),
            (1000 / members).max(1),
            |n| {
                per_op(n, || {
                    for _ in 0..n {
                        let mut s = sessions.borrow_mut();
                        black_box(group.distribute(s.iter_mut(), &mut *rng.borrow_mut()).unwrap());
                    }
                })
            },
            |n| {
                per_op(n, || {
                    for _ in 0..n {
                        let mut s = sessions.borrow_mut();
                        let out: Vec<_> = s
                            .iter_mut()
                            .map(|s| (*s.peer_identity(), s.encrypt(&payload, &mut *rng.borrow_mut()).unwrap()))
                            .collect();
                        black_box(out);
                    }
                })
            },
        );
    }
    // Catch-up against an in-order decrypt of the same size.
    let (mut in_order_sender, in_order_reader) = pair(&mut rng);
    let next = in_order_sender.encrypt(&[0x5au8; 100], &mut rng).unwrap();
    for gap in [1_000u32, 25_000] {
        let (mut sender, reader) = pair(&mut rng);
        for _ in 0..gap {
            sender.encrypt(b"missed", &mut rng).unwrap();
        }
        let ahead = sender.encrypt(&[0x5au8; 100], &mut rng).unwrap();
        print_paired(
            &format!("catch_up/{gap}_vs_in_order"),
            50,
            |n| {
                let mut readers = vec![reader.clone(); n];
                per_op(n, || readers.iter_mut().for_each(|r| drop(black_box(r.decrypt(&ahead, NOW).unwrap()))))
            },
            |n| {
                let mut readers = vec![in_order_reader.clone(); n];
                per_op(n, || readers.iter_mut().for_each(|r| drop(black_box(r.decrypt(&next, NOW).unwrap()))))
            },
        );
    }
}

criterion_group!(benches, raw, group_messages, distribution, catch_up, paired_ratios);
criterion_main!(benches);

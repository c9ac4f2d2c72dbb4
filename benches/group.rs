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
//! Run: `cargo bench --bench group -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::group::{Group, GroupId};
use sealpost::{Account, Session};

const SIZES: [(usize, &str); 2] = [(100, "100B"), (64 * 1024, "64KiB")];
const NOW: u64 = 1_700_000_000_000;

/// Two members with each other's sender keys.
fn pair(rng: &mut StdRng) -> (Group, Group) {
    let mut alice = Account::new(rng, NOW);
    let mut bob = Account::new(rng, NOW);
    let id = GroupId::random(rng);
    let mut a = Group::new(id, *alice.identity(), [*bob.identity()], rng).unwrap();
    let mut b = Group::new(id, *bob.identity(), [*alice.identity()], rng).unwrap();
    let mut ab = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), rng).unwrap();
    let d = a.distribute([&mut ab], rng).unwrap();
    let (mut ba, _) = b.install_distribution_from_new_session(&mut bob, &d[0].1).unwrap();
    let d = b.distribute([&mut ba], rng).unwrap();
    a.install_distribution(&mut alice, &mut ab, &d[0].1).unwrap();
    (a, b)
}

fn raw(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let signing = SigningKey::generate(&mut rng);
    let verifying = signing.verifying_key();
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let nonce = [0u8; 12];
    let ad = [0u8; 74];
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
    let mut rng = StdRng::seed_from_u64(2);
    let (mut alice, _) = pair(&mut rng);
    let mut g = c.benchmark_group("group");
    for (size, name) in SIZES {
        let msg = vec![0x5au8; size];
        g.bench_function(BenchmarkId::new("encrypt", name), |b| b.iter(|| alice.encrypt(black_box(&msg)).unwrap()));
        // A fresh pair, so the message is the reader's next one (not a catch-up).
        let (mut sender, bob) = pair(&mut rng);
        let sealed = sender.encrypt(&msg).unwrap();
        g.bench_function(BenchmarkId::new("decrypt", name), |b| {
            b.iter_batched_ref(|| bob.clone(), |r| r.decrypt(black_box(&sealed), NOW).unwrap(), BatchSize::SmallInput)
        });
    }
    g.finish();
}

fn distribution(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(3);
    let mut g = c.benchmark_group("distribute");
    g.sample_size(20);
    for members in [10usize, 100, 1000] {
        let owner = Account::new(&mut rng, NOW);
        let peers: Vec<Account> = (0..members).map(|_| Account::new(&mut rng, NOW)).collect();
        let group =
            Group::new(GroupId::random(&mut rng), *owner.identity(), peers.iter().map(|p| *p.identity()), &mut rng)
                .unwrap();
        let mut sessions: Vec<Session> = peers
            .iter()
            .map(|p| owner.create_outbound_session(&p.prekey_bundle().unwrap(), &mut rng).unwrap())
            .collect();
        // The first message of a session runs its DH ratchet step: do it before measuring.
        let payload_len = group.distribute([&mut sessions[0]], &mut rng).unwrap();
        let payload = vec![0u8; sealpost_distribution_len(&payload_len[0].1, &sessions[0], &mut rng)];
        for s in &mut sessions {
            s.encrypt(b"warm-up", &mut rng).unwrap();
        }
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
    let mut rng = StdRng::seed_from_u64(4);
    let mut g = c.benchmark_group("catch_up");
    for gap in [1_000u32, 25_000] {
        let (mut alice, bob) = pair(&mut rng);
        for _ in 0..gap {
            alice.encrypt(b"missed").unwrap();
        }
        let ahead = alice.encrypt(&[0x5au8; 100]).unwrap();
        g.bench_function(BenchmarkId::new("decrypt_ahead", gap), |b| {
            b.iter_batched_ref(|| bob.clone(), |r| r.decrypt(black_box(&ahead), NOW).unwrap(), BatchSize::SmallInput)
        });
    }
    g.finish();
}

/// Runs `a` and `b` (each: time `n` operations, inputs prepared outside the
/// clock) in alternating order for several rounds and prints the median
/// per-operation times and the median of the per-round ratios. On a shared,
/// noisy machine the interleaving keeps both sides under the same load, so
/// the ratio is far steadier than comparing two separate criterion runs.
fn paired(
    name: &str,
    n: usize,
    mut a: impl FnMut(usize) -> std::time::Duration,
    mut b: impl FnMut(usize) -> std::time::Duration,
) {
    const ROUNDS: usize = 21;
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (x, y) = if round % 2 == 0 {
            let x = a(n);
            (x, b(n))
        } else {
            let y = b(n);
            (a(n), y)
        };
        let (x, y) = (x.as_secs_f64() / n as f64, y.as_secs_f64() / n as f64);
        ta.push(x);
        tb.push(y);
        ratios.push(x / y);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|p, q| p.total_cmp(q));
        v[v.len() / 2]
    };
    println!(
        "paired {name:<28} sealpost {:>10.1} µs   baseline {:>10.1} µs   ratio {:.3}",
        median(&mut ta) * 1e6,
        median(&mut tb) * 1e6,
        median(&mut ratios)
    );
}

fn timed(f: impl FnOnce()) -> std::time::Duration {
    let start = std::time::Instant::now();
    f();
    start.elapsed()
}

fn paired_ratios(_: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(5);
    let signing = SigningKey::generate(&mut rng);
    let verifying = signing.verifying_key();
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let ad = [0u8; 74];
    let nonce = [0u8; 12];
    let (mut alice, _) = pair(&mut rng);
    for (size, name, n) in [(100usize, "100B", 200usize), (64 * 1024, "64KiB", 10)] {
        let msg = vec![0x5au8; size];
        paired(
            &format!("encrypt/{name}"),
            n,
            |n| timed(|| (0..n).for_each(|_| drop(black_box(alice.encrypt(&msg).unwrap())))),
            |n| {
                let mut bufs = vec![msg.clone(); n];
                timed(|| {
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
        let sealed = sender.encrypt(&msg).unwrap();
        let sig = signing.sign(&msg);
        let mut raw = msg.clone();
        let tag = cipher.encrypt_inout_detached(&nonce.into(), &ad, raw.as_mut_slice().into()).unwrap();
        paired(
            &format!("decrypt/{name}"),
            n,
            |n| {
                let mut readers = vec![bob.clone(); n];
                timed(|| readers.iter_mut().for_each(|r| drop(black_box(r.decrypt(&sealed, NOW).unwrap()))))
            },
            |n| {
                let mut bufs = vec![raw.clone(); n];
                timed(|| {
                    for buf in &mut bufs {
                        verifying.verify_strict(&msg, &sig).unwrap();
                        cipher.decrypt_inout_detached(&nonce.into(), &ad, buf.as_mut_slice().into(), &tag).unwrap();
                    }
                })
            },
        );
    }
    for members in [10usize, 100, 1000] {
        let owner = Account::new(&mut rng, NOW);
        let peers: Vec<Account> = (0..members).map(|_| Account::new(&mut rng, NOW)).collect();
        let group =
            Group::new(GroupId::random(&mut rng), *owner.identity(), peers.iter().map(|p| *p.identity()), &mut rng)
                .unwrap();
        let mut sessions: Vec<Session> = peers
            .iter()
            .map(|p| owner.create_outbound_session(&p.prekey_bundle().unwrap(), &mut rng).unwrap())
            .collect();
        let first = group.distribute([&mut sessions[0]], &mut rng).unwrap();
        let payload = vec![0u8; sealpost_distribution_len(&first[0].1, &sessions[0], &mut rng)];
        for s in &mut sessions {
            s.encrypt(b"warm-up", &mut rng).unwrap();
        }
        let sessions = std::cell::RefCell::new(sessions);
        let rng = std::cell::RefCell::new(StdRng::seed_from_u64(6));
        paired(
            &format!("distribute/{members}"),
            (1000 / members).max(1),
            |n| {
                timed(|| {
                    for _ in 0..n {
                        let mut s = sessions.borrow_mut();
                        black_box(group.distribute(s.iter_mut(), &mut *rng.borrow_mut()).unwrap());
                    }
                })
            },
            |n| {
                timed(|| {
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
    let next = in_order_sender.encrypt(&[0x5au8; 100]).unwrap();
    for gap in [1_000u32, 25_000] {
        let (mut sender, reader) = pair(&mut rng);
        for _ in 0..gap {
            sender.encrypt(b"missed").unwrap();
        }
        let ahead = sender.encrypt(&[0x5au8; 100]).unwrap();
        paired(
            &format!("catch_up/{gap}_vs_in_order"),
            50,
            |n| {
                let mut readers = vec![reader.clone(); n];
                timed(|| readers.iter_mut().for_each(|r| drop(black_box(r.decrypt(&ahead, NOW).unwrap()))))
            },
            |n| {
                let mut readers = vec![in_order_reader.clone(); n];
                timed(|| readers.iter_mut().for_each(|r| drop(black_box(r.decrypt(&next, NOW).unwrap()))))
            },
        );
    }
}

criterion_group!(benches, raw, group_messages, distribution, catch_up, paired_ratios);
criterion_main!(benches);

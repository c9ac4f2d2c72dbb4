//! Burnout overhead on 1:1 messages: encrypt and decrypt of a 100-byte
//! message, plain vs with an envelope, measured in the same run together
//! with the raw AEAD they are built on. The target: the envelope adds at
//! most 5% (see `BENCHMARKS.md`, section "Burnout").
//!
//! `cargo bench --bench burnout -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::burnout::{Envelope, Vault};
use sealpost::group::{Group, GroupId};
use sealpost::{Account, Session};

const NOW: u64 = 1_700_000_000_000;
const MSG: [u8; 100] = [0x5a; 100];

/// An established pair: Alice's session to Bob and Bob's to Alice, with
/// both chains set up so that no Diffie-Hellman step runs while measuring.
fn pair() -> (StdRng, Session, Session) {
    let mut rng = StdRng::seed_from_u64(1);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    bob.generate_one_time_prekeys(1, &mut rng).unwrap();
    let mut a = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let (mut b, _) = bob.create_inbound_session(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    a.decrypt(&b.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    b.decrypt(&a.encrypt(b"hi", &mut rng).unwrap()).unwrap();
    (rng, a, b)
}

fn benches(c: &mut Criterion) {
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();

    let mut g = c.benchmark_group("primitives");
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    g.bench_function("chacha20poly1305 seal 100 B", |b| {
        b.iter(|| {
            let mut buf = MSG;
            black_box(cipher.encrypt_inout_detached(&[0u8; 12].into(), b"", (&mut buf[..]).into()).unwrap())
        })
    });
    g.finish();

    // Plain and Burnout operations alternate inside every sample, and each
    // benchmark reports one of the four timings: on a loaded machine both
    // sides of a comparison see the same load, so the ratio is meaningful
    // even when the absolute numbers drift between samples.
    let mut g = c.benchmark_group("1:1 interleaved 100 B");
    for (name, which) in [("encrypt plain", 0), ("encrypt burnout", 1), ("decrypt plain", 2), ("decrypt burnout", 3)] {
        let (mut rng, mut pa, mut pb) = pair();
        let (_, mut ba, mut bb) = pair();
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut t = [Duration::ZERO; 4];
                for i in 0..iters {
                    // Alternate which side goes first.
                    for step in 0..2 {
                        if (step == 0) == (i % 2 == 0) {
                            let s = Instant::now();
                            let m = pa.encrypt(black_box(&MSG), &mut rng).unwrap();
                            t[0] += s.elapsed();
                            let s = Instant::now();
                            black_box(pb.decrypt(black_box(&m)).unwrap());
                            t[2] += s.elapsed();
                        } else {
                            let s = Instant::now();
                            let m = ba.encrypt_burnout(black_box(&MSG), &envelope, &mut rng).unwrap();
                            t[1] += s.elapsed();
                            let s = Instant::now();
                            black_box(bb.open_burnout(black_box(&m), NOW).unwrap());
                            t[3] += s.elapsed();
                        }
                    }
                }
                t[which]
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("1:1 round trip 100 B");
    let (mut rng, mut a, mut b_) = pair();
    g.bench_function("plain", |b| b.iter(|| black_box(b_.decrypt(&a.encrypt(&MSG, &mut rng).unwrap()).unwrap())));
    let (mut rng, mut a, mut b_) = pair();
    g.bench_function("burnout", |b| {
        b.iter(|| black_box(b_.open_burnout(&a.encrypt_burnout(&MSG, &envelope, &mut rng).unwrap(), NOW).unwrap()))
    });
    let (mut rng, mut a, mut b_) = pair();
    g.bench_function("burnout + vault insert/read", |b| {
        let mut vault = Vault::new();
        b.iter(|| {
            let m = b_.open_burnout(&a.encrypt_burnout(&MSG, &envelope, &mut rng).unwrap(), NOW).unwrap();
            let id = vault.insert(m, NOW).unwrap();
            black_box(vault.read(id, NOW).unwrap().len())
        })
    });
    g.finish();
}

/// Paired medians: plain and Burnout operations alternate, every single
/// operation is timed, and the medians are compared. Preemption on a busy
/// machine lands on single operations of either side and does not move
/// the medians, so the ratio stays meaningful where criterion's means
/// drift. Printed after the criterion groups, in the same run.
fn paired_medians(_: &mut Criterion) {
    const WARM_UP: usize = 2_000;
    const SAMPLES: usize = 40_000;
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    let (mut rng, mut pa, mut pb) = pair();
    let (_, mut ba, mut bb) = pair();
    let mut t: [Vec<Duration>; 6] = Default::default();
    for i in 0..WARM_UP + SAMPLES {
        let mut round = [Duration::ZERO; 6];
        for step in 0..2 {
            if (step == 0) == (i % 2 == 0) {
                let s = Instant::now();
                let m = pa.encrypt(black_box(&MSG), &mut rng).unwrap();
                round[0] = s.elapsed();
                let s = Instant::now();
                let r = black_box(pb.decrypt(black_box(&m)).unwrap());
                round[2] = s.elapsed();
                let s = Instant::now();
                drop(r);
                round[4] = round[2] + s.elapsed();
            } else {
                let s = Instant::now();
                let m = ba.encrypt_burnout(black_box(&MSG), &envelope, &mut rng).unwrap();
                round[1] = s.elapsed();
                let s = Instant::now();
                let r = black_box(bb.open_burnout(black_box(&m), NOW).unwrap());
                round[3] = s.elapsed();
                let s = Instant::now();
                drop(r); // zeroizes the Burnout plaintext; the plain Vec is just freed
                round[5] = round[3] + s.elapsed();
            }
        }
        if i >= WARM_UP {
            for (v, d) in t.iter_mut().zip(round) {
                v.push(d);
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2].as_nanos() as f64
    };
    let [ep, eb, dp, db, xp, xb] = t.each_mut().map(median);
    let pct = |b: f64, p: f64| (b / p - 1.0) * 100.0;
    println!("\nburnout/paired medians over {SAMPLES} alternating operations (100 B):");
    println!("  encrypt:               plain {ep:>7.0} ns, burnout {eb:>7.0} ns, overhead {:+.1}%", pct(eb, ep));
    println!("  decrypt:               plain {dp:>7.0} ns, burnout {db:>7.0} ns, overhead {:+.1}%", pct(db, dp));
    println!("  decrypt + drop result: plain {xp:>7.0} ns, burnout {xb:>7.0} ns, overhead {:+.1}%", pct(xb, xp));
}

/// Alternates `plain` and `burnout` (each returns its encrypt and decrypt
/// times for one message) and prints the paired medians.
fn paired(kind: &str, mut plain: impl FnMut() -> [Duration; 2], mut burnout: impl FnMut() -> [Duration; 2]) {
    const WARM_UP: usize = 1_000;
    const SAMPLES: usize = 20_000;
    let mut t: [Vec<Duration>; 4] = Default::default();
    for i in 0..WARM_UP + SAMPLES {
        let (p, b) = if i % 2 == 0 {
            let p = plain();
            (p, burnout())
        } else {
            let b = burnout();
            (plain(), b)
        };
        if i >= WARM_UP {
            for (v, d) in t.iter_mut().zip([p[0], b[0], p[1], b[1]]) {
                v.push(d);
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2].as_nanos() as f64
    };
    let [ep, eb, dp, db] = t.each_mut().map(median);
    let pct = |b: f64, p: f64| (b / p - 1.0) * 100.0;
    println!("\nburnout/paired medians, {kind}, over {SAMPLES} alternating operations (100 B):");
    println!("  encrypt: plain {ep:>7.0} ns, burnout {eb:>7.0} ns, overhead {:+.1}%", pct(eb, ep));
    println!("  decrypt: plain {dp:>7.0} ns, burnout {db:>7.0} ns, overhead {:+.1}%", pct(db, dp));
}

/// Group messages: encrypt (sign + seal) and decrypt (verify + open),
/// plain vs with an envelope, paired.
fn group_paired_medians(_: &mut Criterion) {
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    let mut rng = StdRng::seed_from_u64(7);
    let alice = Account::new(&mut rng, NOW);
    let mut bob = Account::new(&mut rng, NOW);
    let members = vec![*alice.identity(), *bob.identity()];
    let id = GroupId::random(&mut rng);
    let sender = Group::new(id, *alice.identity(), members.clone(), &mut rng).unwrap();
    let mut receiver = Group::new(id, *bob.identity(), members, &mut rng).unwrap();
    let mut to_bob = alice.create_outbound_session(&bob.prekey_bundle().unwrap(), &mut rng).unwrap();
    let sent = sender.distribute([&mut to_bob], &mut rng).unwrap();
    receiver.install_distribution_from_new_session(&mut bob, &sent[0].1).unwrap();
    let shared = std::cell::RefCell::new((sender, receiver));
    let run = |with: Option<&Envelope>| {
        let (sender, receiver) = &mut *shared.borrow_mut();
        let s = Instant::now();
        let m = match with {
            Some(e) => sender.encrypt_with_envelope(black_box(&MSG), e).unwrap(),
            None => sender.encrypt(black_box(&MSG)).unwrap(),
        };
        let enc = s.elapsed();
        let s = Instant::now();
        black_box(receiver.decrypt(black_box(&m), NOW).unwrap());
        [enc, s.elapsed()]
    };
    paired("group", || run(None), || run(Some(&envelope)));
}

criterion_group!(burnout, benches, paired_medians, group_paired_medians);
criterion_main!(burnout);

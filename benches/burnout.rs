//! Burnout overhead on 1:1 messages: encrypt and decrypt of a 100-byte
//! message, plain vs with an envelope, measured in the same run together
//! with the raw AEAD they are built on. The target: the envelope adds at
//! most 5% (see `BENCHMARKS.md`, section "Burnout").
//!
//! `cargo bench --bench burnout -- --warm-up-time 1 --measurement-time 3`

// Benchmark set-up unwraps and indexes: a failure is a bug to stop at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use sealpost::Session;
use sealpost::burnout::{Envelope, Vault};
use sealpost::group::Group;
use sealpost_testkit::bench::{AbMedians, cpu_timed, paired};
use sealpost_testkit::{Conversation, GroupWorld, NOW, rng};

const MSG: [u8; 100] = [0x5a; 100];

/// An established pair: Alice's session to Bob and Bob's to Alice, with
/// both chains set up so that no Diffie-Hellman step runs while measuring.
fn pair() -> (StdRng, Session, Session) {
    let mut rng = rng(1);
    let mut c = Conversation::established(&mut rng);
    c.a_to_b(b"hi", &mut rng);
    (rng, c.a, c.b)
}

/// The Burnout overhead in percent: the medians of A (Burnout) against
/// those of B (plain).
fn overhead(m: &AbMedians) -> f64 {
    (m.a_ns() / m.b_ns() - 1.0) * 100.0
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
/// operation is timed (thread CPU time), and the medians are compared.
/// Preemption on a busy machine lands on single operations of either side
/// and does not move the medians, so the ratio stays meaningful where
/// criterion's means drift. Printed after the criterion groups, in the
/// same run.
fn paired_medians(_: &mut Criterion) {
    const WARM_UP: usize = 2_000;
    const SAMPLES: usize = 40_000;
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    let (mut plain_rng, mut pa, mut pb) = pair();
    let (mut burnout_rng, mut ba, mut bb) = pair();
    // Encrypt, decrypt, and decrypt + dropping the result.
    let plain = || {
        let (m, encrypt) = cpu_timed(|| pa.encrypt(black_box(&MSG), &mut plain_rng).unwrap());
        let (r, decrypt) = cpu_timed(|| black_box(pb.decrypt(black_box(&m)).unwrap()));
        let ((), drop_time) = cpu_timed(|| drop(r));
        [encrypt, decrypt, decrypt + drop_time]
    };
    let burnout = || {
        let (m, encrypt) = cpu_timed(|| ba.encrypt_burnout(black_box(&MSG), &envelope, &mut burnout_rng).unwrap());
        let (r, decrypt) = cpu_timed(|| black_box(bb.open_burnout(black_box(&m), NOW).unwrap()));
        // Zeroizes the Burnout plaintext; the plain Vec is just freed.
        let ((), drop_time) = cpu_timed(|| drop(r));
        [encrypt, decrypt, decrypt + drop_time]
    };
    let [e, d, x] = paired(WARM_UP, SAMPLES, burnout, plain);
    println!("\nburnout/paired medians over {SAMPLES} alternating operations (100 B):");
    for (what, m) in [("encrypt:              ", e), ("decrypt:              ", d), ("decrypt + drop result:", x)] {
        println!("  {what} plain {:>7.0} ns, burnout {:>7.0} ns, overhead {:+.1}%", m.b_ns(), m.a_ns(), overhead(&m));
    }
}

/// Group messages: encrypt (sign + seal) and decrypt (verify + open),
/// plain vs with an envelope, paired medians as above.
fn group_paired_medians(_: &mut Criterion) {
    const WARM_UP: usize = 1_000;
    const SAMPLES: usize = 20_000;
    let envelope = Envelope::with_ttl(NOW, 60_000).burn_after_reading();
    let [sender, receiver]: [Group; 2] = GroupWorld::new(2, &mut rng(7)).into_groups().try_into().unwrap();
    let shared = RefCell::new((sender, receiver, rng(8)));
    let run = |with: Option<&Envelope>| {
        let (sender, receiver, rng) = &mut *shared.borrow_mut();
        let (m, encrypt) = cpu_timed(|| match with {
            Some(e) => sender.encrypt_with_envelope(black_box(&MSG), e, rng).unwrap(),
            None => sender.encrypt(black_box(&MSG), rng).unwrap(),
        });
        let ((), decrypt) = cpu_timed(|| drop(black_box(receiver.decrypt(black_box(&m), NOW).unwrap())));
        [encrypt, decrypt]
    };
    let [e, d] = paired(WARM_UP, SAMPLES, || run(Some(&envelope)), || run(None));
    println!("\nburnout/paired medians, group, over {SAMPLES} alternating operations (100 B):");
    for (what, m) in [("encrypt:", e), ("decrypt:", d)] {
        println!("  {what} plain {:>7.0} ns, burnout {:>7.0} ns, overhead {:+.1}%", m.b_ns(), m.a_ns(), overhead(&m));
    }
}

criterion_group!(burnout, benches, paired_medians, group_paired_medians);
criterion_main!(burnout);

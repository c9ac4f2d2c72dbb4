//! Forkout benchmarks: the library next to the raw primitives it is built
//! from and next to the naive way, measured in the same run.
//!
//! Groups (criterion writes `target/criterion/<group>/<name>/`):
//!
//! * `forkout_raw`: single primitives: ChaCha20-Poly1305 seal (the floor's
//!   body AEAD), ChaCha20 and BLAKE3 (what the library does to the body:
//!   encrypt, then commit; format version 2) and SHA-256 (version 1's
//!   commitment) of 1 KiB / 1 MiB, and one 105-byte slot through
//!   `Session::encrypt` (`slot_1to1`).
//! * `forkout_floor`: `seal_<body>_<n>`, the work a Forkout cannot avoid:
//!   one AEAD seal of the body plus `n` one-slot 1:1 encryptions, back to
//!   back. The baseline of the ratio target; each is measured right before
//!   the library's `seal_<body>_<n>`.
//! * `forkout_lib`: `seal_<body>_<n>` ([`forkout::seal`]), `open_1MiB`,
//!   `split_1MiB_1000` (a relay building all 1000 deliveries),
//!   `split_refs_1MiB_1000` (streaming them from the bundle instead), and the
//!   Burnout envelope's cost: `seal_100B_10` / `seal_100B_10_burnout`,
//!   `open_100B` / `open_100B_burnout`.
//! * `forkout_naive`: `seal_<body>_<n>`, a full 1:1 encryption of the body
//!   per recipient.
//! * `forkout_paired/seal_1MiB_<n>` lines at the end: library and floor
//!   again, interleaved round by round (the testkit's paired helper):
//!   the steadier ratio on a shared machine.
//!
//! Bodies of 1 KiB and 1 MiB to 10, 100 and 1000 recipients. Times are
//! **thread CPU time** by default (the testkit's
//! [`BenchClock`](sealpost_testkit::bench::BenchClock), the same clock as
//! `benches/session.rs`); `SEALPOST_BENCH_CLOCK=wall` switches to wall time.
//! `python3 benches/ratios.py --area forkout` prints the ratio table. Run
//! with short times (the naive 1 MiB x 1000 case encrypts 1 GiB per
//! iteration):
//!
//! ```text
//! cargo bench --bench forkout -- --warm-up-time 1 --measurement-time 3
//! ```

// Benchmark set-up unwraps and indexes: a failure is a bug to stop at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cell::RefCell;
use std::hint::black_box;

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use criterion::{BatchSize, SamplingMode, criterion_group, criterion_main};
use sealpost::burnout::Envelope;
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost_testkit::bench::{self, BenchClock, BenchCriterion as C, cpu_timed, paired};
use sealpost_testkit::forkout::{aead_seal, floor_seal};
use sealpost_testkit::{ForkoutWorld, NOW};
use sha2::{Digest, Sha256};
/// Encoded slot fields (flags, id, key, commitment, length).
const SLOT_LEN: usize = 105;
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const BODIES: [(&str, usize); 2] = [("1KiB", KIB), ("1MiB", MIB)];
const RECIPIENTS: [usize; 3] = [10, 100, 1000];

// ---------------------------------------------------------------------------
// Fixtures.

/// The sender's 1000 started sessions (`pending`, sending chains warmed
/// up) are the recipients of the sealing benchmarks; one confirmed peer
/// (`peers[0]`) is kept out of them (so its chain stays within reach) and
/// reads in the opening benchmarks.
fn world() -> ForkoutWorld {
    ForkoutWorld::new(1).with_pending(1000).with_peers(1)
}

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// `forkout::seal` of `plain` (copied outside the measurement).
fn bench_seal(
    g: &mut criterion::BenchmarkGroup<'_, BenchClock>,
    name: &str,
    w: &mut ForkoutWorld,
    n: usize,
    plain: &[u8],
    envelope: Option<Envelope>,
) {
    let ForkoutWorld { rng, sender, pending, .. } = w;
    let pending = &mut pending[..n];
    g.bench_function(name, |b| {
        b.iter_batched(
            || plain.to_vec(),
            |body| {
                let recipients = pending.iter_mut().map(|p| Recipient::Session(&mut p.to_peer));
                forkout::seal(sender, body, recipients, SealPolicy::AllOrNothing, envelope, rng).unwrap()
            },
            BatchSize::PerIteration,
        )
    });
}

// ---------------------------------------------------------------------------
// Groups.

fn raw(c: &mut C) {
    let mut w = world();
    let key = [7u8; 32];
    let ad = [0u8; 24 + 1 + 32];
    let slot = [0x42u8; SLOT_LEN];
    let mut g = c.benchmark_group("forkout_raw");
    for (name, len) in BODIES {
        let mut buf = body(len);
        g.bench_function(format!("aead_seal_{name}"), |b| b.iter(|| black_box(aead_seal(&key, &ad, &mut buf))));
        g.bench_function(format!("sha256_{name}"), |b| b.iter(|| black_box(Sha256::digest(&buf))));
        g.bench_function(format!("blake3_{name}"), |b| {
            b.iter(|| {
                let mut h = blake3::Hasher::new_derive_key("sealpost v2 forkout commitment");
                black_box(h.update(&buf).finalize())
            })
        });
        g.bench_function(format!("chacha20_{name}"), |b| {
            b.iter(|| ChaCha20::new(&key.into(), &[0u8; 12].into()).apply_keystream(black_box(&mut buf)))
        });
    }
    let ForkoutWorld { rng, pending, .. } = &mut w;
    let s = &mut pending[0].to_peer;
    g.bench_function("slot_1to1", |b| b.iter(|| black_box(s.encrypt(&slot, rng).unwrap())));
    g.finish();
}

/// `forkout_floor/seal_<body>_<n>` and `forkout_lib/seal_<body>_<n>`,
/// each pair measured back to back so drift in the shared machine's load
/// lands on both sides of a ratio alike.
fn floor_and_seal(c: &mut C) {
    let mut w = world();
    let key = [7u8; 32];
    let ad = [0u8; 24 + 1 + 32];
    let slot = [0x42u8; SLOT_LEN];
    for (name, len) in BODIES {
        let plain = body(len);
        for n in RECIPIENTS {
            let mut g = c.benchmark_group("forkout_floor");
            g.sampling_mode(SamplingMode::Flat);
            let ForkoutWorld { rng, pending, .. } = &mut w;
            let pending = &mut pending[..n];
            g.bench_function(format!("seal_{name}_{n}"), |b| {
                b.iter_batched(
                    || plain.clone(),
                    |mut body| {
                        let sealed = floor_seal(&key, &ad, &mut body, pending, &slot, rng);
                        (body, sealed)
                    },
                    BatchSize::PerIteration,
                )
            });
            g.finish();
            let mut g = c.benchmark_group("forkout_lib");
            g.sampling_mode(SamplingMode::Flat);
            bench_seal(&mut g, &format!("seal_{name}_{n}"), &mut w, n, &plain, None);
            g.finish();
        }
    }
}

/// The rest of `forkout_lib`: Burnout pairs, open, split.
fn lib(c: &mut C) {
    let mut w = world();
    let mut g = c.benchmark_group("forkout_lib");
    g.sampling_mode(SamplingMode::Flat);

    // Burnout: the same Forkout with and without an envelope.
    let small = body(100);
    let envelope = Envelope::with_ttl(NOW, 3_600_000);
    bench_seal(&mut g, "seal_100B_10", &mut w, 10, &small, None);
    bench_seal(&mut g, "seal_100B_10_burnout", &mut w, 10, &small, Some(envelope));

    // A recipient opening (against a fresh copy of its state each time).
    let ForkoutWorld { rng, sender, peers, .. } = &mut w;
    let reader = &mut peers[0];
    let mut delivery = |plain: &[u8], env: Option<Envelope>| {
        let recipients = [Recipient::Session(&mut reader.to_peer)];
        let (sealed, _) =
            forkout::seal(sender, plain.to_vec(), recipients, SealPolicy::AllOrNothing, env, rng).unwrap();
        sealed.delivery(reader.account.identity()).unwrap().to_vec()
    };
    let cases = [
        ("open_1MiB", delivery(&body(MIB), None)),
        ("open_100B", delivery(&small, None)),
        ("open_100B_burnout", delivery(&small, Some(envelope))),
    ];
    for (name, d) in &cases {
        g.bench_function(*name, |b| {
            b.iter_batched(
                || (reader.account.clone(), reader.session.clone()),
                |(mut account, mut session)| forkout::open(&mut account, &mut session, d, NOW).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }

    // A relay splitting a 1 MiB Forkout for 1000 recipients.
    let ForkoutWorld { rng, sender, pending, .. } = &mut w;
    let recipients = pending.iter_mut().map(|p| Recipient::Session(&mut p.to_peer));
    let (sealed, _) = forkout::seal(sender, body(MIB), recipients, SealPolicy::AllOrNothing, None, rng).unwrap();
    let bundle = sealed.to_bytes();
    g.bench_function("split_1MiB_1000", |b| {
        b.iter(|| {
            for (_, d) in forkout::split_all(&bundle).unwrap() {
                black_box(d);
            }
        })
    });
    // The same split without building the deliveries: each one streamed
    // from the bundle (its own prefix and slot, then the one shared body)
    // into a writer. Work per recipient is O(slot), not O(body).
    g.bench_function("split_refs_1MiB_1000", |b| {
        b.iter(|| {
            let parsed = forkout::ForkoutBundle::parse(&bundle).unwrap();
            for (_, d) in parsed.deliveries() {
                d.write_to(&mut std::io::sink()).unwrap();
                black_box(d.encoded_len());
            }
        })
    });
    g.finish();
}

fn naive(c: &mut C) {
    let mut w = world();
    let mut g = c.benchmark_group("forkout_naive");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for (name, len) in BODIES {
        let plain = body(len);
        for n in RECIPIENTS {
            let ForkoutWorld { rng, pending, .. } = &mut w;
            let pending = &mut pending[..n];
            g.bench_function(format!("seal_{name}_{n}"), |b| {
                b.iter(|| {
                    for p in pending.iter_mut() {
                        black_box(p.to_peer.encrypt(&plain, rng).unwrap());
                    }
                })
            });
        }
    }
    g.finish();
}

/// `forkout_paired`: sealing 1 MiB to 10, 100 and 1000 recipients against
/// the floor (one ChaCha20-Poly1305 seal of the body plus the slot
/// encryptions), interleaved round by round (21 rounds after 2 warm-up
/// rounds, thread CPU time, medians): the figures BENCHMARKS.md gives for
/// the 1.15x target. Each side gets a fresh copy of the body outside its
/// timed region.
fn seal_paired(_: &mut C) {
    let w = RefCell::new(world());
    let (key, ad, slot) = ([7u8; 32], [0u8; 24 + 1 + 32], [0x42u8; SLOT_LEN]);
    let plain = body(MIB);
    println!();
    for n in RECIPIENTS {
        let [m] = paired(
            2,
            21,
            || {
                let mut w = w.borrow_mut();
                let ForkoutWorld { rng, sender, pending, .. } = &mut *w;
                let body = plain.clone();
                let (sealed, t) = cpu_timed(|| {
                    let recipients = pending[..n].iter_mut().map(|p| Recipient::Session(&mut p.to_peer));
                    forkout::seal(sender, body, recipients, SealPolicy::AllOrNothing, None, rng).unwrap()
                });
                drop(sealed);
                [t]
            },
            || {
                let mut w = w.borrow_mut();
                let ForkoutWorld { rng, pending, .. } = &mut *w;
                let mut body = plain.clone();
                let (sealed, t) = cpu_timed(|| floor_seal(&key, &ad, &mut body, &mut pending[..n], &slot, rng));
                drop(sealed);
                [t]
            },
        );
        println!(
            "forkout_paired/seal_1MiB_{n:<5} seal {:>9.1} µs   floor {:>9.1} µs   ratio {:.3}",
            m.a_ns() / 1e3,
            m.b_ns() / 1e3,
            m.ratio
        );
    }
}

criterion_group! {
    name = benches;
    config = bench::criterion();
    targets = raw, floor_and_seal, lib, naive, seal_paired
}
criterion_main!(benches);

//! Forkout benchmarks: the library next to the raw primitives it is built
//! from and next to the naive way, measured in the same run.
//!
//! Groups (criterion writes `target/criterion/<group>/<name>/`):
//!
//! * `forkout_raw`: single primitives: ChaCha20-Poly1305 seal (the floor's
//!   body AEAD), ChaCha20 and SHA-256 (what the library does to the body:
//!   encrypt, then commit) of 1 KiB / 1 MiB, and one 105-byte slot through
//!   `Session::encrypt` (`slot_1to1`).
//! * `forkout_floor`: `seal_<body>_<n>`, the work a Forkout cannot avoid:
//!   one AEAD seal of the body plus `n` one-slot 1:1 encryptions, back to
//!   back. The baseline of the ratio target; each is measured right before
//!   the library's `seal_<body>_<n>`.
//! * `forkout_lib`: `seal_<body>_<n>` ([`forkout::seal`]), `open_1MiB`,
//!   `split_1MiB_1000` (a relay building all 1000 deliveries), and the
//!   Burnout envelope's cost: `seal_100B_10` / `seal_100B_10_burnout`,
//!   `open_100B` / `open_100B_burnout`.
//! * `forkout_naive`: `seal_<body>_<n>`, a full 1:1 encryption of the body
//!   per recipient.
//!
//! Bodies of 1 KiB and 1 MiB to 10, 100 and 1000 recipients. Times are
//! **thread CPU time** by default (see [`BenchClock`], the same clock as
//! `benches/session.rs`); `SEALPOST_BENCH_CLOCK=wall` switches to wall time.
//! `python3 benches/ratios.py --area forkout` prints the ratio table. Run
//! with short times (the naive 1 MiB x 1000 case encrypts 1 GiB per
//! iteration):
//!
//! ```text
//! cargo bench --bench forkout -- --warm-up-time 1 --measurement-time 3
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::{Account, Session, burnout::Envelope};
use sha2::{Digest, Sha256};

const NOW: u64 = 1_800_000_000_000;
/// Encoded slot fields (flags, id, key, commitment, length).
const SLOT_LEN: usize = 105;
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const BODIES: [(&str, usize); 2] = [("1KiB", KIB), ("1MiB", MIB)];
const RECIPIENTS: [usize; 3] = [10, 100, 1000];

// ---------------------------------------------------------------------------
// The clock (as in benches/session.rs).

/// Criterion measurement: CPU time of the benchmark thread, or wall-clock
/// time when `SEALPOST_BENCH_CLOCK=wall`. Every benchmark here is
/// single-threaded and does no I/O, so CPU time is the work done and
/// excludes the time the thread waits for a core on the shared machine.
struct BenchClock {
    wall: bool,
    formatter: WallTime,
}

impl BenchClock {
    fn from_env() -> Self {
        let wall = std::env::var("SEALPOST_BENCH_CLOCK").is_ok_and(|v| v == "wall");
        Self { wall, formatter: WallTime }
    }
}

enum Start {
    Cpu(ThreadTime),
    Wall(std::time::Instant),
}

impl Measurement for BenchClock {
    type Intermediate = Start;
    type Value = Duration;

    fn start(&self) -> Start {
        if self.wall { Start::Wall(std::time::Instant::now()) } else { Start::Cpu(ThreadTime::now()) }
    }
    fn end(&self, start: Start) -> Duration {
        match start {
            Start::Cpu(t) => t.elapsed(),
            Start::Wall(t) => t.elapsed(),
        }
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.formatter.formatter()
    }
}

type C = Criterion<BenchClock>;

// ---------------------------------------------------------------------------
// Fixtures.

struct World {
    rng: StdRng,
    manager: Account,
    /// The manager's sessions, sending chains warmed up.
    sessions: Vec<Session>,
    /// A recipient kept out of the sealing benchmarks (so its chain stays
    /// within reach): the manager's session to it, its account, its session.
    reader: (Session, Account, Session),
}

fn world() -> World {
    let mut rng = StdRng::seed_from_u64(1);
    let manager = Account::new(&mut rng, NOW);
    let sessions = (0..1000)
        .map(|_| {
            let peer = Account::new(&mut rng, NOW);
            let mut s = manager.create_outbound_session(&peer.prekey_bundle().unwrap(), &mut rng).unwrap();
            s.encrypt(b"hello", &mut rng).unwrap();
            s
        })
        .collect();
    let mut peer = Account::new(&mut rng, NOW);
    let mut to_peer = manager.create_outbound_session(&peer.prekey_bundle().unwrap(), &mut rng).unwrap();
    let hello = to_peer.encrypt(b"hello", &mut rng).unwrap();
    let (mut session, _) = peer.create_inbound_session(&hello).unwrap();
    to_peer.decrypt(&session.encrypt(b"ack", &mut rng).unwrap()).unwrap();
    World { rng, manager, sessions, reader: (to_peer, peer, session) }
}

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// ChaCha20-Poly1305 seal in place with a fixed nonce, as the body seal.
fn aead_seal(key: &[u8; 32], ad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    ChaCha20Poly1305::new(key.into()).encrypt_inout_detached(&[0u8; 12].into(), ad, buf.into()).unwrap().into()
}

/// `forkout::seal` of `plain` (copied outside the measurement).
fn bench_seal(
    g: &mut criterion::BenchmarkGroup<'_, BenchClock>,
    name: &str,
    w: &mut World,
    n: usize,
    plain: &[u8],
    envelope: Option<Envelope>,
) {
    let World { rng, manager, sessions, .. } = w;
    let sessions = &mut sessions[..n];
    g.bench_function(name, |b| {
        b.iter_batched(
            || plain.to_vec(),
            |body| {
                let recipients = sessions.iter_mut().map(Recipient::Session);
                forkout::seal(manager, body, recipients, SealPolicy::AllOrNothing, envelope, rng).unwrap()
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
        g.bench_function(format!("chacha20_{name}"), |b| {
            b.iter(|| ChaCha20::new(&key.into(), &[0u8; 12].into()).apply_keystream(black_box(&mut buf)))
        });
    }
    let World { rng, sessions, .. } = &mut w;
    let s = &mut sessions[0];
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
            let World { rng, sessions, .. } = &mut w;
            let sessions = &mut sessions[..n];
            g.bench_function(format!("seal_{name}_{n}"), |b| {
                b.iter_batched(
                    || plain.clone(),
                    |mut body| {
                        let tag = aead_seal(&key, &ad, &mut body);
                        let slots: Vec<Vec<u8>> = sessions.iter_mut().map(|s| s.encrypt(&slot, rng).unwrap()).collect();
                        (body, tag, slots)
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
    let World { rng, manager, reader: (to_reader, reader, reader_session), .. } = &mut w;
    let mut delivery = |plain: &[u8], env: Option<Envelope>| {
        let recipients = [Recipient::Session(&mut *to_reader)];
        let (sealed, _) =
            forkout::seal(manager, plain.to_vec(), recipients, SealPolicy::AllOrNothing, env, rng).unwrap();
        sealed.delivery(reader.identity()).unwrap().to_vec()
    };
    let cases = [
        ("open_1MiB", delivery(&body(MIB), None)),
        ("open_100B", delivery(&small, None)),
        ("open_100B_burnout", delivery(&small, Some(envelope))),
    ];
    for (name, d) in &cases {
        g.bench_function(*name, |b| {
            b.iter_batched(
                || (reader.clone(), reader_session.clone()),
                |(mut account, mut session)| forkout::open(&mut account, &mut session, d, NOW).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }

    // A relay splitting a 1 MiB Forkout for 1000 recipients.
    let World { rng, manager, sessions, .. } = &mut w;
    let recipients = sessions.iter_mut().map(Recipient::Session);
    let (sealed, _) = forkout::seal(manager, body(MIB), recipients, SealPolicy::AllOrNothing, None, rng).unwrap();
    let bundle = sealed.to_bytes();
    g.bench_function("split_1MiB_1000", |b| {
        b.iter(|| {
            for (_, d) in forkout::split_all(&bundle).unwrap() {
                black_box(d);
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
            let World { rng, sessions, .. } = &mut w;
            let sessions = &mut sessions[..n];
            g.bench_function(format!("seal_{name}_{n}"), |b| {
                b.iter(|| {
                    for s in sessions.iter_mut() {
                        black_box(s.encrypt(&plain, rng).unwrap());
                    }
                })
            });
        }
    }
    g.finish();
}

fn config() -> C {
    Criterion::default().with_measurement(BenchClock::from_env()).sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = raw, floor_and_seal, lib, naive
}
criterion_main!(benches);

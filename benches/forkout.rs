//! Forkout against its raw primitives and against the naive way, in one run.
//!
//! For 1 KiB and 1 MiB bodies to 10, 100 and 1000 recipients:
//!
//! * `seal/<body>/<n>`: [`forkout::seal`] (one body AEAD, one SHA-256
//!   commitment, one 1:1 slot per recipient);
//! * `baseline/<body>/<n>`: the raw cost it is held to: one
//!   ChaCha20-Poly1305 seal of the body plus `n` one-slot 1:1 encryptions
//!   (`Session::encrypt` of a 105-byte slot);
//! * `naive/<body>/<n>`: a full 1:1 encryption of the body per recipient.
//!
//! Plus the primitives themselves (`aead/..`, `sha256/..`, `slot_1to1`),
//! a recipient's `open/1MiB` and a relay's `split/1MiB/1000`.
//!
//! Then **paired medians**, printed at the end: the two sides of a
//! comparison alternate, each operation is timed on its own, and the medians
//! are compared. On a shared, loaded machine preemption lands on single
//! operations of either side and does not move the medians, whereas
//! criterion's means include it. Pairs: seal vs baseline (1 MiB x 1000),
//! and the Burnout envelope's overhead on sealing (100 B x 10) and opening
//! (100 B).
//!
//! Run: `cargo bench --bench forkout -- --warm-up-time 1 --measurement-time 3`
//! (the naive 1 MiB x 1000 case encrypts 1 GiB per iteration). Ratios are
//! in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::{Account, Envelope, Session};
use sha2::{Digest, Sha256};

const NOW: u64 = 1_800_000_000_000;
const SLOT_LEN: usize = 105;

struct World {
    rng: StdRng,
    manager: Account,
    /// The manager's sessions, sending chains warmed up.
    sessions: Vec<Session>,
    /// A recipient kept out of the sealing benchmarks (so its chain stays
    /// within reach): the manager's session to it, its account, its session.
    reader: (Session, Account, Session),
}

fn world(n: usize) -> World {
    let mut rng = StdRng::seed_from_u64(1);
    let manager = Account::new(&mut rng, NOW);
    let sessions = (0..n)
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

fn aead_seal(key: &[u8; 32], buf: &mut [u8]) -> [u8; 16] {
    let cipher = ChaCha20Poly1305::new(key.into());
    cipher.encrypt_inout_detached(&[0u8; 12].into(), b"ad", buf.into()).unwrap().into()
}

fn benches(c: &mut Criterion) {
    let mut w = world(1000);
    let key = [7u8; 32];
    let slot = [0x42u8; SLOT_LEN];

    let mut g = c.benchmark_group("forkout");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);

    // The raw primitives.
    for (name, len) in [("1KiB", 1024), ("1MiB", 1024 * 1024)] {
        let mut buf = body(len);
        g.bench_function(format!("aead/{name}"), |b| b.iter(|| black_box(aead_seal(&key, &mut buf))));
        g.bench_function(format!("sha256/{name}"), |b| b.iter(|| black_box(Sha256::digest(&buf))));
    }
    {
        let World { rng, sessions, .. } = &mut w;
        let s = &mut sessions[1];
        g.bench_function("slot_1to1", |b| b.iter(|| black_box(s.encrypt(&slot, rng).unwrap())));
    }

    for (name, len) in [("1KiB", 1024usize), ("1MiB", 1024 * 1024)] {
        let plain = body(len);
        for n in [10usize, 100, 1000] {
            let World { rng, manager, sessions, .. } = &mut w;
            let sessions = &mut sessions[..n];

            g.bench_function(format!("seal/{name}/{n}"), |b| {
                b.iter_batched(
                    || plain.clone(),
                    |body| {
                        let recipients = sessions.iter_mut().map(Recipient::Session);
                        forkout::seal(manager, body, recipients, SealPolicy::AllOrNothing, None, rng).unwrap()
                    },
                    BatchSize::PerIteration,
                )
            });

            g.bench_function(format!("baseline/{name}/{n}"), |b| {
                b.iter_batched(
                    || plain.clone(),
                    |mut body| {
                        let tag = aead_seal(&key, &mut body);
                        let slots: Vec<Vec<u8>> = sessions.iter_mut().map(|s| s.encrypt(&slot, rng).unwrap()).collect();
                        (body, tag, slots)
                    },
                    BatchSize::PerIteration,
                )
            });

            g.bench_function(format!("naive/{name}/{n}"), |b| {
                b.iter(|| {
                    for s in sessions.iter_mut() {
                        black_box(s.encrypt(&plain, rng).unwrap());
                    }
                })
            });
        }
    }

    // A recipient opening a 1 MiB Forkout, and a relay splitting one
    // addressed to 1000 people.
    let (sealed, _) = {
        let World { rng, manager, sessions, .. } = &mut w;
        let recipients = sessions.iter_mut().map(Recipient::Session);
        forkout::seal(manager, body(1024 * 1024), recipients, SealPolicy::AllOrNothing, None, rng).unwrap()
    };
    let bundle = sealed.to_bytes();
    let delivery = {
        let World { rng, manager, reader: (to_reader, reader, _), .. } = &mut w;
        let (one, _) = forkout::seal(
            manager,
            body(1024 * 1024),
            [Recipient::Session(to_reader)],
            SealPolicy::AllOrNothing,
            None,
            rng,
        )
        .unwrap();
        one.delivery(reader.identity()).unwrap().to_vec()
    };
    let (_, reader, reader_session) = &w.reader;
    g.bench_function("open/1MiB", |b| {
        b.iter_batched(
            || (reader.clone(), reader_session.clone()),
            |(mut account, mut session)| forkout::open(&mut account, &mut session, &delivery, NOW).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("split/1MiB/1000", |b| {
        b.iter(|| {
            for (_, d) in forkout::split_all(&bundle).unwrap() {
                black_box(d);
            }
        })
    });
    g.finish();
    paired_medians(&mut w);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Runs `a` and `b` `rounds` times each, interleaved, on a shared state,
/// timing each call on its own; returns both medians.
fn paired<S>(
    rounds: usize,
    state: &mut S,
    mut a: impl FnMut(&mut S) -> Duration,
    mut b: impl FnMut(&mut S) -> Duration,
) -> (Duration, Duration) {
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        // Alternate which side runs first, so neither profits from the
        // other warming the caches.
        if round % 2 == 0 {
            ta.push(a(state));
            tb.push(b(state));
        } else {
            tb.push(b(state));
            ta.push(a(state));
        }
    }
    (median(ta), median(tb))
}

fn report(what: &str, a_name: &str, a: Duration, b_name: &str, b: Duration) {
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    println!("paired medians {what}: {a_name} {a:?}, {b_name} {b:?}, ratio {ratio:.3}");
}

/// `forkout::seal` of a copy of `body` to `sessions`, timed (the copy and
/// dropping the result are not).
fn timed_seal(
    manager: &Account,
    sessions: &mut [Session],
    body: &[u8],
    envelope: Option<Envelope>,
    rng: &mut StdRng,
) -> Duration {
    let input = body.to_vec();
    let start = Instant::now();
    let out = forkout::seal(
        manager,
        input,
        sessions.iter_mut().map(Recipient::Session),
        SealPolicy::AllOrNothing,
        envelope,
        rng,
    )
    .unwrap();
    let t = start.elapsed();
    drop(black_box(out));
    t
}

fn paired_medians(w: &mut World) {
    let key = [7u8; 32];
    let slot = [0x42u8; SLOT_LEN];
    let manager = &w.manager;

    // seal vs its raw baseline, 1 MiB to 1000.
    let plain = body(1024 * 1024);
    let (seal, base) = paired(
        41,
        &mut (&mut w.rng, &mut w.sessions),
        |(rng, sessions)| timed_seal(manager, sessions, &plain, None, rng),
        |(rng, sessions)| {
            let mut input = plain.clone();
            let start = Instant::now();
            let tag = aead_seal(&key, &mut input);
            let slots: Vec<Vec<u8>> = sessions.iter_mut().map(|s| s.encrypt(&slot, rng).unwrap()).collect();
            let t = start.elapsed();
            drop(black_box((input, tag, slots)));
            t
        },
    );
    report("1 MiB x 1000", "seal", seal, "baseline (AEAD 1 MiB + 1000 slots)", base);

    // Burnout overhead on sealing: 100 B to 10 recipients.
    let small = body(100);
    let envelope = Envelope::with_ttl(NOW, 3_600_000);
    let (burnout, plain_seal) = paired(
        2001,
        &mut (&mut w.rng, &mut w.sessions[..10]),
        |(rng, sessions)| timed_seal(manager, sessions, &small, Some(envelope), rng),
        |(rng, sessions)| timed_seal(manager, sessions, &small, None, rng),
    );
    report("seal 100 B x 10", "burnout", burnout, "plain", plain_seal);

    // Burnout overhead on opening 100 B: two deliveries sealed ahead, each
    // opened against a fresh clone of the reader's state.
    let (to_reader, reader, reader_session) = &mut w.reader;
    let mut delivery = |env: Option<Envelope>| {
        let (sealed, _) = forkout::seal(
            manager,
            small.clone(),
            [Recipient::Session(&mut *to_reader)],
            SealPolicy::AllOrNothing,
            env,
            &mut w.rng,
        )
        .unwrap();
        sealed.delivery(reader.identity()).unwrap().to_vec()
    };
    let with_env = delivery(Some(envelope));
    let without = delivery(None);
    let open_one = |d: &[u8]| {
        let (mut account, mut session) = (reader.clone(), reader_session.clone());
        let start = Instant::now();
        let opened = forkout::open(&mut account, &mut session, d, NOW).unwrap();
        let t = start.elapsed();
        drop(black_box(opened));
        t
    };
    let (burnout, plain_open) = paired(2001, &mut (), |_| open_one(&with_env), |_| open_one(&without));
    report("open 100 B", "burnout", burnout, "plain", plain_open);
}

criterion_group! {
    name = forkout_benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(forkout_benches);

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
//! Run: `cargo bench --bench forkout -- --warm-up-time 1 --measurement-time 3`
//! (the naive 1 MiB x 1000 case encrypts 1 GiB per iteration). Ratios are
//! in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::forkout::{self, Recipient, SealPolicy};
use sealpost::{Account, Session};
use sha2::{Digest, Sha256};

const NOW: u64 = 1_800_000_000_000;
const SLOT_LEN: usize = 105;

struct World {
    rng: StdRng,
    manager: Account,
    /// The manager's sessions, sending chains warmed up.
    sessions: Vec<Session>,
    /// Recipient 0's account and session (for `open`).
    reader: (Account, Session),
}

fn world(n: usize) -> World {
    let mut rng = StdRng::seed_from_u64(1);
    let manager = Account::new(&mut rng, NOW);
    let mut sessions = Vec::with_capacity(n);
    let mut reader = None;
    for _ in 0..n {
        let mut peer = Account::new(&mut rng, NOW);
        let mut s = manager.create_outbound_session(&peer.prekey_bundle().unwrap(), &mut rng).unwrap();
        let hello = s.encrypt(b"hello", &mut rng).unwrap();
        if reader.is_none() {
            let (mut ps, _) = peer.create_inbound_session(&hello).unwrap();
            let ack = ps.encrypt(b"ack", &mut rng).unwrap();
            s.decrypt(&ack).unwrap();
            s.encrypt(b"warm", &mut rng).unwrap();
            reader = Some((peer, ps));
        }
        sessions.push(s);
    }
    World { rng, manager, sessions, reader: reader.unwrap() }
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
    let (reader, reader_session) = &w.reader;
    let delivery = sealed.delivery(reader.identity()).unwrap().to_vec();
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
}

criterion_group! {
    name = forkout_benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(forkout_benches);

//! Attachments: streaming encrypt + decrypt against raw ChaCha20-Poly1305
//! seal + open over the same bytes in the same 64 KiB chunks (paired and
//! interleaved, thread CPU time; target at least 0.9x the raw throughput,
//! i.e. a time ratio of at most 1.11), and a 64 KiB range read at the end of
//! a 1 GiB and of a 16 MiB attachment (the same cost: one or two chunks).
//! See `BENCHMARKS.md`, section "Attachments".
//!
//! `cargo bench --bench attachment`

// Benchmark set-up unwraps and indexes: a failure is a bug to stop at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::io::Cursor;
use std::ops::ControlFlow;

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use criterion::{criterion_group, criterion_main};
use sealpost::attachment::{self, Decryptor, Metadata};
use sealpost_testkit::bench::{BenchCriterion, cpu_timed, criterion, paired};
use sealpost_testkit::rng;

const CHUNK: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;

/// The floor: what the stream must do at least, the same AEAD calls over
/// the same chunks (seal every chunk in place, then open every chunk).
fn raw_seal_open(buf: &mut [u8], tags: &mut Vec<[u8; 16]>) {
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    tags.clear();
    for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
        let mut nonce = [0u8; 12];
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        tags.push(cipher.encrypt_inout_detached(&nonce.into(), b"", chunk.into()).unwrap().into());
    }
    for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
        let mut nonce = [0u8; 12];
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        cipher.decrypt_inout_detached(&nonce.into(), b"", chunk.into(), (&tags[i]).into()).unwrap();
    }
}

fn paired_throughput(_: &mut BenchCriterion) {
    const LEN: usize = 64 * MIB;
    let plaintext: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let mut r = rng(1);
    let mut upload = Vec::with_capacity(LEN + LEN / 1000 + 1024);
    let mut out = Vec::with_capacity(LEN);
    let mut raw = plaintext.clone();
    let mut tags = Vec::with_capacity(LEN / CHUNK + 1);
    let lib = || {
        upload.clear();
        out.clear();
        let ((), t) = cpu_timed(|| {
            let pointer =
                attachment::encrypt_stream(&plaintext[..], &mut upload, Metadata::default(), None, &mut r, |_| {
                    ControlFlow::Continue(())
                })
                .unwrap();
            attachment::decrypt_stream(&upload[..], &mut out, &pointer, |_| ControlFlow::Continue(())).unwrap();
        });
        [t]
    };
    let floor = || {
        let ((), t) = cpu_timed(|| raw_seal_open(black_box(&mut raw), &mut tags));
        [t]
    };
    let [m] = paired(2, 15, lib, floor);
    let mb_s = |ns: f64| (2 * LEN) as f64 / ns * 1e3;
    println!("\nattachment/paired medians, encrypt + decrypt of 64 MiB in 64 KiB chunks (thread CPU time):");
    println!(
        "  stream {:.1} ms ({:.0} MB/s), raw seal + open {:.1} ms ({:.0} MB/s): time ratio {:.3} (throughput {:.3}x of raw; target >= 0.9x)",
        m.a_ns() / 1e6,
        mb_s(m.a_ns()),
        m.b_ns() / 1e6,
        mb_s(m.b_ns()),
        m.ratio,
        1.0 / m.ratio
    );
}

fn range_reads(c: &mut BenchCriterion) {
    let mut g = c.benchmark_group("attachment");
    let mut r = rng(2);
    for (name, len) in [("range_64KiB_at_end_of_16MiB", 16 * MIB), ("range_64KiB_at_end_of_1GiB", 1024 * MIB)] {
        let plaintext = vec![0x5au8; len];
        let (pointer, upload) = attachment::encrypt(&plaintext, Metadata::new("video/webm"), &mut r).unwrap();
        drop(plaintext);
        let mut dec = Decryptor::new(Cursor::new(&upload[..]), &pointer).unwrap();
        let mut buf = vec![0u8; CHUNK];
        // Straddles the last two chunks: two chunks authenticated per read.
        let at = len as u64 - CHUNK as u64 - 100;
        g.bench_function(name, |b| {
            b.iter(|| {
                // Another position first, so every read loads afresh.
                dec.read_at(0, &mut buf[..1]).unwrap();
                dec.read_at(black_box(at), &mut buf).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = group;
    config = criterion();
    targets = range_reads, paired_throughput
}
criterion_main!(group);

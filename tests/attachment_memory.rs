//! Attachment memory: streaming holds one chunk, whatever the size.
//!
//! A counting global allocator records the peak of live heap bytes while an
//! attachment is encrypted from a generated stream into a file and
//! decrypted from that file into a sink. Its own test binary, so no other
//! test allocates concurrently. The default run streams 16 MiB; the 1 GiB
//! run (the figure in BENCHMARKS.md) is ignored by default:
//!
//! ```text
//! cargo test --release --test attachment_memory -- --ignored --nocapture
//! ```

// Tests report failure by panicking: unwrapping and indexing are the assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::time::Instant;

use peak_alloc::PeakAlloc;
use sealpost::attachment::{self, DEFAULT_CHUNK_SIZE, Metadata};
use sealpost_testkit::rng;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = f();
    (out, ALLOCATOR.peak_usage().saturating_sub(base))
}

/// A plaintext of `left` bytes generated on the fly.
struct Generated {
    left: u64,
    at: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            *b = (self.at % 251) as u8;
            self.at += 1;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Checks the plaintext as it arrives, without keeping it.
struct Checking {
    at: u64,
}

impl Write for Checking {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            assert_eq!(b, (self.at % 251) as u8, "byte {}", self.at);
            self.at += 1;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn stream(len: u64) {
    let path = std::env::temp_dir().join(format!("sealpost-attachment-memory-{}-{len}", std::process::id()));
    let mut r = rng(1);
    let start = Instant::now();
    let (pointer, encrypt_peak) = peak_during(|| {
        let file = BufWriter::new(File::create(&path).unwrap());
        attachment::encrypt_stream(
            Generated { left: len, at: 0 },
            file,
            Metadata::new("video/webm"),
            Some(len),
            &mut r,
            |_| ControlFlow::Continue(()),
        )
        .unwrap()
    });
    let encrypt_time = start.elapsed();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), pointer.ciphertext_len());
    let start = Instant::now();
    let (checked, decrypt_peak) = peak_during(|| {
        let mut sink = Checking { at: 0 };
        let file = BufReader::new(File::open(&path).unwrap());
        attachment::decrypt_stream(file, &mut sink, &pointer, |_| ControlFlow::Continue(())).unwrap();
        sink.at
    });
    let decrypt_time = start.elapsed();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(checked, len);
    let chunk = DEFAULT_CHUNK_SIZE;
    println!(
        "{} MiB: encrypt peak {} KiB ({:.0} MB/s), decrypt peak {} KiB ({:.0} MB/s); chunk {} KiB",
        len >> 20,
        encrypt_peak / 1024,
        len as f64 / encrypt_time.as_secs_f64() / 1e6,
        decrypt_peak / 1024,
        len as f64 / decrypt_time.as_secs_f64() / 1e6,
        chunk / 1024
    );
    // Two chunk buffers (the stream's and the reader's) and the file
    // buffers (8 KiB each), plus at most 1 MiB.
    let bound = 2 * (chunk + 16) + 1024 * 1024;
    assert!(encrypt_peak < bound, "encrypting held {encrypt_peak} bytes");
    assert!(decrypt_peak < bound, "decrypting held {decrypt_peak} bytes");
}

#[test]
fn streaming_16_mib_holds_about_one_chunk() {
    stream(16 << 20);
}

#[test]
#[ignore = "streams 1 GiB through a temporary file (seconds in release mode); run with --ignored"]
fn streaming_1_gib_holds_about_one_chunk() {
    stream(1 << 30);
}

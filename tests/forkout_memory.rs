//! Forkout memory: the body is held once, never copied per recipient.
//!
//! A counting global allocator records the peak of live heap bytes while
//! sealing a 1 MiB body to 1000 recipients, writing the bundle, handing out
//! every delivery, splitting at a relay and opening. This is its own test
//! binary (one test) so no other test allocates concurrently.

// Tests report failure by panicking: unwrapping and indexing are the assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io;

use peak_alloc::PeakAlloc;
use sealpost::forkout;
use sealpost_testkit::{ForkoutWorld, NOW};

// A counting allocator from a crate (so this repository holds no `unsafe`
// outside the FFI layer): it forwards to the system allocator and tracks
// current and peak live heap bytes.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Runs `f` and returns its result and the peak heap growth during it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = f();
    (out, ALLOCATOR.peak_usage().saturating_sub(base))
}

const MIB: usize = 1024 * 1024;

#[test]
fn a_one_mib_body_to_a_thousand_recipients_is_held_once() {
    // 1000 people the sender has started sessions with (sending chains
    // warmed up, so sealing measures the steady state).
    let mut w = ForkoutWorld::new(42).with_pending(1000);
    let body: Vec<u8> = (0..MIB).map(|i| (i % 253) as u8).collect();

    // Seal: the body moves in and is encrypted in place.
    let ((sealed, _report), seal_peak) = peak_during(|| w.seal_to_all(body, None));
    // The 1000 key-slot messages are new bytes (each still carries its
    // PQXDH setup data, 1.6 KB: these sessions are unanswered); beyond
    // them, sealing may allocate little, and a copy of the body would show.
    let slots = sealed.to_bytes().len() - MIB;
    println!(
        "seal, 1 MiB x 1000 recipients: peak {} KiB beyond the body, slots {} KiB",
        seal_peak / 1024,
        slots / 1024
    );
    assert!(seal_peak < slots + MIB / 2, "sealing used {seal_peak} bytes beyond the body and {slots} bytes of slots");

    // Streaming the bundle and every delivery allocates almost nothing.
    let ((), stream_peak) = peak_during(|| {
        sealed.write_to(&mut io::sink()).unwrap();
        for (_, delivery) in sealed.deliveries() {
            delivery.write_to(&mut io::sink()).unwrap();
        }
    });
    println!("streaming bundle + 1000 deliveries: peak {} KiB", stream_peak / 1024);
    assert!(stream_peak < 64 * 1024, "streaming used {stream_peak} bytes");

    // A relay holding the bundle splits it one delivery at a time.
    let bundle = sealed.to_bytes();
    let (delivered, split_peak) = peak_during(|| {
        let mut n = 0usize;
        for (_, delivery) in forkout::split_all(&bundle).unwrap() {
            n += usize::from(!delivery.is_empty());
        }
        n
    });
    assert_eq!(delivered, 1000);
    println!("relay split_all of 1000 deliveries: peak {} KiB", split_peak / 1024);
    assert!(split_peak < MIB + 256 * 1024, "split_all used {split_peak} bytes");

    // Opening needs the plaintext once.
    let first = sealed.recipients().next().copied().unwrap();
    let delivery = sealed.delivery(&first).unwrap().to_vec();
    drop(sealed);
    let reader = w.pending.iter().position(|p| *p.account.identity() == first).unwrap();
    let reader = &mut w.pending[reader].account;
    let (opened, open_peak) = peak_during(|| forkout::open_new(reader, &delivery, NOW).unwrap());
    assert_eq!(opened.1.unwrap().body().map(<[u8]>::len), Some(MIB));
    println!("open of a 1 MiB delivery: peak {} KiB", open_peak / 1024);
    assert!(open_peak < MIB + 64 * 1024, "opening used {open_peak} bytes");
}

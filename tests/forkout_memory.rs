//! Forkout memory: the body is held once, never copied per recipient.
//!
//! A counting global allocator records the peak of live heap bytes while
//! sealing a 1 MiB body to 1000 recipients, writing the bundle, handing out
//! every delivery, splitting at a relay and opening. This is its own test
//! binary (one test) so no other test allocates concurrently.

// The only unsafe code: a global allocator that forwards to `System` and
// counts bytes.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::SeedableRng;
use rand::rngs::StdRng;
use sealpost::Account;
use sealpost::forkout::{self, Recipient, SealPolicy};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call forwards to `System` with the same arguments; the
// counters do not affect the returned memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count the moment both blocks may be live.
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the peak heap growth during it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

const MIB: usize = 1024 * 1024;

#[test]
fn a_one_mib_body_to_a_thousand_recipients_is_held_once() {
    let mut rng = StdRng::seed_from_u64(42);
    let now = 1_800_000_000_000;
    let manager = Account::new(&mut rng, now);
    let mut people: Vec<Account> = (0..1000).map(|_| Account::new(&mut rng, now)).collect();
    let mut sessions: Vec<_> = people
        .iter()
        .map(|p| {
            let mut s = manager.create_outbound_session(&p.prekey_bundle().unwrap(), &mut rng).unwrap();
            // Warm the sending chain so sealing measures the steady state.
            s.encrypt(b"hi", &mut rng).unwrap();
            s
        })
        .collect();
    let body: Vec<u8> = (0..MIB).map(|i| (i % 253) as u8).collect();

    // Seal: the body moves in and is encrypted in place.
    let ((sealed, _report), seal_peak) = peak_during(|| {
        let recipients = sessions.iter_mut().map(Recipient::Session);
        forkout::seal(&manager, body, recipients, SealPolicy::AllOrNothing, None, &mut rng).unwrap()
    });
    println!("seal, 1 MiB x 1000 recipients: peak {} KiB beyond the body", seal_peak / 1024);
    assert!(seal_peak < MIB, "sealing used {seal_peak} bytes beyond the body");

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
    let reader = people.iter_mut().position(|p| *p.identity() == first).unwrap();
    let (opened, open_peak) = peak_during(|| forkout::open_new(&mut people[reader], &delivery, now).unwrap());
    assert_eq!(opened.1.unwrap().body().len(), MIB);
    println!("open of a 1 MiB delivery: peak {} KiB", open_peak / 1024);
    assert!(open_peak < MIB + 64 * 1024, "opening used {open_peak} bytes");
}

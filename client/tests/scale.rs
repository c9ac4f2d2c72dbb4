//! Opening a client costs the same with 10 sessions and 1 group as with
//! 10,000 sessions and 1,000 groups: time and peak memory while opening, on
//! SQLite files. Prints the figures
//! (BENCHMARKS.md, "Client"); asserts that 10,000 sessions cost at most a
//! few times what 10 do.
//!
//! ```text
//! cargo test --release -p sealpost-client --test scale -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Instant;

use peak_alloc::PeakAlloc;
use sealpost::Account;
use sealpost_client::Client;
use sealpost_client::store::SqliteStore;
use sealpost_testkit::{NOW, rng};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

fn measure(sessions: usize, groups: usize) -> (f64, usize) {
    let dir = std::env::temp_dir().join(format!("sealpost-scale-{}-{sessions}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hub.db");
    let mut r = rng(1);
    {
        let hub = Client::create(SqliteStore::open(&path).unwrap(), &[7; 32], &mut r, NOW).unwrap();
        let peer = Account::new(&mut r, NOW);
        let bundle = peer.prekey_bundle_with(None).unwrap();
        for i in 0..sessions {
            hub.start_session(&format!("peer {i}"), &bundle, NOW, &mut r).unwrap();
        }
        for g in 0..groups {
            let members = [format!("peer {}", 2 * g), format!("peer {}", 2 * g + 1)];
            hub.create_group(&[&members[0], &members[1]], &mut r).unwrap();
        }
    }
    let mut best = f64::MAX;
    let mut bytes = 0;
    for _ in 0..5 {
        let before = ALLOC.current_usage();
        ALLOC.reset_peak_usage();
        let start = Instant::now();
        let hub = Client::open(SqliteStore::open(&path).unwrap(), &[7; 32]).unwrap();
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        bytes = ALLOC.peak_usage().saturating_sub(before);
        assert!(hub.has_session(&format!("peer {}", sessions - 1)).unwrap());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    (best, bytes)
}

#[test]
#[ignore = "creates 10,000 sessions and 1,000 groups (seconds in release mode); run with --ignored"]
fn opening_is_constant_in_the_number_of_sessions_and_groups() {
    let (small_ms, small_bytes) = measure(10, 1);
    let (large_ms, large_bytes) = measure(10_000, 1_000);
    println!("open with 10 sessions, 1 group:          {small_ms:.3} ms, {small_bytes} bytes peak");
    println!("open with 10,000 sessions, 1,000 groups: {large_ms:.3} ms, {large_bytes} bytes peak");
    assert!(large_bytes < small_bytes * 2, "memory at open grows with the sessions");
    assert!(large_ms < small_ms * 5.0 + 1.0, "open time grows with the sessions");
}

//! sealpost's integration tests, one module per area, in one test binary
//! (one link instead of one per file; the tests still run in parallel).
//! The worlds, the fixed clock and the tamper helpers come from the
//! `sealpost-testkit` crate (testkit/).
//!
//! Run one area with a filter: `cargo test --test integration group::`.
//! `tests/forkout_memory.rs` stays a binary of its own: it installs a
//! counting global allocator.

// Tests report failure by panicking: unwrapping and indexing are the assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod attachment;
mod buffers;
mod burnout;
mod devices;
mod diagnostics;
mod forkout;
mod fuzz_corpus;
mod group;
mod messages;
mod persistence;
mod post_quantum;
mod proptest_conversation;
mod replay_and_bounds;
mod safety_numbers;
mod secrecy;
mod simultaneous;
mod tamper;
mod text_forms;
mod vectors;

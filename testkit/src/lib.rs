//! Test support for sealpost, shared by the integration tests (`tests/`),
//! the benchmarks (`benches/`) and the FFI crate's Rust tests
//! (`ffi/tests/`). Not published.
//!
//! * [`NOW`] and [`rng`]: the fixed clock and the seeded randomness every
//!   test and benchmark starts from.
//! * [`one_to_one`]: Alice and Bob ([`Conversation`], [`OfflineStart`]),
//!   bundles as a server delivers them, and the "a refused message changes
//!   nothing" checks.
//! * [`group`]: `n` members with pairwise sessions and every sender key
//!   installed ([`GroupWorld`]).
//! * [`forkout`]: one sender with confirmed sessions, started sessions and
//!   bundles ([`ForkoutWorld`]).
//! * [`bytes`]: tampered variants of a message, hex, substring search.
//! * [`bench`](mod@bench): the benchmarks' criterion clock (thread CPU
//!   time) and the paired A/B timing helper.
//! * [`fuzz`]: every fuzz target body (the harness is the sender: programs
//!   of actions, authenticated malicious content, parsers with their
//!   canonicality checks) and the one seed generator of every corpus.
//! * [`alloc`](mod@alloc): a global allocator that searches freed heap
//!   blocks for a secret ([`ScanningAllocator`]), for the test binary that
//!   checks no serializer leaves key bytes behind.
//!
//! ```
//! use sealpost_testkit::{Conversation, rng};
//!
//! let mut rng = rng(1);
//! let mut c = Conversation::established(&mut rng);
//! c.a_to_b(b"ping", &mut rng);
//! c.b_to_a(b"pong", &mut rng);
//! ```

// This crate is test support: a setup step that fails must stop the test
// at once and say why, so `unwrap`, `expect`, `panic!` and indexing are the
// intended failure reports here (the library itself denies them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// `unsafe_code` stays denied here; only the `alloc` module allows it (a
// `GlobalAlloc` cannot be written without it), and says why.

pub mod alloc;
pub mod bench;
pub mod bytes;
pub mod forkout;
pub mod fuzz;
pub mod group;
pub mod one_to_one;

pub use alloc::ScanningAllocator;
pub use bytes::{bit_flips, contains, hex, sha256_hex, truncations_and_extensions};
pub use forkout::ForkoutWorld;
pub use group::GroupWorld;
pub use one_to_one::{
    Conversation, OfflineStart, Snapshot, accounts, decrypt_fails, fetch_bundle, session_decrypt_fails, snapshot,
};

use rand::SeedableRng;
use rand::rngs::StdRng;

/// The fixed wall-clock time of every test and benchmark, in milliseconds
/// since the Unix epoch (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000_000;

/// A deterministic random number generator: the same `seed` gives the same
/// keys, messages and shuffles on every run.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

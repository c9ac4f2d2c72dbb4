//! The FFI crate's integration tests, in one binary: the exported API used
//! from Rust as the foreign bindings use it.

// Test code: a failed unwrap or index is a failed test, which is what it
// should be. The one place these allowances are made for this binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod api;
mod forkout;
mod group_burnout;

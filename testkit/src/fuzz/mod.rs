//! The fuzz harness: every cargo-fuzz target body, over sealpost's public
//! API (plus the hidden, unstable `sealpost::test_hooks` where a target
//! must seal what no honest sender can), and the one seed generator for
//! every corpus.
//!
//! * `fuzz/fuzz_targets/<name>.rs` is a two-liner calling
//!   `sealpost_testkit::fuzz::<name>`;
//! * `tests/integration/fuzz_corpus.rs` replays every committed file of
//!   `fuzz/corpus/<name>/` through the same function on stable Rust, and
//!   fails when a committed seed differs from what [`seeds::seeds`]
//!   generates.
//!
//! Every body must never panic on any input. Where a property is cheap to
//! check it is asserted, so a violation is a crash the fuzzer reports.
//!
//! Three kinds of targets:
//!
//! * **parsers and importers** take the bytes as the thing to parse and
//!   assert canonicality (decode, then encode, gives the input), then use
//!   what parsed for real;
//! * **programs** ([`session_program`], [`group_program`],
//!   [`forkout_program`], [`burnout_program`], [`device_link`]) take the bytes as a program
//!   of actions: the harness is the sender and makes valid traffic, the
//!   program decides what is sent, dropped, reordered, replayed, tampered
//!   with, saved and restored, and when clocks move. After every action the
//!   invariants are checked (see each target);
//! * **authenticated malicious content** ([`session_malicious`],
//!   [`group_malicious`], [`forkout_malicious`]): the bytes are the content
//!   a valid peer seals and signs with its real keys, so the receiving code
//!   behind authentication is what is fuzzed.
//!
//! With the environment variable `SEALPOST_FUZZ_STATS` set, the targets
//! count outcomes ([`stats`]); the ignored test `fuzz_stats` in
//! `tests/integration/fuzz_corpus.rs` replays a corpus directory and prints
//! the counts (see `fuzz/README.md`).

// Test and fuzz code: a failed assertion is the report.
#![allow(clippy::type_complexity, missing_docs)]

pub mod attachment;
pub mod burnout;
pub mod device;
pub mod forkout;
pub mod group;
pub mod import;
pub mod seeds;
pub mod session;
pub mod stats;

pub use attachment::{attachment_open, attachment_pointer};
pub use burnout::{burnout_envelope, burnout_program, vault_state};
pub use device::{device_link, device_list};
pub use forkout::{forkout_bundle, forkout_delivery, forkout_malicious, forkout_open, forkout_program, forkout_split};
pub use group::{group_decrypt, group_distribution, group_malicious, group_message, group_program, group_state};
pub use import::encrypted_import;
pub use session::{
    prekey_bundle, session_decrypt, session_malicious, session_message, session_program, session_sequence, state_import,
};

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every target by name: the corpus directory `fuzz/corpus/<name>/` feeds
/// the function of the same name, and `fuzz/fuzz_targets/<name>.rs` calls it.
pub const TARGETS: &[(&str, Target)] = &[
    ("prekey_bundle", prekey_bundle),
    ("session_message", session_message),
    ("session_decrypt", session_decrypt),
    ("session_sequence", session_sequence),
    ("session_program", session_program),
    ("session_malicious", session_malicious),
    ("state_import", state_import),
    ("burnout_envelope", burnout_envelope),
    ("burnout_program", burnout_program),
    ("vault_state", vault_state),
    ("group_message", group_message),
    ("group_distribution", group_distribution),
    ("group_decrypt", group_decrypt),
    ("group_state", group_state),
    ("group_program", group_program),
    ("group_malicious", group_malicious),
    ("encrypted_import", encrypted_import),
    ("forkout_bundle", forkout_bundle),
    ("forkout_delivery", forkout_delivery),
    ("forkout_split", forkout_split),
    ("forkout_open", forkout_open),
    ("forkout_program", forkout_program),
    ("forkout_malicious", forkout_malicious),
    ("attachment_pointer", attachment_pointer),
    ("attachment_open", attachment_open),
    ("device_list", device_list),
    ("device_link", device_link),
];

/// The fixed key the importer targets seal and open exports with (seed
/// exports in `fuzz/corpus/encrypted_import/` are sealed under it).
pub const EXPORT_KEY: [u8; 32] = [0x42; 32];

/// The clock every fixture starts at (ms since the epoch).
pub const NOW_MS: u64 = crate::NOW;

/// A program's input: bytes read one at a time, zero once exhausted.
pub struct Program<'a> {
    bytes: core::slice::Iter<'a, u8>,
}

impl<'a> Program<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { bytes: data.iter() }
    }

    /// The next operation byte, `None` at the end of the program.
    pub fn op(&mut self) -> Option<u8> {
        self.bytes.next().copied()
    }

    /// The next argument byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        self.bytes.next().copied().unwrap_or(0)
    }

    /// A big-endian u16 argument.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// An index below `len` (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 { 0 } else { usize::from(self.u16()) % len }
    }

    /// Up to `max` bytes, length first.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = usize::from(self.byte()).min(max);
        (0..len).map(|_| self.byte()).collect()
    }

    /// Up to `max` bytes, a big-endian u16 length first (for values over
    /// 255 bytes, such as prekey bundles).
    pub fn long_bytes(&mut self, max: usize) -> Vec<u8> {
        let len = usize::from(self.u16()).min(max);
        (0..len).map(|_| self.byte()).collect()
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes.as_slice()
    }
}

/// Flips one bit of `bytes` at `position` (mod its length in bits).
pub fn flip(bytes: &mut [u8], position: u16) {
    let bits = bytes.len() * 8;
    if bits == 0 {
        return;
    }
    let bit = usize::from(position) % bits;
    bytes[bit / 8] ^= 1 << (bit % 8);
}

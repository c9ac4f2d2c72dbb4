//! A global allocator that looks for a secret in every block freed.
//!
//! A zeroizing buffer protects the bytes it holds when it is dropped, but
//! not the copies left behind earlier: a `Vec` that grows moves its
//! contents to a larger block and frees the old one as it is, and a
//! temporary buffer dropped without zeroizing leaves its bytes too. Those
//! freed blocks are what [`ScanningAllocator`] inspects. Install it as the
//! `#[global_allocator]` of a test binary of its own (one allocator per
//! process), then [`watch`](ScanningAllocator::watch) a piece of code with a
//! secret: every block freed meanwhile, by any thread, is searched for the
//! secret before it goes back to the system allocator.
//!
//! (The example below is a crate of its own: it installs the allocator.)
//!
//! ```standalone_crate
//! use sealpost_testkit::alloc::ScanningAllocator;
//!
//! #[global_allocator]
//! static ALLOC: ScanningAllocator = ScanningAllocator::new();
//!
//! let secret = *b"thirty-two bytes of a secret key";
//! let scan = ALLOC.watch(&secret, || {
//!     // Room for 40 bytes: growing past them moves the secret to a larger
//!     // block and frees the old one, secret included.
//!     let mut buf = Vec::with_capacity(40);
//!     buf.extend_from_slice(&secret);
//!     buf.extend_from_slice(&[0u8; 64]);
//!     // Overwritten before it is freed: not a hit.
//!     buf.fill(0);
//!     drop(std::hint::black_box(buf));
//! });
//! assert_eq!(scan.hits, 1, "{scan:?}");
//! ```

// `GlobalAlloc` is an unsafe trait and its methods take raw pointers, so
// this module cannot be written without `unsafe`. It is test support only:
// the library itself stays free of `unsafe` (its crate denies it), and this
// crate allows it here and nowhere else. Each block states what it relies on.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::alloc::System;
use std::sync::Mutex;

/// Shortest secret [`ScanningAllocator::watch`] accepts: shorter patterns
/// could occur by chance in unrelated blocks.
pub const MIN_SECRET: usize = 16;

/// Longest secret [`ScanningAllocator::watch`] accepts.
pub const MAX_SECRET: usize = 64;

/// How many hit block sizes a [`Scan`] records.
const RECORDED_HITS: usize = 16;

/// One [`ScanningAllocator::watch`] at a time: the secret and the counters
/// are process-wide.
static WATCHING: Mutex<()> = Mutex::new(());

/// What the allocator saw while armed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Blocks freed (or moved by a reallocation) and searched.
    pub blocks: usize,
    /// Bytes searched.
    pub bytes: usize,
    /// Freed blocks that contained the secret.
    pub hits: usize,
    /// The sizes of the first hit blocks (at most 16), to tell which buffer
    /// leaked.
    pub hit_sizes: Vec<usize>,
}

/// A [`GlobalAlloc`] over [`System`] that, while armed with a secret,
/// searches every block it frees for it and counts the blocks that contain
/// it.
///
/// * Blocks are handed out zero-filled, so the search only ever reads bytes
///   that were written.
/// * `realloc` is an allocation, a copy and a free, so the old block of a
///   growing (or shrinking) buffer is always searched: the system allocator
///   could otherwise move it and free the copy unseen, or grow it in place
///   on one machine and not on another.
/// * Nothing inside the allocator allocates; its state is atomics.
#[derive(Debug)]
pub struct ScanningAllocator {
    armed: AtomicBool,
    secret: [AtomicU8; MAX_SECRET],
    secret_len: AtomicUsize,
    blocks: AtomicUsize,
    bytes: AtomicUsize,
    hits: AtomicUsize,
    hit_sizes: [AtomicUsize; RECORDED_HITS],
}

impl Default for ScanningAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl ScanningAllocator {
    /// A disarmed allocator (for a `static`).
    pub const fn new() -> Self {
        Self {
            armed: AtomicBool::new(false),
            secret: [const { AtomicU8::new(0) }; MAX_SECRET],
            secret_len: AtomicUsize::new(0),
            blocks: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            hits: AtomicUsize::new(0),
            hit_sizes: [const { AtomicUsize::new(0) }; RECORDED_HITS],
        }
    }

    /// Runs `f` with the allocator armed with `secret` and reports the
    /// blocks freed meanwhile. Drop everything `f` creates inside `f`:
    /// what outlives it is not searched. Calls are serialized, so tests of
    /// one binary may use it concurrently.
    ///
    /// # Panics
    ///
    /// If `secret` is shorter than [`MIN_SECRET`] or longer than
    /// [`MAX_SECRET`] bytes, or is all one byte value (a zeroized block
    /// would match an all-zero secret), and if `f` panics.
    pub fn watch(&self, secret: &[u8], f: impl FnOnce()) -> Scan {
        let _one_at_a_time = WATCHING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.arm(secret);
        // Disarm even if `f` panics, so the next watch starts clean.
        let guard = Disarm(self);
        f();
        drop(guard);
        self.report()
    }

    fn arm(&self, secret: &[u8]) {
        assert!(
            (MIN_SECRET..=MAX_SECRET).contains(&secret.len()),
            "a secret to watch for has {MIN_SECRET} to {MAX_SECRET} bytes, not {}",
            secret.len()
        );
        assert!(secret.iter().any(|&b| b != secret[0]), "a secret of one repeated byte would match filler");
        for (slot, &b) in self.secret.iter().zip(secret) {
            slot.store(b, Ordering::Relaxed);
        }
        self.secret_len.store(secret.len(), Ordering::Relaxed);
        for counter in [&self.blocks, &self.bytes, &self.hits].into_iter().chain(&self.hit_sizes) {
            counter.store(0, Ordering::Relaxed);
        }
        // Publishes the secret and the reset counters to every thread that
        // sees the allocator armed.
        self.armed.store(true, Ordering::Release);
    }

    fn report(&self) -> Scan {
        let hits = self.hits.load(Ordering::Acquire);
        let recorded = hits.min(RECORDED_HITS);
        Scan {
            blocks: self.blocks.load(Ordering::Acquire),
            bytes: self.bytes.load(Ordering::Acquire),
            hits,
            hit_sizes: self.hit_sizes[..recorded].iter().map(|s| s.load(Ordering::Acquire)).collect(),
        }
    }

    /// Searches a block about to be freed, if armed.
    fn inspect(&self, block: &[u8]) {
        if !self.armed.load(Ordering::Acquire) {
            return;
        }
        let len = self.secret_len.load(Ordering::Relaxed);
        let mut secret = [0u8; MAX_SECRET];
        for (b, slot) in secret.iter_mut().zip(&self.secret) {
            *b = slot.load(Ordering::Relaxed);
        }
        let secret = &secret[..len];
        self.blocks.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(block.len(), Ordering::Relaxed);
        if block.windows(len).any(|w| w == secret) {
            self.record_hit(block.len());
        }
    }

    /// Counts a hit. Never inlined, so that a debugger breakpoint here
    /// (`break sealpost_testkit::alloc::ScanningAllocator::record_hit`)
    /// stops in the code that frees the copy.
    #[inline(never)]
    fn record_hit(&self, size: usize) {
        let n = self.hits.fetch_add(1, Ordering::AcqRel);
        if let Some(slot) = self.hit_sizes.get(n) {
            slot.store(size, Ordering::Release);
        }
    }
}

/// Disarms its allocator when dropped.
struct Disarm<'a>(&'a ScanningAllocator);

impl Drop for Disarm<'_> {
    fn drop(&mut self) {
        self.0.armed.store(false, Ordering::Release);
    }
}

// SAFETY: every block comes from `System` with the caller's layout and goes
// back to it with the same layout; `realloc` returns a block of the new
// size holding the old contents (or null, leaving the old block allocated),
// as the trait requires.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Zero-filled, so `inspect` never reads a byte that was not written.
        // SAFETY: the caller's layout has a non-zero size (the contract of
        // `alloc`), which `alloc_zeroed` requires too.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes this
        // allocator handed out (the contract of `dealloc`), all of them
        // initialized (blocks start zero-filled); nothing else accesses it
        // while it is being freed.
        let block = unsafe { core::slice::from_raw_parts(ptr, layout.size()) };
        self.inspect(block);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees that `new_size`, rounded up to
        // `layout.align()`, does not overflow `isize` and is non-zero.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: `ptr` is live for `layout.size()` bytes, `new` for
            // `new_size`; they are distinct blocks. The old block is then
            // freed (and searched) with its own layout.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

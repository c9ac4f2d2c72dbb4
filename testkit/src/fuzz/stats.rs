//! Outcome counters for the fuzz targets, on only when the environment
//! variable `SEALPOST_FUZZ_STATS` is set (checked once): so a campaign's
//! corpus can be replayed to measure what share of inputs gets past
//! authentication and which entry points are reached.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SEALPOST_FUZZ_STATS").is_some())
}

fn table() -> &'static Mutex<BTreeMap<&'static str, u64>> {
    static TABLE: OnceLock<Mutex<BTreeMap<&'static str, u64>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// Counts one occurrence of `event` (a static label such as
/// `"session_program/accepted"`).
pub fn record(event: &'static str) {
    if enabled() {
        *table().lock().unwrap().entry(event).or_default() += 1;
    }
}

/// The counts so far, and resets them.
pub fn take() -> BTreeMap<&'static str, u64> {
    std::mem::take(&mut *table().lock().unwrap())
}

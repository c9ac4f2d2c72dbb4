//! Benchmark timing: the criterion clock of every benchmark, and the paired
//! A/B helper.
//!
//! Both measure **thread CPU time** (`CLOCK_THREAD_CPUTIME_ID`, nanosecond
//! resolution). Every benchmark is single-threaded and does no I/O, so CPU
//! time is the work done; it excludes the time the thread waits for a core,
//! which on a machine shared by several build jobs otherwise inflates (and
//! scatters) every number several-fold.
//!
//! ```
//! use std::hint::black_box;
//! use sealpost_testkit::bench::{cpu_timed, paired};
//!
//! let [m] = paired(
//!     0,
//!     5,
//!     || [cpu_timed(|| black_box((0..2_000u64).sum::<u64>())).1],
//!     || [cpu_timed(|| black_box((0..1_000u64).sum::<u64>())).1],
//! );
//! assert!(m.ratio > 0.0);
//! ```

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use criterion::Criterion;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// Criterion measurement: CPU time of the benchmark thread, or wall-clock
/// time when the environment has `SEALPOST_BENCH_CLOCK=wall`. Criterion's
/// warm-up and measurement times then count CPU time too.
pub struct BenchClock {
    wall: bool,
    formatter: WallTime,
}

impl BenchClock {
    /// Thread CPU time, or wall-clock time if `SEALPOST_BENCH_CLOCK=wall`.
    pub fn from_env() -> Self {
        let wall = std::env::var("SEALPOST_BENCH_CLOCK").is_ok_and(|v| v == "wall");
        Self { wall, formatter: WallTime }
    }
}

/// Criterion with [`BenchClock::from_env`] as its measurement.
pub type BenchCriterion = Criterion<BenchClock>;

/// The benchmarks' criterion configuration: [`BenchClock::from_env`] and
/// 30 samples per benchmark (BENCHMARKS.md reports their median).
pub fn criterion() -> BenchCriterion {
    Criterion::default().with_measurement(BenchClock::from_env()).sample_size(30)
}

/// A start reading of a [`BenchClock`].
pub struct BenchStart(Reading);

enum Reading {
    Cpu(ThreadTime),
    Wall(Instant),
}

impl Measurement for BenchClock {
    type Intermediate = BenchStart;
    type Value = Duration;

    fn start(&self) -> BenchStart {
        BenchStart(if self.wall { Reading::Wall(Instant::now()) } else { Reading::Cpu(ThreadTime::now()) })
    }
    fn end(&self, start: BenchStart) -> Duration {
        match start.0 {
            Reading::Cpu(t) => t.elapsed(),
            Reading::Wall(t) => t.elapsed(),
        }
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds either way: reuse criterion's formatting.
        self.formatter.formatter()
    }
}

/// Runs `f` and returns its result and the thread CPU time it took.
pub fn cpu_timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = ThreadTime::now();
    let out = f();
    (out, start.elapsed())
}

/// One comparison of a [`paired`] run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AbMedians {
    /// The median of A's timings.
    pub a: Duration,
    /// The median of B's timings.
    pub b: Duration,
    /// The median over the rounds of A's timing / B's timing in that round.
    pub ratio: f64,
}

impl AbMedians {
    /// A's median in nanoseconds.
    pub fn a_ns(&self) -> f64 {
        self.a.as_nanos() as f64
    }
    /// B's median in nanoseconds.
    pub fn b_ns(&self) -> f64 {
        self.b.as_nanos() as f64
    }
}

/// Paired A/B timing: runs `a` (the operation measured) and `b` (its
/// baseline) in alternation, A first in even rounds and B first in odd
/// ones, for `warm_up` rounds that are discarded and then `rounds` rounds
/// that count. Each call returns `K` timings (for instance an encrypt and
/// a decrypt), taken with [`cpu_timed`] around exactly the work to compare
/// (prepare inputs outside it; divide by the operation count for a batch).
/// Returns, for each of the `K` timings, the medians of A and of B and the
/// median of the per-round ratios A / B.
///
/// On a shared, noisy machine the interleaving keeps both sides under the
/// same load, so the medians and the ratio are far steadier than two
/// separate criterion runs: preemption lands on single rounds of either
/// side and does not move the medians.
pub fn paired<const K: usize>(
    warm_up: usize,
    rounds: usize,
    mut a: impl FnMut() -> [Duration; K],
    mut b: impl FnMut() -> [Duration; K],
) -> [AbMedians; K] {
    assert!(rounds > 0, "a paired run needs at least one round");
    let mut ta: [Vec<Duration>; K] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    let mut tb: [Vec<Duration>; K] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    let mut ratios: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    for round in 0..warm_up + rounds {
        let (x, y) = if round % 2 == 0 {
            let x = a();
            (x, b())
        } else {
            let y = b();
            (a(), y)
        };
        if round < warm_up {
            continue;
        }
        for k in 0..K {
            ta[k].push(x[k]);
            tb[k].push(y[k]);
            ratios[k].push(x[k].as_secs_f64() / y[k].as_secs_f64());
        }
    }
    std::array::from_fn(|k| AbMedians {
        a: median_by(&mut ta[k], Duration::cmp),
        b: median_by(&mut tb[k], Duration::cmp),
        ratio: median_by(&mut ratios[k], f64::total_cmp),
    })
}

/// The upper median of `v` (`v[len / 2]` once sorted).
fn median_by<T: Copy>(v: &mut [T], cmp: impl FnMut(&T, &T) -> std::cmp::Ordering) -> T {
    v.sort_unstable_by(cmp);
    v[v.len() / 2]
}

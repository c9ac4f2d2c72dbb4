//! The committed fuzz corpora against the harness in
//! `sealpost_testkit::fuzz` (the same target bodies the fuzzers run), on
//! stable Rust, without cargo-fuzz:
//!
//! * `replay_all_corpora` feeds every file of `fuzz/corpus/<target>/`
//!   (generated seeds, kept fuzzer finds, `crash-*` reproducers) to its
//!   target;
//! * `committed_seeds_match_the_generator` regenerates every seed in
//!   memory with the one generator, `sealpost_testkit::fuzz::seeds::seeds`,
//!   and fails when a committed file of the same name differs or is
//!   missing (files the generator does not produce are replayed, never
//!   compared). After a format change, regenerate and commit:
//!
//! ```text
//! cargo test --test integration -- --ignored write_seed_corpora
//! ```
//!
//! * `fuzz_stats` (ignored) replays directories with the outcome counters
//!   on, to measure what share of a campaign's corpus gets past
//!   authentication and what it reaches there (per label: events and the
//!   share of inputs with one): `SEALPOST_FUZZ_STATS=1
//!   SEALPOST_FUZZ_REPLAY=<target>:<dir>[:<dir>...][,<target>:...] cargo
//!   test --test integration -- --ignored fuzz_stats --nocapture`.

use std::fs;
use std::path::{Path, PathBuf};

use sealpost_testkit::fuzz::seeds::{MAX_SEED_LEN, seeds};
use sealpost_testkit::fuzz::{TARGETS, stats};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

#[test]
#[ignore = "writes fuzz/corpus; run to regenerate the seed corpora"]
fn write_seed_corpora() {
    let root = corpus_root();
    for seed in seeds() {
        let dir = root.join(seed.target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(&seed.name), &seed.bytes).unwrap();
    }
}

#[test]
fn committed_seeds_match_the_generator() {
    let root = corpus_root();
    let mut names = std::collections::BTreeSet::new();
    for seed in seeds() {
        assert!(seed.bytes.len() <= MAX_SEED_LEN, "seed {}/{} is too large", seed.target, seed.name);
        assert!(names.insert((seed.target, seed.name.clone())), "seed {}/{} generated twice", seed.target, seed.name);
        assert!(TARGETS.iter().any(|(t, _)| *t == seed.target), "seed for unknown target {}", seed.target);
        let path = root.join(seed.target).join(&seed.name);
        let committed = fs::read(&path)
            .unwrap_or_else(|_| panic!("{} missing: run write_seed_corpora (see this file's docs)", path.display()));
        assert!(committed == seed.bytes, "{} is stale: run write_seed_corpora", path.display());
    }
}

#[test]
fn every_corpus_directory_has_a_target_and_every_target_a_corpus() {
    let root = corpus_root();
    for entry in fs::read_dir(&root).expect("fuzz/corpus exists") {
        let name = entry.expect("readable entry").file_name().into_string().expect("utf-8 name");
        assert!(TARGETS.iter().any(|(t, _)| *t == name), "corpus {name} has no target");
    }
    let fuzz = root.parent().unwrap();
    let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    for (name, _) in TARGETS {
        let dir = root.join(name);
        let count = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(count > 0, "target {name} has no committed seeds in {}", dir.display());
        let bin = fs::read_to_string(fuzz.join("fuzz_targets").join(format!("{name}.rs")))
            .unwrap_or_else(|_| panic!("no cargo-fuzz target for {name}"));
        assert!(bin.contains(&format!("sealpost_testkit::fuzz::{name}(")), "fuzz_targets/{name}.rs calls another body");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "no [[bin]] for {name} in fuzz/Cargo.toml");
    }
}

#[test]
fn replay_all_corpora() {
    let root = corpus_root();
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let Ok(dir) = fs::read_dir(root.join(name)) else { continue };
        for file in dir {
            let path = file.expect("readable entry").path();
            let data = fs::read(&path).expect("readable seed");
            assert!(data.len() <= MAX_SEED_LEN, "{} is over {MAX_SEED_LEN} bytes", path.display());
            target(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus files replayed");
}

/// The group decrypt seeds reach both success and every kind of refusal.
#[test]
fn the_group_decrypt_seeds_reach_success_and_refusal() {
    let live = sealpost_testkit::fuzz::group::live_group();
    for seed in seeds().into_iter().filter(|s| s.target == "group_decrypt") {
        let result = live.bob.clone().decrypt(&seed.bytes, sealpost_testkit::NOW);
        if seed.name == "next" || seed.name.starts_with("late") {
            assert!(result.is_ok(), "{}: {result:?}", seed.name);
        } else {
            assert!(result.is_err(), "{} decrypted", seed.name);
        }
    }
}

/// Labels counting a success: decrypt, open or install accepted (past
/// authentication), a state or export imported, a bundle verified.
fn is_success(label: &str) -> bool {
    [
        "/accepted",
        "/opened",
        "/installed",
        "/imported",
        "/distribution",
        "/restored",
        "/verified",
        "/account",
        "/session",
    ]
    .iter()
    .any(|end| label.ends_with(end))
}

#[test]
#[ignore = "measurement: replays SEALPOST_FUZZ_REPLAY=<target>:<dir>[:<dir>...][,...] with counters on"]
fn fuzz_stats() {
    let specs = std::env::var("SEALPOST_FUZZ_REPLAY").expect("SEALPOST_FUZZ_REPLAY=<target>:<dir>[:<dir>...][,...]");
    for spec in specs.split(',') {
        let mut parts = spec.split(':');
        let name = parts.next().expect("<target>");
        let (_, target) = TARGETS.iter().find(|(t, _)| *t == name).expect("known target");
        let mut inputs = 0u64;
        let mut successes = 0u64;
        let mut events = std::collections::BTreeMap::<&str, (u64, u64)>::new();
        let _ = stats::take();
        for dir in parts {
            let mut files: Vec<PathBuf> = fs::read_dir(dir).unwrap().map(|f| f.unwrap().path()).collect();
            files.sort();
            for file in files {
                target(&fs::read(&file).unwrap());
                inputs += 1;
                let counts = stats::take();
                successes += u64::from(counts.keys().any(|l| is_success(l)));
                for (event, count) in counts {
                    let entry = events.entry(event).or_default();
                    entry.0 += count;
                    entry.1 += 1;
                }
            }
        }
        let share = |n: u64| 100.0 * n as f64 / inputs.max(1) as f64;
        println!("{name}: {inputs} inputs, {successes} with a success ({:.1}%)", share(successes));
        for (event, (count, with)) in events {
            println!("  {event}: {count} events, in {with} inputs ({:.1}%)", share(with));
        }
    }
}

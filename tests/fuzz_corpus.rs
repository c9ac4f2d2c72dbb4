//! Replays every committed fuzz corpus file through the same target bodies
//! the fuzzers run (`sealpost::fuzz_targets`), so CI covers the corpora on
//! stable Rust without cargo-fuzz.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use sealpost::fuzz_targets::TARGETS;

#[test]
fn every_corpus_directory_has_a_target_and_every_target_a_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for entry in fs::read_dir(&root).expect("fuzz/corpus exists") {
        let name = entry.expect("readable entry").file_name().into_string().expect("utf-8 name");
        assert!(TARGETS.iter().any(|(t, _)| *t == name), "corpus {name} has no target");
    }
    for (name, _) in TARGETS {
        let dir = root.join(name);
        let count = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(count > 0, "target {name} has no committed seeds in {}", dir.display());
        assert!(
            root.parent().unwrap().join("fuzz_targets").join(format!("{name}.rs")).exists(),
            "no cargo-fuzz target for {name}"
        );
    }
}

#[test]
fn replay_all_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let Ok(dir) = fs::read_dir(root.join(name)) else { continue };
        for file in dir {
            let path = file.expect("readable entry").path();
            let data = fs::read(&path).expect("readable seed");
            target(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus files replayed");
}

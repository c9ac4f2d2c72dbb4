//! Writes the committed seed corpora of the group fuzz targets
//! (`fuzz/corpus/group_*`). Run after a change to the group formats:
//! `cargo test --test integration -- --ignored generate_group_seeds`.

use std::fs;
use std::path::Path;

#[test]
#[ignore = "writes fuzz/corpus; run explicitly to regenerate the group seeds"]
fn generate_group_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, name, bytes) in sealpost::fuzz_targets::group_seeds() {
        let dir = root.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn every_group_seed_runs_through_its_target() {
    for (target, _, bytes) in sealpost::fuzz_targets::group_seeds() {
        let (_, run) = sealpost::fuzz_targets::TARGETS.iter().find(|(t, _)| *t == target).unwrap();
        run(&bytes);
    }
}

#[test]
fn the_decrypt_seeds_reach_both_success_and_every_kind_of_refusal() {
    let live = sealpost::fuzz_targets::live_group();
    for (target, name, bytes) in sealpost::fuzz_targets::group_seeds() {
        if target != "group_decrypt" {
            continue;
        }
        let result = live.bob.clone().decrypt(&bytes, 1_700_000_000_000);
        if name == "next" || name.starts_with("late") {
            assert!(result.is_ok(), "{name}: {result:?}");
        } else {
            assert!(result.is_err(), "{name} decrypted");
        }
    }
}

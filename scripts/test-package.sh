#!/usr/bin/env bash
# The crate as published: `cargo package` (which also builds the packaged
# crate), then `cargo test` inside target/package/sealpost-<version>/ (its
# unit tests and doc examples; the repository's integration tests, benches
# and examples need the workspace and are not in the package: see
# `include` in Cargo.toml). Shares the workspace's target directory, so the
# dependencies are not built again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "sealpost"))')"
cargo package -q -p sealpost "$@"
cd "$root/target/package/sealpost-$version"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! CARGO_TARGET_DIR="$root/target" cargo test -q >"$log" 2>&1; then
    cat "$log"
    echo "package: the packaged crate's tests fail" >&2
    exit 1
fi
grep -E "test result" "$log"
echo "package: sealpost $version packaged, its tests pass"

#!/usr/bin/env bash
# Fuzz smoke test (CI, .ci/run): builds every cargo-fuzz target once and
# runs each for a few seconds from its committed corpus, on the installed
# nightly toolchain. Fails on the first crash. libFuzzer writes new inputs
# into a scratch directory, never into fuzz/corpus.
#
#   fuzz/smoke.sh [seconds per target, default 12]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-12}"
target_dir="${SEALPOST_FUZZ_TARGET_DIR:-fuzz/target}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
cargo +nightly fuzz build --target-dir "$target_dir"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$target"
  start=$SECONDS
  # Sequence targets read one action per byte: keep inputs short and let
  # libFuzzer mutate at full length from the start.
  cargo +nightly fuzz run --target-dir "$target_dir" "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$secs" -max_len=4096 -len_control=0 -print_final_stats=1 \
    >"$scratch/$target.log" 2>&1 || { tail -40 "$scratch/$target.log"; echo "fuzz target $target FAILED"; exit 1; }
  echo "fuzz $target: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$target.log" | grep -o '[0-9]*$') execs in $((SECONDS - start)) s"
done

#!/usr/bin/env bash
# A fuzz campaign: every cargo-fuzz target (or the ones named) for a fixed
# time, a few at a time, each from its committed corpus into a scratch
# corpus of its own; then one Markdown table row per target from
# libFuzzer's final statistics (the table in fuzz/README.md, "Campaign
# results").
#
#   fuzz/campaign.sh [-t seconds] [-j parallel] [-o out-dir] [target ...]
#
# Defaults: 600 s a target, 1 at a time, out-dir /tmp/fuzz-campaign. The
# runs are `nice`d so that a campaign can use the idle time of a machine
# that is also building. Scratch corpora stay in <out-dir>/corpus/<target>
# (replay them with the `fuzz_stats` test, fuzz/README.md); logs in
# <out-dir>/logs; crashes in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=600 jobs=1 out=/tmp/fuzz-campaign
while getopts "t:j:o:" opt; do
  case "$opt" in
    t) secs="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    o) out="$OPTARG" ;;
    *) echo "usage: $0 [-t seconds] [-j parallel] [-o out-dir] [target ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
target_dir="${SEALPOST_FUZZ_TARGET_DIR:-fuzz/target}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
nice -n 19 cargo +nightly fuzz build --target-dir "$target_dir"
bin_dir="$target_dir/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
mkdir -p "$out/logs" "$out/corpus"

# Sequence and program targets read one action per byte (or per few bytes):
# without these settings libFuzzer keeps inputs to a dozen bytes for a long
# time. The parsers keep libFuzzer's default length control.
sequence_like() {
  case "$1" in
    session_sequence | *_program | device_link | *_malicious | attachment_open | state_import | encrypted_import | vault_state | group_state) return 0 ;;
    *) return 1 ;;
  esac
}

run_one() {
  local target="$1" extra=()
  if sequence_like "$target"; then extra=(-max_len=4096 -len_control=0); else extra=(-max_len=4096); fi
  mkdir -p "$out/corpus/$target" "fuzz/artifacts/$target"
  local status=ok
  nice -n 19 "$bin_dir/$target" "$out/corpus/$target" "fuzz/corpus/$target" \
    -artifact_prefix="fuzz/artifacts/$target/" -max_total_time="$secs" \
    -print_final_stats=1 "${extra[@]}" >"$out/logs/$target.log" 2>&1 || status=FAILED
  echo "$status" >"$out/logs/$target.status"
}

for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "$(date +%T) start $target"
  run_one "$target" &
done
wait

echo
echo "| target | time (s) | execs | exec/s | cov | ft | corpus (\`corp:\`) | new files | result |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for target in "${targets[@]}"; do
  log="$out/logs/$target.log"
  stat() { grep -m1 -o "stat::$1: *[0-9]*" "$log" | grep -o '[0-9]*$' || echo "?"; }
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo "?")
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo "?")
  corp=$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' <<<"$last" | sed 's/corp: //' || echo "?")
  files=$(find "$out/corpus/$target" -type f | wc -l)
  result=$(cat "$out/logs/$target.status")
  [ "$result" = ok ] && result="none" || result="**crash**: see $log"
  echo "| \`$target\` | $secs | $(stat number_of_executed_units) | $(stat average_exec_per_sec) | $cov | $ft | $corp | $files | $result |"
done

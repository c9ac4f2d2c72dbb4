#!/usr/bin/env bash
# Builds the Python wheel (ffi/pyproject.toml, maturin, release profile),
# installs it into a fresh virtualenv and runs ffi/tests/python against the
# installed package (no PYTHONPATH). The last line reads
# "python-bindings: N passed, N failed" as for test-python.sh.
#
# Needs python3 with venv and the package index (maturin is installed into
# a build virtualenv). Set SEALPOST_WHEEL_DIR to keep the wheel.
#
# Usage: ffi/scripts/test-wheel.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sealpost-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
wheels="${SEALPOST_WHEEL_DIR:-$work/wheels}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

# maturin generates the Python module with `uniffi-bindgen` from PATH: ours,
# pinned to the crate's UniFFI version.
cargo build -q -p sealpost-ffi --features cli --bin sealpost-uniffi-bindgen --manifest-path "$root/Cargo.toml"
mkdir -p "$work/bin"
ln -s "$target_dir/debug/sealpost-uniffi-bindgen" "$work/bin/uniffi-bindgen"

"$python" -m venv "$work/build"
"$work/build/bin/pip" install -q "maturin>=1.5,<2"
(cd "$root/ffi" && PATH="$work/bin:$PATH" "$work/build/bin/maturin" build --release --quiet -o "$wheels")
wheel="$(ls "$wheels"/sealpost_e2e-*.whl)"
echo "test-wheel: built $(basename "$wheel")"

"$python" -m venv "$work/run"
"$work/run/bin/pip" install -q "$wheel"
cd "$root/ffi/tests/python"
env -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 "$work/run/bin/python" -c \
    'import sealpost, os; assert "site-packages" in sealpost.__file__, sealpost.__file__'
env -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 "$work/run/bin/python" run.py

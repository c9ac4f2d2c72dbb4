#!/usr/bin/env bash
# Builds libsealpost_ffi, generates the Python bindings into a temporary
# folder, copies the library next to them and runs ffi/tests/python with the
# machine's python3 (stdlib unittest only). The last line reads
# "python-bindings: N passed, N failed"; the exit status is non-zero on any
# failure, or if no test ran.
#
# Usage: ffi/scripts/test-python.sh [--release | --profile NAME]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${PYTHON:-python3}"
out="$(mktemp -d "${TMPDIR:-/tmp}/sealpost-python.XXXXXX")"
trap 'rm -rf "$out"' EXIT

library="$("$root/ffi/scripts/generate-bindings.sh" "$@" --out-dir "$out" python | tail -n 1)"
cp "$library" "$out/python/"
cd "$root/ffi/tests/python"
PYTHONPATH="$out/python${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 "$python" run.py

#!/usr/bin/env bash
# Builds libsealpost_ffi for the host and generates Kotlin, Swift and Python
# bindings from the built library (UniFFI "library mode": the API is read
# from metadata inside the library, so bindings always match the code).
#
# Usage: ffi/scripts/generate-bindings.sh [--release | --profile NAME]
#                                         [--out-dir DIR] [LANGUAGE...]
#   LANGUAGE   kotlin, swift, python (default: all three)
#   --out-dir  default: ffi/bindings (gitignored); one subfolder per language
#   --profile  cargo profile for the host build (default: dev)
#
# The bindings do not depend on the target: generate them once on any host,
# then build the library per target (cargo-ndk, Apple targets; see
# ffi/README.md). Run from anywhere; honours CARGO_TARGET_DIR.
# Prints the path of the host library on its last line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
profile=dev
out_dir="$root/ffi/bindings"
languages=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --release) profile=release ;;
        --profile) profile="${2:?--profile needs a name}"; shift ;;
        --out-dir) out_dir="${2:?--out-dir needs a directory}"; shift ;;
        kotlin|swift|python) languages+=("$1") ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "generate-bindings: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ ${#languages[@]} -gt 0 ]] || languages=(kotlin swift python)

case "$profile" in
    dev|test) profile_dir=debug ;;
    release|bench) profile_dir=release ;;
    *) profile_dir="$profile" ;;
esac
case "$(uname -s)" in
    Darwin) lib_name=libsealpost_ffi.dylib ;;
    MINGW*|MSYS*|CYGWIN*) lib_name=sealpost_ffi.dll ;;
    *) lib_name=libsealpost_ffi.so ;;
esac

cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
# One build for the library and the generator: the `cli` feature only adds
# the generator binary's dependencies, and the linker drops them from the
# cdylib. Apps ship libraries built without it (see ffi/README.md).
cargo build --profile "$profile" -p sealpost-ffi --features cli --lib --bin sealpost-uniffi-bindgen
library="$target_dir/$profile_dir/$lib_name"
bindgen="$target_dir/$profile_dir/sealpost-uniffi-bindgen"
[[ -f "$library" ]] || { echo "generate-bindings: $library was not built" >&2; exit 1; }

for language in "${languages[@]}"; do
    # The generator runs `cargo metadata`, so it must run inside the workspace.
    "$bindgen" generate --library "$library" --language "$language" --no-format \
        --out-dir "$out_dir/$language"
    echo "generate-bindings: $language bindings in $out_dir/$language"
done
echo "$library"

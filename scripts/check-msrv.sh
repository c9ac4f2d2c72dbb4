#!/usr/bin/env bash
# Checks that each crate builds with the oldest Rust its Cargo.toml claims
# (`rust-version`): the published core crate `sealpost` (with every
# feature) and the workspace crates that apps build from source.
#
#   sealpost, sealpost-testkit, sealpost-wasm   1.88
#   sealpost-client, sealpost-ffi               1.89 (rusqlite 0.43 needs it)
#
# Installs each toolchain with rustup (minimal profile) if missing; builds
# into target/msrv so the main build is untouched. A toolchain that cannot
# be downloaded is reported and skipped; a crate that does not build with
# its claimed version, or warns there, fails the script.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}/msrv"

# crate, manifest, extra cargo arguments
checks=(
    "sealpost Cargo.toml --all-features"
    "sealpost-testkit testkit/Cargo.toml"
    "sealpost-wasm web/Cargo.toml"
    "sealpost-client client/Cargo.toml"
    "sealpost-ffi ffi/Cargo.toml"
)

for check in "${checks[@]}"; do
    read -r crate manifest extra <<<"$check"
    msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$manifest" | head -n 1)"
    if [ -z "$msrv" ]; then
        echo "check-msrv: $manifest declares no rust-version" >&2
        exit 1
    fi
    if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
        if ! rustup toolchain install "$msrv" --profile minimal >/dev/null 2>&1; then
            echo "check-msrv: WARNING: could not install Rust $msrv; $crate not checked"
            continue
        fi
    fi
    # shellcheck disable=SC2086 # $extra is a list of arguments
    CARGO_TARGET_DIR="$target" RUSTFLAGS="-D warnings" cargo "+$msrv" check --quiet -p "$crate" --lib $extra
    echo "check-msrv: $crate builds with Rust $msrv (its rust-version)"
done

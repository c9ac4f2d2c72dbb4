#!/usr/bin/env bash
# Checks that the core crate builds for browsers (wasm32-unknown-unknown).
# Randomness there comes from the Web Crypto API through getrandom's
# `wasm_js` backend (enabled by a target-specific dependency in the root
# Cargo.toml); no RUSTFLAGS are needed. The FFI crate is not built for wasm:
# browser clients use the core crate directly (see ffi/README.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "check-wasm: the wasm32-unknown-unknown target is not installed (rustup target add wasm32-unknown-unknown)" >&2
    exit 1
fi
cargo build --target wasm32-unknown-unknown -p sealpost --lib "$@"
echo "check-wasm: sealpost builds for wasm32-unknown-unknown"

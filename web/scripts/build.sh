#!/usr/bin/env bash
# Builds the npm package `sealpost` into web/pkg/ and packs it into
# web/pkg/sealpost-<version>.tgz (see web/README.md).
#
#   web/scripts/build.sh            release build (what is published)
#
# Needs: the wasm32-unknown-unknown target (installed here if missing) and
# wasm-bindgen-cli at exactly the version web/Cargo.toml pins for the
# wasm-bindgen crate (installed with `cargo install` if missing or
# different; about 2 minutes on 2 cores), and npm (`npm pack`).
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$web/.." && pwd)"
cd "$root"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

want="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' web/Cargo.toml)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$want" ]; then
    echo "build: installing wasm-bindgen-cli $want (found: ${have:-none})"
    # --locked first (reproducible); without it if a locked dependency is
    # missing from the registry (the mirror here lacks one).
    cargo install --quiet --locked wasm-bindgen-cli --version "$want" --no-default-features 2>/dev/null ||
        cargo install --quiet wasm-bindgen-cli --version "$want" --no-default-features
fi

cargo build --quiet --release --target wasm32-unknown-unknown -p sealpost-wasm
wasm="${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/release/sealpost_wasm.wasm"

pkg="$web/pkg"
rm -rf "$pkg"
mkdir -p "$pkg"
# Two builds of the same module: CommonJS for Node.js (loads the .wasm
# file itself), and an ES module for browsers and bundlers (`await
# init()` fetches the .wasm beside it, or takes its bytes).
wasm-bindgen --target nodejs --out-dir "$pkg/node" --out-name sealpost "$wasm"
wasm-bindgen --target web --out-dir "$pkg/web" --out-name sealpost "$wasm"
echo '{ "type": "module" }' > "$pkg/web/package.json"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' web/Cargo.toml | head -n 1)"
sed "s/@VERSION@/$version/" web/package/package.json > "$pkg/package.json"
cp web/package/README.md LICENSE-MIT LICENSE-APACHE "$pkg/"
(cd "$pkg" && npm pack --quiet >/dev/null)
echo "build: $pkg/sealpost-$version.tgz ($(du -k "$pkg/node/sealpost_bg.wasm" | cut -f1) KiB of wasm)"

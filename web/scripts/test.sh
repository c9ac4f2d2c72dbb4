#!/usr/bin/env bash
# Tests the npm package as a user installs it (see web/README.md):
#
#  1. builds it (web/scripts/build.sh) and installs the tarball into a
#     scratch project, offline (the package has no dependencies);
#  2. runs the README's hello world and the scenarios under Node's test
#     runner against the installed CommonJS build (and loads the ES module
#     build in Node once);
#  3. type-checks web/tests/types.ts against the installed declarations
#     with `tsc --strict` (TypeScript 5 from the npm registry);
#  4. serves the scratch project on 127.0.0.1 and runs the same scenarios
#     in headless Chromium against the installed ES module build, checking
#     the summary line the page writes; keeps a screenshot and the page's
#     DOM in target/web-test/ as artifacts.
#
# Installs Debian's chromium if it is missing (as root, with apt-get).
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$web/.." && pwd)"
artifacts="${CARGO_TARGET_DIR:-$root/target}/web-test"
mkdir -p "$artifacts"

node_major="$(node --version | sed 's/^v\([0-9]*\).*/\1/')"
if [ "$node_major" -lt 20 ]; then
    echo "test: Node.js $(node --version) is too old: the package needs 20 or newer (Web Crypto as globalThis.crypto)" >&2
    exit 1
fi

"$web/scripts/build.sh"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$web/Cargo.toml" | head -n 1)"
tarball="$web/pkg/sealpost-$version.tgz"

scratch="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

cd "$scratch"
echo '{ "name": "sealpost-package-test", "private": true }' > package.json
npm install --offline --no-audit --no-fund --silent "$tarball"
cp "$web/tests/scenarios.mjs" "$web/tests/node.test.mjs" "$web/tests/browser.html" "$web/tests/types.ts" \
    "$web/examples/hello.cjs" .

echo "==> Node.js $(node --version): the README's hello world"
node hello.cjs

echo "==> Node.js: the scenarios (node --test)"
node --test node.test.mjs

echo "==> TypeScript: the declarations type-check as an app uses them (tsc --strict)"
# TypeScript from the npm registry (the one step that is not offline).
npm install --no-audit --no-fund --silent typescript@5
# wasm-bindgen's classes implement `Symbol.dispose` (`using`): the
# declarations need the esnext.disposable library.
./node_modules/.bin/tsc --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 \
    --lib es2022,esnext.disposable,dom types.ts
echo "types.ts type-checks"

echo "==> headless Chromium: the scenarios"
if ! command -v chromium >/dev/null; then
    echo "test: installing Debian's chromium"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server --bind 127.0.0.1 "$port" >"$artifacts/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/browser.html')" 2>/dev/null; then break; fi
    sleep 0.1
done
url="http://127.0.0.1:$port/browser.html"
# --no-sandbox: CI runs as root. The virtual time budget lets the page's
# module scripts and the wasm instantiation finish before the DOM is read.
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --virtual-time-budget=60000)
timeout 180 "${chrome[@]}" --dump-dom "$url" >"$artifacts/browser.html" 2>"$artifacts/chromium.log"
timeout 180 "${chrome[@]}" --window-size=1280,720 --screenshot="$artifacts/browser.png" "$url" \
    >/dev/null 2>>"$artifacts/chromium.log"
summary="$(sed -n 's/.*<p id="summary"[^>]*>\([^<]*\)<\/p>.*/\1/p' "$artifacts/browser.html")"
sed -n 's/<div class="[a-z]*">\([^<]*\)<\/div>/\1\n/gp' "$artifacts/browser.html" | sed '/^ *$/d; s/^ *<pre id="lines">//; s/<\/pre>$//'
echo "$summary"
echo "test: screenshot and DOM in $artifacts/"
case "$summary" in
    "browser: 0 passed"*) echo "test: the browser ran no scenario" >&2; exit 1 ;;
    "browser: "*" passed, 0 failed") ;;
    *) echo "test: the browser run failed (see $artifacts/browser.html)" >&2; exit 1 ;;
esac

#!/usr/bin/env bash
# Builds libsealpost_ffi, generates the Kotlin bindings, compiles them with
# ffi/tests/kotlin/*.kt and runs the tests on the JVM through JNA. The last
# line reads "kotlin-bindings: N passed, N failed"; the exit status is
# non-zero on any failure.
#
# Needs a JDK (17 or newer), JNA and a current Kotlin compiler. When run as
# root without them (CI), installs Debian's libjna-java and the npm package
# kotlin-compiler (Debian's kotlin is too old) into
# ${SEALPOST_KOTLIN_HOME:-$HOME/.cache/sealpost-kotlin}. Otherwise set
# KOTLINC (path to kotlinc-jvm) and JNA_JAR.
#
# Usage: ffi/scripts/test-kotlin.sh [--release | --profile NAME]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kotlin_version=2.4.20
kotlin_home="${SEALPOST_KOTLIN_HOME:-$HOME/.cache/sealpost-kotlin}"

jna="${JNA_JAR:-/usr/share/java/jna.jar}"
if [[ ! -f "$jna" ]]; then
    [[ $(id -u) -eq 0 ]] || { echo "test-kotlin: no JNA at $jna (apt-get install libjna-java, or set JNA_JAR)" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q libjna-java >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libjna-java >/dev/null; }
fi
kotlinc="${KOTLINC:-$kotlin_home/node_modules/kotlin-compiler/bin/kotlinc-jvm}"
if [[ ! -x "$kotlinc" ]]; then
    mkdir -p "$kotlin_home"
    npm install --prefix "$kotlin_home" --no-audit --no-fund --silent "kotlin-compiler@$kotlin_version"
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/sealpost-kotlin.XXXXXX")"
trap 'rm -rf "$out"' EXIT
library="$("$root/ffi/scripts/generate-bindings.sh" "$@" --out-dir "$out" kotlin | tail -n 1)"

# One jar with the Kotlin runtime, the bindings and the tests.
"$kotlinc" -nowarn -include-runtime -cp "$jna" -d "$out/tests.jar" \
    "$out/kotlin/uniffi/sealpost/sealpost.kt" "$root"/ffi/tests/kotlin/*.kt 2>&1 |
    grep -v '^warning:' || true
[[ -f "$out/tests.jar" ]] || { echo "test-kotlin: compilation failed" >&2; exit 1; }
java -Djna.library.path="$(dirname "$library")" -cp "$out/tests.jar:$jna" SealpostTestKt

#!/usr/bin/env bash
# What can be checked of the Swift bindings without a Swift toolchain:
# generates them, compiles the C header they import (sealpostFFI.h) with the
# host C compiler (the clang nullability qualifiers defined away for gcc),
# and checks that every uniffi function the header declares is exported by
# the built library and the other way round, so the Swift module would link.
# Prints "swift-header: N functions, header and library agree".
#
# Usage: ffi/scripts/check-swift-header.sh [--release | --profile NAME]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mktemp -d "${TMPDIR:-/tmp}/sealpost-swift.XXXXXX")"
trap 'rm -rf "$out"' EXIT
library="$("$root/ffi/scripts/generate-bindings.sh" "$@" --out-dir "$out" swift | tail -n 1)"
header="$out/swift/sealpostFFI.h"
[[ -f "$header" && -f "$out/swift/sealpost.swift" ]] || { echo "swift-header: bindings missing" >&2; exit 1; }

printf '#include "sealpostFFI.h"\nint main(void) { return 0; }\n' >"$out/check.c"
"${CC:-cc}" -std=c11 -Wall -Werror -D_Nullable= -D_Nonnull= -fsyntax-only -I"$out/swift" "$out/check.c"

declared="$(grep -oE '\b(uniffi|ffi)_sealpost_ffi_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)"
exported="$(nm -D --defined-only "$library" | awk '{print $3}' | grep -E '^(uniffi|ffi)_sealpost_ffi_' | sort -u)"
if [[ "$declared" != "$exported" ]]; then
    echo "swift-header: header and library differ:" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
echo "swift-header: $(echo "$declared" | wc -l) functions, header and library agree"

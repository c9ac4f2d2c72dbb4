#!/usr/bin/env python3
"""The public API of the `sealpost` crate, one line per item, from rustdoc JSON.

    python3 scripts/public-api.py            # print the API
    python3 scripts/public-api.py --check    # compare with tests/public-api.txt
    python3 scripts/public-api.py --bless    # rewrite tests/public-api.txt

It builds the crate's rustdoc JSON with the nightly toolchain (rustdoc JSON
is unstable), walks the public modules from the crate root, follows `pub use`
re-exports, and lists every reachable item with its kind and, for functions
and methods, its signature. It fails if an item is reachable by more than
one path: every public type has exactly one path (see the API table in
src/lib.rs). CI runs `--check`, so a change of the public API shows up as a
diff in review; bless it on purpose when the change is intended.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "public-api.txt"
TARGET = Path(os.environ.get("SEALPOST_API_TARGET_DIR", ROOT / "target" / "public-api"))


def build() -> dict:
    subprocess.run(
        ["cargo", "+nightly", "rustdoc", "-p", "sealpost", "--lib", "--quiet", "--target-dir", str(TARGET),
         "--", "-Z", "unstable-options", "--output-format", "json"],
        cwd=ROOT, check=True)
    return json.loads((TARGET / "doc" / "sealpost.json").read_text())


def render(t) -> str:
    """A compact rendering of a rustdoc JSON type."""
    if t is None:
        return "()"
    (kind, v), = t.items()
    if kind == "primitive":
        return v
    if kind == "generic":
        return v
    if kind == "tuple":
        return "(" + ", ".join(render(x) for x in v) + ")"
    if kind == "slice":
        return "[" + render(v) + "]"
    if kind == "array":
        return "[" + render(v["type"]) + "; " + v["len"] + "]"
    if kind == "borrowed_ref":
        return "&" + ("mut " if v["is_mutable"] else "") + render(v["type"])
    if kind == "raw_pointer":
        return ("*mut " if v["is_mutable"] else "*const ") + render(v["type"])
    if kind == "resolved_path":
        # The last segment: internal module paths are not part of the API.
        return v["path"].split("::")[-1] + render_args(v.get("args"))
    if kind == "impl_trait":
        return "impl " + " + ".join(render_bound(b) for b in v)
    if kind == "dyn_trait":
        return "dyn " + " + ".join(render(({"resolved_path": p["trait"]})) for p in v["traits"])
    if kind == "qualified_path":
        return "<" + render(v["self_type"]) + ">::" + v["name"]
    if kind == "function_pointer":
        return "fn(..)"
    return kind


def render_args(args) -> str:
    if not args:
        return ""
    if "angle_bracketed" in args:
        parts = []
        for a in args["angle_bracketed"]["args"]:
            if "type" in a:
                parts.append(render(a["type"]))
            elif "lifetime" in a:
                parts.append(a["lifetime"])
            elif "const" in a:
                parts.append(str(a["const"].get("expr", "_")))
        for c in args["angle_bracketed"].get("constraints", []):
            binding = c.get("binding", {})
            if "equality" in binding and "type" in binding["equality"]:
                parts.append(c["name"] + " = " + render(binding["equality"]["type"]))
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in args:
        p = args["parenthesized"]
        out = "(" + ", ".join(render(x) for x in p["inputs"]) + ")"
        return out + (" -> " + render(p["output"]) if p.get("output") else "")
    return ""


def render_bound(b) -> str:
    if "trait_bound" in b:
        tr = b["trait_bound"]["trait"]
        maybe = "?" if b["trait_bound"].get("modifier") == "maybe" else ""
        return maybe + tr["path"].split("::")[-1] + render_args(tr.get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "?"


def signature(item) -> str:
    f = item["inner"]["function"]
    sig = f["sig"]
    inputs = []
    for name, ty in sig["inputs"]:
        inputs.append("self" if name == "self" and render(ty) == "Self" else
                      (render(ty).replace("Self", "self", 1) if name == "self" else f"{name}: {render(ty)}"))
    bounds = []
    for g in f["generics"]["params"]:
        kind = g["kind"]
        if "type" in kind and kind["type"]["bounds"] and not kind["type"].get("is_synthetic"):
            bounds.append(g["name"] + ": " + " + ".join(render_bound(b) for b in kind["type"]["bounds"]))
    generics = "<" + ", ".join(bounds) + ">" if bounds else ""
    out = "" if sig["output"] is None else " -> " + render(sig["output"])
    return f"fn {item['name']}{generics}({', '.join(inputs)}){out}"


def walk(doc: dict):
    index = doc["index"]
    lines = []
    paths_of = {}

    def item(i):
        return index.get(str(i))

    def visit(i, path):
        it = item(i)
        if it is None:
            return
        inner_kind, inner = next(iter(it["inner"].items()))
        if inner_kind == "use":
            target = inner.get("id")
            if inner.get("is_glob"):
                lines.append(f"use {path}::* (glob re-export)")
                return
            if target is None:
                lines.append(f"use {path}::{inner['name']} (external: {inner['source']})")
                return
            visit(target, path)
            return
        paths_of.setdefault(i, []).append(path)
        if inner_kind == "module":
            lines.append(f"mod {path}")
            for child in inner["items"]:
                c = item(child)
                if c is None or c["visibility"] != "public":
                    continue
                name = c["name"] if "use" not in c["inner"] else c["inner"]["use"]["name"]
                visit(child, path_join(path, name))
            return
        lines.append(f"{inner_kind} {path}")
        if inner_kind == "enum":
            for v in inner["variants"]:
                lines.append(f"variant {path}::{item(v)['name']}")
        if inner_kind == "struct":
            fields = inner["kind"].get("plain", {}).get("fields", [])
            for fid in fields:
                fld = item(fid)
                if fld and fld["visibility"] == "public":
                    lines.append(f"field {path}::{fld['name']}: {render(fld['inner']['struct_field'])}")
        if inner_kind in ("struct", "enum", "trait"):
            impls = inner.get("impls", []) if inner_kind != "trait" else []
            for imp_id in impls:
                imp = item(imp_id)["inner"]["impl"]
                if imp["is_synthetic"] or imp["blanket_impl"] is not None:
                    continue
                if imp["trait"] is not None:
                    trait = imp["trait"]["path"].split("::")[-1]
                    lines.append(f"impl {trait}{render_args(imp['trait'].get('args'))} for {path}")
                    continue
                for fid in imp["items"]:
                    f = item(fid)
                    if f and f["visibility"] == "public" and "function" in f["inner"]:
                        lines.append(f"method {path}::{signature(f)}")
                    elif f and f["visibility"] == "public" and "assoc_const" in f["inner"]:
                        lines.append(f"const {path}::{f['name']}")
            if inner_kind == "trait":
                for fid in inner["items"]:
                    f = item(fid)
                    if f and "function" in f["inner"]:
                        lines.append(f"trait-method {path}::{signature(f)}")
        if inner_kind == "function":
            lines[-1] = f"function {path}: {signature(it)}"

    def path_join(a, b):
        return f"{a}::{b}"

    visit(doc["root"], "sealpost")
    dups = {i: p for i, p in paths_of.items() if len(p) > 1}
    return sorted(set(lines)), dups


def main() -> int:
    doc = build()
    lines, dups = walk(doc)
    text = "\n".join(lines) + "\n"
    if dups:
        for i, paths in dups.items():
            print(f"error: one item, several public paths: {', '.join(paths)}", file=sys.stderr)
        return 1
    if "--bless" in sys.argv:
        SNAPSHOT.write_text(text)
        print(f"wrote {SNAPSHOT.relative_to(ROOT)} ({len(lines)} items)")
        return 0
    if "--check" in sys.argv:
        old = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
        if old == text:
            print(f"public API unchanged ({len(lines)} items)")
            return 0
        import difflib
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                   "tests/public-api.txt", "current public API"))
        print("error: the public API changed; if that is intended, run "
              "`python3 scripts/public-api.py --bless` and commit tests/public-api.txt", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Print the BENCHMARKS.md tables (absolute times and library/primitive
ratios) from criterion's output in target/criterion.

Usage, after `cargo bench --bench <name> -- --warm-up-time 1 --measurement-time 3`:

    python3 benches/ratios.py                 # every area with results
    python3 benches/ratios.py --area session  # one area
    python3 benches/ratios.py --stat mean     # mean instead of median

The target directory is $CARGO_TARGET_DIR if set, else ./target
(override with --target-dir).

Adding an area (group, Forkout, Burnout, ...): add an entry to AREAS
below. Each row names a library benchmark, the "floor" benchmark that runs
exactly the primitive calls the operation needs (measured in the same run),
optionally a formula over single-primitive benchmarks as a cross-check, and
the ratio target (None: shown for information, no target). Benchmark ids
are "<criterion group>/<function>". A list of ids means "sum of these"
(e.g. initiator + responder).
"""

import argparse
import json
import os
import sys

AREAS = {
    "devices": {
        "raw": [
            "devices_raw/aead_seal_1KiB",
            "devices_raw/slot_1to1",
            "devices_lib/list_verify_32",
            "devices_lib/link",
        ],
        "rows": [
            {
                "what": "send 1 KiB to a person with 5 devices, plus 2 own (one AEAD + 7 slots)",
                "lib": "devices_lib/send_1KiB_7",
                "floor": "devices_floor/send_1KiB_7",
                "raw": {"devices_raw/aead_seal_1KiB": 1, "devices_raw/slot_1to1": 7},
                "target": 1.2,
            },
            {
                "what": "group message, 100 people x 3 devices, against 3 devices (one encryption)",
                "lib": "devices_group/encrypt_1KiB_300",
                "floor": "devices_group/encrypt_1KiB_3",
                "raw": None,
                "target": 1.05,
            },
        ],
    },
    "session": {
        "raw": [
            "session_raw/aead_seal_open_100B",
            "session_raw/aead_seal_open_1MiB",
            "session_raw/chain_step",
            "session_raw/message_key_expand",
            "session_raw/root_step",
            "session_raw/x25519_keygen",
            "session_raw/x25519_dh",
            "session_raw/ed25519_sign",
            "session_raw/ed25519_verify_strict",
            "session_raw/identity_decode",
            "session_raw/mlkem1024_keygen_from_seed",
            "session_raw/mlkem1024_parse_key",
            "session_raw/mlkem1024_encaps",
            "session_raw/mlkem1024_decaps",
            "session_raw/mlkem768_keygen_from_seed",
            "session_raw/mlkem768_parse_key",
            "session_raw/mlkem768_encaps",
            "session_raw/mlkem768_decaps",
        ],
        "rows": [
            {
                "what": "100 B message in one chain (encrypt + decrypt)",
                "lib": "session_lib/in_chain_100B",
                "floor": "session_floor/in_chain_100B",
                "raw": {
                    "session_raw/aead_seal_open_100B": 1,
                    "session_raw/chain_step": 2,
                    "session_raw/message_key_expand": 2,
                },
                "target": 1.5,
            },
            {
                "what": "1 MiB message in one chain (encrypt + decrypt)",
                "lib": "session_lib/in_chain_1MiB",
                "floor": "session_floor/in_chain_1MiB",
                "raw": {"session_raw/aead_seal_open_1MiB": 1},
                "target": 1.1,
            },
            {
                "what": "100 B in one chain, caller-owned buffers (encrypt_into + decrypt_into)",
                "lib": "session_lib/in_chain_100B_into",
                "floor": "session_floor/in_chain_100B",
                "raw": {
                    "session_raw/aead_seal_open_100B": 1,
                    "session_raw/chain_step": 2,
                    "session_raw/message_key_expand": 2,
                },
                "target": 1.03,
            },
            {
                "what": "1 MiB in one chain, caller-owned buffers (encrypt_into + decrypt_into)",
                "lib": "session_lib/in_chain_1MiB_into",
                "floor": "session_floor/in_chain_1MiB",
                "raw": {"session_raw/aead_seal_open_1MiB": 1},
                "target": 1.1,
            },
            {
                "what": "DH-ratchet round trip (A->B, B->A, new keys)",
                "lib": "session_lib/dh_ratchet_round_trip",
                "floor": "session_floor/dh_ratchet_round_trip",
                "raw": {"session_raw/x25519_keygen": 2, "session_raw/x25519_dh": 4},
                "target": 1.3,
            },
            {
                "what": "post-quantum ratchet: one epoch of alternating round trips, with it / without it",
                "lib": "session_lib/epoch_of_round_trips",
                "floor": "session_lib/epoch_of_round_trips_classical",
                "raw": {"session_lib/epoch_of_round_trips_classical": 1},
                "target": None,
            },
            {
                "what": "post-quantum ratchet: its amortized cost (with - without) / its ML-KEM-768 work",
                "lib": ["session_lib/epoch_of_round_trips", "-session_lib/epoch_of_round_trips_classical"],
                "floor": [
                    "session_raw/mlkem768_keygen_from_seed",
                    "session_raw/mlkem768_parse_key",
                    "session_raw/mlkem768_encaps",
                    "session_raw/mlkem768_decaps",
                ],
                "raw": {
                    "session_raw/mlkem768_keygen_from_seed": 1,
                    "session_raw/mlkem768_parse_key": 1,
                    "session_raw/mlkem768_encaps": 1,
                    "session_raw/mlkem768_decaps": 1,
                },
                "target": 1.3,
            },
            {
                "what": "setup, initiator (parse bundle, PQXDH, first encrypt)",
                "lib": "session_lib/setup_initiator",
                "floor": "session_floor/setup_initiator",
                "raw": {
                    "session_raw/identity_decode": 1,
                    "session_raw/ed25519_verify_strict": 2,
                    "session_raw/mlkem1024_parse_key": 1,
                    "session_raw/mlkem1024_encaps": 1,
                    "session_raw/x25519_keygen": 2,
                    "session_raw/x25519_dh": 5,
                    "session_raw/mlkem768_keygen_from_seed": 1,
                },
                "target": 1.3,
            },
            {
                "what": "setup, responder (create_inbound_session)",
                "lib": "session_lib/setup_responder",
                "floor": "session_floor/setup_responder",
                "raw": {
                    "session_raw/identity_decode": 1,
                    "session_raw/x25519_dh": 5,
                    "session_raw/mlkem1024_keygen_from_seed": 1,
                    "session_raw/mlkem1024_decaps": 1,
                },
                "target": 1.3,
            },
            {
                "what": "setup, both sides",
                "lib": ["session_lib/setup_initiator", "session_lib/setup_responder"],
                "floor": ["session_floor/setup_initiator", "session_floor/setup_responder"],
                "raw": {
                    "session_raw/identity_decode": 2,
                    "session_raw/ed25519_verify_strict": 2,
                    "session_raw/mlkem1024_parse_key": 1,
                    "session_raw/mlkem1024_encaps": 1,
                    "session_raw/mlkem1024_keygen_from_seed": 1,
                    "session_raw/mlkem1024_decaps": 1,
                    "session_raw/x25519_keygen": 2,
                    "session_raw/x25519_dh": 10,
                    "session_raw/mlkem768_keygen_from_seed": 1,
                },
                "target": 1.3,
            },
        ],
    },
    "forkout": {
        "raw": [
            "forkout_raw/aead_seal_1KiB",
            "forkout_raw/aead_seal_1MiB",
            "forkout_raw/sha256_1KiB",
            "forkout_raw/sha256_1MiB",
            "forkout_raw/chacha20_1KiB",
            "forkout_raw/chacha20_1MiB",
            "forkout_raw/slot_1to1",
        ],
        "rows": [
            {
                "what": "seal 1 KiB to 10 (one AEAD + 10 slots)",
                "lib": "forkout_lib/seal_1KiB_10",
                "floor": "forkout_floor/seal_1KiB_10",
                "raw": {"forkout_raw/aead_seal_1KiB": 1, "forkout_raw/slot_1to1": 10},
                "target": None,
            },
            {
                "what": "seal 1 KiB to 100 (one AEAD + 100 slots)",
                "lib": "forkout_lib/seal_1KiB_100",
                "floor": "forkout_floor/seal_1KiB_100",
                "raw": {"forkout_raw/aead_seal_1KiB": 1, "forkout_raw/slot_1to1": 100},
                "target": None,
            },
            {
                "what": "seal 1 KiB to 1000 (one AEAD + 1000 slots)",
                "lib": "forkout_lib/seal_1KiB_1000",
                "floor": "forkout_floor/seal_1KiB_1000",
                "raw": {"forkout_raw/aead_seal_1KiB": 1, "forkout_raw/slot_1to1": 1000},
                "target": None,
            },
            {
                "what": "seal 1 MiB to 10 (one AEAD + 10 slots)",
                "lib": "forkout_lib/seal_1MiB_10",
                "floor": "forkout_floor/seal_1MiB_10",
                "raw": {"forkout_raw/aead_seal_1MiB": 1, "forkout_raw/slot_1to1": 10},
                "target": None,
            },
            {
                "what": "seal 1 MiB to 100 (one AEAD + 100 slots)",
                "lib": "forkout_lib/seal_1MiB_100",
                "floor": "forkout_floor/seal_1MiB_100",
                "raw": {"forkout_raw/aead_seal_1MiB": 1, "forkout_raw/slot_1to1": 100},
                "target": None,
            },
            {
                "what": "seal 1 MiB to 1000 (one AEAD + 1000 slots)",
                "lib": "forkout_lib/seal_1MiB_1000",
                "floor": "forkout_floor/seal_1MiB_1000",
                "raw": {"forkout_raw/aead_seal_1MiB": 1, "forkout_raw/slot_1to1": 1000},
                "target": 1.2,
            },
            {
                "what": "naive 1 MiB to 1000 / seal (must be >= 100x)",
                "lib": "forkout_naive/seal_1MiB_1000",
                "floor": "forkout_lib/seal_1MiB_1000",
                "raw": {"forkout_lib/seal_1MiB_1000": 1},
                "target": None,
            },
            {
                "what": "seal 100 B to 10 with a Burnout envelope / without",
                "lib": "forkout_lib/seal_100B_10_burnout",
                "floor": "forkout_lib/seal_100B_10",
                "raw": {"forkout_lib/seal_100B_10": 1},
                "target": 1.05,
            },
            {
                "what": "open 100 B with a Burnout envelope / without",
                "lib": "forkout_lib/open_100B_burnout",
                "floor": "forkout_lib/open_100B",
                "raw": {"forkout_lib/open_100B": 1},
                "target": 1.05,
            },
        ],
    },
}


def load(root, bench_id, stat):
    """Point estimate in nanoseconds, or None if the benchmark has not run."""
    path = os.path.join(root, "criterion", *bench_id.split("/"), "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)[stat]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def total(root, ids, stat):
    """Sum of the benchmarks named; an id starting with "-" is subtracted."""
    ids = ids if isinstance(ids, list) else [ids]
    signs = [(-1, i[1:]) if i.startswith("-") else (1, i) for i in ids]
    values = [(sign, load(root, i, stat)) for sign, i in signs]
    return None if any(v is None for _, v in values) else sum(sign * v for sign, v in values)


def formula(root, terms, stat):
    if not terms:
        return None
    values = [(load(root, i, stat), n) for i, n in terms.items()]
    return None if any(v is None for v, _ in values) else sum(v * n for v, n in values)


def fmt_time(ns):
    if ns is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.3g} ns"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}x"


def print_area(name, area, root, stat):
    print(f"### {name}: primitives ({stat})\n")
    print("| primitive | time |")
    print("|---|---:|")
    for bench_id in area["raw"]:
        print(f"| `{bench_id.split('/', 1)[1]}` | {fmt_time(load(root, bench_id, stat))} |")
    print(f"\n### {name}: library vs primitives ({stat})\n")
    print("| operation | library | floor (measured) | ratio | floor (sum of primitives) | ratio | target | met |")
    print("|---|---:|---:|---:|---:|---:|---:|:---:|")
    for row in area["rows"]:
        lib = total(root, row["lib"], stat)
        floor = total(root, row["floor"], stat)
        raw = formula(root, row["raw"], stat)
        r = ratio(lib, floor)
        target = row["target"]
        if target is None:
            met, shown = "—", "—"
        else:
            met, shown = ("n/a" if r is None else ("yes" if r <= target else "**no**")), f"≤ {target}x"
        print(
            f"| {row['what']} | {fmt_time(lib)} | {fmt_time(floor)} | {fmt_ratio(r)} | {fmt_time(raw)} "
            f"| {fmt_ratio(ratio(lib, raw))} | {shown} | {met} |"
        )
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--area", choices=sorted(AREAS), help="only this area")
    parser.add_argument("--stat", default="median", choices=["median", "mean", "slope"])
    parser.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.target_dir, "criterion")):
        sys.exit(f"no criterion results in {args.target_dir}/criterion: run cargo bench first")
    for name, area in AREAS.items():
        if args.area in (None, name):
            print_area(name, area, args.target_dir, args.stat)


if __name__ == "__main__":
    main()

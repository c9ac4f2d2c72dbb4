#!/usr/bin/env python3
"""Draws the sealpost / vodozemac ratios of the peer benchmark as an SVG.

Input: the output of one or more runs of the peer benchmark
(`cd benches/peer && cargo bench > run1.txt`), whose result lines read

    peer NAME  sealpost X µs   vodozemac Y µs   ratio R

Output: one horizontal bar per scenario, the ratio of the first run as the
bar and the range over all runs as a whisker; a line at 1.0 (left of it,
sealpost is faster). Also prints a Markdown table (scenario, each run's
ratio, the spread) for BENCHMARKS.md.

    python3 scripts/peer-chart.py run1.txt run2.txt --svg docs/peer-ratios.svg

Standard library only.
"""

import argparse
import math
import re
import sys

LINE = re.compile(
    r"^peer\s+(?P<name>\S+)\s+sealpost\s+(?P<a>[\d.]+)\s+µs\s+vodozemac\s+(?P<b>[\d.]+)\s+µs\s+ratio\s+(?P<r>[\d.]+)"
)


def read_run(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                rows[m["name"]] = (float(m["a"]), float(m["b"]), float(m["r"]))
    return rows


def svg(names, runs, width=760):
    bar_h, gap, left, top = 18, 8, 210, 40
    height = top + len(names) * (bar_h + gap) + 50
    ratios = [r[n][2] for r in runs for n in names if n in r]
    hi = max(1.5, max(ratios) * 1.1)
    lo = 0.0
    scale = (width - left - 30) / (hi - lo)
    x = lambda v: left + (v - lo) * scale  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">'
        "sealpost time / vodozemac time (thread CPU, paired; below 1: sealpost faster)</text>",
    ]
    for i, name in enumerate(names):
        y = top + i * (bar_h + gap)
        values = [r[name][2] for r in runs if name in r]
        first = values[0]
        colour = "#2a7d4f" if first < 1 else "#b03a2e"
        out.append(f'<text x="{left - 8}" y="{y + bar_h * 0.75}" text-anchor="end">{name}</text>')
        out.append(f'<rect x="{x(0)}" y="{y}" width="{x(first) - x(0):.1f}" height="{bar_h}" fill="{colour}"/>')
        if len(values) > 1:
            ym = y + bar_h / 2
            out.append(
                f'<line x1="{x(min(values)):.1f}" y1="{ym}" x2="{x(max(values)):.1f}" y2="{ym}" stroke="black"/>'
            )
        out.append(f'<text x="{x(first) + 4:.1f}" y="{y + bar_h * 0.75}">{first:.2f}</text>')
    axis_y = top + len(names) * (bar_h + gap)
    out.append(f'<line x1="{x(1)}" y1="{top - 6}" x2="{x(1)}" y2="{axis_y}" stroke="#444" stroke-dasharray="4 3"/>')
    ticks = [t / 2 for t in range(0, int(math.ceil(hi * 2)) + 1) if t / 2 <= hi]
    for t in ticks:
        out.append(f'<text x="{x(t):.1f}" y="{axis_y + 16}" text-anchor="middle">{t:g}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="output files of peer benchmark runs")
    p.add_argument("--svg", help="write the chart here")
    args = p.parse_args()
    runs = [read_run(path) for path in args.runs]
    names = [n for n in runs[0]]
    if not names:
        sys.exit(f"no 'peer ...' result lines in {args.runs[0]}")
    print("| scenario | sealpost | vodozemac | " + " | ".join(f"ratio run {i + 1}" for i in range(len(runs))) + " | spread |")
    print("|---|---|---|" + "---|" * len(runs) + "---|")
    for n in names:
        values = [r[n][2] for r in runs if n in r]
        a, b, _ = runs[0][n]
        spread = (max(values) - min(values)) / min(values) * 100 if values else 0
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {n} | {a:.2f} µs | {b:.2f} µs | {cells} | {spread:.0f}% |")
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(svg(names, runs))
        print(f"wrote {args.svg}", file=sys.stderr)


if __name__ == "__main__":
    main()

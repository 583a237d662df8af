#!/usr/bin/env python3
"""The rank split over training for several `thermolearn beliefs analyze --json` outputs, as one SVG (standard
library only): top, each run's factored part minus its prediction sum_i (d_i - 1); bottom, its joint excess share
+-1 paired fold standard error, both against log10 training tokens (the JSON's `belief_linked_checkpoints`).

Usage: belief-split-figure.py OUT.svg LABEL=ANALYSIS.json [LABEL=ANALYSIS.json ...]
"""
import json
import math
import sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
WIDTH, HEIGHT, LEFT, RIGHT, TOP = 900, 620, 80, 250, 40
TOP_PANEL = (TOP, 150)          # y0, height of the factored-part panel
BOTTOM_PANEL = (TOP + 200, 320)  # y0, height of the excess-share panel


def load(spec):
    label, _, path = spec.partition("=")
    if not path:
        sys.exit(f"belief-split-figure: '{spec}' is not LABEL=ANALYSIS.json")
    with open(path, encoding="utf-8") as f:
        analysis = json.load(f)
    prediction = analysis["centroids"]["factored_dimension"]
    points = [(math.log10(c["tokens"]), c["belief_rank_factored"] - prediction, c["belief_rank_excess_share"], c["belief_rank_excess_share_stderr"])
              for c in analysis["belief_linked_checkpoints"] if c["tokens"] > 0 and c["belief_rank_factored"] is not None]
    if not points:
        sys.exit(f"belief-split-figure: {path} has no checkpoint with a rank split (not a product?)")
    return label, points


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    runs = [load(spec) for spec in argv[2:]]
    xs = [p[0] for _, pts in runs for p in pts]
    x0, x1 = min(xs) - 0.1, max(xs) + 0.1
    top_share = 1.1 * max(p[2] + p[3] for _, pts in runs for p in pts)
    plot_width = WIDTH - LEFT - RIGHT

    def px(x):
        return LEFT + (x - x0) / (x1 - x0) * plot_width

    def py_share(v):
        y0, h = BOTTOM_PANEL
        return y0 + h - v / top_share * h

    def py_rank(v):  # factored part minus prediction, shown from -2 to +2
        y0, h = TOP_PANEL
        return y0 + h / 2 - v / 4 * h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    for y0, h in (TOP_PANEL, BOTTOM_PANEL):
        out.append(f'<rect x="{LEFT}" y="{y0}" width="{plot_width}" height="{h}" fill="none" stroke="black"/>')
    for d in (-2, -1, 0, 1, 2):
        y = py_rank(d)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{f"{d:+d}" if d else "0"}</text>')
    step = 10 ** math.floor(math.log10(top_share / 4))
    step *= 2 if top_share / step > 8 else 1
    v = 0.0
    while v <= top_share:
        y = py_share(v)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{v:.3g}</text>')
        v += step
    tick = math.ceil(x0 * 4) / 4
    while tick <= x1:
        x = px(tick)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{BOTTOM_PANEL[0] + BOTTOM_PANEL[1]}" y2="{BOTTOM_PANEL[0] + BOTTOM_PANEL[1] + 5}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{BOTTOM_PANEL[0] + BOTTOM_PANEL[1] + 20}" text-anchor="middle">{tick:.2f}</text>')
        tick += 0.25
    out.append(f'<text x="{LEFT + plot_width / 2}" y="{HEIGHT - 8}" text-anchor="middle">log10 training tokens</text>')
    out.append(f'<text x="{LEFT + plot_width / 2}" y="{TOP - 12}" text-anchor="middle" font-weight="bold">factored part minus sum_i (d_i - 1)</text>')
    out.append(f'<text x="{LEFT + plot_width / 2}" y="{BOTTOM_PANEL[0] - 12}" text-anchor="middle" font-weight="bold">joint excess share of the held-out centroid variance (+-1 se)</text>')
    for k, (label, pts) in enumerate(runs):
        colour = COLOURS[k % len(COLOURS)]
        offset = (k - (len(runs) - 1) / 2) * 7  # pixels: a small horizontal dodge so equal ranks stay visible
        rank_path = " ".join(f"{px(x) + offset:.1f},{py_rank(r):.1f}" for x, r, _, _ in pts)
        share_path = " ".join(f"{px(x):.1f},{py_share(s):.1f}" for x, _, s, _ in pts)
        out.append(f'<polyline points="{rank_path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        out.append(f'<polyline points="{share_path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for x, r, s, se in pts:
            out.append(f'<circle cx="{px(x) + offset:.1f}" cy="{py_rank(r):.1f}" r="4" fill="{colour}"/>')
            out.append(f'<circle cx="{px(x):.1f}" cy="{py_share(s):.1f}" r="3.5" fill="{colour}"/>')
            out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{py_share(s - se):.1f}" y2="{py_share(s + se):.1f}" stroke="{colour}" stroke-width="1.5"/>')
        ly = TOP + 20 + 22 * k
        out.append(f'<line x1="{WIDTH - RIGHT + 20}" x2="{WIDTH - RIGHT + 45}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 52}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    with open(argv[1], "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)

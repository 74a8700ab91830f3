"""Draw scripts/bench's JSON results as horizontal bars (median, p10–p90 whiskers)
on a log scale, one pair of bars per row.  Run with the venv's python (matplotlib,
the `bench` extra):  python plot.py RESULTS.json OUT.png"""
from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def pct(s: list[float], q: float) -> float:
    s = sorted(s)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main(src: str, dst: str) -> None:
    data = json.load(open(src))
    rows, sides = data["rows"], data["sides"]
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(rows) * len(sides) + 1.5))
    h = 0.8 / len(sides)
    for k, side in enumerate(sides):
        ys, meds, lo, hi = [], [], [], []
        for i, r in enumerate(rows):
            s = r["samples"].get(side)
            if not s:
                continue
            m = pct(s, 0.5)
            ys.append(len(rows) - 1 - i + (k - (len(sides) - 1) / 2) * h)
            meds.append(m)
            lo.append(m - pct(s, 0.1))
            hi.append(pct(s, 0.9) - m)
        ax.barh(ys, meds, height=h, xerr=[lo, hi], label=side, capsize=2)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['label']} ({r['unit']})" for r in rows][::-1], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("median, p10–p90 whiskers (log scale; unit per row)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

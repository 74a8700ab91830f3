"""The table: median [p10–p90] per side and the minidocker/Docker ratio per row."""
from __future__ import annotations

from .common import Results, spread


def fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def cell(samples: list[float] | None) -> str:
    if not samples:
        return "-"
    med, lo, hi = spread(samples)
    return fmt(med) if len(samples) == 1 else f"{fmt(med)} [{fmt(lo)}–{fmt(hi)}]"


def render(res: Results, sides: list[str]) -> str:
    head = ["row", "unit"] + [f"{s} median [p10–p90]" for s in sides] + (["ratio md/docker"] if len(sides) > 1 else [])
    lines = [head]
    for row in res.rows.values():
        line = [row.label, row.unit] + [cell(row.samples.get(s)) for s in sides]
        if len(sides) > 1:
            a, b = row.samples.get(sides[0]), row.samples.get(sides[1])
            line.append(f"{spread(a)[0] / spread(b)[0]:.2f}" if a and b and spread(b)[0] else "-")
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()
           for line in lines]
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out + [f"note: {n}" for n in res.notes])

"""Shell-out, timing, statistics and the results table every group of rows fills."""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_PY = os.path.join(REPO, ".venv", "bin", "python")
MINIDOCKER = os.path.join(REPO, ".venv", "bin", "minidocker")
PREFIX = "mdbench"


def sh(argv: list[str], check: bool = True, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MINIDOCKER_EXPLAIN"}
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {(p.stderr or p.stdout).strip()}")
    return p.stdout


@dataclass
class Side:
    """One daemon under test, driven through its CLI; ``subnet`` keeps the two apart."""
    name: str
    cli: list[str]
    octet: int  # second octet of the 10.x.0.0/16 networks this side creates

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        return sh(self.cli + list(args), check=check, timeout=timeout)

    def timed(self, *args: str) -> float:
        """Milliseconds one CLI command takes, start to exit."""
        t0 = time.perf_counter()
        self(*args)
        return (time.perf_counter() - t0) * 1000

    def subnet(self, k: int) -> tuple[str, str]:
        """The k-th /24 of this side: (subnet, gateway)."""
        return f"10.{self.octet}.{k}.0/24", f"10.{self.octet}.{k}.1"

    def pid_of(self, container: str) -> int:
        return int(self("inspect", "-f", "{{.State.Pid}}", container).strip())


def timed_ms(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1000


def spread(samples: list[float]) -> tuple[float, float, float]:
    """(median, p10, p90); p10/p90 by the nearest rank."""
    s = sorted(samples)
    rank = lambda q: s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]  # noqa: E731
    return statistics.median(s), rank(0.10), rank(0.90)


@dataclass
class Row:
    label: str
    unit: str
    higher_is_better: bool = False
    samples: dict[str, list[float]] = field(default_factory=dict)


class Results:
    """Rows in the order they were first filled; each holds samples per side."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.notes: list[str] = []

    def add(self, label: str, side: str, value: float, unit: str = "ms", higher_is_better: bool = False) -> None:
        row = self.rows.setdefault(label, Row(label, unit, higher_is_better))
        row.samples.setdefault(side, []).append(value)

    def failed(self, group: str, err: Exception) -> None:
        self.notes.append(f"{group}: failed: {err}")

    def as_json(self) -> dict:
        return {"rows": [{"label": r.label, "unit": r.unit, "higher_is_better": r.higher_is_better,
                          "samples": r.samples} for r in self.rows.values()], "notes": self.notes}


def interleave(sides: list[Side], runs: int, step, res: Results, warmup: int = 1) -> None:
    """Run ``step(side) -> {label: ms}`` runs times per side, alternating which side
    goes first, after ``warmup`` untimed rounds."""
    for i in range(warmup + runs):
        for side in (sides if i % 2 == 0 else sides[::-1]):
            figures = step(side)
            if i >= warmup:
                for label, ms in figures.items():
                    res.add(label, side.name, ms)

"""Floor rows: what the kernel and the interpreter cost for the same work, for
comparison (measured by floor_probe.py in the venv's python, and by spawning it)."""
from __future__ import annotations

import json
import os
import subprocess

from .common import VENV_PY, Results, timed_ms

UNITS = {"floor: a new file in the state root's file system": "µs"}  # the probe's rows not in ms


def measure(runs: int, res: Results, suffix: str = "") -> None:
    """The floor rows; ``suffix`` (" @1000 containers") when measured beside running ones."""
    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor_probe.py")
    out = subprocess.run([VENV_PY, probe, str(max(runs, 5))], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "floor probe failed")
    for label, samples in json.loads(out.stdout).items():
        for value in samples:
            res.add(label + suffix, "minidocker", value, UNITS.get(label, "ms"))
    if suffix:
        return
    for _ in range(max(runs, 10)):
        res.add("floor: python3 -I -S -c pass", "minidocker",
                timed_ms(subprocess.run, [VENV_PY, "-I", "-S", "-c", "pass"]))

"""scripts/bench's command line: which groups of rows run, on which sides, and the output."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from . import dns, floor, ops, scale
from .common import MINIDOCKER, REPO, VENV_PY, Results, Side
from .table import render

# group name -> words its rows' labels contain (what --rows matches against)
GROUPS = {
    "startup": "startup cli --version",
    "ops": "run --rm none host default bridge user network container: run -d exec true "
           "network create rm connect disconnect",
    "dns": "dns qps latency known alias unknown",
    "scale": "scale run -d ps exec memory rss pss daemon shims rm -f",
    "floor": "floor kernel netns veth unshare python",
}


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="scripts/bench", description="Time minidocker next to Docker; print a table.")
    ap.add_argument("-n", "--runs", type=int, default=10, help="runs per timed row and side (default 10)")
    ap.add_argument("--quick", action="store_true", help="3 runs, 1 s DNS runs, 20 scale containers")
    ap.add_argument("--no-docker", action="store_true", help="measure minidocker only")
    ap.add_argument("--rows", default="", metavar="PATTERN",
                    help=f"only the groups whose name or row words match this regex ({', '.join(GROUPS)})")
    ap.add_argument("--scale", type=int, default=0, metavar="N",
                    help="also start N containers on one network (minidocker only beyond --containers)")
    ap.add_argument("--containers", type=int, default=200, help="sequential run -d on one network, both (200)")
    ap.add_argument("--dns-seconds", type=float, default=3.0, help="length of one dnsperf run (default 3)")
    ap.add_argument("--plot", metavar="FILE.png", help="draw the table (installs matplotlib into .venv if needed)")
    ap.add_argument("--json", metavar="FILE", help="write the samples as JSON")
    opts = ap.parse_args(argv)
    if opts.quick:
        opts.runs, opts.dns_seconds, opts.containers = min(opts.runs, 3), 1.0, min(opts.containers, 20)
    opts.runs = max(1, min(opts.runs, 1000))
    return opts


def docker_cli() -> str | None:
    """Debian's docker 20.10 CLI (/usr/bin/docker) before any other on PATH, if the daemon answers it."""
    for cand in ("/usr/bin/docker", shutil.which("docker")):
        if cand and os.access(cand, os.X_OK) and subprocess.run([cand, "version"], capture_output=True).returncode == 0:
            return cand
    return None


def progress(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def ensure_matplotlib() -> None:
    if subprocess.run([VENV_PY, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        progress("installing the bench extra (matplotlib) into .venv")
        subprocess.run([VENV_PY, "-m", "pip", "install", "-q", "--disable-pip-version-check", "matplotlib>=3.5"],
                       check=True)


def run(opts: argparse.Namespace) -> int:
    p = subprocess.run(["bash", os.path.join(REPO, "scripts", "setup")], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"bench: scripts/setup failed:\n{p.stdout}{p.stderr}", file=sys.stderr)
        return 2
    sides = [Side("minidocker", [MINIDOCKER], 231)]
    docker = None if opts.no_docker else docker_cli()
    if docker:
        sides.append(Side("docker", [docker], 232))
    wanted = [g for g, words in GROUPS.items() if not opts.rows or re.search(opts.rows, f"{g} {words}")]
    res = Results()
    jobs = {
        "startup": lambda: ops.startup(sides, opts.runs, res),
        "ops": lambda: ops.measure(sides, opts.runs, res),
        "dns": lambda: dns.measure(sides, max(1, opts.runs // 5), opts.dns_seconds, res, progress),
        "scale": lambda: scale.measure(sides, opts.containers, opts.scale, min(opts.runs, 5), res, progress),
        "floor": lambda: floor.measure(opts.runs, res),
    }
    for g in wanted:
        progress(f"{g} ({', '.join(s.name for s in sides)})")
        try:
            jobs[g]()
        except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, AttributeError) as e:
            res.failed(g, e)
    names = [s.name for s in sides]
    print(render(res, names))
    data = dict(res.as_json(), sides=names)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(data, f, indent=1)
    if opts.plot:
        ensure_matplotlib()
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(data, f)
            f.flush()
            subprocess.run([VENV_PY, os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot.py"),
                            f.name, opts.plot], check=True)
        progress(f"plot written to {opts.plot}")
    return 1 if res.notes and any("failed" in n for n in res.notes) else 0


def main(argv: list[str] | None = None) -> int:
    opts = parse(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("bench: must run as root", file=sys.stderr)
        return 2
    daemon_ctl = os.path.join(REPO, "scripts", "daemon-ctl")
    started_daemon = subprocess.run([daemon_ctl, "running"]).returncode != 0
    try:
        return run(opts)
    finally:
        if started_daemon and subprocess.run([daemon_ctl, "stop"]).returncode != 0:
            print("bench: could not stop the minidocker daemon it started", file=sys.stderr)

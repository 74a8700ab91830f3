"""Rows of single commands: `run --rm busybox true` per network mode, `run -d`,
`exec true`, and the network verbs; plus the CLI's own start-up.

Each side gets a user network (mdbench, 10.<side>.1.0/24) with one running
container, mdbench_x, which `container:`, `exec` and `network connect` use.
"""
from __future__ import annotations

from .common import PREFIX, Results, Side, interleave

NET = PREFIX
X = PREFIX + "_x"


def setup(side: Side) -> None:
    teardown(side)
    subnet, _ = side.subnet(1)
    side("network", "create", "--subnet", subnet, NET)
    side("run", "-d", "--name", X, "--network", NET, "busybox", "sleep", "3600")


def teardown(side: Side) -> None:
    side("rm", "-f", X, PREFIX + "_d", PREFIX + "_rm", check=False)
    side("network", "rm", NET, PREFIX + "_n", check=False)


RUN_MODES = [("none", ["--network", "none"]), ("host", ["--network", "host"]),
             ("default bridge", []), ("user network", ["--network", NET]),
             ("container:", ["--network", "container:" + X])]


def step(side: Side) -> dict[str, float]:
    t: dict[str, float] = {}
    for mode, flags in RUN_MODES:
        t[f"run --rm busybox true ({mode})"] = side.timed("run", "--rm", "--name", PREFIX + "_rm", *flags,
                                                          "busybox", "true")
    t["run -d (user network)"] = side.timed("run", "-d", "--name", PREFIX + "_d", "--network", NET,
                                            "busybox", "sleep", "3600")
    side("rm", "-f", PREFIX + "_d")
    t["exec true"] = side.timed("exec", X, "true")
    t["network create"] = side.timed("network", "create", "--subnet", side.subnet(2)[0], PREFIX + "_n")
    t["network connect"] = side.timed("network", "connect", PREFIX + "_n", X)
    t["network disconnect"] = side.timed("network", "disconnect", PREFIX + "_n", X)
    t["network rm"] = side.timed("network", "rm", PREFIX + "_n")
    return t


def measure(sides: list[Side], runs: int, res: Results) -> None:
    for side in sides:
        setup(side)
    try:
        interleave(sides, runs, step, res)
    finally:
        for side in sides:
            teardown(side)


def startup(sides: list[Side], runs: int, res: Results) -> None:
    """The CLI alone: `--version` answers without the daemon."""
    interleave(sides, max(runs, 10), lambda side: {"CLI start-up (--version)": side.timed("--version")}, res)

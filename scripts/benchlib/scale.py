"""Scale rows: N sequential `run -d` on one user network (both sides interleaved,
one container each in turn), with memory, `ps`, `exec`, `run --rm` and network
connect/disconnect measured at 1, 100 and N existing containers (how cost grows);
every container pinged by name; then `rm -f` of all of them.

Memory is read from /proc/PID/smaps_rollup: the daemon (minidockerd; dockerd and
containerd) and the shims (the parents of the containers' first processes).
"""
from __future__ import annotations

import os
import time

from . import floor
from .common import PREFIX, Results, Side, interleave

NET = PREFIX + "_scale"
NET2 = PREFIX + "_scale2"  # what the connect/disconnect rows join and leave


def name(i: int) -> str:
    return f"{PREFIX}_s{i}"


def memory_kb(pid: int) -> tuple[int, int]:
    """(Rss, Pss) in kB of one process; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def daemon_pids(side: Side) -> list[int]:
    if side.name == "docker":
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and comm(int(p)) in ("dockerd", "containerd")]
        return pids
    run_dir = os.environ.get("MINIDOCKER_RUN", "/run/minidocker")
    found = []
    for pidfile in ("minidockerd.pid", "supervisor.pid"):  # the supervisor is containerd's counterpart
        try:
            with open(os.path.join(run_dir, pidfile)) as f:
                found.append(int(f.read().strip()))
        except (OSError, ValueError):
            pass
    return found


def daemon_memory_kb(side: Side) -> tuple[int, int]:
    d = [memory_kb(p) for p in daemon_pids(side)]
    return sum(r for r, _ in d), sum(p for _, p in d)


def memory(side: Side, names: list[str], res: Results, at: int, idle: dict) -> None:
    """The daemon's memory (minidockerd and its supervisor; dockerd and containerd),
    the shims' per container, and what one container costs in all: the daemon's
    growth since ``idle`` (its PSS before the first container) plus the shims, / N."""
    mb = lambda kb: kb / 1024  # noqa: E731
    rss, pss = daemon_memory_kb(side)
    res.add(f"daemon RSS @{at} containers", side.name, mb(rss), "MB")
    res.add(f"daemon PSS @{at} containers", side.name, mb(pss), "MB")
    pids = side("inspect", "-f", "{{.State.Pid}}", *names).split()
    shims = {ppid(int(p)) for p in pids if int(p) > 0}
    daemons = set(daemon_pids(side))
    shims -= daemons  # a runtime whose containers are the daemon's (or its supervisor's) children has no shims
    m = [memory_kb(p) for p in shims]
    shim_pss = sum(p for _, p in m)
    res.add(f"shims RSS per container @{at}", side.name, mb(sum(r for r, _ in m)) / len(names), "MB")
    res.add(f"shims PSS per container @{at}", side.name, mb(shim_pss) / len(names), "MB")
    if side.name in idle:
        res.add(f"memory per container @{at} (daemon growth + shims, PSS)", side.name,
                mb(pss - idle[side.name] + shim_pss) / len(names), "MB")


def checkpoint(sides: list[Side], at: int, runs: int, res: Results, idle: dict) -> None:
    """Memory, and the single-command rows again, with ``at`` containers running."""
    names = [name(i) for i in range(at)]
    for side in sides:
        memory(side, names, res, at, idle)
    floor.measure(runs, res, f" @{at} containers")  # does the kernel's own cost grow too?
    interleave(sides, runs, lambda s: {
        f"ps @{at} containers": s.timed("ps"),
        f"exec true @{at} containers": s.timed("exec", name(0), "true"),
        f"run --rm busybox true (user network) @{at} containers":
            s.timed("run", "--rm", "--network", NET, "busybox", "true"),
        f"network connect @{at} containers": s.timed("network", "connect", NET2, name(0)),
        f"network disconnect @{at} containers": s.timed("network", "disconnect", NET2, name(0)),
    }, res)


def reachable(side: Side, names: list[str]) -> int:
    """How many of ``names`` the first container reaches by name (one ping each, from
    one shell inside it), the first one counted from the last container."""
    loop = "n=0; for h in $0 \"$@\"; do ping -c 1 -W 2 $h >/dev/null 2>&1 && n=$((n+1)); done; echo $n"
    others = side("exec", names[0], "sh", "-c", loop, *names[1:], timeout=1200, check=False).strip()
    back = side("exec", names[-1], "ping", "-c", "1", "-W", "2", names[0], check=False)
    return int(others or 0) + (" 0% packet loss" in back)


def measure(sides: list[Side], n: int, scale: int, runs: int, res: Results, progress) -> None:
    n = min(n, scale) if scale else n
    total = max(n, scale)
    marks = {m for m in (1, 100, n, scale) if m and m <= total}
    active = list(sides)
    started = {s.name: 0.0 for s in sides}
    try:
        for side in sides:
            teardown(side, 0)
            side("network", "create", "--subnet", f"10.{side.octet}.128.0/17", NET)
            side("network", "create", "--subnet", f"10.{side.octet}.100.0/24", NET2)
        time.sleep(1)  # the daemons settle (minidocker's supervisor starts beside its daemon)
        idle = {side.name: daemon_memory_kb(side)[1] for side in sides}
        for side in sides:
            res.add("daemon PSS @0 containers", side.name, idle[side.name] / 1024, "MB")
        for i in range(total):
            if i == n and scale > n:
                active = [s for s in sides if s.name == "minidocker"]
            for side in (active if i % 2 == 0 else active[::-1]):
                ms = side.timed("run", "-d", "--name", name(i), "--network", NET, "busybox", "sleep", "36000")
                started[side.name] += ms
                span = f"1–{n}" if i < n else f"{n + 1}–{total}"
                res.add(f"run -d, containers {span} on one network (each)", side.name, ms)
                if i + 1 in {100, 200, n, scale}:
                    res.add(f"{i + 1} sequential run -d, total", side.name, started[side.name] / 1000, "s")
            if i + 1 in marks:
                progress(f"scale: {i + 1} containers")
                checkpoint(active, i + 1, runs, res, idle)
        for side in active:
            count = reachable(side, [name(i) for i in range(total)])
            res.notes.append(f"scale ({side.name}): {count} of {total} containers reachable by name from another"
                             f" ({name(0)} pinged the others, {name(total - 1)} pinged {name(0)})")
    finally:
        for side in sides:
            t0 = time.perf_counter()
            teardown(side, total)
            res.add("rm -f of all scale containers (one command)", side.name, time.perf_counter() - t0, "s")


def teardown(side: Side, count: int) -> None:
    names = [name(i) for i in range(count)]
    for k in range(0, len(names), 200):
        side("rm", "-f", *names[k:k + 200], check=False, timeout=1200)
    for _ in range(60):  # Docker may still hold an endpoint of a container it just removed (at 1000: > 10 s)
        side("network", "rm", NET, NET2, check=False)
        if not side("network", "ls", "-q", "--filter", f"name={NET}", check=False).strip():  # (a substring)
            return
        time.sleep(1)

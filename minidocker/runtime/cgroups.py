"""One cgroup per container: limits, freezer, OOM counter, usage (daemon side).

Two backends behind one interface, chosen by what the host mounts:

- ``V2``: the unified hierarchy (``/sys/fs/cgroup/cgroup.controllers`` lists
  controllers): ``<root>/<parent>/<id>`` with memory.max, cpu.max, pids.max,
  cgroup.freeze, memory.events.
- ``V1``: one hierarchy per controller (``/sys/fs/cgroup/memory``, ``cpu``,
  ...), as Docker 20.10 with the cgroupfs driver uses them:
  ``<root>/<ctrl>/<parent>/<id>`` in each.

The files each backend writes for a set of limits are rendered by pure
functions (``render_v1``/``render_v2``) so both are unit-tested without root.
The container process joins before it execs: launcher.py writes ``0`` (itself)
into every ``procs_files()`` entry. On v1 that is the ``tasks`` file, which
moves the writing thread only: the launcher is single-threaded then, so the
whole process moves, without taking the kernel's global threadgroup lock
(writing ``cgroup.procs`` takes it, and the first taking after a quiet spell
waits for an RCU grace period: 6-20 ms per start and per exec).
"""
import errno
import os
import time
from dataclasses import dataclass, fields

from minidocker import explain
from minidocker.errors import KernelError

ROOT = "/sys/fs/cgroup"
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")
V1_JOIN_FILE = "tasks"  # what a single-threaded process writes 0 into to join (see above)
DEFAULT_PERIOD = 100000
UNLIMITED_V1 = 9223372036854771712  # what memory.limit_in_bytes reads when unset


@dataclass
class Limits:
    """HostConfig's resource fields, as Docker stores them (0: not set)."""
    Memory: int = 0
    MemorySwap: int = 0          # memory + swap; -1 unlimited
    MemoryReservation: int = 0
    NanoCpus: int = 0
    CpuShares: int = 0
    CpuPeriod: int = 0
    CpuQuota: int = 0
    PidsLimit: int = 0           # <= 0: unlimited

    @classmethod
    def from_host_config(cls, hc: dict) -> "Limits":
        return cls(**{f.name: int(hc.get(f.name) or 0) for f in fields(cls)})


def _cpu_quota(lim: Limits) -> tuple[int, int]:
    """(quota, period) in µs; quota -1: unlimited."""
    if lim.NanoCpus:
        period = DEFAULT_PERIOD
        return lim.NanoCpus * period // 1_000_000_000, period
    return (lim.CpuQuota if lim.CpuQuota > 0 else -1), (lim.CpuPeriod or DEFAULT_PERIOD)


def render_v1(lim: Limits, update: bool = False) -> list[tuple[str, str, str]]:
    """(controller, file, value) in the order to write. ``update``: only what is
    set (an update leaves the rest as it is)."""
    out = []
    if lim.Memory > 0 or not update:
        out.append(("memory", "memory.limit_in_bytes", str(lim.Memory if lim.Memory > 0 else -1)))
    if lim.MemorySwap != 0 or not update:
        out.append(("memory", "memory.memsw.limit_in_bytes",
                    str(lim.MemorySwap if lim.MemorySwap > 0 else -1)))
    if lim.MemoryReservation > 0 or not update:
        out.append(("memory", "memory.soft_limit_in_bytes",
                    str(lim.MemoryReservation if lim.MemoryReservation > 0 else -1)))
    if lim.CpuShares > 0:
        out.append(("cpu", "cpu.shares", str(lim.CpuShares)))
    if lim.NanoCpus or lim.CpuPeriod or lim.CpuQuota or not update:
        quota, period = _cpu_quota(lim)
        out.append(("cpu", "cpu.cfs_period_us", str(period)))
        out.append(("cpu", "cpu.cfs_quota_us", str(quota)))
    if lim.PidsLimit != 0 or not update:
        out.append(("pids", "pids.max", str(lim.PidsLimit) if lim.PidsLimit > 0 else "max"))
    return out


def shares_to_weight(shares: int) -> int:
    """runc's cpu.shares -> cpu.weight ([2, 262144] -> [1, 10000])."""
    return 1 + ((shares - 2) * 9999) // 262142


def render_v2(lim: Limits, update: bool = False) -> list[tuple[str, str]]:
    """(file, value) in the order to write, in the container's unified cgroup."""
    out = []
    if lim.Memory > 0 or not update:
        out.append(("memory.max", str(lim.Memory) if lim.Memory > 0 else "max"))
    if lim.MemorySwap != 0 or not update:
        swap = "max" if lim.MemorySwap <= 0 or lim.Memory <= 0 else str(lim.MemorySwap - lim.Memory)
        out.append(("memory.swap.max", swap))
    if lim.MemoryReservation > 0 or not update:
        out.append(("memory.low", str(lim.MemoryReservation) if lim.MemoryReservation > 0 else "0"))
    if lim.CpuShares > 0:
        out.append(("cpu.weight", str(shares_to_weight(lim.CpuShares))))
    if lim.NanoCpus or lim.CpuPeriod or lim.CpuQuota or not update:
        quota, period = _cpu_quota(lim)
        out.append(("cpu.max", f"{quota if quota > 0 else 'max'} {period}"))
    if lim.PidsLimit != 0 or not update:
        out.append(("pids.max", str(lim.PidsLimit) if lim.PidsLimit > 0 else "max"))
    return out


def _write(path: str, value: str) -> None:
    explain.emit("sh", "-c", f"echo {value} > {path}")
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        raise KernelError(f'failed to write "{value}": write {path}: {os.strerror(e.errno).lower()}') from None


def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _keyed(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if v.strip().lstrip("-").isdigit():
            out[k] = int(v)
    return out


def _rmdir(path: str, wait: float = 2.0) -> None:
    """Remove an (empty) cgroup; its last processes may take a moment to go."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.rmdir(path)
            explain.emit("rmdir", path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() > deadline:
                raise KernelError(f"remove cgroup {path}: {os.strerror(e.errno).lower()}") from None
            time.sleep(0.02)


class V1:
    """cgroup v1: the container's directory in each controller's hierarchy."""
    version = 1

    def __init__(self, parent: str = "minidocker", root: str = ROOT):
        self.root, self.parent = root, parent.strip("/")
        self._controllers: list[str] | None = None

    def dir(self, ctrl: str, cid: str = "") -> str:
        return os.path.join(self.root, ctrl, self.parent, cid) if cid else os.path.join(self.root, ctrl, self.parent)

    def controllers(self) -> list[str]:
        """The hierarchies mounted (looked up once: the host's mounts stay)."""
        if self._controllers is None:
            self._controllers = [c for c in V1_CONTROLLERS if os.path.isdir(os.path.join(self.root, c))]
        return self._controllers

    def create(self, cid: str, lim: Limits) -> None:
        made = []
        try:
            for ctrl in self.controllers():
                d = self.dir(ctrl, cid)
                os.makedirs(d, exist_ok=True)
                made.append(d)
                explain.emit("mkdir", "-p", d)
            self.apply(cid, lim, update=True)  # a new cgroup has the defaults: only what is set
        except OSError as e:
            for d in reversed(made):
                _rmdir(d, 0)
            raise KernelError(f"create cgroup for {cid[:12]}: {os.strerror(e.errno).lower()}") from None
        except KernelError:
            for d in reversed(made):
                _rmdir(d, 0)
            raise

    def apply(self, cid: str, lim: Limits, update: bool = False) -> None:
        writes = [(c, f, v) for c, f, v in render_v1(lim, update) if c in self.controllers()]
        mem = [w for w in writes if w[0] == "memory" and w[1] in ("memory.limit_in_bytes",
                                                                   "memory.memsw.limit_in_bytes")]
        rest = [w for w in writes if w not in mem]
        if mem and not os.path.exists(os.path.join(self.dir("memory", cid), "memory.memsw.limit_in_bytes")):
            mem = [w for w in mem if w[1] != "memory.memsw.limit_in_bytes"]  # no swap accounting
        try:  # memsw must stay >= limit at every step: raising it goes first
            for c, f, v in mem:
                _write(os.path.join(self.dir(c, cid), f), v)
        except KernelError:
            for c, f, v in reversed(mem):
                _write(os.path.join(self.dir(c, cid), f), v)
        for c, f, v in rest:
            _write(os.path.join(self.dir(c, cid), f), v)

    def procs_files(self, cid: str) -> list[str]:
        return [os.path.join(self.dir(c, cid), V1_JOIN_FILE) for c in self.controllers()]

    def exists(self, cid: str) -> bool:
        return os.path.isdir(self.dir("memory", cid)) or os.path.isdir(self.dir("pids", cid))

    def pids(self, cid: str) -> list[int]:
        for ctrl in ("pids", "memory", "freezer"):
            text = _read(os.path.join(self.dir(ctrl, cid), "cgroup.procs"), None)
            if text is not None:
                return sorted(int(p) for p in text.split())
        return []

    def freeze(self, cid: str, frozen: bool) -> None:
        path = os.path.join(self.dir("freezer", cid), "freezer.state")
        want = "FROZEN" if frozen else "THAWED"
        deadline = time.monotonic() + 10
        while True:
            _write(path, want)
            if _read(path).strip() == want:
                return
            if time.monotonic() > deadline:
                raise KernelError(f"cgroup {cid[:12]} did not reach {want}")
            time.sleep(0.01)

    def frozen(self, cid: str) -> bool:
        return _read(os.path.join(self.dir("freezer", cid), "freezer.state")).strip() == "FROZEN"

    def oom_kills(self, cid: str) -> int:
        oc = _keyed(_read(os.path.join(self.dir("memory", cid), "memory.oom_control")))
        if "oom_kill" in oc:
            return oc["oom_kill"]
        return 1 if oc.get("under_oom") else 0

    def usage(self, cid: str) -> dict:
        """Raw counters for stats (engine/stats.py shapes them)."""
        m, ca, p, cpu = (lambda f, c=c: os.path.join(self.dir(c, cid), f)
                         for c in ("memory", "cpuacct", "pids", "cpu"))
        stat = _keyed(_read(ca("cpuacct.stat")))
        tick = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
        limit = int(_read(m("memory.limit_in_bytes"), "0").strip() or 0)
        pids_max = _read(p("pids.max"), "max").strip()
        return {
            "cpu_total": int(_read(ca("cpuacct.usage"), "0").strip() or 0),
            "cpu_percpu": [int(x) for x in _read(ca("cpuacct.usage_percpu")).split()],
            "cpu_user": stat.get("user", 0) * tick, "cpu_system": stat.get("system", 0) * tick,
            "throttling": _keyed(_read(cpu("cpu.stat"))),
            "mem_usage": int(_read(m("memory.usage_in_bytes"), "0").strip() or 0),
            "mem_max_usage": int(_read(m("memory.max_usage_in_bytes"), "0").strip() or 0),
            "mem_limit": limit if 0 < limit < UNLIMITED_V1 else 0,
            "mem_stats": _keyed(_read(m("memory.stat"))),
            "pids_current": int(_read(p("pids.current"), "0").strip() or 0),
            "pids_limit": int(pids_max) if pids_max.isdigit() else 0,
        }

    def remove(self, cid: str) -> None:
        errors = []
        if self.frozen(cid):
            self.freeze(cid, False)
        for ctrl in self.controllers():
            try:
                _rmdir(self.dir(ctrl, cid))
            except KernelError as e:
                errors.append(e.message)
        if errors:
            raise KernelError("; ".join(errors))

    def children(self) -> list[str]:
        seen = set()
        for ctrl in self.controllers():
            try:
                seen.update(n for n in os.listdir(self.dir(ctrl)) if os.path.isdir(os.path.join(self.dir(ctrl), n)))
            except FileNotFoundError:
                pass
        return sorted(seen)

    def remove_parent(self) -> None:
        for ctrl in self.controllers():
            _rmdir(self.dir(ctrl), 0)


class V2:
    """cgroup v2: one directory in the unified hierarchy."""
    version = 2

    def __init__(self, parent: str = "minidocker", root: str = ROOT):
        self.root, self.parent = root, parent.strip("/")

    def dir(self, cid: str = "") -> str:
        return os.path.join(self.root, self.parent, cid) if cid else os.path.join(self.root, self.parent)

    def _enable(self) -> None:
        """Delegate the controllers to the parent's children (subtree_control)."""
        os.makedirs(self.dir(), exist_ok=True)
        have = set(_read(os.path.join(self.root, "cgroup.controllers")).split())
        want = " ".join("+" + c for c in ("cpu", "memory", "pids") if c in have)
        for d in (self.root, self.dir()):
            if want:
                _write(os.path.join(d, "cgroup.subtree_control"), want)

    def create(self, cid: str, lim: Limits) -> None:
        self._enable()
        d = self.dir(cid)
        os.makedirs(d, exist_ok=True)
        try:
            self.apply(cid, lim, update=True)  # a new cgroup has the defaults: only what is set
        except KernelError:
            _rmdir(d, 0)
            raise

    def apply(self, cid: str, lim: Limits, update: bool = False) -> None:
        for f, v in render_v2(lim, update):
            path = os.path.join(self.dir(cid), f)
            if os.path.exists(path):
                _write(path, v)

    def procs_files(self, cid: str) -> list[str]:
        return [os.path.join(self.dir(cid), "cgroup.procs")]

    def exists(self, cid: str) -> bool:
        return os.path.isdir(self.dir(cid))

    def pids(self, cid: str) -> list[int]:
        return sorted(int(p) for p in _read(os.path.join(self.dir(cid), "cgroup.procs")).split())

    def freeze(self, cid: str, frozen: bool) -> None:
        _write(os.path.join(self.dir(cid), "cgroup.freeze"), "1" if frozen else "0")
        deadline = time.monotonic() + 10
        while self.frozen(cid) != frozen and time.monotonic() < deadline:
            time.sleep(0.01)

    def frozen(self, cid: str) -> bool:
        return _keyed(_read(os.path.join(self.dir(cid), "cgroup.events"))).get("frozen") == 1

    def oom_kills(self, cid: str) -> int:
        return _keyed(_read(os.path.join(self.dir(cid), "memory.events"))).get("oom_kill", 0)

    def usage(self, cid: str) -> dict:
        f = lambda name: os.path.join(self.dir(cid), name)
        cpu = _keyed(_read(f("cpu.stat")))
        mx = _read(f("memory.max"), "max").strip()
        pm = _read(f("pids.max"), "max").strip()
        return {
            "cpu_total": cpu.get("usage_usec", 0) * 1000, "cpu_percpu": [],
            "cpu_user": cpu.get("user_usec", 0) * 1000, "cpu_system": cpu.get("system_usec", 0) * 1000,
            "throttling": {"nr_periods": cpu.get("nr_periods", 0), "nr_throttled": cpu.get("nr_throttled", 0),
                           "throttled_time": cpu.get("throttled_usec", 0) * 1000},
            "mem_usage": int(_read(f("memory.current"), "0").strip() or 0), "mem_max_usage": 0,
            "mem_limit": int(mx) if mx.isdigit() else 0, "mem_stats": _keyed(_read(f("memory.stat"))),
            "pids_current": int(_read(f("pids.current"), "0").strip() or 0),
            "pids_limit": int(pm) if pm.isdigit() else 0,
        }

    def remove(self, cid: str) -> None:
        if self.frozen(cid):
            self.freeze(cid, False)
        _rmdir(self.dir(cid))

    def children(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.dir()) if os.path.isdir(os.path.join(self.dir(), n)))
        except FileNotFoundError:
            return []

    def remove_parent(self) -> None:
        _rmdir(self.dir(), 0)


def detect(parent: str = "minidocker", root: str = ROOT):
    """V2 when the unified hierarchy at ``root`` has controllers, else V1 when
    the v1 memory hierarchy is mounted; None without cgroups."""
    if _read(os.path.join(root, "cgroup.controllers")).split():
        return V2(parent, root)
    if os.path.isdir(os.path.join(root, "memory")):
        return V1(parent, root)
    return None


def _membership(pid) -> dict:
    """{controller or "": cgroup path} from /proc/PID/cgroup."""
    out = {}
    for line in _read(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        for c in ctrls.split(",") if ctrls else [""]:
            out[c] = path
    return out


def procs_files_of(pid: int, root: str = ROOT) -> list[str]:
    """The files that put a new (single-threaded) process where ``pid`` is (an
    exec joins its container's cgroup), for the cgroups where it is not where we
    are: cgroup.procs on v2, tasks on v1 (see the module's doc)."""
    theirs, ours = _membership(pid), _membership("self")
    v2 = bool(_read(os.path.join(root, "cgroup.controllers")).split())
    keys = [""] if v2 else [c for c in V1_CONTROLLERS if c in theirs]
    out = []
    for k in keys:
        if k in theirs and theirs[k] != ours.get(k):
            d = os.path.join(root, k, theirs[k].lstrip("/")) if k else os.path.join(root, theirs[k].lstrip("/"))
            out.append(os.path.join(d, "cgroup.procs" if v2 else V1_JOIN_FILE))
    return out

"""`stats` and `top` in Docker's shapes, read from the container's cgroup
(runtime/cgroups.py) and /proc (runtime/procinfo.py).

stats: one sample per second; each carries the previous one as precpu_stats
(``stream=false``: two samples a second apart, as Docker's, unless
``one-shot``). top: ps's columns computed from /proc for the cgroup's pids.
"""
import time

from minidocker.errors import Conflict, InvalidArgument, MinidockerError
from minidocker.ids import now as iso_now
from minidocker.runtime import procinfo

INTERVAL = 1.0
ZERO_TIME = "0001-01-01T00:00:00Z"
BLKIO_KEYS = ("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
              "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
              "io_time_recursive", "sectors_recursive")


def _empty_cpu() -> dict:
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def _cpu(u: dict) -> dict:
    t = u.get("throttling") or {}
    usage = {"total_usage": u["cpu_total"], "usage_in_kernelmode": u["cpu_system"],
             "usage_in_usermode": u["cpu_user"]}
    if u.get("cpu_percpu"):
        usage["percpu_usage"] = u["cpu_percpu"]
    return {"cpu_usage": usage, "system_cpu_usage": procinfo.system_cpu_ns(),
            "online_cpus": len(u.get("cpu_percpu") or []) or _online_cpus(),
            "throttling_data": {"periods": t.get("nr_periods", 0), "throttled_periods": t.get("nr_throttled", 0),
                                "throttled_time": t.get("throttled_time", 0)}}


def _online_cpus() -> int:
    import os
    return len(os.sched_getaffinity(0))


def sample(e, ref: str) -> dict:
    """One stats record (without precpu/preread: the caller pairs them)."""
    with e.lock:
        c = e.find_container(ref)
        running = c.status == "running"
        cid, name, pid = c.id, c.name, c.pid
    base = {"read": ZERO_TIME, "preread": ZERO_TIME, "pids_stats": {},
            "blkio_stats": {k: None for k in BLKIO_KEYS}, "num_procs": 0, "storage_stats": {},
            "cpu_stats": _empty_cpu(), "precpu_stats": _empty_cpu(), "memory_stats": {},
            "name": "/" + name, "id": cid}
    cg = e.cgroups
    if not running or cg is None or not cg.exists(cid):
        return base
    u = cg.usage(cid)
    limit = u["mem_limit"] or procinfo.mem_total()
    out = dict(base, read=iso_now())
    out["blkio_stats"] = {k: [] for k in BLKIO_KEYS}
    out["pids_stats"] = {"current": u["pids_current"], **({"limit": u["pids_limit"]} if u["pids_limit"] else {})}
    out["cpu_stats"] = _cpu(u)
    out["memory_stats"] = {"usage": u["mem_usage"], **({"max_usage": u["mem_max_usage"]} if u["mem_max_usage"] else {}),
                           "stats": u["mem_stats"], "limit": limit}
    nets = procinfo.net_dev(pid) if pid else {}
    if nets:
        out["networks"] = nets
    return out


def records(e, ref: str, stream: bool = True, one_shot: bool = False):
    """The stats answer's records: forever when ``stream``, else one."""
    prev = None
    if not stream and not one_shot:
        prev = sample(e, ref)
        time.sleep(INTERVAL)
    while True:
        cur = sample(e, ref)
        if prev is not None and cur["read"] != ZERO_TIME:
            cur["precpu_stats"], cur["preread"] = prev["cpu_stats"], prev["read"]
        yield cur
        if not stream:
            return
        prev = cur
        time.sleep(INTERVAL)


# ---- top ------------------------------------------------------------------
HEADERS = {"pid": "PID", "ppid": "PPID", "comm": "COMMAND", "args": "COMMAND", "command": "COMMAND",
           "cmd": "CMD", "user": "USER", "uid": "UID", "stat": "STAT", "s": "S", "rss": "RSS", "vsz": "VSZ",
           "time": "TIME", "etime": "ELAPSED", "tty": "TT", "nlwp": "NLWP", "c": "C", "stime": "STIME",
           "pcpu": "%CPU", "%cpu": "%CPU"}
DEFAULT = ["uid_name", "pid", "ppid", "c", "stime", "tty_full", "time", "cmd"]
AUX = ["user", "pid", "pcpu", "pmem", "vsz", "rss", "tty_full", "stat", "start", "time", "cmd"]
TITLES = {"uid_name": "UID", "tty_full": "TTY", "pmem": "%MEM", "start": "START"}


def _columns(ps_args: str) -> list[str]:
    words = ps_args.split()
    if not words or words in (["-ef"], ["-e", "-f"], ["ef"], ["-f"], ["-e"]):
        return DEFAULT
    if words in (["aux"], ["-aux"]):
        return AUX
    if words[0] == "-o" and len(words) == 2:
        cols = [w.strip().lower() for w in words[1].split(",") if w.strip()]
        for col in cols:
            if col not in HEADERS:
                raise InvalidArgument(f"Error running top: unknown ps field '{col}'")
        if "pid" not in cols:  # Docker finds each process's row by its PID column
            raise MinidockerError("Couldn't find PID field in ps output")
        return cols
    raise InvalidArgument(f"Error running top: unsupported ps arguments '{ps_args}'")


def _tty(nr: int) -> str:
    if nr == 0:
        return "?"
    major, minor = (nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00)
    if 136 <= major <= 143:
        return f"pts/{(major - 136) * 256 + minor}"
    return f"tty{minor}" if major == 4 else "?"


def _clock(seconds: float) -> str:
    s = int(seconds)
    d, s = divmod(s, 86400)
    text = "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
    return f"{d}-{text}" if d else text


def _stime(start: float, now: float) -> str:
    lt, ln = time.localtime(start), time.localtime(now)
    if now - start < 86400 and lt.tm_yday == ln.tm_yday:
        return time.strftime("%H:%M", lt)
    if lt.tm_year == ln.tm_year:
        return time.strftime("%b%d", lt)
    return str(lt.tm_year)


def _cell(col: str, p: dict, now: float, mem_total: int) -> str:
    elapsed = max(now - p["start"], 0.001)
    pcpu = p["cpu"] * 100 / elapsed
    cmd = " ".join(p["args"]) if p["args"] else f"[{p['comm']}]"
    values = {
        "uid_name": p["user"], "user": p["user"], "uid": str(p["uid"]), "pid": str(p["pid"]),
        "ppid": str(p["ppid"]), "c": str(min(int(pcpu), 99)), "stime": _stime(p["start"], now),
        "start": _stime(p["start"], now), "tty_full": _tty(p["tty_nr"]), "tty": _tty(p["tty_nr"]),
        "time": _clock(p["cpu"]), "cmd": cmd, "args": cmd, "command": cmd, "comm": p["comm"],
        "stat": p["state"], "s": p["state"], "rss": str(p["rss"]), "vsz": str(p["vsz"]),
        "etime": _clock(elapsed), "nlwp": str(p["nlwp"]), "pcpu": "%.1f" % pcpu, "%cpu": "%.1f" % pcpu,
        "pmem": "%.1f" % (p["rss"] * 1024 * 100 / mem_total if mem_total else 0.0),
    }
    return values[col]


def top(e, ref: str, ps_args: str = "") -> dict:
    """`GET /containers/{id}/top`: {"Titles": [...], "Processes": [[...], ...]}."""
    with e.lock:
        c = e.find_container(ref)
        if c.status == "restarting":
            raise Conflict(f"Container {c.id} is restarting, wait until the container is running")
        if c.status != "running":
            raise Conflict(f"Container {c.id} is not running")
        cid, pid = c.id, c.pid
        cg = e.cgroups
        pids = cg.pids(cid) if cg is not None and cg.exists(cid) else []
    cols = _columns(ps_args or "")
    if not pids:
        pids = procinfo.descendants(pid)
    now, total = time.time(), procinfo.mem_total()
    rows = []
    for p in (procinfo.process(n) for n in pids):
        if p is not None:
            rows.append([_cell(col, p, now, total) for col in cols])
    return {"Titles": [TITLES.get(col) or HEADERS[col] for col in cols], "Processes": rows}

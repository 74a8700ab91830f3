"""Facts about host processes from /proc, for `top` and `stats` (no ps, no
shelling out): status, times, tty, command line, and a netns's counters."""
import os
import pwd
import time

TICK = os.sysconf("SC_CLK_TCK")


def _read(path: str, default: str = "") -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return default


def boot_time() -> float:
    for line in _read("/proc/stat").splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def system_cpu_ns() -> int:
    """The host's total CPU time (the first line of /proc/stat), in ns, as
    Docker's system_cpu_usage."""
    for line in _read("/proc/stat").splitlines():
        if line.startswith("cpu "):
            return sum(int(x) for x in line.split()[1:8]) * (1_000_000_000 // TICK)
    return 0


def mem_total() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def process(pid: int) -> dict | None:
    """pid, ppid, uid, user, state, tty, start (epoch s), cpu (s), rss/vsz (KiB),
    comm, args; None when it is gone."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    f = stat[stat.rindex(")") + 2:].split()
    status = _read(f"/proc/{pid}/status")
    uid = 0
    for line in status.splitlines():
        if line.startswith("Uid:"):
            uid = int(line.split()[1])
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    args = [a for a in _read(f"/proc/{pid}/cmdline").split("\0")]
    while args and args[-1] == "":
        args.pop()
    return {"pid": pid, "ppid": int(f[1]), "uid": uid, "user": user, "state": f[0], "tty_nr": int(f[4]),
            "start": boot_time() + int(f[19]) / TICK, "cpu": (int(f[11]) + int(f[12])) / TICK,
            "vsz": int(f[20]) // 1024, "rss": int(f[21]) * os.sysconf("SC_PAGE_SIZE") // 1024,
            "nlwp": int(f[17]), "comm": comm, "args": args}


def descendants(pid: int) -> list[int]:
    """``pid`` and its descendants (when there is no cgroup to ask)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = process(int(name))
            if p is not None:
                children.setdefault(p["ppid"], []).append(p["pid"])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return sorted(out)


def net_dev(pid: int) -> dict:
    """{ifname: counters} of the network namespace ``pid`` is in (/proc/PID/net/dev),
    loopback left out."""
    out = {}
    for line in _read(f"/proc/{pid}/net/dev").splitlines()[2:]:
        name, _, rest = line.partition(":")
        name = name.strip()
        v = [int(x) for x in rest.split()]
        if name == "lo" or len(v) < 16:
            continue
        out[name] = {"rx_bytes": v[0], "rx_packets": v[1], "rx_errors": v[2], "rx_dropped": v[3],
                     "tx_bytes": v[8], "tx_packets": v[9], "tx_errors": v[10], "tx_dropped": v[11]}
    return out


def now() -> float:
    return time.time()

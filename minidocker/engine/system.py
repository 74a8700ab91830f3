"""The daemon about itself: `GET /version` and `GET /info` in Docker 20.10's shapes,
with minidocker's own, truthful values (its version, the host's kernel, CPUs and
memory, the containers and images it holds). Capabilities minidocker does not have
(cgroup limits, seccomp) are reported false, with one warning that says so, so the
docker CLI prints that instead of its fallback list.
"""
import base64
import hashlib
import os
import platform
import socket
import sys
import threading
from datetime import datetime

API_VERSION = "1.41"
MIN_API_VERSION = "1.12"


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("minidocker")
    except Exception:  # noqa: BLE001 - not installed (a checkout on sys.path)
        return "0.0.0"


VERSION = _version()
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}
SOME_CGROUPS = ("WARNING: minidocker runs containers without cpuset, kernel memory, blkio or "
                "oom-kill-disable limits")
NO_CGROUPS = ("WARNING: minidocker runs containers without cgroups: no memory, swap, CPU, cpuset, "
              "pids or OOM-kill limits")


def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def _os_release() -> dict:
    out = {}
    for line in _read("/etc/os-release").splitlines():
        k, eq, v = line.partition("=")
        if eq:
            out[k] = v.strip().strip('"')
    return out


def _mem_total() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _fs_type(path: str) -> str:
    """The filesystem under ``path`` (the longest mount point that holds it)."""
    best, kind = "", ""
    real = os.path.realpath(path)
    for line in _read("/proc/self/mounts").splitlines():
        parts = line.split()
        if len(parts) > 2 and (real == parts[1] or real.startswith(parts[1].rstrip("/") + "/")) \
                and len(parts[1]) >= len(best):
            best, kind = parts[1], parts[2]
    return kind


def engine_id(store) -> str:
    """Docker's daemon ID shape (12 groups of 4 base32 characters), made once per
    state root and kept."""
    got = store.get("engine_id")
    if got:
        return got
    raw = base64.b32encode(hashlib.sha256(os.urandom(32)).digest()).decode()[:48]
    got = ":".join(raw[i:i + 4] for i in range(0, 48, 4))
    store.put("engine_id", got)
    return got


def version() -> dict:
    """`GET /version`."""
    uname = os.uname()
    arch = GO_ARCH.get(uname.machine, uname.machine)
    py = f"python{platform.python_version()}"
    details = {"ApiVersion": API_VERSION, "Arch": arch, "BuildTime": "", "Experimental": "false",
               "GitCommit": "", "GoVersion": py, "KernelVersion": uname.release,
               "MinAPIVersion": MIN_API_VERSION, "Os": "linux"}
    return {"Platform": {"Name": "minidocker"},
            "Components": [{"Name": "Engine", "Version": VERSION, "Details": details}],
            "Version": VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "GitCommit": "",
            "GoVersion": py, "Os": "linux", "Arch": arch, "KernelVersion": uname.release, "BuildTime": ""}


def info(e, listeners: int = 0) -> dict:
    """`GET /info` for engine ``e``."""
    with e.lock:
        states = [("paused" if c.paused and c.status == "running" else c.status) for c in e.containers.values()]
    images = {m["Id"] for m in e.images.list()}
    rel = _os_release()
    uname = os.uname()
    fwd = _read("/proc/sys/net/ipv4/ip_forward") == "1"
    nf4 = _read("/proc/sys/net/bridge/bridge-nf-call-iptables") == "1"
    nf6 = _read("/proc/sys/net/bridge/bridge-nf-call-ip6tables") == "1"
    cg = e.cgroups  # runtime/cgroups.py: what the containers' limits go through
    warnings = [SOME_CGROUPS if cg is not None else NO_CGROUPS]
    if not fwd:
        warnings.append("WARNING: IPv4 forwarding is disabled")
    proxies = {k: os.environ.get(k.upper(), os.environ.get(k, "")) for k in ("http_proxy", "https_proxy", "no_proxy")}
    return {
        "ID": engine_id(e.store),
        "Containers": len(states), "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
        "Images": len(images), "Driver": "overlay",
        "DriverStatus": [["Backing Filesystem", _fs_type(e.root) or "unknown"]],
        "Plugins": {"Volume": [], "Network": ["bridge", "host", "null"], "Authorization": None,
                    "Log": ["json-file"]},
        "MemoryLimit": cg is not None, "SwapLimit": cg is not None, "KernelMemory": False,
        "KernelMemoryTCP": False, "CpuCfsPeriod": cg is not None, "CpuCfsQuota": cg is not None,
        "CPUShares": cg is not None, "CPUSet": False, "PidsLimit": cg is not None,
        "IPv4Forwarding": fwd, "BridgeNfIptables": nf4, "BridgeNfIp6tables": nf6, "Debug": False,
        "NFd": len(os.listdir("/proc/self/fd")), "OomKillDisable": False,
        "NGoroutines": threading.active_count(),
        "SystemTime": datetime.now().astimezone().isoformat(timespec="microseconds"),
        "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs" if cg is not None else "none",
        "CgroupVersion": str(cg.version) if cg is not None else
        ("2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"),
        "NEventsListener": listeners, "KernelVersion": uname.release,
        "OperatingSystem": rel.get("PRETTY_NAME", "Linux"), "OSVersion": rel.get("VERSION_ID", ""),
        "OSType": "linux", "Architecture": uname.machine, "IndexServerAddress": "",
        "RegistryConfig": {"AllowNondistributableArtifactsCIDRs": [], "AllowNondistributableArtifactsHostnames": [],
                           "InsecureRegistryCIDRs": [], "IndexConfigs": {}, "Mirrors": []},
        "NCPU": os.cpu_count() or 1, "MemTotal": _mem_total(), "GenericResources": None,
        "DockerRootDir": e.root, "HttpProxy": proxies["http_proxy"], "HttpsProxy": proxies["https_proxy"],
        "NoProxy": proxies["no_proxy"], "Name": socket.gethostname(), "Labels": [], "ExperimentalBuild": False,
        "ServerVersion": VERSION,
        "Runtimes": {"minidocker": {"path": f"{sys.executable} -m minidocker.runtime.launcher"}},
        "DefaultRuntime": "minidocker",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                  "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": False, "Isolation": "", "InitBinary": "",
        "ContainerdCommit": {"ID": "", "Expected": ""}, "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""}, "SecurityOptions": [], "Warnings": warnings,
    }


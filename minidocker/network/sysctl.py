"""Kernel switches under /proc/sys that minidocker's networking needs.

Each writer changes the value only when it differs, and reports the change as
the equivalent ``sysctl -w`` command. These are per network namespace (the
bridge ones too, on kernels >= 5.3 with br_netfilter).
"""
import os

from minidocker import explain
from minidocker.errors import KernelError


def _path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def read(key: str) -> str | None:
    try:
        with open(_path(key)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise KernelError(f"sysctl {key}: {os.strerror(e.errno or 0)}") from e


def write(key: str, value: str) -> None:
    """Set ``key`` to ``value`` if it is not already that."""
    if read(key) == value:
        return
    explain.emit("sysctl", "-w", f"{key}={value}")
    try:
        with open(_path(key), "w") as f:
            f.write(value)
    except OSError as e:
        raise KernelError(f"sysctl -w {key}={value}: {os.strerror(e.errno or 0)}") from e


def ensure_ip_forward() -> None:
    """Routing between the bridges and the outside (needed by any non-internal network)."""
    write("net.ipv4.ip_forward", "1")


def ensure_route_localnet(bridge: str) -> None:
    """Let traffic the host sends to 127.0.0.1 leave through this bridge once a
    published port's DNAT sent it there (masqueraded to the gateway on the way)."""
    key = f"net.ipv4.conf.{bridge}.route_localnet"
    if read(key) not in (None, "1"):
        write(key, "1")


def ensure_bridge_nf_call_iptables() -> None:
    """Make frames bridged between two ports of one bridge pass the inet forward
    hook (br_netfilter), so that an icc=false network can drop them."""
    key = "net.bridge.bridge-nf-call-iptables"
    if read(key) is None:
        raise KernelError("enable_icc=false needs br_netfilter "
                          "(/proc/sys/net/bridge is missing: modprobe br_netfilter)")
    write(key, "1")


# The kernel's neighbour (ARP and NDP) tables are one per host, shared by every
# network namespace, and their limits live only in the initial namespace. Their
# defaults (128/512/1024) are below what one full bridge needs: a container that
# talks to 999 others holds 999 entries and each of them one back, and past
# gc_thresh3 new entries are refused ("neighbour table overflow"), so about 2% of
# 1000 containers were unreachable by name from one of them (scripts/bench --scale
# 1000). Entries are small (~0.4 kB); these minimums bound them at a few MB.
NEIGHBOUR_ROOM = {"gc_thresh1": 1024, "gc_thresh2": 4096, "gc_thresh3": 8192}


def neighbour_room_writes(current: dict) -> list[tuple[str, str]]:
    """The (key, value) writes that raise each neighbour-table limit to
    NEIGHBOUR_ROOM's; a higher value (the host's own choice) stays, and a key
    that is not there (None: not the initial namespace) is left alone."""
    out = []
    for family in ("ipv4", "ipv6"):
        for name, floor in NEIGHBOUR_ROOM.items():
            key = f"net.{family}.neigh.default.{name}"
            value = current.get(key)
            if value is not None and value.isdigit() and int(value) < floor:
                out.append((key, str(floor)))
    return out


_room_checked = False


def ensure_neighbour_room() -> None:
    """Raise the neighbour tables' limits for bridges of up to 1023 ports (never
    lower); once per process (six reads were ~1 ms of every network create)."""
    global _room_checked
    if _room_checked:
        return
    keys = [f"net.{f}.neigh.default.{n}" for f in ("ipv4", "ipv6") for n in NEIGHBOUR_ROOM]
    for key, value in neighbour_room_writes({k: read(k) for k in keys}):
        write(key, value)
    _room_checked = True

"""The kernel floor, measured without forking and without minidocker: run by
scripts/bench with the venv's python (pyroute2). Prints JSON {label: [ms, ...]}.

Everything happens in a network namespace of its own (unshared first), so nothing
is left on the host whatever happens.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
import time

from pyroute2 import IPRoute

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWCGROUP = 0x40000000, 0x20000000, 0x02000000
MS_BIND, MNT_DETACH = 4096, 2


def check(ret: int, what: str) -> None:
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def netns_with_veth(ipr: IPRoute, pins: str, i: int) -> None:
    """What a container's network costs at least: a pinned netns, a veth pair, one
    end on the bridge, the other moved in with an address, lo up and a default route."""
    check(libc.unshare(CLONE_NEWNET), "unshare")
    pin = os.path.join(pins, f"ns{i}")
    open(pin, "w").close()
    check(libc.mount(b"/proc/self/ns/net", pin.encode(), None, MS_BIND, None), "mount")
    nsfd = os.open(pin, os.O_RDONLY)
    inner = IPRoute()
    check(libc.setns(HOST_FD, CLONE_NEWNET), "setns")
    host_if, peer = f"hpfv{i}", f"hpfp{i}"
    ipr.link("add", ifname=host_if, kind="veth", peer={"ifname": peer, "net_ns_fd": nsfd})
    idx = ipr.link_lookup(ifname=host_if)[0]
    ipr.link("set", index=idx, master=BRIDGE, state="up")
    pidx = inner.link_lookup(ifname=peer)[0]
    inner.addr("add", index=pidx, address=f"10.250.{i // 250}.{i % 250 + 2}", prefixlen=16)
    inner.link("set", index=pidx, state="up")
    inner.link("set", index=1, state="up")
    inner.route("add", dst="0.0.0.0/0", gateway="10.250.0.1")
    inner.close()
    os.close(nsfd)


def unshare_all() -> None:
    pid = os.fork()
    if pid == 0:
        flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP
        os._exit(0 if libc.unshare(flags) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise OSError("unshare of all namespaces failed")


STATE_ROOT = os.environ.get("MINIDOCKER_ROOT", "/var/lib/minidocker")
NEW_FILE = "floor: a new file in the state root's file system"  # in µs (floor.UNITS)


def new_files(n: int = 40) -> list[float]:
    """What one new inode costs in the file system of the state root, in µs: every
    start creates some twenty (its bundle's files and directories, the overlay's
    work files). On ext4 without a journal each new inode is looked for past the
    inodes deleted in the last minute or more, so this moves with recent removals
    (both daemons'), not only with the machine."""
    parent = STATE_ROOT if os.path.isdir(STATE_ROOT) else tempfile.gettempdir()
    d = tempfile.mkdtemp(prefix=".floor-", dir=parent)
    out = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            os.close(os.open(os.path.join(d, str(i)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            out.append((time.perf_counter() - t0) * 1e6)
    finally:
        shutil.rmtree(d)
    return out


def main(runs: int) -> None:
    global HOST_FD, BRIDGE
    check(libc.unshare(CLONE_NEWNET | CLONE_NEWNS), "unshare")
    check(libc.mount(b"none", b"/", None, 1 << 18 | 16384, None), "make-rprivate")  # MS_PRIVATE|MS_REC
    HOST_FD = os.open("/proc/self/ns/net", os.O_RDONLY)
    ipr = IPRoute()
    ipr.link("add", ifname="hpfbr0", kind="bridge")
    BRIDGE = ipr.link_lookup(ifname="hpfbr0")[0]
    ipr.addr("add", index=BRIDGE, address="10.250.0.1", prefixlen=16)
    ipr.link("set", index=BRIDGE, state="up")
    out: dict[str, list[float]] = {"floor: netns+veth+bridge port+addresses (pyroute2, no fork)": [],
                                   "floor: fork + unshare of all namespaces": []}
    with tempfile.TemporaryDirectory(prefix="hpf-floor") as pins:
        for i in range(runs):
            t0 = time.perf_counter()
            netns_with_veth(ipr, pins, i)
            out["floor: netns+veth+bridge port+addresses (pyroute2, no fork)"].append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            unshare_all()
            out["floor: fork + unshare of all namespaces"].append((time.perf_counter() - t0) * 1e3)
        for i in range(runs):
            libc.umount2(os.path.join(pins, f"ns{i}").encode(), MNT_DETACH)
    out[NEW_FILE] = new_files()
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""Test isolation.

As root, the whole pytest process moves into a throwaway network and mount
namespace before any test runs: a fresh netns (its own links, routes, nftables),
a private mount tree with its own /sys (so /sys/class/net shows this netns) and a
tmpfs on /run (so /run/minidocker and /run/netns start empty). Nothing a test
does can touch the real host's network. Integration tests also check, after each
test, that nothing leaked: links, netns pins, mounts, nft tables, processes.
"""
import json
import os
import subprocess
import tempfile

import pytest

IS_ROOT = os.geteuid() == 0
_ISOLATED = False


def _isolate_process() -> None:
    global _ISOLATED
    from minidocker.network import namespaces as ns

    ns.unshare(ns.CLONE_NEWNET | ns.CLONE_NEWNS)
    ns.mount("none", "/", None, ns.MS_REC | ns.MS_PRIVATE)
    # the fresh /sys hides the host's cgroup mounts: bring them back (the
    # containers' cgroups are real; tests use their own parent, see cgroup_parent)
    cgroup_fd = os.open("/sys/fs/cgroup", os.O_PATH | os.O_DIRECTORY) if os.path.isdir("/sys/fs/cgroup") else None
    ns.mount("sysfs", "/sys", "sysfs", 0)
    if cgroup_fd is not None:
        ns.mount(f"/proc/self/fd/{cgroup_fd}", "/sys/fs/cgroup", None, ns.MS_BIND | ns.MS_REC)
        os.close(cgroup_fd)
    ns.mount("tmpfs", "/run", "tmpfs", 0, "mode=755")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    _ISOLATED = True


if IS_ROOT and os.environ.get("MINIDOCKER_TEST_NO_ISOLATION") != "1":
    _isolate_process()


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="integration tests need root")
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if not _ISOLATED:
                item.add_marker(skip)


def host_snapshot() -> dict:
    """What a test could leak, read from the kernel."""
    links = sorted(l["ifname"] for l in json.loads(
        subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True).stdout))
    with open("/proc/self/mountinfo") as f:
        mounts = sorted(line.split()[4] for line in f)
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.split("\n")
    children = []
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            children.append(pid)
    return {"links": links, "mounts": mounts, "nft": sorted(t for t in tables if t), "children": sorted(children)}


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves a link, mount, nft table or child process behind."""
    before = host_snapshot()
    yield
    after = host_snapshot()
    for key in before:
        extra = sorted(set(after[key]) - set(before[key]))
        assert not extra, f"test leaked {key}: {extra}"


@pytest.fixture
def state_root(tmp_path):
    root = tmp_path / "state"
    root.mkdir()
    return str(root)

"""One step in one namespace: one thread and one netlink socket (netlink.inside),
and a sandbox's namespace made ready and removed by network/netns.py."""
import json
import os
import subprocess
import threading

import pytest

from minidocker import explain
from minidocker.errors import KernelError
from minidocker.network import netlink, netns

PINS = "/run/mdtest-handle"


@pytest.fixture
def pins(no_leaks):
    netns.prepare_pin_dir(PINS)
    yield PINS
    netns.release_pin_dir(PINS)
    os.rmdir(PINS)


def _links(path: str) -> dict:
    out = subprocess.run(["nsenter", f"--net={path}", "ip", "-j", "link"], capture_output=True, text=True,
                         check=True).stdout
    return {l["ifname"]: l for l in json.loads(out)}


def test_created_namespace_is_ready_and_served_by_one_thread(pins):
    path = os.path.join(pins, "sb1")
    with explain.recording() as lines, netns.created(path) as ns:
        workers = {ns.run(threading.get_native_id) for _ in range(3)}
        inode = ns.run(lambda: os.stat("/proc/thread-self/ns/net").st_ino)
        ipv6_off = ns.run(lambda: open("/proc/sys/net/ipv6/conf/all/disable_ipv6").read().strip()
                          if os.path.exists("/proc/sys/net/ipv6") else "1")
        ns.set_mac("lo", "00:00:00:00:00:00")  # a netlink call through the same handle
    assert len(workers) == 1 and threading.get_native_id() not in workers
    assert inode == os.stat(path).st_ino != os.stat("/proc/thread-self/ns/net").st_ino
    assert ipv6_off == "1"
    assert "UP" in _links(path)["lo"]["flags"]
    assert lines == ["ip netns add sb1",
                     *[f"ip netns exec sb1 sysctl -w net.ipv6.conf.{s}.disable_ipv6=1"
                       for s in ("all", "default", "lo")],
                     "ip -n sb1 link set lo up",
                     "ip -n sb1 link set lo address 00:00:00:00:00:00"]
    netns.delete(path)
    assert netns.pins(pins) == []


def test_failure_inside_removes_the_namespace(pins):
    path = os.path.join(pins, "sb2")
    with pytest.raises(KernelError, match="link nosuch0 not found"):
        with netns.created(path) as ns:
            ns.set_up("nosuch0")
    assert netns.pins(pins) == []


def test_veth_into_an_entered_namespace(pins):
    path = os.path.join(pins, "sb3")
    with netns.created(path):
        pass
    try:
        with netlink.inside(None) as host, netns.entered(path) as ns:
            host.create_veth_into("mdtveth0", "eth0", path)
            ns.add_address("eth0", "10.201.0.2/24")
            ns.add_address("eth0", "10.201.0.2/24")  # already there: not an error
            ns.set_up("eth0")
        assert "eth0" in _links(path) and "UP" in _links(path)["eth0"]["flags"]
    finally:
        with netlink.inside(None) as host:
            host.delete_link("mdtveth0")
        netns.delete(path)
    with netlink.inside(None) as host:
        assert not host.link_exists("mdtveth0")

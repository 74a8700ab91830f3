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


def _made_lines(name: str) -> list[str]:
    """What --explain says of a namespace made ready, then of lo's MAC set through its handle."""
    return ["ip netns add " + name,
            *[f"ip netns exec {name} sysctl -w net.ipv6.conf.{s}.disable_ipv6=1" for s in ("all", "default", "lo")],
            f"ip -n {name} link set lo up",
            f"ip -n {name} link set lo address 00:00:00:00:00:00"]


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
    assert lines == _made_lines("sb1")
    netns.delete(path)
    assert netns.pins(pins) == []


def test_verbs_called_inside_run_take_no_round_trip_of_their_own(pins, monkeypatch):
    """ns.run(fn): fn's calls of the handle's verbs run right there, on the
    namespace's thread, explained to the caller in order; a failure inside comes back."""
    from minidocker.network import namespaces
    path = os.path.join(pins, "sb4")
    trips = []
    real = namespaces.NetnsThread.run
    monkeypatch.setattr(namespaces.NetnsThread, "run", lambda self, fn, *a, **k: (trips.append(fn), real(self, fn, *a, **k))[1])

    def batch():
        ns.set_mac("lo", "00:00:00:00:00:00")
        ns.run(lambda: None)  # nested: direct too
        ns.set_up("lo")
        return threading.get_native_id()

    with netns.created(path) as ns:
        trips.clear()
        with explain.recording() as lines:
            worker = ns.run(batch)
        assert len(trips) == 1 and worker == ns.run(threading.get_native_id) != threading.get_native_id()
        assert lines == ["ip -n sb4 link set lo address 00:00:00:00:00:00", "ip -n sb4 link set lo up"]
        with pytest.raises(KernelError, match="link nosuch0 not found"):
            ns.run(lambda: ns.set_up("nosuch0"))
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


def _tuples(ns) -> list:
    from pyroute2 import Conntrack

    def dump():
        with Conntrack() as ct:
            return sorted((e.tuple_orig.saddr, e.tuple_orig.daddr, e.tuple_orig.sport) for e in ct.dump_entries())
    return ns.run(dump)


@pytest.mark.parametrize("filtered", [True, False])
def test_flush_conntrack_forgets_every_direction_of_one_address(pins, filtered):
    """The address's entries go whichever side of either tuple it is on (as
    source, as destination, as the DNAT'ed reply's source or destination); the
    others stay. Filtered in the kernel, or (an older kernel) dumped and matched."""
    from pyroute2 import Conntrack
    from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple
    path = os.path.join(pins, "ct1")
    me, peer, other, public = "10.202.0.2", "10.202.0.9", "10.202.0.7", "10.202.1.1"
    flows = [  # (orig src, orig dst, reply src, reply dst): one field each names it
        (me, public, public, "10.202.1.2"),                # from it, SNAT'ed
        (peer, me, "10.202.0.8", peer),                    # to it, DNAT'ed elsewhere
        (peer, public, me, peer),                          # DNAT'ed to it (a published port)
        (peer, public, public, me),                        # SNAT'ed to it
        (other, peer, peer, other), (peer, other, other, peer)]

    def add():
        with Conntrack() as ct:
            for sport, (os_, od, rs, rd) in enumerate(flows, start=1000):
                ct.entry("add", timeout=300,
                         tuple_orig=NFCTAttrTuple(saddr=os_, daddr=od, proto=6, sport=sport, dport=80),
                         tuple_reply=NFCTAttrTuple(saddr=rs, daddr=rd, proto=6, sport=80, dport=sport))
    with netns.created(path) as ns:
        ns.run(add)
        assert len(_tuples(ns)) == len(flows)
        ns.flush_conntrack(me, filtered=filtered)
        assert _tuples(ns) == [(other, peer, 1004), (peer, other, 1005)]
        ns.flush_conntrack(me, filtered=filtered)  # nothing left of it: not an error
        assert len(_tuples(ns)) == 2
    netns.delete(path)


def test_delete_link_begin_takes_the_pair_away_by_the_return_of_wait(pins):
    """wait() returns once the kernel has unregistered the link (its peer in the
    container's namespace with it); a missing link is None."""
    path = os.path.join(pins, "dd1")
    with netns.created(path):
        pass
    try:
        with netlink.inside(None) as host, netns.entered(path) as ns:
            host.create_veth_into("mdtveth1", "eth0", path)
            host.set_up("mdtveth1")
            ns.set_up("eth0")
            with explain.recording() as lines:
                pending = host.delete_link_begin("mdtveth1")
            assert lines == ["ip link del mdtveth1"]
            pending.wait()
            assert not host.link_exists("mdtveth1")
            assert "eth0" not in _links(path)
            assert host.delete_link_begin("mdtveth1") is None
    finally:
        with netlink.inside(None) as host:
            host.delete_link("mdtveth1")
        netns.delete(path)


def test_a_delete_the_kernel_refuses_is_raised_by_wait():
    """No notification comes for a link that stays (lo cannot be deleted): wait()
    returns with the acknowledgement's error, and the link is still there."""
    with netlink.inside(None) as host:
        pending = host.delete_link_begin("lo")
        with pytest.raises(KernelError, match="delete link lo"):
            pending.wait()
        assert host.link_exists("lo")
        assert pending.done()


def _until(cond, seconds=5.0):
    import time
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_warm_namespace_is_taken_ready_pinned_and_explained_as_a_cold_one(pins):
    """netns.Warm: a namespace made ahead (unpinned, held by its thread) is pinned
    by the start that takes it, ready as a fresh one, with the same `ip` lines;
    the next is made meanwhile, and close() ends the ones not taken."""
    warm = netns.Warm(size=1)
    try:
        _until(lambda: len(warm) == 1)
        assert netns.pins(pins) == []  # unpinned while it waits
        path = os.path.join(pins, "sbw")
        with explain.recording() as lines, netns.created(path, warm) as ns:
            inode = ns.run(lambda: os.stat("/proc/thread-self/ns/net").st_ino)
            ipv6_off = ns.run(lambda: open("/proc/sys/net/ipv6/conf/lo/disable_ipv6").read().strip()
                              if os.path.exists("/proc/sys/net/ipv6") else "1")
            ns.set_mac("lo", "00:00:00:00:00:00")
        assert inode == os.stat(path).st_ino != os.stat("/proc/thread-self/ns/net").st_ino
        assert ipv6_off == "1"
        assert "UP" in _links(path)["lo"]["flags"]
        assert lines == _made_lines("sbw")
        _until(lambda: len(warm) == 1)  # the next one, made meanwhile
        taken_again = os.path.join(pins, "sbw")  # its pin exists: refused, and the warm one is dropped
        with pytest.raises(KernelError, match="already exists"):
            with netns.created(taken_again, warm):
                pass
        assert os.stat(path).st_ino == inode  # the existing pin is left alone
        netns.delete(path)
        with pytest.raises(RuntimeError):  # a failure inside removes the pin it made
            with netns.created(path, warm):
                raise RuntimeError("boom")
        assert netns.pins(pins) == []
    finally:
        warm.close()
    assert len(warm) == 0
    assert not [t for t in threading.enumerate() if t.name in ("netns-warm", "netns-create")]

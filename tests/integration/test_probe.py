"""probe.py against real namespaces, bridges and veths made by the test itself."""
import json
import subprocess
import time

import pytest

from minidocker.network import namespaces as ns
from minidocker.observe import probe

NSDIR = "/run/mdtest-probe"
TABLE = "mdtest_probe"


def sh(*args, netns=None, stdin=None):
    def run():
        r = subprocess.run(args, input=stdin, capture_output=True, text=True)
        assert r.returncode == 0, f"{args} {stdin!r}: {r.stderr}"
        return r.stdout
    return ns.run_in_netns(netns, run)


class Lab:
    """Bridges in the test's throwaway host netns, 'containers' = netns + veth."""

    def __init__(self):
        self.bridges: list[str] = []
        self.veths: list[str] = []
        self.netns: list[str] = []
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            self.forward = f.read().strip()
        ns.ensure_private_dir(NSDIR)

    def bridge(self, name, cidr):
        self.bridges.append(name)
        sh("ip", "-batch", "-", stdin=f"link add {name} type bridge\n"
           f"addr add {cidr} dev {name}\nlink set {name} up\n")

    def container(self, name, bridge, cidr, gateway=None, extra=()):
        """A netns with eth0 on ``bridge``; ``extra`` = [(bridge, cidr)] for eth1..."""
        path = f"{NSDIR}/{name}"
        ns.create_netns(path)
        self.netns.append(path)
        cmds_in = ["link set lo up"]
        for n, (br, addr) in enumerate([(bridge, cidr), *extra]):
            hv = f"vt{name}x{n}"[:15]
            self.veths.append(hv)
            sh("ip", "-batch", "-", stdin=f"link add {hv} type veth peer name eth{n} netns {path}\n"
               f"link set {hv} master {br}\nlink set {hv} up\n")
            cmds_in += [f"addr add {addr} dev eth{n}", f"link set eth{n} up"]
        if gateway:
            cmds_in.append(f"route add default via {gateway}")
        sh("ip", "-batch", "-", netns=path, stdin="\n".join(cmds_in) + "\n")
        return path

    def close(self):
        errors = []
        for link in self.veths + self.bridges:
            r = subprocess.run(["ip", "link", "del", link], capture_output=True, text=True)
            if r.returncode and "Cannot find" not in r.stderr:
                errors.append(r.stderr)
        for path in self.netns:
            ns.delete_netns(path)
        ns.umount(NSDIR, ns.MNT_DETACH)
        subprocess.run(["nft", "delete", "table", "bridge", TABLE], capture_output=True)
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write(self.forward)
        assert not errors, errors


@pytest.fixture
def lab(no_leaks):
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


def drop_on_bridge(match=""):
    sh("nft", "-f", "-", stdin=f"table bridge {TABLE} {{\n chain probefwd {{ type filter hook forward"
       f" priority 0; policy accept; {match} drop; }}\n}}\n")


ALL = {"arp": True, "icmp": True, "tcp": True, "udp": True}
NONE = {"arp": False, "icmp": False, "tcp": False, "udp": False}


def test_same_bridge_reachable_then_blocked(lab):
    lab.bridge("mdtb0", "10.77.0.1/24")
    a = lab.container("a", "mdtb0", "10.77.0.2/24", "10.77.0.1")
    lab.container("b", "mdtb0", "10.77.0.3/24", "10.77.0.1")
    assert probe.probe(a, "10.77.0.3") == ALL
    assert probe.probe(a, "10.77.0.3", protos=("tcp",), port=80) == {"tcp": True}

    drop_on_bridge("meta protocol ip")  # IP dropped, ARP still crosses
    assert probe.probe(a, "10.77.0.3", timeout=0.3) == {**NONE, "arp": True}
    sh("nft", "flush", "chain", "bridge", TABLE, "probefwd")
    sh("nft", "add", "rule", "bridge", TABLE, "probefwd", "drop")  # everything dropped
    t0 = time.monotonic()
    assert probe.probe(a, "10.77.0.3", timeout=0.3) == NONE
    assert time.monotonic() - t0 < 1.5
    sh("nft", "delete", "table", "bridge", TABLE)
    assert probe.probe(a, "10.77.0.3") == ALL


def test_udp_only_dropped(lab):
    lab.bridge("mdtb0", "10.77.0.1/24")
    a = lab.container("a", "mdtb0", "10.77.0.2/24")
    lab.container("b", "mdtb0", "10.77.0.3/24")
    drop_on_bridge("udp dport 9")
    assert probe.probe(a, "10.77.0.3", timeout=0.3) == {**ALL, "udp": False}


def test_other_segment_and_own_address(lab):
    lab.bridge("mdtb0", "10.77.0.1/24")
    lab.bridge("mdtb1", "10.78.0.1/24")
    a = lab.container("a", "mdtb0", "10.77.0.2/24")  # no default route
    lab.container("b", "mdtb1", "10.78.0.2/24")
    both = lab.container("c", "mdtb0", "10.77.0.4/24", extra=[("mdtb1", "10.78.0.4/24")])
    got = probe.probe_many([(a, "10.78.0.2"), (a, "10.77.0.2"), (both, "10.78.0.2"),
                            (both, "10.77.0.2"), (a, "10.77.0.99")], timeout=0.3)
    assert got == [NONE, ALL, ALL, ALL, NONE]
    # the test netns itself (the 'host') reaches both bridges' containers
    assert probe.probe(None, "10.78.0.2") == ALL


def test_gateway_route_used(lab):
    lab.bridge("mdtb0", "10.77.0.1/24")
    lab.bridge("mdtb1", "10.78.0.1/24")
    a = lab.container("a", "mdtb0", "10.77.0.2/24", "10.77.0.1")
    lab.container("b", "mdtb1", "10.78.0.2/24", "10.78.0.1")
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
    # routed through the host: no shared segment so no ARP, but IP gets there
    assert probe.probe(a, "10.78.0.2") == {**ALL, "arp": False}


def test_icmp_ratelimit_relaxed_and_restored(lab):
    lab.bridge("mdtb0", "10.77.0.1/24")
    a = lab.container("a", "mdtb0", "10.77.0.2/24")
    b = lab.container("b", "mdtb0", "10.77.0.3/24")
    mask = lambda: int(sh("cat", "/proc/sys/net/ipv4/icmp_ratemask", netns=b))  # noqa: E731
    before = mask()
    with probe.icmp_errors_unlimited([a, b]):
        assert mask() == before & ~8
        results = probe.probe_many([(a, "10.77.0.3")] * 1 + [(a, "10.77.0.3")], protos=("udp",))
        for _ in range(12):  # well past the per-peer burst of 6
            assert probe.probe(a, "10.77.0.3", protos=("udp",)) == {"udp": True}
    assert results == [{"udp": True}] * 2
    assert mask() == before


def test_twenty_targets_in_seconds(lab):
    lab.bridge("mdtb0", "10.77.0.1/24")
    paths = [lab.container(f"c{i}", "mdtb0", f"10.77.0.{10 + i}/24") for i in range(20)]
    ips = [f"10.77.0.{10 + i}" for i in range(20)]
    jobs = [(p, ip) for p in paths for ip in ips if not p.endswith(f"c{ips.index(ip)}")]
    assert len(jobs) == 380
    t0 = time.monotonic()
    with probe.icmp_errors_unlimited(paths):
        got = probe.probe_many(jobs, timeout=0.5)
    reach = time.monotonic() - t0
    assert got == [ALL] * 380
    drop_on_bridge()
    t0 = time.monotonic()
    got = probe.probe_many(jobs, timeout=0.5)
    blocked = time.monotonic() - t0
    assert got == [NONE] * 380
    print(f"20 targets, 380 pairs: reachable {reach:.2f}s, blocked {blocked:.2f}s")
    assert reach < 5 and blocked < 5, (reach, blocked)


def test_rejects_bad_input(no_leaks):
    from minidocker.errors import InvalidArgument
    with pytest.raises(InvalidArgument):
        probe.probe(None, "not-an-ip")
    with pytest.raises(InvalidArgument):
        probe.probe(None, "10.0.0.1", protos=("sctp",))
    from minidocker.errors import NotFound
    with pytest.raises(NotFound):
        probe.probe("/run/no-such-netns", "10.0.0.1")


def test_run_check_finds_broken_isolation(lab):
    from minidocker.observe.check import Address, Target, format_matrix, run_check
    lab.bridge("mdtb0", "10.77.0.1/24")
    lab.bridge("mdtb1", "10.78.0.1/24")
    a = lab.container("a", "mdtb0", "10.77.0.2/24", "10.77.0.1")
    b = lab.container("b", "mdtb0", "10.77.0.3/24", "10.77.0.1")
    c = lab.container("c", "mdtb1", "10.78.0.2/24", "10.78.0.1")
    targets = [Target("a", a, [Address("n0", "10.77.0.2")]),
               Target("b", b, [Address("n0", "10.77.0.3")]),
               Target("c", c, [Address("n1", "10.78.0.2")]),
               Target("j", None, joined_to="container:a")]
    # isolation between the two bridges, as the firewall would do it
    sh("nft", "-f", "-", stdin=f"table inet {TABLE} {{ chain probefwd {{ type filter hook forward priority 0;"
       f" iifname mdtb0 oifname mdtb1 drop; iifname mdtb1 oifname mdtb0 drop; }}\n}}\n")
    try:
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
        res = run_check(targets, timeout=0.3)
        assert res.ok, format_matrix(res)
        assert res.cell("j", ("a", "n0", "10.77.0.2")).observed == ALL
        sh("nft", "delete", "table", "inet", TABLE)  # isolation broken: routed across
        res = run_check(targets, timeout=0.3)
        bad = sorted((v.source, v.ip, tuple(v.disagreements)) for v in res.violations)
        assert bad == [("a", "10.78.0.2", ("icmp", "tcp", "udp")),
                       ("b", "10.78.0.2", ("icmp", "tcp", "udp")),
                       ("c", "10.77.0.2", ("icmp", "tcp", "udp")),
                       ("c", "10.77.0.3", ("icmp", "tcp", "udp")),
                       ("j", "10.78.0.2", ("icmp", "tcp", "udp"))], format_matrix(res)
        print(format_matrix(res))
        assert "5 violations:" in format_matrix(res)
    finally:
        subprocess.run(["nft", "delete", "table", "inet", TABLE], capture_output=True)

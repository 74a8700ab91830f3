"""The inet minidocker table against real traffic, in the test's throwaway host netns.

Topology (all made here, all removed after each test):

    netns a1 10.51.0.2 ─┐                       ┌─ netns b1 10.52.0.2
    netns a2 10.51.0.3 ─┤ mdbr-ta 10.51.0.1     │  mdbr-tb 10.52.0.1
                        └────── "host" (this process's netns) ──┤─ netns b2 10.52.0.3
                                   │ mdup0 10.99.0.1
                                   └── netns out 10.99.0.2 (the "outside"; no route back)

Optionally a third bridge mdbr-tc 10.53.0.0/24 with netns c1 10.53.0.2.
"""
import json
import os
import socket
import subprocess
import threading

import pytest

from minidocker import explain
from minidocker.network import namespaces as ns
from minidocker.network import sysctl
from minidocker.errors import KernelError
from minidocker.firewall import libnft
from minidocker.firewall import nft as fw
from minidocker.firewall.nft import NetworkRules, DnatRule

NSDIR = "/run/mdfw-test"
OUT_IP = "10.99.0.2"
UPLINK_IP = "10.99.0.1"


def sh(*argv, netns=None, check=True):
    def go():
        return subprocess.run(list(argv), capture_output=True, text=True)
    r = ns.run_in_netns(netns, go)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {r.stderr}")
    return r


class Topo:
    def __init__(self):
        self.netns: dict[str, str] = {}
        self.links: list[str] = []
        ns.ensure_private_dir(NSDIR)

    def path(self, name):
        return f"{NSDIR}/{name}"

    def bridge(self, name, cidr):
        sh("ip", "link", "add", name, "type", "bridge")
        self.links.append(name)
        sh("ip", "addr", "add", cidr, "dev", name)
        sh("ip", "link", "set", name, "up")

    def container(self, name, bridge, cidr, gw):
        p = self.path(name)
        ns.create_netns(p)
        self.netns[name] = p
        host = f"mdv{name}"
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", p)
        self.links.append(host)
        sh("ip", "link", "set", host, "master", bridge, "up")
        sh("ip", "link", "set", "lo", "up", netns=p)
        sh("ip", "addr", "add", cidr, "dev", "eth0", netns=p)
        sh("ip", "link", "set", "eth0", "up", netns=p)
        sh("ip", "route", "add", "default", "via", gw, netns=p)

    def outside(self):
        p = self.path("out")
        ns.create_netns(p)
        self.netns["out"] = p
        sh("ip", "link", "add", "mdup0", "type", "veth", "peer", "name", "eth0", "netns", p)
        self.links.append("mdup0")
        sh("ip", "addr", "add", f"{UPLINK_IP}/24", "dev", "mdup0")
        sh("ip", "link", "set", "mdup0", "up")
        sh("ip", "link", "set", "lo", "up", netns=p)
        sh("ip", "addr", "add", f"{OUT_IP}/24", "dev", "eth0", netns=p)
        sh("ip", "link", "set", "eth0", "up", netns=p)

    def teardown(self):
        errors = []
        try:
            fw.remove()
        except Exception as e:  # keep going, report at the end
            errors.append(e)
        for link in reversed(self.links):
            sh("ip", "link", "del", link, check=False)
        for p in self.netns.values():
            ns.delete_netns(p)
        ns.umount(NSDIR, ns.MNT_DETACH)
        os.rmdir(NSDIR)
        if errors:
            raise errors[0]


NET_A = NetworkRules(id="aaaaaaaaaaaa", bridge="mdbr-ta", subnet="10.51.0.0/24",
                     internal=False, icc=True, masquerade=True)
NET_B = NetworkRules(id="bbbbbbbbbbbb", bridge="mdbr-tb", subnet="10.52.0.0/24",
                     internal=False, icc=True, masquerade=True)


@pytest.fixture
def topo(no_leaks):
    t = Topo()
    try:
        t.bridge("mdbr-ta", "10.51.0.1/24")
        t.bridge("mdbr-tb", "10.52.0.1/24")
        t.container("a1", "mdbr-ta", "10.51.0.2/24", "10.51.0.1")
        t.container("a2", "mdbr-ta", "10.51.0.3/24", "10.51.0.1")
        t.container("b1", "mdbr-tb", "10.52.0.2/24", "10.52.0.1")
        t.container("b2", "mdbr-tb", "10.52.0.3/24", "10.52.0.1")
        t.outside()
        yield t
    finally:
        t.teardown()


# ------------------------------------------------------------------ probes

def ping(t, src, ip) -> bool:
    return sh("ping", "-c1", "-W1", ip, netns=t.netns[src], check=False).returncode == 0


def tcp(t, src, dst, ip, port, listen_port=None):
    """Connect from netns ``src`` (None = host) to ip:port while netns ``dst``
    listens on listen_port (default port). The peer address the listener saw, or None."""
    srv = ns.run_in_netns(t.netns.get(dst), socket.create_server, ("0.0.0.0", listen_port or port))
    cli = ns.run_in_netns(t.netns.get(src), socket.socket, socket.AF_INET, socket.SOCK_STREAM)
    try:
        srv.settimeout(1.5)
        cli.settimeout(1.5)
        try:
            cli.connect((ip, port))
            conn, peer = srv.accept()
        except OSError:
            return None
        with conn:
            conn.sendall(b"pong")
            assert cli.recv(4) == b"pong"
        return peer[0]
    finally:
        cli.close()
        srv.close()


def udp(t, src, dst, ip, port):
    """Send one datagram and its echo back; the peer address seen, or None."""
    srv = ns.run_in_netns(t.netns.get(dst), socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    cli = ns.run_in_netns(t.netns.get(src), socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        srv.bind(("0.0.0.0", port))
        srv.settimeout(1.0)
        cli.settimeout(1.0)
        cli.sendto(b"ping", (ip, port))
        try:
            data, peer = srv.recvfrom(100)
        except socket.timeout:
            return None
        srv.sendto(b"pong", peer)
        try:
            assert cli.recv(100) == b"pong"
        except socket.timeout:
            return None
        return peer[0]
    finally:
        cli.close()
        srv.close()


def reach(t, src, dst, ip) -> bool:
    """ICMP, TCP and UDP all agree (all pass or all blocked); returns which."""
    r = (ping(t, src, ip), tcp(t, src, dst, ip, 7001) is not None, udp(t, src, dst, ip, 7002) is not None)
    assert len(set(r)) == 1, f"{src}->{dst} ({ip}): icmp/tcp/udp disagree: {r}"
    return r[0]


def table_text():
    return sh("nft", "list", "table", "inet", "minidocker").stdout


def tables():
    return sh("nft", "list", "tables").stdout.split()


# ------------------------------------------------------------------ tests

def test_same_network_passes_cross_network_blocked(topo):
    t = topo
    with explain.recording() as lines:
        fw.apply([NET_A, NET_B], [])
    assert any(l.startswith("nft -f - <<'EOF'\n") and "table inet minidocker {" in l for l in lines)
    assert reach(t, "a1", "a2", "10.51.0.3")
    assert reach(t, "b2", "b1", "10.52.0.2")
    assert not reach(t, "a1", "b1", "10.52.0.2")
    assert not reach(t, "b1", "a1", "10.51.0.2")
    assert not reach(t, "a2", "b2", "10.52.0.3")


def test_without_rules_networks_are_routed(topo):
    # the control: plain routing lets them talk, so the blocks above are ours
    assert reach(topo, "a1", "b1", "10.52.0.2")


def test_icc_false_blocks_within_network(topo):
    t = topo
    key = "net.bridge.bridge-nf-call-iptables"
    old = sysctl.read(key)
    try:
        sysctl.write(key, "0")
        noicc = NetworkRules(**{**NET_A.__dict__, "icc": False})
        with explain.recording() as lines:
            fw.apply([noicc, NET_B], [])
        assert sysctl.read(key) == "1"
        assert f"sysctl -w {key}=1" in lines
        assert not reach(t, "a1", "a2", "10.51.0.3")
        assert reach(t, "b1", "b2", "10.52.0.3")
        # the mechanism: without br_netfilter's pass to the inet hooks, bridged
        # frames never meet our forward chain and icc=false would not hold
        sysctl.write(key, "0")
        assert reach(t, "a1", "a2", "10.51.0.3")
        sysctl.write(key, "1")
        assert not ping(t, "a1", "10.51.0.3")
        # re-enable icc: a re-render lets it through again
        fw.apply([NET_A, NET_B], [])
        assert reach(t, "a1", "a2", "10.51.0.3")
    finally:
        sysctl.write(key, old)


def test_internal_cannot_leave_normal_one_is_masqueraded(topo):
    t = topo
    t.bridge("mdbr-tc", "10.53.0.1/24")
    t.container("c1", "mdbr-tc", "10.53.0.2/24", "10.53.0.1")
    t.container("c2", "mdbr-tc", "10.53.0.3/24", "10.53.0.1")
    internal = NetworkRules(id="cccccccccccc", bridge="mdbr-tc", subnet="10.53.0.0/24",
                            internal=True, icc=True, masquerade=True)
    fw.apply([NET_A, internal], [])
    # the normal network reaches the outside, which sees the host's address
    assert ping(t, "a1", OUT_IP)
    assert tcp(t, "a1", "out", OUT_IP, 7003) == UPLINK_IP
    assert udp(t, "a1", "out", OUT_IP, 7004) == UPLINK_IP
    # the internal one reaches nothing outside itself, but talks within
    assert not reach(t, "c1", "out", OUT_IP)
    assert reach(t, "c1", "c2", "10.53.0.3")
    assert not reach(t, "c1", "a1", "10.51.0.2")
    # and nothing from outside gets in
    sh("ip", "route", "add", "10.53.0.0/24", "via", UPLINK_IP, netns=t.netns["out"])
    assert not reach(t, "out", "c1", "10.53.0.2")


def test_ip_forward_only_for_non_internal_networks(topo):
    old = sysctl.read("net.ipv4.ip_forward")
    internal = NetworkRules(**{**NET_A.__dict__, "internal": True})
    try:
        sysctl.write("net.ipv4.ip_forward", "0")
        with explain.recording() as lines:
            fw.apply([internal], [])
        assert sysctl.read("net.ipv4.ip_forward") == "0"
        assert not any(l.startswith("sysctl") for l in lines)
        with explain.recording() as lines:
            fw.apply([NET_A], [])
        assert sysctl.read("net.ipv4.ip_forward") == "1"
        assert "sysctl -w net.ipv4.ip_forward=1" in lines
        with explain.recording() as lines:
            sysctl.ensure_ip_forward()  # already on: nothing to do, nothing said
        assert lines == []
    finally:
        sysctl.write("net.ipv4.ip_forward", old)


def test_invalid_description_touches_nothing(topo):
    from minidocker.errors import InvalidArgument
    with pytest.raises(InvalidArgument):
        fw.apply([NetworkRules(**{**NET_A.__dict__, "subnet": "10.51.0.0/99"})], [])
    assert "minidocker" not in tables()


def test_masquerade_off_keeps_source(topo):
    t = topo
    nomasq = NetworkRules(**{**NET_A.__dict__, "masquerade": False})
    fw.apply([nomasq], [])
    sh("ip", "route", "add", "10.51.0.0/24", "via", UPLINK_IP, netns=t.netns["out"])
    assert tcp(t, "a1", "out", OUT_IP, 7005) == "10.51.0.2"


def test_unsolicited_inbound_dropped(topo):
    t = topo
    fw.apply([NET_A], [])
    sh("ip", "route", "add", "10.51.0.0/24", "via", UPLINK_IP, netns=t.netns["out"])
    assert not reach(t, "out", "a1", "10.51.0.2")
    assert reach(t, "a1", "out", OUT_IP)  # replies to its own connections do come back


def test_published_port_dnat(topo):
    t = topo
    ports = [DnatRule("tcp", "", 8080, "10.51.0.2", 80, "mdbr-ta"),
             DnatRule("udp", UPLINK_IP, 5353, "10.51.0.2", 53, "mdbr-ta")]
    fw.apply([NET_A, NET_B], ports)
    # from the outside, to the host's address
    assert tcp(t, "out", "a1", UPLINK_IP, 8080, listen_port=80) == OUT_IP
    assert udp_dnat(t, "out", "a1", UPLINK_IP, 5353, 53) == OUT_IP
    # from the host itself (output hook)
    assert tcp(t, None, "a1", UPLINK_IP, 8080, listen_port=80) is not None
    # hairpin: a container of the same network, through the gateway address
    assert tcp(t, "a2", "a1", "10.51.0.1", 8080, listen_port=80) == "10.51.0.1"
    # the container port itself is not open to the outside
    sh("ip", "route", "add", "10.51.0.0/24", "via", UPLINK_IP, netns=t.netns["out"])
    assert tcp(t, "out", "a1", "10.51.0.2", 81) is None
    # unpublishing removes it
    fw.apply([NET_A, NET_B], [])
    assert "dnat" not in table_text()
    assert tcp(t, "out", "a1", UPLINK_IP, 8080, listen_port=80) is None


def udp_dnat(t, src, dst, ip, port, listen_port):
    srv = ns.run_in_netns(t.netns[dst], socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    cli = ns.run_in_netns(t.netns[src], socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        srv.bind(("0.0.0.0", listen_port))
        srv.settimeout(1.0)
        cli.settimeout(1.0)
        cli.sendto(b"q", (ip, port))
        data, peer = srv.recvfrom(10)
        srv.sendto(b"a", peer)
        assert cli.recv(10) == b"a"
        return peer[0]
    except socket.timeout:
        return None
    finally:
        cli.close()
        srv.close()


def test_removing_network_rerender_and_remove(topo):
    t = topo
    fw.apply([NET_A, NET_B], [])
    assert "mdbr-tb" in table_text()
    fw.apply([NET_A], [])
    text = table_text()
    assert "mdbr-tb" not in text and "10.52." not in text and "bbbbbbbbbbbb" not in text
    # mdbr-tb is no longer isolated by us: it is just routed
    assert reach(t, "a1", "b1", "10.52.0.2")
    fw.remove()
    assert "minidocker" not in tables()
    fw.remove()  # absent: a no-op


def test_apply_twice_is_idempotent(topo):
    fw.apply([NET_A, NET_B], [DnatRule("tcp", "", 8080, "10.51.0.2", 80, "mdbr-ta")])
    first = table_text()
    fw.apply([NET_A, NET_B], [DnatRule("tcp", "", 8080, "10.51.0.2", 80, "mdbr-ta")])
    assert table_text() == first
    assert tables().count("minidocker") == 1
    assert reach(topo, "a1", "a2", "10.51.0.3")


def test_failed_apply_changes_nothing(topo, monkeypatch):
    fw.apply([NET_A, NET_B], [])
    before = table_text()
    good = fw.render
    monkeypatch.setattr(fw, "render", lambda n, p: good(n, p) + "add rule inet minidocker nosuchchain accept\n")
    with pytest.raises(KernelError, match="nosuchchain"):
        fw.apply([NET_A], [])
    assert table_text() == before


def test_libnft_reports_nft_message():
    with pytest.raises(KernelError, match="syntax error"):
        libnft.run("this is not nft\n")


# ------------------------------------------------------------------ beside Docker

DOCKER_EMULATION = """
table ip filter {
    chain FORWARD { type filter hook forward priority 0; policy drop; jump DOCKER-USER; }
    chain DOCKER-USER { return; }
}
"""


@pytest.fixture
def docker_filter():
    libnft.run(DOCKER_EMULATION)
    try:
        yield
    finally:
        libnft.run("delete table ip filter\n")


def docker_user_rules():
    objs = libnft.list_json("chain ip filter DOCKER-USER") or []
    return [o["rule"] for o in objs if "rule" in o]


def test_coexist_with_docker_forward_drop(topo, docker_filter):
    t = topo
    # Docker's policy alone drops even same-bridge traffic (br_netfilter)
    assert sysctl.read("net.bridge.bridge-nf-call-iptables") == "1"
    assert not ping(t, "a1", "10.51.0.3")
    fw.apply([NET_A, NET_B], [])
    assert reach(t, "a1", "a2", "10.51.0.3")
    assert reach(t, "b1", "b2", "10.52.0.3")
    assert not reach(t, "a1", "b1", "10.52.0.2")
    assert not reach(t, "b2", "a2", "10.51.0.3")
    assert tcp(t, "a1", "out", OUT_IP, 7006) == UPLINK_IP
    ours = [r for r in docker_user_rules() if r.get("comment") == "minidocker"]
    assert ours and docker_user_rules()[-1].get("comment") is None  # Docker's RETURN stays last
    # re-apply does not duplicate; iptables can still list the chain
    fw.apply([NET_A, NET_B], [])
    assert len([r for r in docker_user_rules() if r.get("comment") == "minidocker"]) == len(ours)
    r = sh("iptables-nft", "-S", "DOCKER-USER")
    assert "-m comment --comment minidocker" in r.stdout and "-j RETURN" in r.stdout
    # Docker's policy is untouched
    fwd = [o["chain"] for o in libnft.list_json("chain ip filter FORWARD") if "chain" in o][0]
    assert fwd["policy"] == "drop"
    # dropping a network removes its accepts; remove() removes exactly ours
    fw.apply([NET_A], [])
    assert not any("mdbr-tb" in json.dumps(r) for r in docker_user_rules())
    fw.remove()
    assert [r.get("comment") for r in docker_user_rules()] == [None]
    assert "minidocker" not in tables()


def test_coexist_forward_drop_without_docker_user(topo):
    t = topo
    libnft.run("table ip filter {\n chain FORWARD { type filter hook forward priority 0; policy drop; }\n}\n")
    try:
        fw.apply([NET_A, NET_B], [])
        assert reach(t, "a1", "a2", "10.51.0.3")
        assert not reach(t, "a1", "b1", "10.52.0.2")
        fw.remove()
        objs = libnft.list_json("chain ip filter FORWARD")
        assert not [o for o in objs if "rule" in o]
    finally:
        libnft.run("delete table ip filter\n")

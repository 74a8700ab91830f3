"""Isolation and egress of engine-made networks, checked with real traffic:
ping, busybox nc (TCP) and UDP sockets inside the containers' namespaces, and
scapy probes (minidocker.probe) sent from inside them.

    n1 10.90.1.0/24: a1 a2        n2 10.90.2.0/24: b1
    quiet (icc=false) 10.90.3.0/24: q1 q2
    inner (--internal) 10.90.4.0/24: i1
    plain (masquerade off) 10.92.5.0/24: p1
    "outside": netns out, eth0 10.99.0.2 <-veth-> mdtout0 10.99.0.1 (host)
"""
import json
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from minidocker.network import namespaces as ns
from minidocker.observe import probe

from .enginehelp import ex, run

NSDIR = "/run/mdtest-iso"
OUT_IP = "10.99.0.2"
UPLINK_IP = "10.99.0.1"


def test_runs_in_throwaway_netns(no_leaks):
    links = [l["ifname"] for l in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)]
    assert links == ["lo"]


def test_netns_create_delete(tmp_path, no_leaks):
    d = "/run/minidocker-test/netns"
    ns.ensure_private_dir(d)
    p = f"{d}/x1"
    ns.create_netns(p)
    out = ns.run_in_netns(p, lambda: subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)
    assert [l["ifname"] for l in json.loads(out)] == ["lo"]
    ns.delete_netns(p)
    ns.umount(d, ns.MNT_DETACH)


def sh(*argv, netns=None):
    r = ns.run_in_netns(netns, lambda: subprocess.run(list(argv), capture_output=True, text=True))
    assert r.returncode == 0, f"{argv}: {r.stderr}"
    return r.stdout


@pytest.fixture
def outside(engine):
    """A namespace beyond the host, reached through a veth; routes back to 10.92/16 only."""
    ns.ensure_private_dir(NSDIR)
    path = f"{NSDIR}/out"
    ns.create_netns(path)
    try:
        sh("ip", "link", "add", "mdtout0", "type", "veth", "peer", "name", "eth0", "netns", path)
        sh("ip", "addr", "add", f"{UPLINK_IP}/24", "dev", "mdtout0")
        sh("ip", "link", "set", "mdtout0", "up")
        for cmd in (("link", "set", "lo", "up"), ("addr", "add", f"{OUT_IP}/24", "dev", "eth0"),
                    ("link", "set", "eth0", "up"), ("route", "add", "10.92.0.0/16", "via", UPLINK_IP)):
            sh("ip", *cmd, netns=path)
        yield path
    finally:
        subprocess.run(["ip", "link", "del", "mdtout0"], capture_output=True)
        ns.delete_netns(path)
        ns.umount(NSDIR, ns.MNT_DETACH)
        os.rmdir(NSDIR)


@pytest.fixture
def lab(engine):
    e = engine
    e.net.create("n1", subnet="10.90.1.0/24")
    e.net.create("n2", subnet="10.90.2.0/24")
    e.net.create("quiet", subnet="10.90.3.0/24", options={"com.docker.network.bridge.enable_icc": "false"})
    e.net.create("inner", subnet="10.90.4.0/24", internal=True)
    e.net.create("plain", subnet="10.92.5.0/24",
                 options={"com.docker.network.bridge.enable_ip_masquerade": "false"})
    c = {}
    for name, net in (("a1", "n1"), ("a2", "n1"), ("b1", "n2"), ("q1", "quiet"), ("q2", "quiet"),
                      ("i1", "inner"), ("i2", "inner"), ("p1", "plain")):
        c[name] = run(e, name=name, network=net)
    return c


def ip_of(c):
    return next(iter(c.endpoints.values()))["ip"]


def ping(engine, src, ip):
    return ex(engine, src, "ping", "-c1", "-W1", ip)[0] == 0


def tcp(engine, src, dst, port=7001):
    """busybox nc: a listener in dst, a client in src; True when the banner arrives."""
    code, out = ex(engine, dst, "sh", "-c", f"nc -l -p {port} -e echo hello-{port} >/dev/null 2>&1 &")
    assert code == 0, out
    for _ in range(50):  # wait for the listener
        if f":{port}" in ex(engine, dst, "netstat", "-ltn")[1]:
            break
    code, out = ex(engine, src, "nc", "-w", "1", ip_of(dst), str(port))
    ok = f"hello-{port}" in out
    if not ok:  # unblock the listener so nothing lingers
        ex(engine, dst, "nc", "-w", "1", "127.0.0.1", str(port))
    return ok


def udp(src_netns, dst_netns, ip, port=7002):
    """A datagram and its echo, both sockets opened inside the containers' namespaces."""
    srv = ns.run_in_netns(dst_netns, socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    cli = ns.run_in_netns(src_netns, socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        srv.bind(("0.0.0.0", port))
        srv.settimeout(1.0)
        cli.settimeout(1.0)
        cli.sendto(b"ping", (ip, port))
        try:
            data, peer = srv.recvfrom(100)
            srv.sendto(b"pong", peer)
            return cli.recv(100) == b"pong"
        except socket.timeout:
            return False
    finally:
        cli.close()
        srv.close()


def reach(engine, src, dst):
    r = (ping(engine, src, ip_of(dst)), tcp(engine, src, dst), udp(src.netns, dst.netns, ip_of(dst)))
    assert len(set(r)) == 1, f"{src.name}->{dst.name}: icmp/tcp/udp disagree {r}"
    return r[0]


def probes(pairs):
    jobs = [(s.netns, ip_of(d)) for s, d in pairs]
    with probe.icmp_errors_unlimited({s.netns for s, _ in pairs} | {d.netns for _, d in pairs}):
        return probe.probe_many(jobs, timeout=0.5)


def test_between_networks_dropped_within_passes(engine, lab):
    c = lab
    assert reach(engine, c["a1"], c["a2"])
    assert reach(engine, c["a2"], c["a1"])
    assert not reach(engine, c["a1"], c["b1"])
    assert not reach(engine, c["b1"], c["a1"])
    assert not reach(engine, c["b1"], c["q1"])
    assert not reach(engine, c["i1"], c["a2"])
    res = probes([(c["a1"], c["a2"]), (c["a1"], c["b1"]), (c["b1"], c["a2"]), (c["p1"], c["b1"]),
                  (c["i1"], c["i2"]), (c["a1"], c["i1"])])
    everything = {"arp": True, "icmp": True, "tcp": True, "udp": True}
    nothing = {"arp": False, "icmp": False, "tcp": False, "udp": False}
    assert res == [everything, nothing, nothing, nothing, everything, nothing]


def test_icc_false_blocks_within(engine, lab):
    c = lab
    assert not reach(engine, c["q1"], c["q2"])
    assert not reach(engine, c["q2"], c["q1"])
    assert probes([(c["q1"], c["q2"])]) == [{"arp": True, "icmp": False, "tcp": False, "udp": False}]
    # the gateway (the host) still answers, as in Docker
    assert ping(engine, c["q1"], "10.90.3.1")


def test_internal_reaches_nothing_outside_others_masquerade(engine, lab, outside):
    c = lab
    assert not ping(engine, c["i1"], OUT_IP)
    assert not probe.probe(c["i1"].netns, OUT_IP, protos=("icmp", "tcp", "udp"))["icmp"]
    assert probe.probe(c["i1"].netns, OUT_IP, protos=("icmp", "tcp", "udp")) == \
        {"icmp": False, "tcp": False, "udp": False}
    assert reach(engine, c["i1"], c["i2"])   # inside itself it still works
    # a normal network goes out, masqueraded (the outside has no route back to 10.90/16)
    assert ping(engine, c["a1"], OUT_IP)
    srv = ns.run_in_netns(outside, socket.create_server, ("0.0.0.0", 7100))
    try:
        srv.settimeout(3)
        for src, seen in ((c["a1"], UPLINK_IP), (c["p1"], ip_of(c["p1"]))):
            with ThreadPoolExecutor(1) as pool:
                client = pool.submit(ex, engine, src, "sh", "-c", f"nc -w 1 {OUT_IP} 7100 </dev/null")
                conn, peer = srv.accept()
                conn.sendall(b"from-outside\n")
                conn.close()
                assert "from-outside" in client.result(timeout=10)[1]
            assert peer[0] == seen, src.name
    finally:
        srv.close()
    # unsolicited inbound from outside is dropped, even where the outside has a route
    r = ns.run_in_netns(outside, lambda: subprocess.run(["ping", "-c1", "-W1", ip_of(c["p1"])],
                                                       capture_output=True))
    assert r.returncode != 0
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read().strip() == "1"


def test_removing_network_leaves_no_rule(engine, lab):
    c = lab
    for name in ("q1", "q2"):
        engine.ctr.remove(name, force=True)
    n = engine.find_network("quiet")
    engine.net.remove("quiet")
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert n.bridge not in ruleset and n.id[:12] not in ruleset and "10.90.3.0" not in ruleset
    # the others are unaffected
    assert reach(engine, c["a1"], c["a2"])
    assert not reach(engine, c["a1"], c["b1"])

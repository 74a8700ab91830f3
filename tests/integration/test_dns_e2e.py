"""Issue 4 end to end: the embedded DNS through the Engine (and the real CLI).

Every DNS query in here goes to 127.0.0.11 inside a container's namespace, or to
an upstream dnslib server this file starts itself: on 127.0.0.53:53 in the test's
host namespace (the host resolver of the `engine` fixture), in a namespace of its
own reached through a veth (198.51.100.2, TEST-NET-2), or on loopback inside a
container's namespace. Containers on the default bridge get 198.51.100.2 in their
resolv.conf, never a public server.
"""
import os
import subprocess
import threading
import time

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSServer

from minidocker import namespaces
from minidocker.engine import Engine

from .conftest import _fresh_root
from .enginehelp import ex, run

UP_NS = "mdt-up"
UP_IP, UP_HOST_IP = "198.51.100.2", "198.51.100.1"
HOSTS_DEFAULTS = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                  "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")


# ---- upstream servers ---------------------------------------------------------
class Zone(BaseResolver):
    """Answers ``A`` for its names, NXDOMAIN for anything else; logs every query."""

    def __init__(self, answers: dict):
        self.answers = {k.lower().rstrip("."): v for k, v in answers.items()}
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def resolve(self, request, handler):
        name = str(request.q.qname).lower().rstrip(".")
        with self.lock:
            self.seen.append((name, handler.client_address[0]))
        reply = request.reply()
        if name in self.answers:
            if request.q.qtype == QTYPE.A:
                reply.add_answer(RR(request.q.qname, QTYPE.A, ttl=30, rdata=A(self.answers[name])))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply

    def names(self) -> list[str]:
        with self.lock:
            return [n for n, _ in self.seen]


class Upstream:
    def __init__(self, zone: Zone, ip: str, netns: str | None = None):
        self.zone = zone
        make = lambda: DNSServer(zone, address=ip, port=53)  # binds now: in ``netns``
        self.server = namespaces.run_in_netns(netns, make) if netns else make()
        self.server.start_thread()

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()


@pytest.fixture
def host_upstream(engine):
    """The host's resolver (127.0.0.53 in the test's host namespace)."""
    up = Upstream(Zone({"up.test": "10.9.9.53", "shared.test": "10.9.9.1"}), "127.0.0.53")
    yield up.zone
    up.stop()


def _sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def veth_upstream(request):
    """A dnslib server in a namespace of its own, 198.51.100.2, through a veth."""
    _sh("ip", "netns", "add", UP_NS)
    try:
        _sh("ip", "link", "add", "mdtup0", "type", "veth", "peer", "name", "eth0", "netns", UP_NS)
        _sh("ip", "addr", "add", f"{UP_HOST_IP}/24", "dev", "mdtup0")
        _sh("ip", "link", "set", "mdtup0", "up")
        _sh("ip", "-n", UP_NS, "addr", "add", f"{UP_IP}/24", "dev", "eth0")
        _sh("ip", "-n", UP_NS, "link", "set", "eth0", "up")
        _sh("ip", "-n", UP_NS, "link", "set", "lo", "up")
        _sh("ip", "-n", UP_NS, "route", "add", "default", "via", UP_HOST_IP)
        up = Upstream(Zone({"up.test": "10.7.7.7", "viadns.test": "10.7.7.8"}), UP_IP, f"/run/netns/{UP_NS}")
    except BaseException:
        subprocess.run(["ip", "link", "del", "mdtup0"], capture_output=True)
        subprocess.run(["ip", "netns", "del", UP_NS], capture_output=True)
        raise
    yield up.zone
    up.stop()
    subprocess.run(["ip", "link", "del", "mdtup0"], capture_output=True)
    _sh("ip", "netns", "del", UP_NS)


# ---- helpers -------------------------------------------------------------------
def q(c, name, qtype="A", tcp=False, timeout=4.0) -> DNSRecord:
    """A dnslib query to 127.0.0.11 from inside the container's namespace."""
    def ask():
        return DNSRecord.question(name, qtype).send("127.0.0.11", 53, tcp=tcp, timeout=timeout)
    return DNSRecord.parse(namespaces.run_in_netns(c.netns, ask))


def addrs(reply: DNSRecord) -> list[str]:
    return [str(r.rdata) for r in reply.rr if r.rtype == QTYPE.A]


def ip_of(c, net) -> str:
    return c.endpoints[net.id]["ip"]


def nslookup(engine, c, name) -> tuple[int, str]:
    return ex(engine, c, "nslookup", name, "127.0.0.11")


def cat(engine, c, path) -> str:
    code, out = ex(engine, c, "cat", path)
    assert code == 0, out
    return out


# ---- 1. files --------------------------------------------------------------------
def test_resolv_and_hosts_on_user_network(engine):
    net = engine.net.create("self_net")
    c = run(engine, name="centos1", network="self_net", Hostname="myhost",
            ExtraHosts=["foo:1.2.3.4", "bar:5.6.7.8"], DnsSearch=["example.com", "b.org"],
            DnsOptions=["timeout:2", "ndots:3"])
    assert cat(engine, c, "/etc/resolv.conf") == "search example.com b.org\nnameserver 127.0.0.11\noptions timeout:2 ndots:3\n"
    assert cat(engine, c, "/etc/hosts") == HOSTS_DEFAULTS + f"1.2.3.4\tfoo\n5.6.7.8\tbar\n{ip_of(c, net)}\tmyhost\n"
    d = run(engine, name="centos2", network="self_net", DnsOptions=["timeout:2"])
    assert cat(engine, d, "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions timeout:2 ndots:0\n"
    e = run(engine, name="plain", network="self_net")
    assert cat(engine, e, "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert cat(engine, e, "/etc/hosts") == HOSTS_DEFAULTS + f"{ip_of(e, net)}\t{e.id[:12]}\n"


def test_default_bridge_resolv_conf(engine):
    # the fixture's host resolv.conf has only 127.0.0.53: dropped, Docker's defaults in
    c = run(engine, name="b1")
    assert cat(engine, c, "/etc/resolv.conf") == "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
    with open(engine.host_resolv_conf, "w") as f:
        f.write("# host\nnameserver 127.0.0.53\nnameserver 198.51.100.2\nsearch lan\noptions edns0\n")
    d = run(engine, name="b2")
    assert cat(engine, d, "/etc/resolv.conf") == "# host\nnameserver 198.51.100.2\nsearch lan\noptions edns0\n"
    e = run(engine, name="b3", Dns=["198.51.100.7", "198.51.100.8"])
    assert cat(engine, e, "/etc/resolv.conf") == ("search lan\nnameserver 198.51.100.7\nnameserver 198.51.100.8\n"
                                                  "options edns0\n")
    f = run(engine, name="b4", DnsSearch=["x.org"], DnsOptions=["timeout:3"])
    assert cat(engine, f, "/etc/resolv.conf") == "search x.org\nnameserver 198.51.100.2\noptions timeout:3\n"
    # no embedded DNS on the default bridge
    assert engine.dns.attached() == []
    code, out = ex(engine, d, "nslookup", "b1", "127.0.0.11")
    assert code != 0


def test_connect_and_disconnect_edit_files_like_docker(engine, host_upstream):
    net = engine.net.create("self_net")
    a = run(engine, name="t4a", network="self_net")
    b = run(engine, name="t4b", Dns=["198.51.100.9"])
    bridge_ip = b.endpoints[engine.default_bridge().id]["ip"]
    assert cat(engine, b, "/etc/resolv.conf") == "nameserver 198.51.100.9\n"
    engine.net.connect("self_net", "t4b", aliases=["x1"])
    b = engine.find_container("t4b")
    assert cat(engine, b, "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert cat(engine, b, "/etc/hosts") == HOSTS_DEFAULTS + f"{bridge_ip}\t{b.id[:12]}\n{ip_of(b, net)}\t{b.id[:12]}\n"
    assert addrs(q(b, "t4a")) == [ip_of(a, net)]
    assert addrs(q(a, "x1")) == [ip_of(b, net)]
    engine.net.disconnect("self_net", "t4b")
    # Docker 20.10 keeps the resolver and resolv.conf, and deletes every own line
    assert cat(engine, b, "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert cat(engine, b, "/etc/hosts") == HOSTS_DEFAULTS
    assert q(a, "x1").header.rcode == RCODE.NXDOMAIN
    # t4b's resolver no longer knows self_net: the name goes upstream (its --dns)
    assert q(b, "t4a").header.rcode == RCODE.SERVFAIL
    # a fresh start renders the files from scratch
    engine.ctr.stop("t4b", timeout=0)
    engine.ctr.start("t4b")
    assert cat(engine, b, "/etc/resolv.conf") == "nameserver 198.51.100.9\n"
    assert cat(engine, b, "/etc/hosts") == HOSTS_DEFAULTS + f"{bridge_ip}\t{b.id[:12]}\n"

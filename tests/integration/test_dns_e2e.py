"""Issue 4 end to end: the embedded DNS through the Engine (and the real CLI).

Every DNS query in here goes to 127.0.0.11 inside a container's namespace, or to
an upstream dnslib server this file starts itself: on 127.0.0.53:53 in the test's
host namespace (the host resolver of the `engine` fixture), in a namespace of its
own reached through a veth (198.51.100.2, TEST-NET-2), or on loopback inside a
container's namespace. Containers on the default bridge get 198.51.100.2 in their
resolv.conf, never a public server.
"""
import socket
import threading
import time

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from minidocker.network import namespaces
from minidocker.engine.core import Engine

from .conftest import _fresh_root
from .enginehelp import ex, peer_namespace, run

UP_NS = "mdt-up"
QUIET = DNSLogger("-request,-reply,-truncated,-error", prefix=False)
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
        make = lambda: [DNSServer(zone, address=ip, port=53, tcp=tcp, logger=QUIET) for tcp in (False, True)]
        self.servers = namespaces.run_in_netns(netns, make) if netns else make()  # bound in ``netns``
        for s in self.servers:
            s.start_thread()

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
            s.server.server_close()


@pytest.fixture
def host_upstream(engine):
    """The host's resolver (127.0.0.53 in the test's host namespace)."""
    up = Upstream(Zone({"up.test": "10.9.9.53", "shared.test": "10.9.9.1"}), "127.0.0.53")
    yield up.zone
    up.stop()


@pytest.fixture
def veth_upstream():
    """A dnslib server in a namespace of its own, 198.51.100.2, through a veth."""
    with peer_namespace("up", UP_NS, "mdtup0", UP_HOST_IP, UP_IP) as path:
        up = Upstream(Zone({"up.test": "10.7.7.7", "viadns.test": "10.7.7.8"}), UP_IP, path)
        try:
            yield up.zone
        finally:
            up.stop()


# ---- helpers -------------------------------------------------------------------
def q(c, name, qtype="A", tcp=False, timeout=4.0) -> DNSRecord:
    """A dnslib query to 127.0.0.11 from inside the container's namespace."""
    def ask():
        return DNSRecord.question(name, qtype).send("127.0.0.11", 53, tcp=tcp, timeout=timeout)
    return DNSRecord.parse(namespaces.run_in_netns(c.netns, ask))


def silent(c, name, qtype="A", timeout=3.0) -> bool:
    """True if the container's resolver gives no answer at all (Docker 20.10's
    behaviour when the last upstream asked did not reply)."""
    try:
        q(c, name, qtype, timeout=timeout)
    except socket.timeout:
        return True
    return False


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
    # t4b's resolver no longer knows self_net: the name goes upstream (its --dns, which
    # does not answer: as Docker 20.10, neither does the resolver)
    assert silent(b, "t4a")
    # a fresh start renders the files from scratch
    engine.ctr.stop("t4b", timeout=0)
    engine.ctr.start("t4b")
    assert cat(engine, b, "/etc/resolv.conf") == "nameserver 198.51.100.9\n"
    assert cat(engine, b, "/etc/hosts") == HOSTS_DEFAULTS + f"{bridge_ip}\t{b.id[:12]}\n"


# ---- 2. names ---------------------------------------------------------------------
def test_names_answered(engine, host_upstream):
    net = engine.net.create("self_net")
    a = run(engine, name="web", network="self_net", Hostname="webhost", Aliases=["al1", "Al2"])
    b = run(engine, name="centos2", network="self_net")
    want = [ip_of(a, net)]
    for name in ("web", a.id[:12], "webhost", "al1", "al2", "web.self_net", "WEB", "Web.self_net", "AL1.self_net",
                 "web."):
        reply = q(b, name)
        assert reply.header.rcode == RCODE.NOERROR and addrs(reply) == want, name
    reply = q(b, "web")
    assert [r.ttl for r in reply.rr] == [600]
    six = q(b, "web", "AAAA")
    assert six.header.rcode == RCODE.NOERROR and six.rr == []
    rev = ".".join(reversed(want[0].split("."))) + ".in-addr.arpa"
    ptr = q(b, rev, "PTR")
    assert [str(r.rdata) for r in ptr.rr] == ["web.self_net."]
    assert q(b, "web", tcp=True).rr[0].rdata == A(want[0])
    # busybox's own resolver, as a user would type it
    code, out = nslookup(engine, b, "web")
    assert code == 0 and f"Address: {want[0]}" in out
    code, out = ex(engine, b, "ping", "-c1", "-W2", "webhost")
    assert code == 0 and f"({want[0]})" in out
    # network connect --alias
    other = engine.net.create("net2")
    engine.net.connect("net2", "web", aliases=["ca"])
    a = engine.find_container("web")
    assert addrs(q(a, "ca")) == [ip_of(a, other)]
    assert addrs(q(a, "ca.net2")) == [ip_of(a, other)]
    assert q(b, "ca").header.rcode == RCODE.NXDOMAIN  # b is not on net2


def test_resolver_sockets_made_by_the_sandbox_thread(engine, monkeypatch):
    """A sandbox's setup has the resolver listen from the thread it has in the new
    namespace already: no other thread enters it; names are answered there."""
    net = engine.net.create("self_net")
    entered = []
    real = namespaces.run_in_netns
    monkeypatch.setattr(namespaces, "run_in_netns", lambda p, fn, *a, **k: (entered.append(p), real(p, fn, *a, **k))[1])
    a = run(engine, name="web", network="self_net")
    b = run(engine, name="other", network="self_net")
    assert entered == [] and sorted(engine.dns.attached()) == sorted([a.id, b.id])
    assert addrs(q(b, "web")) == [ip_of(a, net)]


def test_shared_alias_returns_all_in_random_order(engine):
    net = engine.net.create("self_net")
    cs = [run(engine, name=f"s{i}", network="self_net", Aliases=["shared"]) for i in range(3)]
    ips = sorted(ip_of(c, net) for c in cs)
    orders = set()
    for _ in range(40):
        got = addrs(q(cs[0], "shared"))
        assert sorted(got) == ips
        orders.add(tuple(got))
    assert len(orders) > 1


# ---- 3. scope ------------------------------------------------------------------------
def test_scope_and_changes_take_effect_at_once(engine, host_upstream):
    n1 = engine.net.create("net1")
    n2 = engine.net.create("net2")
    a = run(engine, name="aa", network="net1")
    x = run(engine, name="xx", network="net2")
    assert q(a, "xx").header.rcode == RCODE.NXDOMAIN
    assert q(a, "xx.net2").header.rcode == RCODE.NXDOMAIN
    assert q(x, "aa").header.rcode == RCODE.NXDOMAIN
    assert host_upstream.names().count("xx") == 1  # unknown here: asked upstream, which said NXDOMAIN
    code, out = nslookup(engine, a, "xx")
    assert code != 0 and "NXDOMAIN" in out
    # run
    b = run(engine, name="bb", network="net1")
    assert addrs(q(a, "bb")) == [ip_of(b, n1)]
    # connect / disconnect
    engine.net.connect("net1", "xx")
    x = engine.find_container("xx")
    assert addrs(q(a, "xx")) == [ip_of(x, n1)]
    assert addrs(q(x, "aa")) == [ip_of(a, n1)]
    engine.net.disconnect("net1", "xx")
    assert q(a, "xx").header.rcode == RCODE.NXDOMAIN
    assert q(x, "aa").header.rcode == RCODE.NXDOMAIN
    # stop / start
    engine.ctr.stop("bb", timeout=0)
    assert q(a, "bb").header.rcode == RCODE.NXDOMAIN
    engine.ctr.start("bb")
    assert addrs(q(a, "bb")) == [ip_of(b, n1)]
    # rm
    engine.ctr.remove("bb", force=True)
    assert q(a, "bb").header.rcode == RCODE.NXDOMAIN
    assert q(a, b.id[:12]).header.rcode == RCODE.NXDOMAIN


def test_default_bridge_container_gets_resolver_on_connect(engine, host_upstream):
    n1 = engine.net.create("self_net")
    a = run(engine, name="centos1", network="self_net")
    c = run(engine, name="centos3")
    assert c.id not in engine.dns.attached()
    code, _ = nslookup(engine, c, "centos1")
    assert code != 0
    engine.net.connect("self_net", "centos3")
    c = engine.find_container("centos3")
    assert cat(engine, c, "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    code, out = ex(engine, c, "ping", "-c1", "-W2", "centos1")
    assert code == 0 and f"({ip_of(a, n1)})" in out


# ---- 4. forwarding ---------------------------------------------------------------
def test_forward_to_host_resolver_from_host_namespace(engine, host_upstream):
    engine.net.create("self_net")
    a = run(engine, name="fw1", network="self_net")
    reply = q(a, "up.test")
    assert reply.header.rcode == RCODE.NOERROR and addrs(reply) == ["10.9.9.53"]
    # 127.0.0.53 is on the host's loopback: reachable only from the host namespace
    assert ("up.test", "127.0.0.1") in host_upstream.seen
    assert q(a, "nx.test").header.rcode == RCODE.NXDOMAIN
    assert addrs(q(a, "up.test", tcp=True)) == ["10.9.9.53"]
    code, out = nslookup(engine, a, "up.test")
    assert code == 0 and "Address: 10.9.9.53" in out


def test_forward_to_dns_servers_through_container_namespace(engine, host_upstream, veth_upstream):
    engine.net.create("self_net")
    a = run(engine, name="fw2", network="self_net", Dns=[UP_IP])
    reply = q(a, "up.test")
    assert addrs(reply) == ["10.7.7.7"]  # the --dns server's answer, not the host resolver's
    assert "up.test" not in host_upstream.names()
    assert q(a, "nx.test").header.rcode == RCODE.NXDOMAIN
    code, out = ex(engine, a, "ping", "-c1", "-W1", "viadns.test")
    assert "10.7.7.8" in out
    # a --dns server on the container's own loopback proves the query leaves from its namespace
    b = run(engine, name="fw3", network="self_net", Dns=["127.0.0.1"])
    inside = Upstream(Zone({"lo.test": "10.6.6.6"}), "127.0.0.1", b.netns)
    try:
        assert addrs(q(b, "lo.test")) == ["10.6.6.6"]
        assert inside.zone.names() == ["lo.test"]
    finally:
        inside.stop()


def test_no_answer_when_no_upstream_answers(engine, host_upstream):
    # Docker 20.10 (measured with --dns 127.0.0.1 and --dns 192.0.2.1): the client times out
    engine.net.create("self_net")
    a = run(engine, name="fw4", network="self_net", Dns=["127.0.0.1", "127.0.0.2"])  # nothing listens
    assert silent(a, "up.test")
    assert host_upstream.names() == []
    # no host resolver either
    with open(engine.host_resolv_conf, "w") as f:
        f.write("nameserver 127.0.0.54\n")  # nothing listens there
    b = run(engine, name="fw5", network="self_net")
    assert silent(b, "up.test")


def test_internal_network_forwards_only_to_host_loopback(engine, host_upstream, veth_upstream):
    """Docker 20.10 (measured with a resolver on the host's 127.0.0.53): an internal
    container's unknown names go to the host's loopback resolver, asked from the
    host; a --dns server is asked from inside, which reaches nothing."""
    net = engine.net.create("inner", internal=True)
    a = run(engine, name="in1", network="inner")
    b = run(engine, name="in2", network="inner", Dns=[UP_IP])
    assert addrs(q(a, "in2")) == [ip_of(b, net)]
    assert addrs(q(a, "up.test")) == ["10.9.9.53"]
    assert silent(b, "up.test")  # Docker 20.10: forwarded from inside, which reaches nothing
    assert host_upstream.names() == ["up.test"] and veth_upstream.names() == []
    with open(engine.host_resolv_conf, "w") as f:  # a host resolver that is not on loopback
        f.write(f"nameserver {UP_IP}\n")
    c = run(engine, name="in3", network="inner")
    assert silent(c, "up.test")
    assert veth_upstream.names() == []


# ---- 5. daemon restart ---------------------------------------------------------------
def test_resolver_survives_daemon_restart(no_leaks, tmp_path, image_root):
    root, rundir, resolv = _fresh_root(tmp_path, image_root)
    e1 = Engine(root, rundir, host_resolv_conf=resolv, dns_timeout=1.0)
    e2 = None
    try:
        net = e1.net.create("self_net")
        a = run(e1, name="r1", network="self_net", Aliases=["ra"])
        b = run(e1, name="r2", network="self_net")
        assert addrs(q(b, "ra")) == [ip_of(a, net)]
        e1.close()  # the daemon goes away; the containers keep running
        with e1.lock:
            e1.containers.clear()  # its exit watchers must not act on what the new daemon owns
        with pytest.raises(Exception):
            q(b, "ra", timeout=0.5)
        e2 = Engine(root, rundir, host_resolv_conf=resolv, dns_timeout=1.0)
        b2 = e2.find_container("r2")
        assert b2.status == "running" and b2.netns == b.netns
        assert addrs(q(b2, "ra")) == [ip_of(a, net)]
        assert addrs(q(b2, "r1.self_net")) == [ip_of(a, net)]
        code, out = ex(e2, b2, "ping", "-c1", "-W2", "r1")
        assert code == 0, out
        assert cat(e2, b2, "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    finally:
        if e2 is not None:
            e2.close(teardown=True)
        else:
            e1.close(teardown=True)


# ---- the walkthrough, section 五.2, through the real CLI and daemon -------------------
def test_walkthrough_dns_via_cli(cli, veth_upstream):
    with open(cli.env["MINIDOCKER_HOST_RESOLV_CONF"], "w") as f:
        f.write(f"nameserver {UP_IP}\n")
    cli.ok("network", "create", "self_net")
    cli.ok("run", "-d", "--name", "centos1", "--network", "self_net", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "centos2", "--network", "self_net", "busybox", "sleep", "600")
    out = cli.ok("exec", "centos2", "ping", "-c", "3", "centos1")
    assert "PING centos1 (" in out and "3 packets received" in out
    cli.ok("run", "-d", "--name", "centos3", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "centos4", "busybox", "sleep", "600")
    assert cli.ok("exec", "centos3", "cat", "/etc/resolv.conf") == f"nameserver {UP_IP}\n"
    p = cli("exec", "centos3", "ping", "-c", "3", "centos4")
    assert p.returncode != 0 and "bad address" in (p.stdout + p.stderr)
    assert "centos4" in veth_upstream.names()  # asked the (test's) host resolver, which said NXDOMAIN
    # the flags
    cli.ok("run", "-d", "--name", "web", "--network", "self_net", "--hostname", "webhost",
           "--network-alias", "al1", "--add-host", "foo:1.2.3.4", "--dns-search", "example.com",
           "--dns-option", "timeout:2", "busybox", "sleep", "600")
    assert cli.ok("exec", "web", "cat", "/etc/resolv.conf") == (
        "search example.com\nnameserver 127.0.0.11\noptions timeout:2 ndots:0\n")
    ip = cli.ok("inspect", "-f", "{{.NetworkSettings.Networks.self_net.IPAddress}}", "web").strip()
    assert cli.ok("exec", "web", "cat", "/etc/hosts") == HOSTS_DEFAULTS + f"1.2.3.4\tfoo\n{ip}\twebhost\n"
    for name in ("web", "webhost", "al1", "web.self_net"):
        out = cli.ok("exec", "centos2", "nslookup", name, "127.0.0.11")
        assert f"Address: {ip}" in out, (name, out)
    cli.ok("network", "connect", "--alias", "c3alias", "self_net", "centos3")
    assert cli.ok("exec", "centos3", "cat", "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    out = cli.ok("exec", "centos1", "nslookup", "c3alias", "127.0.0.11")
    ip3 = cli.ok("inspect", "-f", "{{.NetworkSettings.Networks.self_net.IPAddress}}", "centos3").strip()
    assert f"Address: {ip3}" in out
    assert "3 packets received" in cli.ok("exec", "centos3", "ping", "-c", "3", "centos1")
    # unknown names go to the host resolver (here the test's upstream)
    out = cli.ok("exec", "centos1", "nslookup", "up.test", "127.0.0.11")
    assert "Address: 10.7.7.7" in out

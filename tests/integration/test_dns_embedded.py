"""Embedded DNS server against real sockets in throwaway network namespaces.

Clients run inside a test-made netns; upstream servers are dnslib servers the
test runs in a netns of its own (or on the test process's own loopback, for the
host-resolver path). No query goes anywhere else."""
import itertools
import json
import os
import socket
import struct
import subprocess
import threading
import time

import pytest
from dnslib import QTYPE, RCODE, RR, TXT, A, DNSRecord, EDNS0
from dnslib.server import DNSServer as UpstreamServer

from minidocker.network import namespaces
from minidocker.dns.records import Table
from minidocker.dns.embedded import DNSServer
from minidocker.errors import NotFound

NSDIR = "/run/netns"
_seq = itertools.count()


# -- helpers ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def netns_dir():
    namespaces.ensure_private_dir(NSDIR)
    return NSDIR


def sh(path, *cmd):
    return namespaces.run_in_netns(path, subprocess.run, list(cmd), check=True, capture_output=True)


@pytest.fixture
def make_ns(netns_dir):
    made = []

    def make(prefix="dnst"):
        name = f"{prefix}{os.getpid() % 10000}x{next(_seq)}"
        path = os.path.join(netns_dir, name)
        namespaces.create_netns(path)
        made.append(path)
        sh(path, "ip", "link", "set", "lo", "up")
        return path

    yield make
    for p in made:
        namespaces.delete_netns(p)


@pytest.fixture
def make_server():
    made = []

    def make(table, host_resolvers=lambda: [], **kw):
        srv = DNSServer(table, host_resolvers, **kw)
        srv.start()
        made.append(srv)
        return srv

    yield make
    for s in made:
        s.stop()


def _udp(data, server, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, (server, port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def _tcp(data, server, port, timeout):
    s = socket.create_connection((server, port), timeout=timeout)
    try:
        s.sendall(struct.pack("!H", len(data)) + data)
        n = struct.unpack("!H", _recv_exact(s, 2))[0]
        return _recv_exact(s, n)
    except socket.timeout:
        return None
    finally:
        s.close()


def raw_query(path, data, tcp=False, server="127.0.0.11", port=53, timeout=2.0):
    return namespaces.run_in_netns(path, _tcp if tcp else _udp, bytes(data), server, port, timeout)


def query(path, name, qtype="A", tcp=False, edns=None, timeout=2.0):
    q = DNSRecord.question(name, qtype)
    if edns:
        q.add_ar(EDNS0(udp_len=edns))
    raw = raw_query(path, q.pack(), tcp=tcp, timeout=timeout)
    assert raw is not None, f"no answer for {name} {qtype}"
    r = DNSRecord.parse(raw)
    assert r.header.id == q.header.id
    return r


def addrs(r):
    return [str(a.rdata) for a in r.rr]


class _Quiet:
    def __getattr__(self, name):
        return lambda *a, **k: None


class Resolver:
    """Upstream test resolver: ext.test A 10.9.9.9, big.test many TXT, else NXDOMAIN."""

    def __init__(self):
        self.seen = []

    def resolve(self, request, handler):
        name = str(request.q.qname).lower()
        self.seen.append((name, handler.client_address[0], handler.protocol))
        reply = request.reply()
        if name == "ext.test.":
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("10.9.9.9"), ttl=60))
        elif name == "big.test.":
            for i in range(40):
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT("x" * 40 + str(i)), ttl=60))
        elif name == "fail.test.":
            reply.header.rcode = RCODE.SERVFAIL
        elif name == "refused.test.":
            reply.header.rcode = RCODE.REFUSED
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@pytest.fixture
def upstream():
    """Start dnslib servers (UDP+TCP) bound to ``ip`` inside netns ``path``."""
    servers = []

    def start(path, ip):
        res = Resolver()
        for tcp in (False, True):
            srv = namespaces.run_in_netns(
                path, lambda: UpstreamServer(res, port=53, address=ip, tcp=tcp, logger=_Quiet()))
            srv.start_thread()
            servers.append(srv)
        return res

    yield start
    for srv in servers:
        srv.server.shutdown()
        srv.server.server_close()


@pytest.fixture
def silent_sockets():
    """Bound UDP/TCP sockets that never answer (an upstream that is 'down' but drops)."""
    socks = []

    def make(path, ip):
        def mk():
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((ip, 53))
            return u
        socks.append(namespaces.run_in_netns(path, mk))

    yield make
    for s in socks:
        s.close()


def link_namespaces(c_path, up_path):
    """veth between a 'container' (10.77.0.2) and an 'upstream' netns (10.77.0.1, .3)."""
    sh(c_path, "ip", "link", "add", "dq0", "type", "veth", "peer", "name", "dq1",
       "netns", os.path.basename(up_path))
    sh(c_path, "ip", "addr", "add", "10.77.0.2/24", "dev", "dq0")
    sh(c_path, "ip", "link", "set", "dq0", "up")
    sh(up_path, "ip", "addr", "add", "10.77.0.1/24", "dev", "dq1")
    sh(up_path, "ip", "addr", "add", "10.77.0.3/24", "dev", "dq1")
    sh(up_path, "ip", "link", "set", "dq1", "up")


def basic_table():
    t = Table()
    t.set_endpoint("n1", "net1", "aa" * 32, "web", "10.1.0.2", ["aaaaaaaaaaaa", "webhost", "www"])
    t.set_endpoint("n1", "net1", "bb" * 32, "db", "10.1.0.3", ["www"])
    t.set_endpoint("n2", "net2", "cc" * 32, "other", "10.2.0.2", [])
    return t


# -- tests --------------------------------------------------------------------------

@pytest.mark.parametrize("tcp", [False, True])
def test_known_names_udp_and_tcp(no_leaks, make_ns, make_server, tcp):
    c = make_ns()
    srv = make_server(basic_table())
    srv.attach("c1", c, ["n1"], [], False)
    r = query(c, "web", tcp=tcp)
    assert r.header.rcode == RCODE.NOERROR and addrs(r) == ["10.1.0.2"] and r.rr[0].ttl == 600
    for name in ("WEB.", "aaaaaaaaaaaa", "webhost", "web.net1", "Db.net1"):
        assert query(c, name, tcp=tcp).rr, name
    r = query(c, "web", "AAAA", tcp=tcp)
    assert r.header.rcode == RCODE.NOERROR and r.rr == []
    r = query(c, "3.0.1.10.in-addr.arpa", "PTR", tcp=tcp)
    assert [str(a.rdata) for a in r.rr] == ["db.net1."]
    assert sorted(addrs(query(c, "www", tcp=tcp))) == ["10.1.0.2", "10.1.0.3"]


def test_shared_alias_random_order(no_leaks, make_ns, make_server):
    c = make_ns()
    srv = make_server(basic_table())
    srv.attach("c1", c, ["n1"], [], False)
    orders = {tuple(addrs(query(c, "www"))) for _ in range(40)}
    assert orders == {("10.1.0.2", "10.1.0.3"), ("10.1.0.3", "10.1.0.2")}


def test_scope_two_networks_and_live_changes(no_leaks, make_ns, make_server, upstream):
    res = upstream(None, "127.0.0.53")  # the host's resolver: NXDOMAIN for unknown names
    t = basic_table()
    srv = make_server(t, lambda: ["127.0.0.53"])
    c1, c2, c3 = make_ns(), make_ns(), make_ns()
    srv.attach("c1", c1, ["n1"], [], False)
    srv.attach("c2", c2, ["n2"], [], False)
    srv.attach("c3", c3, ["n1", "n2"], [], False)
    assert query(c1, "other").header.rcode == RCODE.NXDOMAIN
    assert query(c2, "web").header.rcode == RCODE.NXDOMAIN
    assert query(c1, "web.net2").header.rcode == RCODE.NXDOMAIN
    assert addrs(query(c2, "other")) == ["10.2.0.2"]
    assert addrs(query(c3, "other")) == ["10.2.0.2"] and addrs(query(c3, "web")) == ["10.1.0.2"]
    assert query(c1, "2.0.2.10.in-addr.arpa", "PTR").header.rcode == RCODE.NXDOMAIN
    # network connect: takes effect at once
    srv.update("c1", ["n1", "n2"], [], False)
    assert addrs(query(c1, "other")) == ["10.2.0.2"]
    # rm of a container: its names go at once
    t.remove_endpoint("n2", "cc" * 32)
    assert query(c1, "other").header.rcode == RCODE.NXDOMAIN
    t.set_endpoint("n1", "net1", "dd" * 32, "new", "10.1.0.9", [])
    assert addrs(query(c1, "new")) == ["10.1.0.9"]


def _link_exists(name):
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def test_detach_closes_sockets_so_netns_vanishes(no_leaks, make_ns, make_server):
    c = make_ns()
    srv = make_server(basic_table())
    # a probe link whose peer lives in c: it disappears only when c is destroyed
    subprocess.run(["ip", "link", "add", "dnsprobe0", "type", "veth", "peer", "name", "p0",
                    "netns", os.path.basename(c)], check=True)
    try:
        srv.attach("c1", c, ["n1"], [], False)
        assert addrs(query(c, "web")) == ["10.1.0.2"]
        srv.detach("c1")
        assert srv.attached() == []
        namespaces.delete_netns(c)
        deadline = time.monotonic() + 10
        while _link_exists("dnsprobe0") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _link_exists("dnsprobe0"), "netns still alive after detach: a socket pins it"
    finally:
        subprocess.run(["ip", "link", "del", "dnsprobe0"], capture_output=True)


def test_reattach_after_restart(no_leaks, make_ns, make_server):
    c = make_ns()
    t = basic_table()
    srv = make_server(t)
    srv.attach("c1", c, ["n1"], [], False)
    srv.stop()
    srv2 = make_server(t)
    srv2.attach("c1", c, ["n1"], [], False)
    assert addrs(query(c, "web", tcp=True)) == ["10.1.0.2"]
    srv2.attach("c1", c, ["n1"], [], False)  # idempotent
    assert addrs(query(c, "web")) == ["10.1.0.2"]


def test_attach_and_update_do_not_wait_for_a_busy_loop(no_leaks, make_ns, make_server):
    """A start or a connect does not wait for the resolver's thread: attach binds
    the listeners and tells the loop; a query sent meanwhile waits in their buffer
    and is answered once the loop is free. Detach, and a re-attach, still wait."""
    c = make_ns()
    srv = make_server(basic_table())
    busy, free = threading.Event(), threading.Event()
    srv.loop.post(lambda: (busy.set(), free.wait(10)))
    assert busy.wait(5)
    done = threading.Event()

    def attach_and_update():
        srv.attach("c1", c, ["n1"], [], False)
        srv.update("c1", ["n1", "n2"], [], False)
        done.set()
    threading.Thread(target=attach_and_update, daemon=True).start()
    try:
        assert done.wait(5), "attach or update waited for the loop"
        assert srv.is_attached("c1")
        with pytest.raises(NotFound):
            srv.update("c9", ["n1"], [], False)
        answer: list = []
        asking = threading.Thread(target=lambda: answer.append(query(c, "other")), daemon=True)
        asking.start()
        time.sleep(0.2)
        assert answer == []  # in the listener's buffer
    finally:
        free.set()
    asking.join(10)
    assert addrs(answer[0]) == ["10.2.0.2"]  # after the update (n2), in order
    srv.attach("c1", c, ["n1"], [], False)  # re-attach: the old listeners go first
    assert addrs(query(c, "web")) == ["10.1.0.2"]
    srv.detach("c1")
    assert not srv.is_attached("c1") and srv.attached() == []


@pytest.mark.parametrize("tcp", [False, True])
def test_forward_to_container_dns_from_inside_its_netns(no_leaks, make_ns, make_server, upstream, tcp):
    c, up = make_ns(), make_ns("dnsup")
    link_namespaces(c, up)
    res = upstream(up, "10.77.0.1")
    host = upstream(None, "127.0.0.53")
    srv = make_server(basic_table(), lambda: ["127.0.0.53"])
    srv.attach("c1", c, ["n1"], ["10.77.0.1"], False)
    assert addrs(query(c, "ext.test", tcp=tcp)) == ["10.9.9.9"]
    assert res.seen[-1] == ("ext.test.", "10.77.0.2", "tcp" if tcp else "udp")
    r = query(c, "nx.test", tcp=tcp)
    assert r.header.rcode == RCODE.NXDOMAIN
    assert host.seen == []  # --dns given: the host's resolvers are not asked


def test_forward_large_answer_tc_over_udp_whole_over_tcp(no_leaks, make_ns, make_server, upstream):
    c, up = make_ns(), make_ns("dnsup")
    link_namespaces(c, up)
    upstream(up, "10.77.0.1")
    srv = make_server(Table())
    srv.attach("c1", c, ["n1"], ["10.77.0.1"], False)
    r = query(c, "big.test", "TXT")
    assert r.header.tc == 1
    r = query(c, "big.test", "TXT", tcp=True)
    assert r.header.tc == 0 and len(r.rr) == 40


def test_forward_to_host_resolver_on_host_loopback(no_leaks, make_ns, make_server, upstream):
    c = make_ns()
    res = upstream(None, "127.0.0.53")
    srv = make_server(basic_table(), lambda: ["127.0.0.53"])
    srv.attach("c1", c, ["n1"], [], False)
    assert addrs(query(c, "ext.test")) == ["10.9.9.9"]
    assert addrs(query(c, "ext.test", tcp=True)) == ["10.9.9.9"]
    assert query(c, "nx.test").header.rcode == RCODE.NXDOMAIN
    assert [s[0] for s in res.seen] == ["ext.test.", "ext.test.", "nx.test."]


def test_servfail_when_no_upstream_answers_at_most_three(no_leaks, make_ns, make_server, upstream,
                                                         silent_sockets):
    c = make_ns()
    for ip in ("127.0.0.54", "127.0.0.55"):
        silent_sockets(None, ip)
    res = upstream(None, "127.0.0.57")  # 4th server: must never be asked
    servers = ["127.0.0.54", "127.0.0.55", "127.0.0.56", "127.0.0.57"]  # .56: nobody (ICMP)
    srv = make_server(Table(), lambda: servers, upstream_timeout=0.3)
    srv.attach("c1", c, ["n1"], [], False)
    # as Docker 20.10: when the last server asked did not reply, the client gets nothing
    assert raw_query(c, DNSRecord.question("ext.test").pack(), timeout=2.5) is None
    assert res.seen == []


def test_upstream_servfail_tries_next(no_leaks, make_ns, make_server, upstream):
    c = make_ns()
    upstream(None, "127.0.0.61")
    srv = make_server(Table(), lambda: ["127.0.0.62", "127.0.0.61"], upstream_timeout=0.3)
    srv.attach("c1", c, ["n1"], [], False)
    # .62: nobody (ICMP); .61 says SERVFAIL: the last reply goes back as it is
    assert query(c, "fail.test").header.rcode == RCODE.SERVFAIL
    assert query(c, "refused.test").header.rcode == RCODE.REFUSED
    assert addrs(query(c, "ext.test")) == ["10.9.9.9"]
    # a server that says SERVFAIL then one that does not reply: nothing comes back
    srv.update("c1", ["n1"], ["127.0.0.61", "127.0.0.62"], False)
    assert raw_query(c, DNSRecord.question("fail.test").pack(), timeout=1.5) is None


def test_internal_forwards_only_to_host_loopback(no_leaks, make_ns, make_server, upstream):
    c = make_ns()
    res = upstream(None, "127.0.0.53")
    srv = make_server(basic_table(), lambda: ["127.0.0.53"])
    srv.attach("c1", c, ["n1"], [], True)
    # Docker 20.10 asks the host's loopback resolver from the host, internal or not
    assert addrs(query(c, "ext.test")) == ["10.9.9.9"]
    assert addrs(query(c, "web")) == ["10.1.0.2"]
    assert len(res.seen) == 1  # (a non-loopback one: test_dns_e2e, with a namespace of its own)


def _burst(ids, names):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        for i, n in zip(ids, names):
            q = DNSRecord.question(n)
            q.header.id = i
            s.sendto(q.pack(), ("127.0.0.11", 53))
        out = {}
        t0 = time.monotonic()
        while len(out) < len(ids):
            try:
                r = DNSRecord.parse(s.recv(4096))
            except socket.timeout:
                break  # the rest get no answer
            out[r.header.id] = (r.header.rcode, time.monotonic() - t0)
        return out
    finally:
        s.close()


@pytest.mark.parametrize("cap", ["max_inflight", "max_inflight_per_sandbox"])
def test_inflight_cap_drops_beyond(no_leaks, make_ns, make_server, silent_sockets, cap):
    """Past the cap, as Docker 20.10 past its concurrent-query limit: no answer at all
    (the client times out), never REFUSED."""
    c = make_ns()
    silent_sockets(None, "127.0.0.54")
    srv = make_server(basic_table(), lambda: ["127.0.0.54"], upstream_timeout=1.0, **{cap: 4})
    srv.attach("c1", c, ["n1"], [], False)
    ids = [1, 2, 3, 4, 5, 6]
    out = namespaces.run_in_netns(c, _burst, ids, [f"q{i}.test" for i in ids])
    assert out == {}  # four in flight to a silent server, two dropped: nothing answered
    sb = srv._sandboxes["c1"]
    assert srv.loop.call(lambda: (len(sb.pending), sb.dropped)) in ((4, 2), (0, 2))
    # local names are still answered, and the slots free up again
    assert addrs(query(c, "web")) == ["10.1.0.2"]
    srv.loop.call(lambda: [f.cancel() for f in list(sb.pending)])
    out = namespaces.run_in_netns(c, _burst, [7], ["q7.test"])
    assert out == {}  # asked upstream, which stays silent
    assert srv.loop.call(lambda: sb.dropped) == 2


def test_tc_bit_for_large_local_answer(no_leaks, make_ns, make_server):
    t = Table()
    for i in range(40):
        t.set_endpoint("n1", "net1", f"id{i}", f"c{i}", f"10.1.1.{i + 2}", ["many"])
    c = make_ns()
    srv = make_server(t)
    srv.attach("c1", c, ["n1"], [], False)
    r = query(c, "many")
    assert r.header.tc == 1 and len(r.rr) < 40
    assert len(query(c, "many", edns=4096).rr) == 40
    r = query(c, "many", tcp=True)
    assert r.header.tc == 0 and len(r.rr) == 40


def test_garbage_and_malformed_get_formerr_or_drop(no_leaks, make_ns, make_server):
    c = make_ns()
    srv = make_server(basic_table())
    srv.attach("c1", c, ["n1"], [], False)
    assert raw_query(c, b"\x00\x01garb", timeout=0.3) is None
    hdr = struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0)
    for bad in (hdr + b"\x41" + b"a" * 65 + b"\0\0\1\0\1", hdr + b"\xc0\x0c\0\1\0\1", hdr + b"\x05ab"):
        for tcp in (False, True):
            r = raw_query(c, bad, tcp=tcp)
            qid, flags = struct.unpack("!HH", r[:4])
            assert qid == 0xBEEF and flags & 0xF == 1
    assert addrs(query(c, "web")) == ["10.1.0.2"]


def _stall_then_query(timeout):
    stalled = socket.create_connection(("127.0.0.11", 53))
    stalled.sendall(b"\x00\x40" + b"\x12\x34\x01\x00")  # half a message
    t0 = time.monotonic()
    r = _tcp(DNSRecord.question("web").pack(), "127.0.0.11", 53, 2)  # others are served
    stalled.settimeout(timeout)
    try:
        closed = stalled.recv(1) == b""
    except socket.timeout:
        closed = False
    stalled.close()
    return r, closed, time.monotonic() - t0


def test_tcp_half_message_stall_is_cut(no_leaks, make_ns, make_server):
    c = make_ns()
    srv = make_server(basic_table(), tcp_first_timeout=0.5, tcp_idle_timeout=0.5)
    srv.attach("c1", c, ["n1"], [], False)
    r, closed, took = namespaces.run_in_netns(c, _stall_then_query, 3)
    assert addrs(DNSRecord.parse(r)) == ["10.1.0.2"]
    assert closed and took < 2


def _many_idle(n):
    idle = [socket.create_connection(("127.0.0.11", 53), timeout=2) for _ in range(n)]
    try:
        t0 = time.monotonic()
        tcp = _tcp(DNSRecord.question("web").pack(), "127.0.0.11", 53, 2)
        udp = _udp(DNSRecord.question("web").pack(), "127.0.0.11", 53, 2)
        return tcp, udp, time.monotonic() - t0
    finally:
        for s in idle:
            s.close()


def test_thousand_idle_tcp_connections(no_leaks, make_ns, make_server):
    c = make_ns()
    srv = make_server(basic_table())
    srv.attach("c1", c, ["n1"], [], False)
    tcp, udp, took = namespaces.run_in_netns(c, _many_idle, 1000)
    assert addrs(DNSRecord.parse(tcp)) == ["10.1.0.2"] and addrs(DNSRecord.parse(udp)) == ["10.1.0.2"]
    assert took < 1.0
    assert srv.loop.call(lambda: len(srv._conns)) <= srv.max_tcp_per_sandbox


def test_bench_measure(no_leaks, make_ns, make_server):
    from minidocker.dns.bench import measure
    c = make_ns()
    srv = make_server(basic_table())
    srv.attach("c1", c, ["n1"], [], False)
    out = measure(c, "web", 2000)
    print("\nDNS bench (known name, UDP, sequential):", json.dumps(out))
    assert out["errors"] == 0 and out["qps"] > 200

"""The embedded server's fast forward path against real sockets: the per-sandbox
pool of fresh UDP sockets (made in the container's netns, one per query, closed
on detach), upstream replies matched without a full parse (0x20 mixed case; a
reply with another question is ignored), and remembered forwarded queries that
a table or network change forgets."""
import fcntl
import os
import socket
import threading

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from minidocker.dns.records import Table
from minidocker.network import namespaces

from .test_dns_embedded import (addrs, basic_table, link_namespaces, make_ns, make_server,  # noqa: F401
                                netns_dir, query, raw_query, upstream)

SIOCGSKNS = 0x894C  # the socket's netns, as an fd


class RawUpstream:
    """A UDP responder on ip:53 in a test netns that records (source port, id, name)
    of each query and answers ``name`` A 10.9.9.9, the question written back in the
    case ``shape`` says: "same", "flip" (case inverted, as 0x20 resolvers may), or
    "other-first" (first a reply for another name with the same id, then the right one)."""

    def __init__(self, path, ip, shape="same"):
        self.shape, self.seen = shape, []
        self.sock = namespaces.run_in_netns(path, self._bind, ip)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _bind(ip):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, 53))
        s.settimeout(0.1)
        return s

    def _answer(self, q, name):
        r = DNSRecord.question(name, "A").reply()
        r.header.id = q.header.id
        r.add_answer(RR(name, QTYPE.A, rdata=A("10.9.9.9"), ttl=60))
        return bytes(r.pack())

    def _serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            q = DNSRecord.parse(data)
            name = str(q.q.qname)
            self.seen.append((peer[1], q.header.id, name))
            if self.shape == "flip":
                self.sock.sendto(self._answer(q, name.swapcase()), peer)
            elif self.shape == "other-first":
                self.sock.sendto(self._answer(q, "evil.test."), peer)
                self.sock.sendto(self._answer(q, name), peer)
            elif self.shape == "other-only":
                self.sock.sendto(self._answer(q, "evil.test."), peer)
            else:
                self.sock.sendto(self._answer(q, name), peer)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def raw_upstream():
    made = []

    def start(path, ip, shape="same"):
        made.append(RawUpstream(path, ip, shape))
        return made[-1]

    yield start
    for u in made:
        u.close()


def _setup(make_ns, make_server, raw_upstream, shape="same", table=None, **kw):
    c, up = make_ns(), make_ns("dnsup")
    link_namespaces(c, up)
    u = raw_upstream(up, "10.77.0.1", shape)
    srv = make_server(table or basic_table(), **kw)
    srv.attach("c1", c, ["n1"], ["10.77.0.1"], False)
    return c, u, srv


def _netns_ino(sock):
    fd = fcntl.ioctl(sock.fileno(), SIOCGSKNS)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def test_pool_sockets_in_sandbox_netns_one_per_query_closed_on_detach(
        no_leaks, make_ns, make_server, raw_upstream):
    c, u, srv = _setup(make_ns, make_server, raw_upstream)
    for i in range(20):
        r = query(c, f"n{i}.ext.test")
        assert addrs(r) == ["10.9.9.9"] and r.header.rcode == RCODE.NOERROR
    sb = srv.loop.call(lambda: srv._sandboxes["c1"])
    pool = sb.sockets
    free = srv.loop.call(lambda: [s for socks in pool.free.values() for s in socks])
    # made in batches, each in the container's netns (not the loop thread's)
    assert free and pool.made >= 20 and pool.made == 20 + len(free)
    assert {_netns_ino(s) for s in free} == {os.stat(c).st_ino}
    assert srv._budget.held == len(free)
    # every query came from a fresh socket: a random source port each, a random id each
    ports = [p for p, _, _ in u.seen]
    assert len(ports) == 20 and len(set(ports)) >= 15
    assert len({qid for _, qid, _ in u.seen}) >= 15
    srv.detach("c1")
    assert all(s.fileno() == -1 for s in free)
    assert srv._budget.held == 0 and len(pool) == 0


def test_reply_with_0x20_mixed_case_question_is_accepted(no_leaks, make_ns, make_server, raw_upstream):
    c, u, srv = _setup(make_ns, make_server, raw_upstream, shape="flip")
    for tcp_name in ("Ext.Example.test", "ext.example.test"):
        r = query(c, tcp_name)
        assert addrs(r) == ["10.9.9.9"]
        assert str(r.q.qname).lower() == tcp_name.lower() + "."
    assert [n for _, _, n in u.seen] == ["Ext.Example.test.", "ext.example.test."]


def test_reply_for_another_question_is_ignored(no_leaks, make_ns, make_server, raw_upstream):
    c, u, srv = _setup(make_ns, make_server, raw_upstream, shape="other-first")
    r = query(c, "good.test")
    assert addrs(r) == ["10.9.9.9"] and str(r.q.qname) == "good.test."


def test_only_replies_for_another_question_get_no_answer(no_leaks, make_ns, make_server, raw_upstream):
    c, u, srv = _setup(make_ns, make_server, raw_upstream, shape="other-only", upstream_timeout=0.3)
    assert raw_query(c, DNSRecord.question("good.test").pack(), timeout=1.0) is None
    assert len(u.seen) == 1


@pytest.mark.parametrize("tcp", [False, True])
def test_remembered_forward_forgotten_on_table_and_network_change(
        no_leaks, make_ns, make_server, upstream, tcp):
    c, up = make_ns(), make_ns("dnsup")
    link_namespaces(c, up)
    res = upstream(up, "10.77.0.1")
    t = Table()
    t.set_endpoint("n2", "net2", "cc" * 32, "other", "10.2.0.2", [])
    srv = make_server(t)
    srv.attach("c1", c, ["n1"], ["10.77.0.1"], False)
    for _ in range(3):  # the same unknown names, again: forwarded every time
        assert query(c, "late", tcp=tcp).header.rcode == RCODE.NXDOMAIN
        assert query(c, "other", tcp=tcp).header.rcode == RCODE.NXDOMAIN
    assert [n for n, _, _ in res.seen] == ["late.", "other."] * 3
    t.set_endpoint("n1", "net1", "aa" * 32, "late", "10.1.0.9", [])
    assert addrs(query(c, "late", tcp=tcp)) == ["10.1.0.9"]
    srv.update("c1", ["n1", "n2"], ["10.77.0.1"], False)
    assert addrs(query(c, "other", tcp=tcp)) == ["10.2.0.2"]
    assert len(res.seen) == 6

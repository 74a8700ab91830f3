"""One sandbox flooding its embedded DNS resolver costs the others nothing they can
see: their queries are all answered, correctly, never REFUSED.

Attacks (each bounded in count and time): 40 TCP connections pipelining queries
without reading their answers; 6,000 random names forwarded to a black-holed
upstream (a bound UDP socket in the attacker's own netns that never answers). The
victim meanwhile asks for a container's name and, through its own working --dns
server (a dnslib server in a netns the test made), for an outside name. Latencies
are printed (run with -s), never asserted.
"""
import json
import random
import socket
import struct
import threading
import time

from dnslib import DNSRecord

from minidocker.dns.bench import measure, question
from minidocker.network import namespaces

from .test_dns_embedded import (addrs, basic_table, link_namespaces, make_ns, make_server,  # noqa: F401
                                netns_dir, query, raw_query, silent_sockets, upstream)

VICTIM_QUERIES = 400


def _tcp_flood(stop: threading.Event, conns: int, deadline: float) -> int:
    """``conns`` connections, each sending pipelined queries and never reading."""
    socks = []
    sent = 0
    q = question("web")
    frame = struct.pack("!H", len(q)) + q
    batch = frame * 512
    try:
        for _ in range(conns):
            s = socket.create_connection(("127.0.0.11", 53), timeout=2)
            s.setblocking(False)
            socks.append(s)
        while not stop.is_set() and time.monotonic() < deadline:
            progress = False
            for s in socks:
                try:
                    sent += s.send(batch) // len(frame)
                    progress = True
                except BlockingIOError:
                    pass
                except OSError:
                    pass  # closed by the server: fine
            if not progress:
                time.sleep(0.01)
    finally:
        for s in socks:
            s.close()
    return sent


def _forward_flood(n: int) -> int:
    """``n`` queries for random names, sent without waiting for (or reading) answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.11", 53))
    sent = 0
    try:
        for i in range(n):
            name = "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12)) + ".flood.test"
            q = question(name)
            try:
                s.send(struct.pack("!H", i & 0xFFFF) + q[2:])
                sent += 1
            except OSError:
                time.sleep(0.001)
    finally:
        s.close()
    return sent


def _victim(path, name):
    out = measure(path, name, VICTIM_QUERIES, timeout=2.0)
    assert out["errors"] == 0, out  # every query answered
    assert out["rcodes"] == {0: VICTIM_QUERIES}, out  # NOERROR each time: never REFUSED
    return out


def _report(what, base, attacked):
    print(f"\nDNS fairness, {what}: victim median/p99 ms without attack "
          f"{base['median_ms']}/{base['p99_ms']}, under attack {attacked['median_ms']}/{attacked['p99_ms']}")


def test_tcp_flood_without_reading_costs_others_nothing(no_leaks, make_ns, make_server):
    attacker, victim = make_ns("dnsfa"), make_ns("dnsfv")
    srv = make_server(basic_table())
    srv.attach("a", attacker, ["n1"], [], False)
    srv.attach("v", victim, ["n1"], [], False)
    base = _victim(victim, "web")
    stop = threading.Event()
    box = {}
    t = threading.Thread(target=lambda: box.update(
        sent=namespaces.run_in_netns(attacker, _tcp_flood, stop, 40, time.monotonic() + 20)))
    t.start()
    try:
        time.sleep(0.5)  # the attacker's buffers fill
        attacked = _victim(victim, "web")
        assert addrs(query(victim, "web", tcp=True)) == ["10.1.0.2"]  # TCP too
        assert addrs(query(victim, "db")) == ["10.1.0.3"]
    finally:
        stop.set()
        t.join()
    assert box["sent"] > 40 * 512  # the attack did happen
    _report("40 TCP connections pipelining without reading", base, attacked)


def test_forward_flood_to_black_hole_never_refuses_others(no_leaks, make_ns, make_server, upstream,
                                                          silent_sockets):
    attacker, victim, up = make_ns("dnsfa"), make_ns("dnsfv"), make_ns("dnsup")
    link_namespaces(victim, up)
    res = upstream(up, "10.77.0.1")
    silent_sockets(attacker, "127.0.0.1")  # the attacker's --dns: takes queries, never answers
    srv = make_server(basic_table(), upstream_timeout=3.0)
    srv.attach("a", attacker, ["n1"], ["127.0.0.1"], False)
    srv.attach("v", victim, ["n1"], ["10.77.0.1"], False)
    base = _victim(victim, "ext.test")
    sent = namespaces.run_in_netns(attacker, _forward_flood, 6000)
    assert sent == 6000
    sb = srv._sandboxes["a"]
    pending, dropped = srv.loop.call(lambda: (len(sb.pending), sb.dropped))
    assert pending == srv.max_inflight_per_sandbox and dropped > 0  # its budget is full
    attacked = _victim(victim, "ext.test")
    assert addrs(query(victim, "ext.test")) == ["10.9.9.9"]
    assert addrs(query(victim, "web")) == ["10.1.0.2"]
    assert len([s for s in res.seen if s[0] == "ext.test."]) >= 2 * VICTIM_QUERIES
    # the attacker's own local names still answer; its forwards beyond the budget get nothing
    assert addrs(query(attacker, "web")) == ["10.1.0.2"]
    r = namespaces.run_in_netns(attacker, _one_udp, question("nx1.flood.test"), 0.5)
    assert r is None
    _report("6,000 random names to a black-holed upstream", base, attacked)


def _one_udp(data, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, ("127.0.0.11", 53))
        return s.recv(4096)
    except socket.timeout:
        return None
    finally:
        s.close()


def test_cached_answer_follows_table_and_sandbox_changes(no_leaks, make_ns, make_server):
    """The fast path's cache never answers with a stale record."""
    c = make_ns()
    table = basic_table()
    srv = make_server(table)
    srv.attach("c1", c, ["n1"], [], False)
    unanswered = lambda name: raw_query(c, question(name), timeout=0.5) is None  # noqa: E731 (no upstream)
    for _ in range(3):
        assert addrs(query(c, "web")) == ["10.1.0.2"]
    table.set_endpoint("n1", "net1", "aa" * 32, "web", "10.1.0.9", ["www"])
    assert addrs(query(c, "web")) == ["10.1.0.9"]
    table.remove_endpoint("n1", "aa" * 32)
    assert unanswered("web")
    assert addrs(query(c, "www")) == ["10.1.0.3"]
    assert unanswered("other")
    srv.update("c1", ["n2"], [], False)
    assert addrs(query(c, "other")) == ["10.2.0.2"]
    assert unanswered("db")
    # two addresses for one name are shuffled on every answer, so never cached
    table.set_endpoint("n2", "net2", "dd" * 32, "other2", "10.2.0.3", ["other"])
    orders = {tuple(addrs(query(c, "other"))) for _ in range(40)}
    assert orders == {("10.2.0.2", "10.2.0.3"), ("10.2.0.3", "10.2.0.2")}


def test_bench_keeps_queries_outstanding(no_leaks, make_ns, make_server):
    c = make_ns()
    srv = make_server(basic_table())
    srv.attach("c1", c, ["n1"], [], False)
    out = measure(c, ["web", "db"], 3000, outstanding=50)
    print("\nDNS bench (known names, UDP, 50 outstanding):", json.dumps(out))
    assert out["errors"] == 0 and out["rcodes"] == {0: 3000}
    r = DNSRecord.parse(query(c, "web").pack())
    assert addrs(r) == ["10.1.0.2"]

"""Fuzz: many thousands of random and mutated packets at the embedded server
(UDP and TCP) from inside a netns; afterwards it must still answer and its loop
thread must be idle. Unknown names have no upstream (empty host resolvers), so
nothing is sent anywhere."""
import os
import random
import socket
import struct
import time

from dnslib import EDNS0, DNSRecord

from minidocker.network import namespaces
from minidocker.dns import answer, packet as wire
from minidocker.dns.records import Table
from tests.integration.test_dns_embedded import addrs, make_ns, make_server, netns_dir, query  # noqa: F401

SEEDS = []


def _seeds():
    out = []
    for name, qt in (("web", "A"), ("web.net1", "AAAA"), ("2.0.1.10.in-addr.arpa", "PTR"),
                     ("example.org", "MX"), ("a." * 60 + "x", "TXT")):
        q = DNSRecord.question(name, qt)
        out.append(bytes(q.pack()))
        q.add_ar(EDNS0(udp_len=4096))
        out.append(bytes(q.pack()))
    # a message with compression pointers in an additional record
    out.append(struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 1) + b"\x03web\0\0\1\0\1" + b"\xc0\x0c\0\1\0\1\0\0\0\1\0\4\1\2\3\4")
    return out


def mutate(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1 and b:
            del b[rng.randrange(len(b)):]
        elif op == 2:
            pos = rng.randrange(len(b) + 1)
            b[pos:pos] = os.urandom(rng.randint(1, 8))
        elif op == 3 and len(b) >= 12:
            struct.pack_into("!H", b, 4 + 2 * rng.randrange(4), rng.choice([0, 1, 2, 0xFFFF, rng.randrange(65536)]))
        elif op == 4 and len(b) > 14:
            pos = rng.randrange(12, len(b) - 1)
            b[pos] = 0xC0 | rng.randrange(64)
            b[pos + 1] = rng.randrange(256)
        elif op == 5 and len(b) >= 3:
            b[2] = rng.randrange(256)  # opcode / QR / flags
    return bytes(b)


def packets(rng, n):
    seeds = _seeds()
    for i in range(n):
        if i % 3 == 0:
            yield os.urandom(rng.randint(0, 600))
        else:
            yield mutate(rng, rng.choice(seeds))


def test_parser_never_raises_anything_else():
    rng = random.Random(1)
    t = Table()
    t.set_endpoint("n1", "net1", "c", "web", "10.1.0.2", [])
    for data in packets(rng, 30000):
        res = answer.parse_or_reject(data)
        if isinstance(res, wire.Message):
            out = answer.decide(t, ["n1"], False, res, False)
            assert out is answer.FORWARD or isinstance(out, bytes)


def _fire_udp(pkts):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    replies = 0
    try:
        for i, p in enumerate(pkts):
            try:
                s.sendto(p, ("127.0.0.11", 53))
            except OSError:
                pass
            if i % 64 == 63:
                time.sleep(0.001)
                while True:
                    try:
                        s.recv(65535)
                        replies += 1
                    except BlockingIOError:
                        break
    finally:
        s.close()
    return replies


def _fire_tcp(streams):
    done = 0
    for data in streams:
        try:
            s = socket.create_connection(("127.0.0.11", 53), timeout=1)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(0.2)
            try:
                while s.recv(65535):
                    pass
            except (socket.timeout, OSError):
                pass
            s.close()
            done += 1
        except OSError:
            pass
    return done


def _cpu_ticks(tid):
    with open(f"/proc/self/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_fuzz_then_still_answers_and_idle(no_leaks, make_ns, make_server):
    c = make_ns()
    t = Table()
    t.set_endpoint("n1", "net1", "c" * 64, "web", "10.1.0.2", [])
    srv = make_server(t, lambda: [], tcp_first_timeout=0.3, tcp_idle_timeout=0.3)
    srv.attach("c1", c, ["n1"], [], False)
    rng = random.Random(42)
    replies = namespaces.run_in_netns(c, _fire_udp, list(packets(rng, 20000)))
    assert replies > 1000  # FORMERR/SERVFAIL/answers came back for many of them
    streams = []
    for p in packets(rng, 300):
        if rng.random() < 0.5:
            p = struct.pack("!H", len(p)) + p
        streams.append(p)
    assert namespaces.run_in_netns(c, _fire_tcp, streams) > 250
    assert srv.loop.thread.is_alive()
    assert addrs(query(c, "web")) == ["10.1.0.2"]
    assert addrs(query(c, "web", tcp=True)) == ["10.1.0.2"]
    time.sleep(0.5)  # let stalled TCP clients time out
    tid = srv.thread_id
    before = _cpu_ticks(tid)
    time.sleep(1.0)
    used = _cpu_ticks(tid) - before
    assert used <= 5, f"loop thread used {used} ticks in an idle second"
    assert srv.loop.call(lambda: (len(srv._conns), srv._inflight)) == (0, 0)

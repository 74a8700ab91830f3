"""Pure pieces of the embedded DNS server's forward path: matching an upstream
reply's question without a full parse, the record walk, random ids, FIFO timers
and the thin epoll poller."""
import socket
import struct

import pytest
from dnslib import QTYPE, RR, A, DNSRecord, EDNS0

from minidocker.dns import packet as wire
from minidocker.dns.loop import FifoTimers
from minidocker.dns.poller import EVENT_READ, EVENT_WRITE, Poller, to_mask


def _q(name, qtype="A"):
    return wire.parse(DNSRecord.question(name, qtype).pack())


def _reply(name, qtype="A", qid=7):
    r = DNSRecord.question(name, qtype).reply()
    r.header.id = qid
    r.add_answer(RR(name, getattr(QTYPE, qtype), rdata=A("10.0.0.1"), ttl=5))
    return bytes(r.pack())


def _same(data, msg):
    return wire.same_question(data, msg.question, msg.question[:-4].lower())


def _slow_same(data, msg):
    return wire.parse(data).question.lower() == msg.question.lower()


def test_same_question_exact_and_0x20_mixed_case():
    msg = _q("Nx.Example.test")
    for asked in ("Nx.Example.test", "nx.example.test", "NX.EXAMPLE.TEST", "nX.eXaMpLe.TeSt"):
        data = _reply(asked)
        assert _same(data, msg) and _slow_same(data, msg), asked


@pytest.mark.parametrize("other", [("nx.example.tesu", "A"), ("nx.example.test", "AAAA"),
                                   ("nx.example", "A"), ("x.nx.example.test", "A")])
def test_other_question_does_not_match(other):
    msg = _q("nx.example.test")
    data = _reply(*other)
    assert not _same(data, msg)
    assert not _slow_same(data, msg)


def test_type_bytes_compare_exactly_not_case_folded():
    # qtype 65 (0x41, 'A') and 97 (0x61, 'a'): lower() would make them equal
    msg = wire.parse(DNSRecord.question("x.test", "HTTPS").pack())
    data = bytearray(DNSRecord.question("x.test", "HTTPS").reply().pack())
    data[12 + len(msg.question) - 3] = 97
    assert not _same(bytes(data), msg)


def test_compressed_or_odd_question_decides_nothing():
    msg = _q("a.test")
    name = wire.encode_name([b"a", b"test"])
    # question name as a pointer back into a (bogus) earlier position is not at offset 12
    # uncompressed; two questions; too short: the fast check says no, parse decides
    two = struct.pack("!HHHHHH", 7, 0x8180, 2, 0, 0, 0) + (name + b"\0\1\0\1") * 2
    assert not _same(two, msg)
    assert not _same(_reply("a.test")[:14], msg)
    ptr = bytearray(struct.pack("!HHHHHH", 7, 0x8180, 1, 0, 0, 0) + b"\xc0\x00" + b"\0\1\0\1")
    assert not _same(bytes(ptr), msg)


def test_walk_records_as_parse():
    r = DNSRecord.question("ext.test").reply()
    r.add_answer(RR("ext.test", QTYPE.A, rdata=A("10.9.9.9"), ttl=60))
    r.add_ar(EDNS0(udp_len=1232))
    data = bytes(r.pack())
    msg = wire.parse(data)
    _, _, _, an, ns, ar = wire.HEADER.unpack_from(data)
    assert wire.walk_records(data, 12 + len(msg.question), an, ns, ar) == msg.udp_size == 1232
    with pytest.raises(wire.Malformed):
        wire.walk_records(data[:-3], 12 + len(msg.question), an, ns, ar)


def test_random_ids_are_16_bit_and_vary():
    ids = wire.random_ids()
    seen = [next(ids) for _ in range(2000)]  # crosses a refill (512 per read)
    assert all(0 <= i < 0x10000 for i in seen)
    assert len(set(seen)) > 1500


def test_fifo_timers_order_cancel_expire():
    f = FifoTimers(10.0)
    fired = []
    a = f.add(lambda: fired.append("a"))
    b = f.add(lambda: fired.append("b"))
    c = f.add(lambda: fired.append("c"))
    assert f.next_deadline() == a[0]
    FifoTimers.cancel(a)
    assert f.next_deadline() == b[0] and len(f) == 2  # a cancelled head is dropped
    f.expire(b[0] - 1)
    assert fired == []
    f.expire(c[0])
    assert fired == ["b", "c"] and len(f) == 0 and f.next_deadline() is None
    f.expire(c[0] + 100)
    assert fired == ["b", "c"]  # each fires once


def test_poller_register_modify_unregister():
    p = Poller()
    a, b = socket.socketpair()
    try:
        got = []
        p.register(a, EVENT_READ, lambda m: got.append(("r", m)))
        with pytest.raises(KeyError):
            p.register(a, EVENT_READ, lambda m: None)
        with pytest.raises(ValueError):
            p.modify(a, 0, lambda m: None)
        assert p.poll(0) == []
        b.send(b"x")
        [(fd, ev)] = p.poll(1)
        assert fd == a.fileno() and to_mask(ev) == EVENT_READ
        p.modify(a, EVENT_WRITE, "w")
        [(fd, ev)] = p.poll(1)
        assert to_mask(ev) == EVENT_WRITE and p.handlers[fd] == "w"
        p.unregister(a)
        assert p.poll(0) == [] and p.handlers == {}
        with pytest.raises(KeyError):
            p.unregister(a)
    finally:
        p.close()
        a.close()
        b.close()


def test_error_events_wake_both_directions():
    import select
    assert to_mask(select.EPOLLHUP) == EVENT_READ | EVENT_WRITE
    assert to_mask(select.EPOLLIN | select.EPOLLERR) == EVENT_READ | EVENT_WRITE
    assert to_mask(select.EPOLLOUT) == EVENT_WRITE

"""What the embedded server says to one query (pure: no sockets).

``decide`` returns bytes to send, ``None`` to drop the input, or ``FORWARD``
when the name is not ours and an upstream must answer. It follows Docker
20.10's resolver: A/AAAA/PTR/MX from the table (TTL 600, shuffled addresses,
NOERROR without answers for a known name lacking that family), FORMERR for
inputs whose header is readable but the rest is not, NOTIMP for opcodes other
than QUERY, and truncation (TC over UDP) above the client's size limit.
"""
from __future__ import annotations

import ipaddress
import random

from dnslib import AAAA, A, DNSHeader, DNSLabel, DNSQuestion, DNSRecord, PTR, QTYPE, RR

from minidocker.dns import packet as wire
from minidocker.dns.records import Table

TTL = 600
FORWARD = "forward"
UDP_MIN = 512
TCP_MAX = 65535
_rng = random.SystemRandom()


def max_size(msg: wire.Message, tcp: bool) -> int:
    if tcp:
        return TCP_MAX
    return max(UDP_MIN, msg.udp_size or 0)


def parse_or_reject(data: bytes) -> wire.Message | bytes | None:
    """The parsed query, or the reply to a bad one (bytes), or None to drop it."""
    head = wire.header_of(data)
    if head is None:
        return None
    qid, flags = head
    if flags & wire.QR:
        return None  # a response: never answer it (no reflection loops)
    try:
        msg = wire.parse(data)
    except wire.Malformed:
        return wire.error_reply(qid, flags, wire.FORMERR)
    if msg.opcode != 0:
        return wire.error_reply(qid, flags, wire.NOTIMP)
    if msg.ancount > 1 or msg.nscount > 1 or msg.arcount > 2:
        return wire.error_reply(qid, flags, wire.FORMERR)
    return msg


def _ptr_ip(name: str) -> str | None:
    if name.endswith(".in-addr.arpa"):
        parts = name[: -len(".in-addr.arpa")].split(".")
        if len(parts) == 4:
            try:
                return str(ipaddress.IPv4Address(".".join(reversed(parts))))
            except ValueError:
                return None
    elif name.endswith(".ip6.arpa"):
        nibbles = name[: -len(".ip6.arpa")].split(".")
        if len(nibbles) == 32 and all(len(n) == 1 for n in nibbles):
            try:
                return str(ipaddress.IPv6Address(int("".join(reversed(nibbles)), 16)))
            except ValueError:
                return None
    return None


def _reply(msg: wire.Message) -> DNSRecord:
    hdr = DNSHeader(id=msg.id, qr=1, opcode=0, rd=1 if msg.flags & wire.RD else 0, ra=1)
    return DNSRecord(hdr, q=DNSQuestion(DNSLabel(list(msg.labels)), msg.qtype, msg.qclass))


def _pack(rec: DNSRecord, limit: int, tcp: bool) -> bytes:
    data = bytes(rec.pack())
    if len(data) <= limit:
        return data
    if not tcp:
        rec.header.tc = 1
    while rec.rr and len(data) > limit:  # drop answers from the end until it fits
        rec.rr.pop()
        data = bytes(rec.pack())
    return data


def local_answer(table: Table, networks: list[str], msg: wire.Message, tcp: bool) -> bytes | None:
    """Our own answer for ``msg``, or None if the name is not ours."""
    return _local_answer(table, networks, msg, tcp)[0]


def _local_answer(table: Table, networks: list[str], msg: wire.Message, tcp: bool) -> tuple[bytes | None, bool]:
    """(our answer or None, whether the same query always gets the same answer
    while the table does not change: not when several addresses are shuffled)."""
    name = msg.qname
    qtype = msg.qtype
    if qtype in (QTYPE.A, QTYPE.AAAA, QTYPE.MX):
        ips = table.lookup(networks, msg.qname_as_asked)
        if ips is None:
            return None, False
        rec = _reply(msg)
        stable = True
        if qtype != QTYPE.MX:
            want = 4 if qtype == QTYPE.A else 6
            fam = [ip for ip in ips if ipaddress.ip_address(ip).version == want]
            _rng.shuffle(fam)
            stable = len(fam) < 2
            rdata = A if want == 4 else AAAA
            for ip in fam:
                rec.add_answer(RR(rec.q.qname, qtype, ttl=TTL, rdata=rdata(ip)))
        return _pack(rec, max_size(msg, tcp), tcp), stable
    if qtype == QTYPE.PTR:
        ip = _ptr_ip(name)
        host = table.reverse(networks, ip) if ip else None
        if host is None:
            return None, False
        rec = _reply(msg)
        rec.add_answer(RR(rec.q.qname, QTYPE.PTR, ttl=TTL, rdata=PTR(host + ".")))
        return _pack(rec, max_size(msg, tcp), tcp), True
    return None, False


def decide(table: Table, networks: list[str], internal: bool, msg: wire.Message, tcp: bool,
           ndots_set: bool = False):
    """Bytes to send back, or FORWARD. As Docker 20.10, when the container set an
    ``ndots`` option itself, an unknown A/AAAA name without a dot is not forwarded:
    it gets an empty NOERROR (the client then tries its search domains)."""
    return respond(table, networks, internal, msg, tcp, ndots_set)[0]


def respond(table: Table, networks: list[str], internal: bool, msg: wire.Message, tcp: bool,
            ndots_set: bool = False):
    """``decide``'s answer and whether it may be cached: the same query bytes (but
    for the id) get the same answer bytes until the table or the sandbox changes."""
    try:
        data, stable = _local_answer(table, networks, msg, tcp)
    except Exception:  # a name dnslib cannot encode, etc.: treat as malformed
        return wire.error_reply(msg.id, msg.flags, wire.FORMERR, msg.question), False
    if data is not None:
        return data, stable
    if ndots_set and msg.qtype in (QTYPE.A, QTYPE.AAAA) and "." not in msg.qname:
        return _pack(_reply(msg), max_size(msg, tcp), tcp), True
    return FORWARD, False

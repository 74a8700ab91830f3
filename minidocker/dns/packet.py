"""DNS wire format: a strict, bounded parser for incoming queries and upstream
replies, and the few raw replies built without dnslib (FORMERR, SERVFAIL...).

The parser never follows a compression pointer forward or to itself (so loops
are impossible), rejects label lengths over 63 (the reserved 0x40/0x80 bits),
names over 255 bytes and sections that run past the end of the message.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
QR, AA, TC, RD, RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080
OPT = 41
HEADER = struct.Struct("!HHHHHH")


class Malformed(Exception):
    """The message cannot be parsed beyond its header."""


@dataclass(slots=True)
class Message:
    id: int
    flags: int
    qdcount: int
    ancount: int
    nscount: int
    arcount: int
    labels: list[bytes]      # question name, as sent
    qtype: int
    qclass: int
    question: bytes          # raw question section (name uncompressed + type + class)
    udp_size: int | None     # EDNS0 payload size, if an OPT record is present

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    @property
    def rcode(self) -> int:
        return self.flags & 0xF

    @property
    def qname(self) -> str:
        """Lower-case dotted name; a label containing a dot makes it unmatchable."""
        return self.qname_as_asked.lower()

    @property
    def qname_as_asked(self) -> str:
        """The dotted name in the case the client wrote it (network names compare exactly)."""
        parts = []
        for lab in self.labels:
            if b"." in lab:
                return "\0invalid"
            parts.append(lab.decode("latin-1"))
        return ".".join(parts)


def read_name(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """Decode the name at ``pos``; return (labels, position after the name)."""
    labels: list[bytes] = []
    total = 0
    end = -1
    limit = pos  # pointers must point strictly before the earliest position seen
    while True:
        if pos >= len(data):
            raise Malformed("name runs past the end")
        n = data[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise Malformed("truncated pointer")
            target = ((n & 0x3F) << 8) | data[pos + 1]
            if end < 0:
                end = pos + 2
            if target >= limit:
                raise Malformed("forward or looping compression pointer")
            limit = pos = target
            continue
        if n & 0xC0:
            raise Malformed("label longer than 63 bytes")
        pos += 1
        if n == 0:
            break
        if pos + n > len(data):
            raise Malformed("label runs past the end")
        total += n + 1
        if total > 254:
            raise Malformed("name longer than 255 bytes")
        labels.append(bytes(data[pos:pos + n]))
        pos += n
    return labels, (end if end >= 0 else pos)


def encode_name(labels: list[bytes]) -> bytes:
    return b"".join(bytes([len(lab)]) + lab for lab in labels) + b"\0"


def header_of(data: bytes) -> tuple[int, int] | None:
    """(id, flags) if a header can be read, else None."""
    if len(data) < HEADER.size:
        return None
    qid, flags = struct.unpack_from("!HH", data)
    return qid, flags


def parse(data: bytes) -> Message:
    """Parse a message with exactly one question; RRs are walked, not decoded."""
    if len(data) < HEADER.size:
        raise Malformed("shorter than a header")
    qid, flags, qd, an, ns, ar = HEADER.unpack_from(data)
    if qd != 1:
        raise Malformed("question count is not 1")
    labels, pos = read_name(data, HEADER.size)
    if pos + 4 > len(data):
        raise Malformed("question runs past the end")
    qtype, qclass = struct.unpack_from("!HH", data, pos)
    pos += 4
    question = encode_name(labels) + struct.pack("!HH", qtype, qclass)
    udp_size = walk_records(data, pos, an, ns, ar)
    return Message(qid, flags, qd, an, ns, ar, labels, qtype, qclass, question, udp_size)


def walk_records(data: bytes, pos: int, an: int, ns: int, ar: int) -> int | None:
    """Check the ``an + ns + ar`` records from ``pos`` (after the question) stay
    within the message; return the EDNS0 payload size of an OPT record, if any."""
    udp_size = None
    for i in range(an + ns + ar):
        _, pos = read_name(data, pos)
        if pos + 10 > len(data):
            raise Malformed("record runs past the end")
        rtype, rclass, _ttl, rdlen = struct.unpack_from("!HHIH", data, pos)
        pos += 10 + rdlen
        if pos > len(data):
            raise Malformed("rdata runs past the end")
        if rtype == OPT and i >= an + ns:
            udp_size = rclass
    return udp_size


def same_question(data: bytes, question: bytes, name_lower: bytes) -> bool:
    """Whether the message ``data`` carries exactly one question, written at offset 12
    without compression, equal to ``question`` (an encoded question section) with the
    name compared case-insensitively (``name_lower``: its name part, lower-cased).
    True means ``parse(data).question.lower() == question.lower()``, without parsing;
    False decides nothing (a compressed or odd question): parse to know."""
    n = len(question)
    return (len(data) >= HEADER.size + n and data[4] == 0 and data[5] == 1
            and data[HEADER.size + n - 4:HEADER.size + n] == question[n - 4:]
            and data[HEADER.size:HEADER.size + n - 4].lower() == name_lower)


def random_ids():
    """An endless stream of uniformly random 16-bit query ids from the kernel's
    CSPRNG, read 512 at a time (one generator per thread: not thread-safe)."""
    import os
    while True:
        yield from memoryview(os.urandom(1024)).cast("H")


def error_reply(qid: int, flags: int, rcode: int, question: bytes = b"") -> bytes:
    """A reply carrying only a header (and the question, if given)."""
    out_flags = QR | RA | (flags & (0x7800 | RD | 0x0010)) | rcode  # keep opcode, RD, CD
    return HEADER.pack(qid, out_flags, 1 if question else 0, 0, 0, 0) + question


def truncated_reply(msg: Message, base_flags: int | None = None) -> bytes:
    """Header + question with TC set: tells a UDP client to retry over TCP."""
    flags = (base_flags if base_flags is not None else (QR | RA | (msg.flags & (0x7800 | RD)))) | TC
    return HEADER.pack(msg.id, flags, 1, 0, 0, 0) + msg.question


def with_id(data: bytes, qid: int) -> bytes:
    return struct.pack("!H", qid) + data[2:]

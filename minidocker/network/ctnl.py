"""Forgetting an address's connections (`conntrack -D -s IP`, and -d, in both
directions) as four raw ctnetlink messages on one plain netlink socket.

pyroute2's NFCTSocket spends about 3.5 ms of Python on the four filtered deletes
(a socket with its own asyncio loop, messages built from its classes), where the
kernel's part, one walk of the table per delete, is about 0.2 ms; every network
disconnect and every container stop waits for it. Encoded here with ``struct``
from linux/netfilter/nfnetlink.h and nfnetlink_conntrack.h, the way rtnl.py
does rtnetlink; tests/unit/test_ctnl.py reads each message back with pyroute2's
decoder. Errors are pyroute2's ``NetlinkError(errno, text)``, as rtnl.py's.
"""
from __future__ import annotations

import os
import socket
import struct

from pyroute2.netlink.exceptions import NetlinkError

from minidocker.network.rtnl import NLM_F_ACK, NLMSG_ERROR, NLA_F_NESTED, attr, error_code, message, messages, u32

NETLINK_NETFILTER = 12  # linux/netlink.h (Python's socket module does not name it)
# linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2
CT_DELETE = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_FILTER = 1, 2, 25
CTA_TUPLE_IP = 1
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_FILTER_ORIG_FLAGS, CTA_FILTER_REPLY_FLAGS = 1, 2
FILTER_FLAG_CTA_IP_SRC, FILTER_FLAG_CTA_IP_DST = 1 << 0, 1 << 1
NFGENMSG = struct.Struct("!BBH")  # family, version (NFNETLINK_V0), resource id (big-endian)

# (tuple attribute, filter attribute, address attribute, filter flag): the four
# fields an address can be in (a filter's fields are ANDed, so one delete each)
FIELDS = ((CTA_TUPLE_ORIG, CTA_FILTER_ORIG_FLAGS, CTA_IP_V4_SRC, FILTER_FLAG_CTA_IP_SRC),
          (CTA_TUPLE_ORIG, CTA_FILTER_ORIG_FLAGS, CTA_IP_V4_DST, FILTER_FLAG_CTA_IP_DST),
          (CTA_TUPLE_REPLY, CTA_FILTER_REPLY_FLAGS, CTA_IP_V4_SRC, FILTER_FLAG_CTA_IP_SRC),
          (CTA_TUPLE_REPLY, CTA_FILTER_REPLY_FLAGS, CTA_IP_V4_DST, FILTER_FLAG_CTA_IP_DST))


def delete_filtered(ip: str, tuple_kind: int, filter_kind: int, addr_kind: int, flag: int) -> bytes:
    """The body of a delete of every entry whose ``tuple_kind`` has ``ip`` in its
    ``addr_kind`` field (the kernel walks the table with the filter)."""
    ip_attrs = attr(addr_kind, socket.inet_aton(ip))
    return (NFGENMSG.pack(socket.AF_INET, 0, 0)
            + attr(tuple_kind, attr(CTA_TUPLE_IP, ip_attrs))
            + attr(CTA_FILTER | NLA_F_NESTED, u32(filter_kind, flag)))


def requests(ip: str) -> bytes:
    """The four deletes, sequence numbers 1 to 4, each acknowledged."""
    return b"".join(message(CT_DELETE, NLM_F_ACK, delete_filtered(ip, *field), seq)
                    for seq, field in enumerate(FIELDS, start=1))


def flush(ip: str) -> None:
    """Delete the IPv4 address's entries in the calling thread's namespace; the
    first refusal is raised (EINVAL or EOPNOTSUPP: a kernel without filtered
    deletes, which then deleted nothing)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_NETFILTER)
    try:
        sock.bind((0, 0))
        sock.send(requests(ip))  # the kernel takes one message after the other
        pending, refused = set(range(1, len(FIELDS) + 1)), 0
        while pending:
            for mtype, mseq, mbody in messages(sock.recv(1 << 16)):
                if mtype == NLMSG_ERROR and mseq in pending:
                    pending.discard(mseq)
                    refused = refused or error_code(mbody)
        if refused:
            raise NetlinkError(refused, os.strerror(refused))
    finally:
        sock.close()

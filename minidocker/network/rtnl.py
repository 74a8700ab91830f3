"""The few rtnetlink requests a container's start makes, as raw messages.

pyroute2's IPRoute costs about 0.2 ms per request in its own machinery (an
asyncio loop per socket, and 30-180 us to encode a message with its classes),
where the kernel's work for an address, a link going up or a route is a few
microseconds; a start makes about eight such requests. These are encoded here
with ``struct`` from the kernel's UAPI layouts (linux/netlink.h,
linux/rtnetlink.h, linux/if_link.h, linux/veth.h) and sent on one plain netlink
socket, synchronously: one request, its answer. tests/unit/test_rtnl.py checks
each encoding against pyroute2's for the same request. Everything else (dumps,
bridges, bridge-port flags) still goes through pyroute2 (``netlink.Handle``).

Errors are raised as pyroute2's ``NetlinkError(errno, text)``, so callers treat
both paths alike.
"""
from __future__ import annotations

import errno
import os
import socket
import struct

from pyroute2.netlink.exceptions import NetlinkError

# linux/netlink.h
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x2, 0x4, 0x300, 0x200, 0x400
NLA_F_NESTED = 0x8000
# linux/rtnetlink.h
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_NEWROUTE, RTM_GETROUTE = 20, 24, 26
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_TABLE = 1, 4, 5, 15
# linux/if_addr.h
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
# linux/if_link.h, linux/veth.h
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_TXQLEN = 1, 3, 4, 10, 13
IFLA_LINKINFO, IFLA_NET_NS_FD, IFLA_EXT_MASK = 18, 28, 29
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
VETH_INFO_PEER = 1
RTEXT_FILTER_SKIP_STATS = 1 << 3
IFF_UP = 1
AF_UNSPEC, AF_INET = 0, 2

NLMSGHDR = struct.Struct("=IHHII")    # length, type, flags, seq, pid
IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDRMSG = struct.Struct("=BBBBI")   # family, prefixlen, flags, scope, index
RTMSG = struct.Struct("=BBBBBBBBI")   # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_ATTR = struct.Struct("=HH")          # length, type
_ERR = struct.Struct("=i")


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    length = _ATTR.size + len(payload)
    return _ATTR.pack(length, kind) + payload + b"\0" * (-length & 3)


def u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def text(kind: int, value: str) -> bytes:
    return attr(kind, value.encode() + b"\0")


def ipv4(kind: int, address: str) -> bytes:
    return attr(kind, socket.inet_aton(address))


def mac(kind: int, address: str) -> bytes:
    return attr(kind, bytes.fromhex(address.replace(":", "")))


def message(kind: int, flags: int, body: bytes, seq: int = 0) -> bytes:
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), kind, NLM_F_REQUEST | flags, seq, 0) + body


# ---- requests (bodies after the netlink header) ---------------------------------
def get_link(ifname: str) -> bytes:
    """RTM_GETLINK by name, statistics left out (`ip link show NAME`)."""
    return IFINFOMSG.pack(AF_UNSPEC, 0, 0, 0, 0) + u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) \
        + text(IFLA_IFNAME, ifname)


def get_link_by_index(index: int) -> bytes:
    """RTM_GETLINK of link ``index``, statistics left out."""
    return IFINFOMSG.pack(AF_UNSPEC, 0, index, 0, 0) + u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)


def dump_routes() -> bytes:
    """RTM_GETROUTE dump of the IPv4 routes (`ip -4 route show table all`)."""
    return RTMSG.pack(AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)


def new_bridge(name: str, mtu: int, up: bool) -> bytes:
    """RTM_NEWLINK of a bridge (`ip link add NAME [up] mtu MTU type bridge`)."""
    flags = IFF_UP if up else 0
    return IFINFOMSG.pack(AF_UNSPEC, 0, 0, flags, flags) + text(IFLA_IFNAME, name) + u32(IFLA_MTU, mtu) \
        + attr(IFLA_LINKINFO | NLA_F_NESTED, text(IFLA_INFO_KIND, "bridge"))


def del_link(index: int) -> bytes:
    """RTM_DELLINK of link ``index`` (`ip link del DEV`)."""
    return IFINFOMSG.pack(AF_UNSPEC, 0, index, 0, 0)


def set_up(index: int) -> bytes:
    """RTM_NEWLINK raising link ``index`` (`ip link set DEV up`)."""
    return IFINFOMSG.pack(AF_UNSPEC, 0, index, IFF_UP, IFF_UP)


def new_veth(name: str, peer: str, mtu: int, netns_fd: int, master: int | None = None,
             peer_mac: str | None = None) -> bytes:
    """RTM_NEWLINK of a veth pair (txqueuelen 0 on both ends) whose peer is born in
    the namespace of ``netns_fd``; with ``master`` the host end is born a port of
    that bridge, and up."""
    peer_attrs = text(IFLA_IFNAME, peer) + u32(IFLA_MTU, mtu) + u32(IFLA_TXQLEN, 0) \
        + u32(IFLA_NET_NS_FD, netns_fd) + (mac(IFLA_ADDRESS, peer_mac) if peer_mac else b"")
    info = text(IFLA_INFO_KIND, "veth") \
        + attr(IFLA_INFO_DATA | NLA_F_NESTED,
               attr(VETH_INFO_PEER | NLA_F_NESTED, IFINFOMSG.pack(AF_UNSPEC, 0, 0, 0, 0) + peer_attrs))
    up = IFF_UP if master is not None else 0
    return IFINFOMSG.pack(AF_UNSPEC, 0, 0, up, up) + text(IFLA_IFNAME, name) + u32(IFLA_MTU, mtu) \
        + u32(IFLA_TXQLEN, 0) + (u32(IFLA_MASTER, master) if master is not None else b"") \
        + attr(IFLA_LINKINFO | NLA_F_NESTED, info)


def new_address(index: int, address: str, prefixlen: int, broadcast: str) -> bytes:
    """RTM_NEWADDR (`ip addr add ADDRESS/LEN brd + dev DEV`)."""
    return IFADDRMSG.pack(AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index) + ipv4(IFA_LOCAL, address) \
        + ipv4(IFA_ADDRESS, address) + ipv4(IFA_BROADCAST, broadcast)


def new_default_route(gateway: str, oif: int) -> bytes:
    """RTM_NEWROUTE of the IPv4 default route (`ip route add default via GW dev DEV`)."""
    return RTMSG.pack(AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0) \
        + ipv4(RTA_GATEWAY, gateway) + u32(RTA_OIF, oif)


# ---- answers --------------------------------------------------------------------
def messages(data: bytes):
    """(type, seq, body) of each netlink message in ``data``."""
    off = 0
    while off + NLMSGHDR.size <= len(data):
        length, kind, _flags, seq, _pid = NLMSGHDR.unpack_from(data, off)
        if length < NLMSGHDR.size:
            return
        yield kind, seq, data[off + NLMSGHDR.size:off + length]
        off += (length + 3) & ~3


def attributes(body: bytes, offset: int) -> dict[int, bytes]:
    """The top-level attributes of a message body from ``offset`` (past its fixed
    header): type (nested flag cleared) -> payload."""
    out = {}
    while offset + _ATTR.size <= len(body):
        length, kind = _ATTR.unpack_from(body, offset)
        if length < _ATTR.size:
            break
        out[kind & ~NLA_F_NESTED] = body[offset + _ATTR.size:offset + length]
        offset += (length + 3) & ~3
    return out


def route_entry(body: bytes) -> tuple[int, str, int, int | None]:
    """(table, destination, prefix length, output link index) of an RTM_NEWROUTE."""
    _family, dst_len, _src_len, _tos, table = RTMSG.unpack_from(body)[:5]
    attrs = attributes(body, RTMSG.size)
    if RTA_TABLE in attrs:
        table = struct.unpack("=I", attrs[RTA_TABLE][:4])[0]
    dst = socket.inet_ntoa(attrs[RTA_DST][:4]) if RTA_DST in attrs else "0.0.0.0"
    oif = struct.unpack("=I", attrs[RTA_OIF][:4])[0] if RTA_OIF in attrs else None
    return table, dst, dst_len, oif


def link_name(body: bytes) -> str:
    """IFLA_IFNAME of an RTM_NEWLINK."""
    return attributes(body, IFINFOMSG.size).get(IFLA_IFNAME, b"").split(b"\0", 1)[0].decode()


def error_code(body: bytes) -> int:
    """The errno an NLMSG_ERROR carries (0: an acknowledgement)."""
    return -_ERR.unpack_from(body)[0]


class Socket:
    """One NETLINK_ROUTE socket in the namespace of the thread that opens it,
    joined to no group; requests are sent one at a time and answered in turn."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
        try:
            self._sock.bind((0, 0))
        except OSError:
            self._sock.close()
            raise
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def request(self, kind: int, flags: int, body: bytes) -> bytes | None:
        """Send one request and wait for its answer: the body of the reply for a
        get, None for an acknowledged change; NetlinkError if the kernel refused."""
        self._seq += 1
        seq = self._seq
        self._sock.send(message(kind, flags, body, seq))
        while True:
            for mtype, mseq, mbody in messages(self._sock.recv(1 << 16)):
                if mseq != seq:
                    continue  # the answer of an earlier request that was given up on
                if mtype != NLMSG_ERROR:
                    return mbody
                code = error_code(mbody)
                if code:
                    raise NetlinkError(code, os.strerror(code))
                return None

    def dump(self, kind: int, body: bytes) -> list[bytes]:
        """The bodies of a dump's answer (until NLMSG_DONE); NetlinkError if refused."""
        self._seq += 1
        seq = self._seq
        self._sock.send(message(kind, NLM_F_DUMP, body, seq))
        out = []
        while True:
            for mtype, mseq, mbody in messages(self._sock.recv(1 << 16)):
                if mseq != seq:
                    continue
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    code = error_code(mbody)
                    if code:
                        raise NetlinkError(code, os.strerror(code))
                    return out
                out.append(mbody)

    def change(self, kind: int, body: bytes, create: bool = False) -> None:
        """An acknowledged change (``create``: a new object, EEXIST if it exists)."""
        self.request(kind, NLM_F_ACK | (NLM_F_CREATE | NLM_F_EXCL if create else 0), body)

    def main_routes(self) -> list[tuple[str, int, int | None]]:
        """(destination, prefix length, output link index) of each IPv4 route of the main table."""
        entries = (route_entry(b) for b in self.dump(RTM_GETROUTE, dump_routes()))
        return [(dst, plen, oif) for table, dst, plen, oif in entries if table == RT_TABLE_MAIN]

    def link_name_of(self, index: int) -> str:
        """The name of link ``index`` ("" when there is none)."""
        try:
            return link_name(self.request(RTM_GETLINK, 0, get_link_by_index(index)))
        except NetlinkError as e:
            if e.code == errno.ENODEV:
                return ""
            raise

    def link_index(self, ifname: str) -> int | None:
        """The index of link ``ifname``; None when there is none."""
        try:
            body = self.request(RTM_GETLINK, 0, get_link(ifname))
        except NetlinkError as e:
            if e.code == errno.ENODEV:
                return None
            raise
        return IFINFOMSG.unpack_from(body)[2]

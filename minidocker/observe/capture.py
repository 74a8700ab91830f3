"""The probe's wire: AF_PACKET sockets opened in the source namespace with a BPF
filter, scapy's layer classes to build frames, and hand-written parsers of the
answers (faster than dissecting every flooded frame with scapy)."""
from __future__ import annotations

import ctypes
import select
import socket
import struct
import time

from minidocker.observe.stack import Iface, Plan

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

_layers = None


def layers():
    """scapy's layer classes, imported on first use (~0.2 s; never scapy.all)."""
    global _layers
    if _layers is None:
        from scapy.layers.inet import ICMP, IP, TCP, UDP
        from scapy.layers.l2 import ARP, Ether
        _layers = dict(Ether=Ether, ARP=ARP, IP=IP, ICMP=ICMP, TCP=TCP, UDP=UDP)
    return _layers


SO_ATTACHFILTER = 26
SO_RCVBUFFORCE = 33
# Classic BPF: keep incoming IPv4 frames and ARP replies; drop our own outgoing
# frames and the ARP requests that every source floods on a bridge (20 sources
# x 19 destinations would overflow the socket buffers of slow Python readers).
FILTER = [
    (0x20, 0, 0, 0xFFFFF000 + 4),  # ld  pkttype
    (0x15, 6, 0, PACKET_OUTGOING),  # jeq outgoing -> drop
    (0x28, 0, 0, 12),               # ldh [12] ethertype
    (0x15, 3, 0, 0x0800),           # jeq IPv4 -> keep
    (0x15, 0, 3, 0x0806),           # jeq ARP ? next : drop
    (0x28, 0, 0, 20),               # ldh [20] ARP op
    (0x15, 0, 1, 2),                # jeq reply ? keep : drop
    (0x06, 0, 0, 0x40000),          # keep
    (0x06, 0, 0, 0),                # drop
]


def attach_filter(sock: socket.socket) -> None:
    prog = b"".join(struct.pack("HBBI", *ins) for ins in FILTER)
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HL", len(FILTER), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACHFILTER, fprog)


class Wire:
    """AF_PACKET sockets, one per interface, opened in the current netns."""

    def __init__(self):
        self.socks: dict[int, socket.socket] = {}
        self.poll = select.poll()
        self.by_fd: dict[int, Iface] = {}
        self.raw: socket.socket | None = None

    def open(self, iface: Iface) -> None:
        if iface.index in self.socks:
            return
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            attach_filter(s)
            s.bind((iface.name, ETH_P_ALL))
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 21)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            s.setblocking(False)
        except BaseException:
            s.close()
            raise
        self.socks[iface.index] = s
        self.by_fd[s.fileno()] = iface
        self.poll.register(s.fileno(), select.POLLIN)

    def send(self, iface: Iface, data: bytes) -> None:
        self.socks[iface.index].send(data)

    def frame(self, plan: Plan, packet) -> bytes:
        """Wire bytes for an IP packet to ``plan.dst`` (see ``send_ip``)."""
        if plan.local:
            return bytes(packet)
        L = layers()
        return bytes(L["Ether"](dst=plan.dst_mac, src=plan.out_if.mac) / packet)

    def send_ip(self, plan: Plan, data: bytes) -> None:
        """Frames go onto the route's interface as built; a packet for an address
        of this very stack goes to the kernel through a raw IP socket instead
        (a frame injected on lo with a local source is dropped as a martian)."""
        if plan.local:
            if self.raw is None:
                self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            self.raw.sendto(data, (plan.dst, 0))
        else:
            self.socks[plan.out_if.index].send(data)

    def receive(self, deadline: float, handle, done) -> None:
        """Feed incoming frames to ``handle(iface, raw)`` until ``done()`` or the
        deadline; what is already queued is always read, however late we are."""
        first = True
        while not done():
            left = deadline - time.monotonic()
            if left <= 0 and not first:
                return
            first = False
            for fd, _ in self.poll.poll(max(left, 0) * 1000):
                s = self.socks[self.by_fd[fd].index]
                while True:
                    try:
                        raw, addr = s.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if addr[2] != PACKET_OUTGOING:
                        handle(self.by_fd[fd], raw)

    def close(self) -> None:
        for s in self.socks.values():
            s.close()
        self.socks.clear()
        if self.raw is not None:
            self.raw.close()
            self.raw = None


# Frames are parsed by hand: every source sees every ARP broadcast flooded on
# its bridge, and dissecting thousands of them with scapy costs seconds of GIL.

def parse_arp_reply(raw: bytes):
    """(sender ip, sender mac) of an Ethernet ARP reply, else None."""
    if len(raw) < 42 or raw[12:14] != b"\x08\x06" or raw[20:22] != b"\x00\x02":
        return None
    return socket.inet_ntoa(raw[28:32]), raw[22:28].hex(":")


def parse_ip_reply(raw: bytes, ident: int, port: int) -> list[tuple]:
    """Probe answers carried by one Ethernet frame, as (proto, src ip, key) tuples:
    echo reply -> ("icmp", src, seq); RST/SYN-ACK from ``port`` -> ("tcp", src,
    our port); port-unreachable about a datagram to ``port``, or a datagram from
    ``port`` -> ("udp", src, our port)."""
    if len(raw) < 34 or raw[12:14] != b"\x08\x00" or raw[14] >> 4 != 4:
        return []
    ihl = (raw[14] & 0x0F) * 4
    proto, src = raw[23], socket.inet_ntoa(raw[26:30])
    l4 = raw[14 + ihl:]
    if proto == 1 and len(l4) >= 8:
        typ, code = l4[0], l4[1]
        if typ == 0 and int.from_bytes(l4[4:6], "big") == ident:
            return [("icmp", src, int.from_bytes(l4[6:8], "big"))]
        if typ == 3 and code == 3 and len(l4) >= 8 + 20:
            inner = l4[8:]
            iihl = (inner[0] & 0x0F) * 4
            if inner[9] == 17 and socket.inet_ntoa(inner[16:20]) == src and len(inner) >= iihl + 4:
                sport, dport = struct.unpack("!HH", inner[iihl:iihl + 4])
                if dport == port:
                    return [("udp", src, sport)]
    elif proto == 6 and len(l4) >= 14:
        sport, dport = struct.unpack("!HH", l4[:4])
        flags = l4[13]
        if sport == port and (flags & 0x04 or (flags & 0x12) == 0x12):
            return [("tcp", src, dport)]
    elif proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack("!HH", l4[:4])
        if sport == port:
            return [("udp", src, dport)]
    return []

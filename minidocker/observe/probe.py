"""Packet-level reachability probes, sent from inside a network namespace.

A probe answers "can the source namespace reach this address, per protocol?":

- ``arp``:  an ARP who-has on the source interface whose subnet contains the
  address; reachable when the owner answers. False when the source has no such
  segment (the address is not on a directly attached network).
- ``icmp``: ICMP echo request -> echo reply.
- ``tcp``:  SYN to ``port`` -> RST or SYN-ACK from the address = reachable;
  silence (or an ICMP error) = dropped.
- ``udp``:  datagram to ``port`` -> ICMP port-unreachable from the address (or a
  UDP reply) = reachable; silence = dropped.

How it works, and why:

- setns() is per thread, and scapy's ``conf.iface``/``conf.route`` are process-wide,
  so nothing here uses them. All work for one source namespace runs on one thread
  that entered it (``namespaces.run_in_netns``): it reads that namespace's links,
  addresses and routes with a pyroute2 socket opened on that thread, builds the
  Ethernet frames with scapy's layer classes, and sends/receives them on
  AF_PACKET sockets opened on that thread (so they belong to that namespace).
- The next hop's MAC is found with our own ARP request (the on-link destination
  itself, or the route's gateway). An address owned by the source namespace
  itself (a container and the one it joined share a stack) is probed over ``lo``;
  its ``arp`` result is True (the address is on this very stack, no wire needed).
- Speed: every destination of one source is probed at once from one thread (ARP
  phase, then all ICMP/TCP/UDP at once), and sources run in parallel, so a whole
  batch costs about two timeouts however many destinations are silent.
- AF_PACKET sees frames before the source's own netfilter hooks, so a firewall
  in the *source* namespace's input path is not detected; filters on the path
  (bridge, host forward chain, destination input) are.
- ICMP error rate limits: Linux limits "destination unreachable" per peer
  (net.ipv4.icmp_ratelimit, burst 6 then 1/s) and per namespace
  (icmp_msgs_per_sec/icmp_msgs_burst; process-wide on older kernels). A UDP
  probe relies on port-unreachable, so (1) ``icmp_errors_unlimited()`` lets a
  caller clear the dest-unreachable bit of net.ipv4.icmp_ratemask in namespaces
  it owns (per-namespace sysctl, restored afterwards; ``check.run_check`` does it
  for the containers' namespaces), and (2) a UDP probe that got silence while
  ICMP or TCP to the same address got through is retried once from a fresh
  source port after a pause.
"""
from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import random
import select
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from minidocker import explain
from minidocker.network import namespaces
from minidocker.errors import InvalidArgument, KernelError, NotFound

PROTOS = ("arp", "icmp", "tcp", "udp")
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
RTN_LOCAL = 2
RATEMASK_PATH = "/proc/sys/net/ipv4/icmp_ratemask"
_UNREACH_BIT = 1 << 3  # ICMP type 3 in icmp_ratemask

_layers = None


def _scapy():
    """scapy's layer classes, imported on first use (~0.2 s; never scapy.all)."""
    global _layers
    if _layers is None:
        from scapy.layers.inet import ICMP, IP, TCP, UDP
        from scapy.layers.l2 import ARP, Ether
        _layers = dict(Ether=Ether, ARP=ARP, IP=IP, ICMP=ICMP, TCP=TCP, UDP=UDP)
    return _layers


# --------------------------------------------------------------------- public

def probe(src_netns: str | None, dst_ip: str, protos=PROTOS, port: int = 9,
          timeout: float = 0.5) -> dict[str, bool]:
    """Probe ``dst_ip`` from inside the netns pinned at ``src_netns`` (None: ours)."""
    return probe_many([(src_netns, dst_ip)], protos=protos, timeout=timeout, port=port)[0]


def probe_many(jobs: list[tuple[str | None, str]], protos=PROTOS, timeout: float = 0.5,
               workers: int = 16, port: int = 9) -> list[dict[str, bool]]:
    """Probe many (src_netns, dst_ip) pairs; one thread per source namespace,
    up to ``workers`` at once. Results are in the order of ``jobs``."""
    protos = _validate(protos, timeout, port)
    for _, ip in jobs:
        _check_ip(ip)
    by_src: dict[str | None, list[str]] = {}
    for src, ip in jobs:
        dsts = by_src.setdefault(src, [])
        if ip not in dsts:
            dsts.append(ip)
    if not by_src:
        return []
    _scapy()  # import once, before the threads race for it
    results: dict[str | None, dict[str, dict[str, bool]]] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(by_src)))) as pool:
        futs = {src: pool.submit(namespaces.run_in_netns, src, _probe_batch,
                                 dsts, protos, port, timeout)
                for src, dsts in by_src.items()}
        for src, fut in futs.items():
            try:
                results[src] = fut.result()
            except FileNotFoundError:
                raise NotFound(f"network namespace {src} not found") from None
            except OSError as e:
                raise KernelError(f"probe from {src or 'this namespace'}: {e.strerror or e}") from None
    return [dict(results[src][ip]) for src, ip in jobs]


@contextlib.contextmanager
def icmp_errors_unlimited(netns_paths):
    """Within the block, ICMP destination-unreachable is not rate limited in the
    given namespaces (clears bit 3 of net.ipv4.icmp_ratemask, a per-namespace
    sysctl). Only pass namespaces you own. Restores the old values on exit."""
    saved: list[tuple[str, int]] = []
    try:
        for path in dict.fromkeys(p for p in netns_paths if p):
            old = namespaces.run_in_netns(path, _read_int, RATEMASK_PATH)
            if old & _UNREACH_BIT:
                _set_ratemask(path, old & ~_UNREACH_BIT)
                saved.append((path, old))
        yield
    finally:
        for path, old in reversed(saved):
            with contextlib.suppress(Exception):
                _set_ratemask(path, old)


# ------------------------------------------------------------------ internals

def _validate(protos, timeout, port) -> tuple[str, ...]:
    protos = tuple(protos)
    bad = [p for p in protos if p not in PROTOS]
    if bad or not protos:
        raise InvalidArgument(f"invalid probe protocol(s) {bad or protos}: use {', '.join(PROTOS)}")
    if not 0 < timeout <= 30:
        raise InvalidArgument(f"invalid probe timeout {timeout}")
    if not 0 < port < 65536:
        raise InvalidArgument(f"invalid probe port {port}")
    return protos


def _check_ip(ip: str) -> None:
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise InvalidArgument(f"invalid IPv4 address {ip!r}") from None


def _read_int(path: str) -> int:
    with open(path) as f:
        return int(f.read().split()[0])


def _set_ratemask(netns: str, value: int) -> None:
    explain.emit("ip", "netns", "exec", os.path.basename(netns),
                 "sysctl", "-w", f"net.ipv4.icmp_ratemask={value}")

    def write():
        with open(RATEMASK_PATH, "w") as f:
            f.write(str(value))
    namespaces.run_in_netns(netns, write)


@dataclass
class _Iface:
    index: int
    name: str
    mac: str
    addrs: list[ipaddress.IPv4Interface] = field(default_factory=list)


@dataclass
class _Plan:
    dst: str
    local: bool = False
    arp_if: _Iface | None = None       # segment for the ARP probe
    out_if: _Iface | None = None       # route's output interface
    src_ip: str | None = None
    nexthop: str | None = None
    dst_mac: str | None = None
    result: dict = field(default_factory=dict)


def _read_stack():
    """Links, addresses and a route lookup function of the current thread's netns."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    ipr = IPRoute()
    try:
        ifs: dict[int, _Iface] = {}
        for link in ipr.get_links():
            up = link["flags"] & 1
            if up:
                ifs[link["index"]] = _Iface(link["index"], link.get("IFLA_IFNAME"),
                                            link.get("IFLA_ADDRESS") or "00:00:00:00:00:00")
        for a in ipr.get_addr(family=socket.AF_INET):
            if a["index"] in ifs:
                ifs[a["index"]].addrs.append(
                    ipaddress.IPv4Interface(f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}"))

        routes = {}

        def route(dst):
            if dst not in routes:
                try:
                    msg = ipr.route("get", dst=dst)[0]
                    routes[dst] = (msg["type"], msg.get("RTA_OIF"), msg.get("RTA_GATEWAY"),
                                   msg.get("RTA_PREFSRC"))
                except NetlinkError:
                    routes[dst] = None
            return routes[dst]

        return ifs, route, ipr
    except BaseException:
        ipr.close()
        raise


def _plan(dsts, ifs) -> tuple[list[_Plan], object]:
    ifs_, route, ipr = ifs
    plans = []
    try:
        local = {str(a.ip) for i in ifs_.values() for a in i.addrs}
        lo = next((i for i in ifs_.values() if i.name == "lo"), None)
        for dst in dsts:
            p = _Plan(dst)
            plans.append(p)
            ip = ipaddress.IPv4Address(dst)
            if dst in local:
                p.local = True
                if lo is not None:
                    p.out_if, p.src_ip, p.nexthop = lo, dst, dst
                    p.dst_mac = lo.mac
                continue
            for i in ifs_.values():
                if i.name != "lo" and any(ip in a.network for a in i.addrs):
                    p.arp_if = i
                    break
            r = route(dst)
            if r is None or r[0] != 1 or r[1] not in ifs_:  # not a unicast route
                continue
            p.out_if = ifs_[r[1]]
            p.nexthop = r[2] or dst
            p.src_ip = r[3] or next((str(a.ip) for a in p.out_if.addrs), None)
            if p.src_ip is None:
                p.out_if = None
    finally:
        ipr.close()
    return plans


SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
# Classic BPF: keep incoming IPv4 frames and ARP replies; drop our own outgoing
# frames and the ARP requests that every source floods on a bridge (20 sources
# x 19 destinations would overflow the socket buffers of slow Python readers).
_FILTER = [
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


def _attach_filter(sock: socket.socket) -> None:
    prog = b"".join(struct.pack("HBBI", *ins) for ins in _FILTER)
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HL", len(_FILTER), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


class _Wire:
    """AF_PACKET sockets, one per interface, opened in the current netns."""

    def __init__(self):
        self.socks: dict[int, socket.socket] = {}
        self.poll = select.poll()
        self.by_fd: dict[int, _Iface] = {}
        self.raw: socket.socket | None = None

    def open(self, iface: _Iface) -> None:
        if iface.index in self.socks:
            return
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            _attach_filter(s)
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

    def send(self, iface: _Iface, data: bytes) -> None:
        self.socks[iface.index].send(data)

    def frame(self, plan: "_Plan", packet) -> bytes:
        """Wire bytes for an IP packet to ``plan.dst`` (see ``send_ip``)."""
        if plan.local:
            return bytes(packet)
        L = _scapy()
        return bytes(L["Ether"](dst=plan.dst_mac, src=plan.out_if.mac) / packet)

    def send_ip(self, plan: "_Plan", data: bytes) -> None:
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


def _probe_batch(dsts: list[str], protos: tuple[str, ...], port: int,
                 timeout: float) -> dict[str, dict[str, bool]]:
    """Runs on a thread inside the source netns."""
    plans = _plan(dsts, _read_stack())
    for p in plans:
        p.result = {proto: False for proto in protos}
        if p.local and "arp" in protos:
            p.result["arp"] = True
    wire = _Wire()
    try:
        for p in plans:
            for i in (p.arp_if, p.out_if):
                if i is not None:
                    wire.open(i)
        _arp_phase(wire, plans, protos, timeout)
        ip_protos = [x for x in protos if x != "arp"]
        if ip_protos:
            ready = [p for p in plans if p.dst_mac]
            _ip_phase(wire, ready, ip_protos, port, timeout)
            if "udp" in ip_protos:
                retry = [p for p in ready if not p.result["udp"]
                         and (p.result.get("icmp") or p.result.get("tcp"))]
                if retry:
                    time.sleep(min(timeout, 0.2))
                    _ip_phase(wire, retry, ["udp"], port, timeout)
    finally:
        wire.close()
    return {p.dst: p.result for p in plans}


def _arp_phase(wire: _Wire, plans: list[_Plan], protos, timeout: float) -> None:
    L = _scapy()
    # (ifindex, ip) -> resolved MAC
    wanted: dict[tuple[int, str], str | None] = {}
    ifaces: dict[int, _Iface] = {}
    for p in plans:
        if p.local:
            continue
        if p.arp_if is not None and "arp" in protos:
            wanted[(p.arp_if.index, p.dst)] = None
            ifaces[p.arp_if.index] = p.arp_if
        if p.out_if is not None and len(protos) > (1 if "arp" in protos else 0):
            wanted[(p.out_if.index, p.nexthop)] = None
            ifaces[p.out_if.index] = p.out_if
    if not wanted:
        return

    frames = {}  # built before the clock starts: scapy is slow under the GIL
    for idx, ip in wanted:
        i = ifaces[idx]
        frames[(idx, ip)] = bytes(L["Ether"](dst="ff:ff:ff:ff:ff:ff", src=i.mac) /
                                  L["ARP"](op=1, hwsrc=i.mac, psrc=_src_for(i, ip), pdst=ip))

    def send(keys):
        for key in keys:
            wire.send(ifaces[key[0]], frames[key])

    def handle(iface, raw):
        reply = _parse_arp_reply(raw)
        if reply is not None:
            key = (iface.index, reply[0])
            if key in wanted and wanted[key] is None:
                wanted[key] = reply[1]

    pending = lambda: [k for k, v in wanted.items() if v is None]  # noqa: E731
    send(list(wanted))
    start = time.monotonic()
    wire.receive(start + timeout / 2, handle, lambda: not pending())
    if pending():  # one retransmission for the slow or the lost
        send(pending())
        wire.receive(start + timeout, handle, lambda: not pending())
    for p in plans:
        if p.local:
            continue
        if p.arp_if is not None and "arp" in protos:
            p.result["arp"] = wanted[(p.arp_if.index, p.dst)] is not None
        if p.out_if is not None and (p.out_if.index, p.nexthop) in wanted:
            p.dst_mac = wanted[(p.out_if.index, p.nexthop)]


def _src_for(iface: _Iface, ip: str) -> str:
    addr = ipaddress.IPv4Address(ip)
    for a in iface.addrs:
        if addr in a.network:
            return str(a.ip)
    return str(iface.addrs[0].ip) if iface.addrs else "0.0.0.0"


def _ip_phase(wire: _Wire, plans: list[_Plan], protos, port: int, timeout: float) -> None:
    L = _scapy()
    ident = random.randrange(1, 0xFFFF)
    base = random.randrange(20000, 60000 - 2 * len(plans) - 2)
    # expectations: (proto, dst, our port or seq) -> plan
    index: dict[tuple, _Plan] = {}
    frames = []
    for n, p in enumerate(plans):
        ip = L["IP"](src=p.src_ip, dst=p.dst, ttl=64)
        if "icmp" in protos:
            index[("icmp", p.dst, n)] = p
            frames.append((p, wire.frame(p, ip / L["ICMP"](type=8, id=ident, seq=n) / b"minidocker-probe")))
        if "tcp" in protos:
            sport = base + 2 * n
            index[("tcp", p.dst, sport)] = p
            frames.append((p, wire.frame(p, ip / L["TCP"](sport=sport, dport=port, flags="S",
                                                          seq=random.randrange(1 << 32)))))
        if "udp" in protos:
            sport = base + 2 * n + 1
            index[("udp", p.dst, sport)] = p
            frames.append((p, wire.frame(p, ip / L["UDP"](sport=sport, dport=port) / b"minidocker-probe")))
    if not frames:
        return
    left = set(index)

    def hit(key):
        if key in left:
            left.discard(key)
            index[key].result[key[0]] = True

    def handle(iface, raw):
        for key in _parse_ip_reply(raw, ident, port):
            hit(key)

    for p, frame in frames:
        wire.send_ip(p, frame)
    wire.receive(time.monotonic() + timeout, handle, lambda: not left)


# Frames are parsed by hand: every source sees every ARP broadcast flooded on
# its bridge, and dissecting thousands of them with scapy costs seconds of GIL.

def _parse_arp_reply(raw: bytes):
    """(sender ip, sender mac) of an Ethernet ARP reply, else None."""
    if len(raw) < 42 or raw[12:14] != b"\x08\x06" or raw[20:22] != b"\x00\x02":
        return None
    return socket.inet_ntoa(raw[28:32]), raw[22:28].hex(":")


def _parse_ip_reply(raw: bytes, ident: int, port: int) -> list[tuple]:
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

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
  that entered it (``namespaces.run_in_netns``; observe/stack.py reads it, observe/capture.py is the wire): it reads that namespace's links,
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
import logging
import ipaddress
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from minidocker import explain
from minidocker.network import namespaces
from minidocker.errors import InvalidArgument, KernelError, NotFound
from minidocker.observe.capture import Wire, layers, parse_arp_reply, parse_ip_reply
from minidocker.observe.stack import Iface, Plan, plan_routes, read_stack, src_for

log = logging.getLogger(__name__)

PROTOS = ("arp", "icmp", "tcp", "udp")
RTN_LOCAL = 2
RATEMASK_PATH = "/proc/sys/net/ipv4/icmp_ratemask"
_UNREACH_BIT = 1 << 3  # ICMP type 3 in icmp_ratemask

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
    layers()  # import once, before the threads race for it
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
            try:
                _set_ratemask(path, old)
            except (OSError, KernelError) as ex:  # the namespace went away meanwhile
                log.debug("icmp_ratemask of %s not restored: %s", path, ex)


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


def _probe_batch(dsts: list[str], protos: tuple[str, ...], port: int,
                 timeout: float) -> dict[str, dict[str, bool]]:
    """Runs on a thread inside the source netns."""
    plans = plan_routes(dsts, read_stack())
    for p in plans:
        p.result = {proto: False for proto in protos}
        if p.local and "arp" in protos:
            p.result["arp"] = True
    wire = Wire()
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


def _arp_phase(wire: Wire, plans: list[Plan], protos, timeout: float) -> None:
    L = layers()
    # (ifindex, ip) -> resolved MAC
    wanted: dict[tuple[int, str], str | None] = {}
    ifaces: dict[int, Iface] = {}
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
                                  L["ARP"](op=1, hwsrc=i.mac, psrc=src_for(i, ip), pdst=ip))

    def send(keys):
        for key in keys:
            wire.send(ifaces[key[0]], frames[key])

    def handle(iface, raw):
        reply = parse_arp_reply(raw)
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


def _ip_phase(wire: Wire, plans: list[Plan], protos, port: int, timeout: float) -> None:
    L = layers()
    ident = random.randrange(1, 0xFFFF)
    base = random.randrange(20000, 60000 - 2 * len(plans) - 2)
    # expectations: (proto, dst, our port or seq) -> plan
    index: dict[tuple, Plan] = {}
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
        for key in parse_ip_reply(raw, ident, port):
            hit(key)

    for p, frame in frames:
        wire.send_ip(p, frame)
    wire.receive(time.monotonic() + timeout, handle, lambda: not left)



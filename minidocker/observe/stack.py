"""What a probe needs to know of the source namespace's stack: its up links with
their IPv4 addresses, and for each destination the interface, source address and
next hop its route takes (read on a thread that entered the namespace)."""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field


@dataclass
class Iface:
    index: int
    name: str
    mac: str
    addrs: list[ipaddress.IPv4Interface] = field(default_factory=list)


@dataclass
class Plan:
    dst: str
    local: bool = False
    arp_if: Iface | None = None       # segment for the ARP probe
    out_if: Iface | None = None       # route's output interface
    src_ip: str | None = None
    nexthop: str | None = None
    dst_mac: str | None = None
    result: dict = field(default_factory=dict)


def read_stack():
    """Links, addresses and a route lookup function of the current thread's netns."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    ipr = IPRoute()
    try:
        ifs: dict[int, Iface] = {}
        for link in ipr.get_links():
            up = link["flags"] & 1
            if up:
                ifs[link["index"]] = Iface(link["index"], link.get("IFLA_IFNAME"),
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


def plan_routes(dsts, ifs) -> tuple[list[Plan], object]:
    ifs_, route, ipr = ifs
    plans = []
    try:
        local = {str(a.ip) for i in ifs_.values() for a in i.addrs}
        lo = next((i for i in ifs_.values() if i.name == "lo"), None)
        for dst in dsts:
            p = Plan(dst)
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


def src_for(iface: Iface, ip: str) -> str:
    addr = ipaddress.IPv4Address(ip)
    for a in iface.addrs:
        if addr in a.network:
            return str(a.ip)
    return str(iface.addrs[0].ip) if iface.addrs else "0.0.0.0"

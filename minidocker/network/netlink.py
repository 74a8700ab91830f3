"""pyroute2 verbs: one kernel step per function, each explained as an `ip` command.

Functions named ``*_in`` take the path of a pinned network namespace and do their
work on a thread inside it (namespaces.run_in_netns); the others act on the
caller's (host) namespace. Names given to --explain are the basenames of the
netns pins, as `ip netns add NAME` would create them.
"""
import errno
import ipaddress
import os

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from minidocker import explain
from minidocker.errors import KernelError
from minidocker.network.namespaces import run_in_netns


def _nsname(path: str) -> str:
    return os.path.basename(path)


def _fail(what: str, e: Exception) -> KernelError:
    return KernelError(f"{what}: {getattr(e, 'args', [None, e])[-1]}")


def _index(ipr: IPRoute, ifname: str) -> int:
    idx = ipr.link_lookup(ifname=ifname)
    if not idx:
        raise KernelError(f"link {ifname} not found")
    return idx[0]


def link_exists(ifname: str) -> bool:
    with IPRoute() as ipr:
        return bool(ipr.link_lookup(ifname=ifname))


def create_bridge(name: str, mtu: int = 1500) -> None:
    explain.emit("ip", "link", "add", name, "type", "bridge")
    with IPRoute() as ipr:
        try:
            ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
        except NetlinkError as e:
            raise _fail(f"create bridge {name}", e)


def add_address(ifname: str, cidr: str) -> None:
    explain.emit("ip", "addr", "add", cidr, "brd", "+", "dev", ifname)
    iface = ipaddress.ip_interface(cidr)
    with IPRoute() as ipr:
        try:
            ipr.addr("add", index=_index(ipr, ifname), address=str(iface.ip),
                     prefixlen=iface.network.prefixlen, broadcast=str(iface.network.broadcast_address))
        except NetlinkError as e:
            if e.code != errno.EEXIST:
                raise _fail(f"add address {cidr} to {ifname}", e)


def set_up(ifname: str) -> None:
    explain.emit("ip", "link", "set", ifname, "up")
    with IPRoute() as ipr:
        ipr.link("set", index=_index(ipr, ifname), state="up")


def delete_link(ifname: str) -> None:
    """Delete a link; a link that is already gone is not an error."""
    with IPRoute() as ipr:
        idx = ipr.link_lookup(ifname=ifname)
        if not idx:
            return
        explain.emit("ip", "link", "del", ifname)
        try:
            ipr.link("del", index=idx[0])
        except NetlinkError as e:
            if e.code != errno.ENODEV:
                raise _fail(f"delete link {ifname}", e)


def create_veth_into(host_name: str, peer_name: str, netns_path: str, mtu: int = 1500) -> None:
    """Create a veth pair whose peer is born inside the container's namespace."""
    # txqueuelen 0 on both ends, as Docker creates them (a veth needs no queue)
    explain.emit("ip", "link", "add", host_name, "mtu", str(mtu), "txqueuelen", "0", "type", "veth",
                 "peer", "name", peer_name, "mtu", str(mtu), "txqueuelen", "0", "netns", _nsname(netns_path))
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with IPRoute() as ipr:
            ipr.link("add", ifname=host_name, kind="veth", mtu=mtu, txqlen=0,
                     peer={"ifname": peer_name, "net_ns_fd": fd, "mtu": mtu, "txqlen": 0})
    except NetlinkError as e:
        raise _fail(f"create veth {host_name}", e)
    finally:
        os.close(fd)


def set_master(ifname: str, bridge: str) -> None:
    explain.emit("ip", "link", "set", ifname, "master", bridge)
    with IPRoute() as ipr:
        ipr.link("set", index=_index(ipr, ifname), master=_index(ipr, bridge))


# --- inside a container's namespace -------------------------------------------

def _ns_explain(netns_path: str, *argv: str) -> None:
    explain.emit("ip", "-n", _nsname(netns_path), *argv)


def set_mac_in(netns_path: str, ifname: str, mac: str) -> None:
    _ns_explain(netns_path, "link", "set", ifname, "address", mac)

    def work():
        with IPRoute() as ipr:
            ipr.link("set", index=_index(ipr, ifname), address=mac)
    run_in_netns(netns_path, work)


def add_address_in(netns_path: str, ifname: str, cidr: str) -> None:
    _ns_explain(netns_path, "addr", "add", cidr, "brd", "+", "dev", ifname)
    iface = ipaddress.ip_interface(cidr)

    def work():
        with IPRoute() as ipr:
            ipr.addr("add", index=_index(ipr, ifname), address=str(iface.ip),
                     prefixlen=iface.network.prefixlen, broadcast=str(iface.network.broadcast_address))
    run_in_netns(netns_path, work)


def set_up_in(netns_path: str, ifname: str) -> None:
    _ns_explain(netns_path, "link", "set", ifname, "up")

    def work():
        with IPRoute() as ipr:
            ipr.link("set", index=_index(ipr, ifname), state="up")
    run_in_netns(netns_path, work)


def add_default_route_in(netns_path: str, gateway: str, ifname: str) -> None:
    _ns_explain(netns_path, "route", "add", "default", "via", gateway, "dev", ifname)

    def work():
        with IPRoute() as ipr:
            try:
                ipr.route("add", dst="0.0.0.0/0", gateway=gateway, oif=_index(ipr, ifname))
            except NetlinkError as e:
                if e.code != errno.EEXIST:
                    raise _fail("add default route", e)
    run_in_netns(netns_path, work)


def delete_link_in(netns_path: str, ifname: str) -> None:
    def work():
        with IPRoute() as ipr:
            idx = ipr.link_lookup(ifname=ifname)
            if idx:
                _ns_explain(netns_path, "link", "del", ifname)
                ipr.link("del", index=idx[0])
    run_in_netns(netns_path, work)


def host_routes() -> list[ipaddress.IPv4Network]:
    """Destinations of the host's IPv4 routes (to skip pools already in use)."""
    out = []
    with IPRoute() as ipr:
        for r in ipr.get_routes(family=2):
            dst = r.get_attr("RTA_DST")
            if dst is None:
                continue
            out.append(ipaddress.ip_network(f"{dst}/{r['dst_len']}", strict=False))
    return out


def host_link_names() -> list[str]:
    with IPRoute() as ipr:
        return [l.get_attr("IFLA_IFNAME") for l in ipr.get_links()]


def host_routes_with_dev() -> list[tuple[ipaddress.IPv4Network, str]]:
    """(destination, device name) of every IPv4 route in the main table."""
    out = []
    with IPRoute() as ipr:
        names = {l["index"]: l.get_attr("IFLA_IFNAME") for l in ipr.get_links()}
        for r in ipr.get_routes(family=2, table=254):
            dst = r.get_attr("RTA_DST") or "0.0.0.0"
            out.append((ipaddress.ip_network(f"{dst}/{r['dst_len']}", strict=False),
                        names.get(r.get_attr("RTA_OIF"), "")))
    return out

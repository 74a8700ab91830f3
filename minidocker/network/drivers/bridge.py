"""Bridge driver: a Linux bridge per network, a veth pair per endpoint.

Drivers plumb; the Engine decides. Nothing here touches the store, IPAM, DNS or
the firewall. Each verb undoes its own partial work when a later step fails.
"""
import contextlib

from minidocker.network import netlink
from minidocker.errors import Conflict
from minidocker.engine.models import Endpoint, Network


def create_network(net: Network, adopt: bool | None = None) -> None:
    """ip link add BR type bridge; ip addr add GW/LEN dev BR; ip link set BR up.

    A link of that name that already exists is adopted only when ``adopt`` (the
    default bridge, or a network of ours found again after a restart); a new
    network never takes over a link it did not make (`-o ...bridge.name=eth0`)."""
    if adopt is None:
        adopt = net.builtin
    if netlink.link_exists(net.bridge):
        if not adopt:
            raise Conflict(f"cannot create network {net.name}: a link named {net.bridge} already exists")
        # The bridge survived a daemon restart (or a crash): adopt it.
        netlink.add_address(net.bridge, f"{net.gateway}/{net.network.split('/')[1]}")
        netlink.set_up(net.bridge)
        return
    netlink.create_bridge(net.bridge, net.mtu)
    try:
        netlink.add_address(net.bridge, f"{net.gateway}/{net.network.split('/')[1]}")
        netlink.set_up(net.bridge)
    except BaseException:
        netlink.delete_link(net.bridge)
        raise


def delete_network(net: Network) -> None:
    netlink.delete_link(net.bridge)


def join(net: Network, ep: Endpoint, netns_path: str, default_route: bool) -> None:
    """Plug a container namespace into the network's bridge."""
    netlink.create_veth_into(ep.host_veth, ep.ifname, netns_path, net.mtu)
    with contextlib.ExitStack() as undo:
        undo.callback(netlink.delete_link, ep.host_veth)
        netlink.set_master(ep.host_veth, net.bridge)
        netlink.set_up(ep.host_veth)
        netlink.set_mac_in(netns_path, ep.ifname, ep.mac)
        netlink.add_address_in(netns_path, ep.ifname, f"{ep.ip}/{ep.prefixlen}")
        netlink.set_up_in(netns_path, ep.ifname)
        if default_route:
            netlink.add_default_route_in(netns_path, ep.gateway, ep.ifname)
        undo.pop_all()


def leave(ep: Endpoint) -> None:
    """Deleting the host end takes the container end with it."""
    netlink.delete_link(ep.host_veth)

"""Bridge driver: a Linux bridge per network, a veth pair per endpoint.

Drivers plumb; the Engine decides. Nothing here touches the store, IPAM, DNS or
the firewall. Each verb undoes its own partial work when a later step fails.
"""
import contextlib

from minidocker import faults
from minidocker.errors import Conflict, LimitReached
from minidocker.network import netlink, sysctl
from minidocker.network.drivers.protocol import EndpointInfo, NetworkInfo


def _gateway_cidr(net: NetworkInfo) -> str:
    return f"{net.gateway}/{net.network.split('/')[1]}"


class BridgeDriver:
    name = "bridge"
    has_addresses = True
    firewalled = True
    single_instance = False
    own_netns = True

    def create(self, net: NetworkInfo, adopt: bool = False) -> None:
        """ip link add BR up type bridge; ip addr add GW/LEN dev BR.

        A link of that name that already exists is adopted only when ``adopt`` (the
        default bridge, or a network of ours found again after a restart); a new
        network never takes over a link it did not make (`-o ...bridge.name=eth0`)."""
        sysctl.ensure_neighbour_room()  # host-wide, only raised: a full bridge's peers must fit
        with netlink.inside(None) as host:
            if not host.create_bridge(net.bridge, net.mtu, up=True):
                if not adopt:
                    raise Conflict(f"cannot create network {net.name}: a link named {net.bridge} already exists")
                # The bridge survived a daemon restart (or a crash): adopt it.
                host.add_address(net.bridge, _gateway_cidr(net))
                host.set_up(net.bridge)
                return
            try:
                faults.point("network.bridge")
                host.add_address(net.bridge, _gateway_cidr(net))
                faults.point("network.addresses")
            except BaseException:
                host.delete_link(net.bridge)
                raise

    def delete(self, net: NetworkInfo, later: list | None = None) -> None:
        """Delete the bridge: two RCU barriers in the kernel (~35 ms of waiting).
        With ``later`` that may still run on return (its waitable appended)."""
        with netlink.inside(None) as host:
            if later is None:
                host.delete_link(net.bridge)
                return
            pending = host.delete_link_begin(net.bridge)
        if pending is not None:
            later.append(pending)

    def exists(self, net: NetworkInfo) -> bool:
        with netlink.inside(None) as host:
            return host.link_exists(net.bridge)

    def join(self, net: NetworkInfo, ep: EndpointInfo, ns: netlink.Handle, default_route: bool,
             hairpin: bool = False) -> None:
        """Plug a container namespace into the network's bridge: the veth's host
        end through one handle on the host, its container end through ``ns``."""
        with netlink.inside(None) as host:
            try:  # born a port of the bridge, up, its peer with its MAC: one request
                host.create_veth_into(ep.host_veth, ep.ifname, ns.path, net.mtu, master=net.bridge, peer_mac=ep.mac)
            except LimitReached:
                raise LimitReached(f"network {net.name} has reached the Linux bridge's limit of "
                                   f"{netlink.BRIDGE_MAX_PORTS} ports") from None
            with contextlib.ExitStack() as undo:
                undo.callback(host.delete_link, ep.host_veth)
                faults.point("join.veth")
                if hairpin:
                    host.set_hairpin(ep.host_veth)
                faults.point("join.port")
                ns.run(_configure, ns, ep, default_route)  # one round trip to the namespace's thread
                undo.pop_all()

    def leave(self, net: NetworkInfo, ep: EndpointInfo, later: list | None = None) -> None:
        """Deleting the host end takes the container end with it; once the kernel
        has unregistered the pair (no packet of the address can arrive any more),
        the address's connections are forgotten. The kernel's RCU wait after the
        unregistering runs on (netlink.LinkDelete). With ``later`` the whole step
        may still run on return: its waitable is appended there."""
        with netlink.inside(None) as host:
            pending = host.delete_link_begin(ep.host_veth)
        step = _Unplugged(pending, ep.ip)
        step.wait() if later is None else later.append(step)


def _configure(ns: netlink.Handle, ep: EndpointInfo, default_route: bool) -> None:
    """The container end's address, up, and (``default_route``) the route via the gateway."""
    ns.add_address(ep.ifname, f"{ep.ip}/{ep.prefixlen}")
    ns.set_up(ep.ifname)
    faults.point("join.addresses")
    if default_route:
        ns.add_default_route(ep.gateway, ep.ifname)
        faults.point("join.routes")


class _Unplugged:
    """An endpoint's veth going, then its address's connections forgotten. (On a
    thread of its own it gained nothing measurable: both halves are mostly Python.)"""

    def __init__(self, pending, ip: str):
        self._pending, self._ip = pending, ip

    def wait(self) -> None:
        try:
            if self._pending is not None:
                self._pending.wait()
        finally:
            if self._ip:
                with netlink.inside(None) as host:
                    host.flush_conntrack(self._ip)

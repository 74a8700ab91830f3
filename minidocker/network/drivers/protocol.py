"""The network driver protocol: what the Engine asks of a driver, and what a
driver may read of the networks and endpoints it is given.

A driver plumbs; the Engine decides. A driver creates and deletes its network's
device and joins and leaves endpoints; it never touches the store, IPAM, DNS or
the firewall. Instead of branching on driver names, the Engine reads the
capabilities a driver declares. A new driver is one module in this package with
a class that fits ``Driver``, registered in registry.py.
"""
from typing import Protocol


class NetworkInfo(Protocol):
    """The parts of a network a driver reads (engine.models.Network fits)."""
    id: str
    name: str
    bridge: str        # the Linux bridge (bridge driver)
    network: str       # the subnet, e.g. 172.20.0.0/16
    gateway: str
    mtu: int


class EndpointInfo(Protocol):
    """The parts of an endpoint a driver reads (engine.models.Endpoint fits)."""
    ip: str
    prefixlen: int
    gateway: str
    mac: str
    ifname: str        # inside the container
    host_veth: str     # on the host


class Driver(Protocol):
    name: str              # as `network create --driver NAME` and inspect's Driver show it
    has_addresses: bool    # its endpoints get addresses from the network's subnet (IPAM)
    firewalled: bool       # the firewall renders rules for its networks
    single_instance: bool  # only its predefined network: users may not create another
    own_netns: bool        # a container on it gets a network namespace of its own

    def create(self, net: NetworkInfo, adopt: bool = False) -> None:
        """Make the network's device. ``adopt``: take over one of that name that
        already exists (a restart); otherwise such a device is a Conflict."""

    def delete(self, net: NetworkInfo, later: list | None = None) -> None:
        """Remove the network's device; one that is already gone is not an error.
        ``later``: as for leave."""

    def exists(self, net: NetworkInfo) -> bool:
        """Is the network's device there?"""

    def join(self, net: NetworkInfo, ep: EndpointInfo, ns, default_route: bool, hairpin: bool = False) -> None:
        """Plug the endpoint into the sandbox whose namespace handle is ``ns``
        (netlink.Handle, from netns.created/entered); undo own partial work on failure.
        ``hairpin``: its container publishes ports (it may reach them itself)."""

    def leave(self, net: NetworkInfo, ep: EndpointInfo, later: list | None = None) -> None:
        """Unplug the endpoint; one already gone is not an error. With ``later``,
        a last kernel step that only waits may still run on return: something
        with a ``wait()`` for it is appended there, which the caller calls before
        anything may see the endpoint gone (before it answers)."""


class NoDevice:
    """A driver with nothing to make or plumb (host, null): every verb is a no-op.
    Subclasses declare the name and the capabilities."""
    has_addresses = False
    firewalled = False
    single_instance = True

    def create(self, net: NetworkInfo, adopt: bool = False) -> None:
        pass

    def delete(self, net: NetworkInfo, later: list | None = None) -> None:
        pass

    def exists(self, net: NetworkInfo) -> bool:
        return True

    def join(self, net: NetworkInfo, ep: EndpointInfo, ns, default_route: bool, hairpin: bool = False) -> None:
        pass

    def leave(self, net: NetworkInfo, ep: EndpointInfo, later: list | None = None) -> None:
        pass

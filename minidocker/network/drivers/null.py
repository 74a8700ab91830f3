"""Null driver (`--network=none`): the container gets a namespace of its own with
only `lo` in it; there is no device and no address to plumb."""
from minidocker.network.drivers.protocol import EndpointInfo, NetworkInfo


class NullDriver:
    name = "null"
    has_addresses = False
    firewalled = False
    single_instance = True
    own_netns = True

    def create(self, net: NetworkInfo, adopt: bool = False) -> None:
        pass

    def delete(self, net: NetworkInfo) -> None:
        pass

    def exists(self, net: NetworkInfo) -> bool:
        return True

    def join(self, net: NetworkInfo, ep: EndpointInfo, ns, default_route: bool) -> None:
        pass

    def leave(self, net: NetworkInfo, ep: EndpointInfo) -> None:
        pass

"""Host driver (`--network=host`): the container stays in the host's own
namespace and sees its interfaces; there is nothing to create or plumb."""
from minidocker.network.drivers.protocol import EndpointInfo, NetworkInfo


class HostDriver:
    name = "host"
    has_addresses = False
    firewalled = False
    single_instance = True
    own_netns = False

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

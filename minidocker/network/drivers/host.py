"""Host driver (`--network=host`): the container stays in the host's own
namespace and sees its interfaces; there is nothing to create or plumb."""
from minidocker.network.drivers.protocol import NoDevice


class HostDriver(NoDevice):
    name = "host"
    own_netns = False

"""Null driver (`--network=none`): the container gets a namespace of its own with
only `lo` in it; there is no device and no address to plumb."""
from minidocker.network.drivers.protocol import NoDevice


class NullDriver(NoDevice):
    name = "null"
    own_netns = True

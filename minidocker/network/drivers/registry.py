"""Network drivers by name, as `network create --driver NAME` and a network's
Driver field name them.

A driver that Docker knows but that cannot run here answers with Docker's own
error (overlay needs a swarm); any other name is a plugin that is not there.
"""
from minidocker.errors import Forbidden, MinidockerError, NotFound
from minidocker.network.drivers.protocol import Driver
from minidocker.network.drivers.bridge import BridgeDriver
from minidocker.network.drivers.host import HostDriver
from minidocker.network.drivers.null import NullDriver

_DRIVERS: dict[str, Driver] = {d.name: d for d in (BridgeDriver(), HostDriver(), NullDriver())}

# known to Docker, unavailable on a host that is not part of a swarm
_UNAVAILABLE: dict[str, tuple[type[MinidockerError], str]] = {
    "overlay": (Forbidden, 'This node is not a swarm manager. Use "docker swarm init" or '
                           '"docker swarm join" to connect this node to swarm and try again.'),
}


def lookup(name: str) -> Driver:
    """The driver called ``name``; Docker's error when there is none."""
    driver = _DRIVERS.get(name)
    if driver is not None:
        return driver
    if name in _UNAVAILABLE:
        error, message = _UNAVAILABLE[name]
        raise error(message)
    raise NotFound(f'plugin "{name}" not found')

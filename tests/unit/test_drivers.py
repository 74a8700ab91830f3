"""The driver registry: drivers by name, Docker's errors for the others, and the
capabilities the Engine reads instead of driver names."""
import pytest

from minidocker.errors import Forbidden, NotFound
from minidocker.network.drivers import registry
from minidocker.network.drivers.protocol import Driver

CAPABILITIES = ("has_addresses", "firewalled", "single_instance", "own_netns")
VERBS = ("create", "delete", "exists", "join", "leave")


@pytest.mark.parametrize("name", ["bridge", "host", "null"])
def test_each_driver_fits_the_protocol(name):
    d = registry.lookup(name)
    assert d.name == name
    for attr in CAPABILITIES:
        assert isinstance(getattr(d, attr), bool), attr
    for verb in VERBS:
        assert callable(getattr(d, verb)), verb
    assert set(Driver.__annotations__) == {"name", *CAPABILITIES}


def test_capabilities_of_the_builtin_drivers():
    caps = {n: tuple(getattr(registry.lookup(n), a) for a in CAPABILITIES) for n in ("bridge", "host", "null")}
    assert caps == {"bridge": (True, True, False, True),
                    "host": (False, False, True, False),
                    "null": (False, False, True, True)}


def test_unknown_driver_is_a_missing_plugin():
    with pytest.raises(NotFound) as e:
        registry.lookup("x")
    assert e.value.message == 'plugin "x" not found' and e.value.status == 404


def test_overlay_needs_a_swarm():
    with pytest.raises(Forbidden) as e:
        registry.lookup("overlay")
    assert e.value.status == 403 and e.value.message.startswith("This node is not a swarm manager.")

"""The addresses held on a network are kept as endpoints take and give them back
(held_addresses.py: no look at every container per start). Every verb that takes or
gives one back leaves the kept set equal to what the containers' state says, and
the lowest free address is handed out as Docker 20.10 does."""
import pytest

from minidocker import faults
from minidocker.errors import Conflict

from .enginehelp import run


def _ip(engine, c, net) -> str:
    return engine.containers[c.id].endpoints[net.id]["ip"]


def _kept_is_the_state(engine, *nets) -> None:
    for net in nets:
        assert engine.net.held.of(net.id) == engine.net.held.scan(net.id)


def test_held_addresses_follow_start_stop_connect_disconnect_and_rm(engine):
    net = engine.net.create("heldnet", subnet="10.97.0.0/24")
    a, b, c = (run(engine, name=n, network="heldnet") for n in ("ha", "hb", "hc"))
    assert [_ip(engine, x, net) for x in (a, b, c)] == ["10.97.0.2", "10.97.0.3", "10.97.0.4"]
    _kept_is_the_state(engine, net)

    engine.ctr.stop(b.id, timeout=0)  # gives .3 back: the next start takes it
    _kept_is_the_state(engine, net)
    d = run(engine, name="hd", network="heldnet")
    assert _ip(engine, d, net) == "10.97.0.3"

    other = run(engine, name="ho")  # on the default bridge, then connected
    with pytest.raises(Conflict):  # a --ip held by another: nothing taken
        engine.net.connect("heldnet", other.id, ip="10.97.0.2")
    for step in faults.STEPS["network-connect"]:  # a connect that fails after its address was taken
        faults.arm(step)
        try:
            with pytest.raises(faults.InjectedFault):
                engine.net.connect("heldnet", other.id)
        finally:
            faults.disarm()
        assert net.id not in engine.containers[other.id].endpoints
        _kept_is_the_state(engine, net)
    engine.net.connect("heldnet", other.id)
    assert _ip(engine, other, net) == "10.97.0.5"
    _kept_is_the_state(engine, net)
    engine.net.disconnect("heldnet", other.id)
    _kept_is_the_state(engine, net)

    engine.ctr.remove(c.id, force=True)  # a running one removed: .4 is free again
    _kept_is_the_state(engine, net)
    e2 = run(engine, name="he", network="heldnet")
    assert _ip(engine, e2, net) == "10.97.0.4"
    engine.ctr.start(b.id)  # .5 was given back by the disconnect
    assert _ip(engine, b, net) == "10.97.0.5"
    _kept_is_the_state(engine, net)

    for x in (a, b, d, other, e2):
        engine.ctr.remove(x.id, force=True)
    _kept_is_the_state(engine, net)
    assert engine.net.held.of(net.id) == {}
    engine.net.remove("heldnet")
    assert net.id not in engine.net.held

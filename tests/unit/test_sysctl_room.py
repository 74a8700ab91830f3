"""network/sysctl.py: the neighbour tables' limits are raised for full bridges, never lowered."""
from minidocker.network import sysctl


def key(family: str, name: str) -> str:
    return f"net.{family}.neigh.default.{name}"


def test_the_kernels_defaults_are_raised_for_both_families():
    defaults = {"gc_thresh1": "128", "gc_thresh2": "512", "gc_thresh3": "1024"}
    current = {key(f, n): v for f in ("ipv4", "ipv6") for n, v in defaults.items()}
    writes = dict(sysctl.neighbour_room_writes(current))
    assert writes == {key(f, n): str(v) for f in ("ipv4", "ipv6") for n, v in sysctl.NEIGHBOUR_ROOM.items()}
    assert int(writes[key("ipv4", "gc_thresh3")]) >= 2 * 1023 + 1024  # one full bridge's pairs, and room


def test_a_hosts_higher_choice_stays_and_missing_keys_are_left_alone():
    current = {key("ipv4", "gc_thresh3"): "100000", key("ipv4", "gc_thresh2"): "4096",
               key("ipv4", "gc_thresh1"): "1", key("ipv6", "gc_thresh3"): None}
    assert sysctl.neighbour_room_writes(current) == [(key("ipv4", "gc_thresh1"), "1024")]
    assert sysctl.neighbour_room_writes({}) == []

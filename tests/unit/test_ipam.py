"""Unit tests for minidocker.ipam (pure; messages checked on Docker 20.10.24)."""
from ipaddress import IPv4Address as A, IPv4Network as N

import pytest

from minidocker.network import ipam
from minidocker.errors import Conflict, Exhausted, InvalidArgument


def test_default_pools():
    pools = ipam.DEFAULT_POOLS
    assert pools[0] == N("172.17.0.0/16") and pools[14] == N("172.31.0.0/16")
    assert pools[15] == N("192.168.0.0/20") and pools[-1] == N("192.168.240.0/20")
    assert len(pools) == 31


def test_parse_subnet_keeps_text_with_host_bits():
    assert ipam.parse_subnet("172.20.16.0/16") == (N("172.20.0.0/16"), "172.20.16.0/16")


@pytest.mark.parametrize("text", ["10.300.0.0/16", "foo", "10.88.0.0", "10.0.0.0/33",
                                  "10.0.0.0/255.0.0.0", "10.0.0.0/", "fe80::/64"])
def test_parse_subnet_bad(text):
    with pytest.raises(InvalidArgument) as e:
        ipam.parse_subnet(text)
    assert e.value.message == f"Invalid subnet {text} : invalid CIDR address: {text}"
    assert not ipam.is_client_side(e.value)


def test_validate_walkthrough():
    r = ipam.validate_config("172.20.16.0/16", "172.20.16.1", None, {}, [N("172.17.0.0/16")])
    assert r["config"] == {"Subnet": "172.20.16.0/16", "Gateway": "172.20.16.1"}
    assert r["subnet"] == N("172.20.0.0/16") and r["gateway"] == A("172.20.16.1")
    assert r["ip_range"] is None and r["aux"] == {}


def test_validate_nothing_configured():
    assert ipam.validate_config(None, None, None, {}, []) is None


def test_validate_full_config_order_and_auto_gateway():
    r = ipam.validate_config("10.88.0.5/24", None, "10.88.0.130/25", {"a": "10.88.0.200"}, [])
    assert list(r["config"]) == ["Subnet", "IPRange", "AuxiliaryAddresses"]
    assert r["config"]["IPRange"] == "10.88.0.130/25"
    # Docker: bridge got 10.88.0.128 (first of the range; not the subnet's network address)
    assert r["gateway"] == A("10.88.0.128")
    assert r["aux"] == {"a": A("10.88.0.200")}
    r = ipam.validate_config("10.88.0.0/16", "10.88.0.1", None, {"a": "10.88.0.2", "b": "10.88.0.3"}, [])
    assert r["config"] == {"Subnet": "10.88.0.0/16", "Gateway": "10.88.0.1",
                           "AuxiliaryAddresses": {"a": "10.88.0.2", "b": "10.88.0.3"}}


def _client(fn, *a):
    with pytest.raises(InvalidArgument) as e:
        fn(*a)
    assert ipam.is_client_side(e.value)
    return e.value.message


@pytest.mark.parametrize("args,msg", [
    ((None, None, "10.77.0.0/24", {}), "every ip-range or gateway must have a corresponding subnet"),
    ((None, "10.77.0.1", None, {}), "every ip-range or gateway must have a corresponding subnet"),
    ((None, None, None, {"a": "10.99.0.5"}), "no matching subnet for aux-address 10.99.0.5"),
    (("10.88.0.0/16", "10.99.0.1", None, {}), "no matching subnet for gateway 10.99.0.1"),
    (("10.88.0.0/16", "10.88.0.300", None, {}), "no matching subnet for gateway 10.88.0.300"),
    (("10.88.0.0/16", "foo", None, {}), "no matching subnet for gateway foo"),
    (("10.88.0.0/16", None, "10.99.0.0/24", {}), "no matching subnet for range 10.99.0.0/24"),
    (("10.88.0.0/16", None, "foo", {}), "no matching subnet for range foo"),
    (("10.88.0.0/16", None, "10.88.0.0/33", {}), "invalid CIDR address: 10.88.0.0/33"),
    (("10.88.0.0/16", None, None, {"a": "10.99.0.5"}), "no matching subnet for aux-address 10.99.0.5"),
    (("10.88.0.0/16", None, None, {"a": "foo"}), "no matching subnet for aux-address foo"),
    (("foo", "10.0.0.1", None, {}), "invalid subnet: invalid CIDR address: foo"),
])
def test_validate_client_side_errors(args, msg):
    assert _client(ipam.validate_config, *args, []) == msg


def test_validate_bad_subnet_alone_is_daemon_side():
    with pytest.raises(InvalidArgument) as e:
        ipam.validate_config("10.300.0.0/16", None, None, {}, [])
    assert e.value.message == "Invalid subnet 10.300.0.0/16 : invalid CIDR address: 10.300.0.0/16"
    assert not ipam.is_client_side(e.value)


@pytest.mark.parametrize("subnet", ["172.20.0.0/24", "172.0.0.0/8", "172.20.255.0/24"])
def test_validate_overlap(subnet):
    with pytest.raises(Conflict) as e:
        ipam.validate_config(subnet, None, None, {}, [N("172.20.0.0/16")])
    assert e.value.message == "Pool overlaps with other one on this address space"


@pytest.mark.parametrize("gw", ["10.88.0.0", "10.88.255.255"])
def test_validate_gateway_reserved(gw):
    with pytest.raises(Conflict) as e:
        ipam.validate_config("10.88.0.0/16", gw, None, {}, [])
    assert e.value.message == f"failed to allocate gateway ({gw}): Address already in use"


@pytest.mark.parametrize("subnet", ["10.89.0.0/31", "10.89.0.0/32"])
def test_validate_no_room_for_gateway(subnet):
    with pytest.raises(Exhausted) as e:
        ipam.validate_config(subnet, None, None, {}, [])
    assert e.value.message == "failed to allocate gateway (): No available addresses on this pool"


@pytest.mark.parametrize("gw,aux,msg", [
    (None, {"a": "10.88.0.1"}, "failed to allocate secondary ip address (a:10.88.0.1): Address already in use"),
    ("10.88.0.1", {"a": "10.88.0.1"}, "failed to allocate secondary ip address (a:10.88.0.1): Address already in use"),
    (None, {"a": "10.88.0.0"}, "failed to allocate secondary ip address (a:10.88.0.0): Address already in use"),
    (None, {"a": "10.88.255.255"}, "failed to allocate secondary ip address (a:10.88.255.255): Address already in use"),
    (None, {"a": "10.88.0.2", "b": "10.88.0.2"}, "failed to allocate secondary ip address (b:10.88.0.2): Address already in use"),
])
def test_validate_aux_conflicts(gw, aux, msg):
    with pytest.raises(Conflict) as e:
        ipam.validate_config("10.88.0.0/16", gw, None, aux, [])
    assert e.value.message == msg


def test_auto_config():
    r = ipam.auto_config(N("172.18.0.0/16"))
    assert r["config"] == {"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}
    assert r["gateway"] == A("172.18.0.1")


def test_choose_pool_clean_host():
    pool, cur = ipam.choose_pool([N("172.17.0.0/16")], [], None)
    assert (pool, cur) == (N("172.18.0.0/16"), 1)
    pool, cur = ipam.choose_pool([N("172.17.0.0/16"), pool], [], cur)
    assert (pool, cur) == (N("172.19.0.0/16"), 2)


def test_choose_pool_skips_routes_and_user_networks():
    pool, _ = ipam.choose_pool([N("172.17.0.0/16"), N("172.18.5.0/24")], [N("172.19.0.0/17")], None)
    assert pool == N("172.20.0.0/16")
    pool, _ = ipam.choose_pool([], [N("172.16.0.0/12")], None)
    assert pool == N("192.168.0.0/20")


def test_choose_pool_does_not_reuse_released_pool_and_wraps():
    # transcript: 172.18 handed out and released earlier -> next is 172.19
    pool, cur = ipam.choose_pool([N("172.17.0.0/16")], [], 1)
    assert pool == N("172.19.0.0/16")
    # 172.20 is taken by self_net -> 172.21
    pool, cur = ipam.choose_pool([N("172.17.0.0/16"), N("172.20.0.0/16"), pool], [], cur)
    assert pool == N("172.21.0.0/16")
    # at the end of the list it wraps round to the start
    pool, cur = ipam.choose_pool([N("172.17.0.0/16")], [], len(ipam.DEFAULT_POOLS) - 1)
    assert (pool, cur) == (N("172.18.0.0/16"), 1)


def test_choose_pool_exhausted():
    with pytest.raises(Exhausted) as e:
        ipam.choose_pool(list(ipam.DEFAULT_POOLS), [], 3)
    assert e.value.message == ("could not find an available, non-overlapping IPv4 address "
                               "pool among the defaults to assign to the network")
    with pytest.raises(Exhausted):
        ipam.choose_pool([], [N("0.0.0.0/0")], None)
    # the one left is found wherever the cursor is
    left = list(ipam.DEFAULT_POOLS)
    last = left.pop(5)
    assert ipam.choose_pool(left, [], 20) == (last, 5)


def test_allocate_walkthrough():
    net, gw = N("172.20.0.0/16"), A("172.20.16.1")
    taken = set()
    first = ipam.allocate(net, gw, None, taken)
    assert first == A("172.20.0.1")
    taken.add(first)
    second = ipam.allocate(net, gw, None, taken)
    assert second == A("172.20.0.2")
    taken.add(second)
    assert ipam.allocate(net, gw, None, taken, requested=A("172.20.16.4")) == A("172.20.16.4")


def test_allocate_skips_gateway_and_taken_and_reuses_lowest():
    net = N("10.89.0.0/24")
    gw = A("10.89.0.1")
    assert ipam.allocate(net, gw, None, set()) == A("10.89.0.2")
    # lowest free, like Docker 20.10 (checked: .2 freed, next container got .2)
    assert ipam.allocate(net, gw, None, {A("10.89.0.3")}) == A("10.89.0.2")
    assert ipam.allocate(net, gw, None, {A("10.89.0.2")}) == A("10.89.0.3")


def test_allocate_takes_held_addresses_as_integers_too():
    """The engine passes the held addresses as integers (no address object per
    running container); the answers are the same as for address objects."""
    net, gw = N("10.89.0.0/29"), A("10.89.0.1")
    assert ipam.allocate(net, gw, None, {int(A("10.89.0.2"))}) == A("10.89.0.3")
    assert ipam.allocate(net, gw, None, {int(A("10.89.0.2")), A("10.89.0.3")}) == A("10.89.0.4")
    full = {int(A(f"10.89.0.{i}")) for i in range(2, 7)}
    with pytest.raises(Exhausted) as e:
        ipam.allocate(net, gw, None, full, A("10.89.0.6"))
    assert e.value.message == "No available addresses on this pool"
    with pytest.raises(Conflict):
        ipam.allocate(net, gw, None, full - {int(A("10.89.0.2"))}, A("10.89.0.6"))
    with pytest.raises(Exhausted):
        ipam.allocate(net, gw, None, full)


def test_allocate_inside_range():
    net = N("10.88.0.0/24")
    assert ipam.allocate(net, A("10.88.0.128"), N("10.88.0.128/25"), set()) == A("10.88.0.129")
    # a range wider than the subnet is clipped to it
    assert ipam.allocate(N("10.88.0.0/16"), A("10.88.0.1"), N("10.0.0.0/8"), set()) == A("10.88.0.2")
    # a requested address may lie outside the range but inside the subnet
    assert ipam.allocate(net, A("10.88.0.128"), N("10.88.0.128/25"), set(), A("10.88.0.5")) == A("10.88.0.5")
    # the broadcast address is never handed out, even at the end of the range
    with pytest.raises(Exhausted):
        ipam.allocate(net, A("10.88.0.128"), N("10.88.0.254/31"), {A("10.88.0.254")})


def test_allocate_requested_errors():
    net, gw = N("172.20.0.0/16"), A("172.20.16.1")
    with pytest.raises(InvalidArgument) as e:
        ipam.allocate(net, gw, None, set(), A("172.19.10.10"))
    assert e.value.message == ("Invalid address 172.19.10.10: It does not belong to any "
                               "of this network's subnets")
    with pytest.raises(InvalidArgument) as e:
        ipam.allocate(N("172.19.0.0/16"), A("172.19.0.1"), None, set(), A("172.18.0.50"), user_subnet=False)
    assert e.value.message == ("user specified IP address is supported only when connecting "
                               "to networks with user configured subnets")
    for ip in ("172.20.16.4", "172.20.0.0", "172.20.255.255", "172.20.16.1"):
        with pytest.raises(Conflict) as e:
            ipam.allocate(net, gw, None, {A("172.20.16.4")}, A(ip))
        assert e.value.message == "Address already in use"


def test_allocate_exhausted():
    net = N("10.88.0.0/30")
    with pytest.raises(Exhausted) as e:
        ipam.allocate(net, A("10.88.0.1"), None, {A("10.88.0.2")}, network="ck_x (4ec845ad86)")
    assert e.value.message == ("no available IPv4 addresses on this network's address pools: "
                               "ck_x (4ec845ad86)")
    with pytest.raises(Exhausted):
        ipam.allocate(N("10.88.0.0/32"), None, None, set())


def test_allocate_requested_in_a_full_pool():
    """Docker looks at the pool before the address: a --ip into a full pool gets
    the pool's message, into a pool with room but its address held, 'in use'."""
    net, gw = N("10.88.0.0/29"), A("10.88.0.1")
    full = {A(f"10.88.0.{i}") for i in range(2, 7)}
    with pytest.raises(Exhausted) as e:
        ipam.allocate(net, gw, None, full, A("10.88.0.6"))
    assert e.value.message == "No available addresses on this pool"
    with pytest.raises(Conflict) as e:
        ipam.allocate(net, gw, None, full - {A("10.88.0.2")}, A("10.88.0.6"))
    assert e.value.message == "Address already in use"
    assert ipam.allocate(net, gw, None, full - {A("10.88.0.6")}, A("10.88.0.6")) == A("10.88.0.6")


def test_mac_for():
    assert ipam.mac_for(A("172.20.0.1")) == "02:42:ac:14:00:01"
    assert ipam.mac_for("172.17.0.3") == "02:42:ac:11:00:03"
    assert ipam.mac_for("10.255.0.16") == "02:42:0a:ff:00:10"

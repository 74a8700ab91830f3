"""Issue 3 through the in-process Engine: user-defined bridge networks on the real kernel.

create (options, default pools), addresses (IPAM), bad input (nothing changes),
connect/disconnect, stop/start.
"""
import ipaddress
import json
import subprocess

import pytest

from minidocker.network import ipam
from minidocker.errors import Conflict, Exhausted, Forbidden, InvalidArgument, MinidockerError, NotFound

from .enginehelp import body, ex, ip_j, kernel_snapshot, run


def sh(*argv):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    assert r.returncode == 0, f"{argv}: {r.stderr}"
    return r.stdout


@pytest.fixture
def dummy_routes():
    """A dummy link carrying routes the test adds (as another daemon would)."""
    sh("ip", "link", "add", "mdtdummy0", "type", "veth", "peer", "name", "mdtdummy1")
    sh("ip", "link", "set", "mdtdummy0", "up")
    sh("ip", "link", "set", "mdtdummy1", "up")

    def add(cidr):
        sh("ip", "route", "add", cidr, "dev", "mdtdummy0")
    yield add
    sh("ip", "link", "del", "mdtdummy0")


def inet(ifname, netns=None):
    return [(a["local"], a["prefixlen"]) for l in ip_j("addr", "show", ifname, netns=netns)
            for a in l["addr_info"] if a["family"] == "inet"]


def eth_addr(engine, c, ifname="eth0"):
    code, out = ex(engine, c, "ip", "-o", "-4", "addr", "show", ifname)
    assert code == 0, out
    return out.split()[3]


def pool(engine, name):
    return engine.find_network(name).ipam_config["Subnet"]


# ---------------------------------------------------------------- create

def test_create_makes_bridge_with_gateway(engine):
    n = engine.net.create("self_net", subnet="172.20.16.0/16", gateway="172.20.16.1")
    assert len(n.id) == 64 and n.bridge == f"mdbr-{n.id[:10]}"
    assert inet(n.bridge) == [("172.20.16.1", 16)]
    link = ip_j("-d", "link", "show", n.bridge)[0]
    assert link["linkinfo"]["info_kind"] == "bridge" and "UP" in link["flags"]
    routes = ip_j("route", "show", "172.20.0.0/16")
    assert routes and routes[0]["dev"] == n.bridge
    engine.net.remove("self_net")
    assert not ip_j("link", "show", "type", "bridge", "name", n.bridge) if False else True
    assert n.bridge not in {l["ifname"] for l in ip_j("link")}


def test_create_options_honoured(engine):
    n = engine.net.create("opts", options={"com.docker.network.bridge.name": "mdcustom0",
                                           "com.docker.network.driver.mtu": "1400",
                                           "com.docker.network.bridge.enable_icc": "false",
                                           "com.docker.network.bridge.enable_ip_masquerade": "false"})
    assert n.bridge == "mdcustom0"
    assert inet("mdcustom0") == [("172.18.0.1", 16)]
    c = run(engine, name="m1", network="opts")
    assert ip_j("link", "show", "eth0", netns=c.netns)[0]["mtu"] == 1400
    veth = [l for l in ip_j("link", "show", "master", "mdcustom0")]
    assert [v["mtu"] for v in veth] == [1400]
    assert ip_j("link", "show", "mdcustom0")[0]["mtu"] == 1400
    table = sh("nft", "list", "table", "inet", "minidocker")
    assert 'iifname "mdcustom0" oifname "mdcustom0" drop' in table
    assert "172.18.0.0/16 masquerade" not in table
    # a normal network next to it does masquerade and allows icc
    m = engine.net.create("normal")
    table = sh("nft", "list", "table", "inet", "minidocker")
    assert f'iifname "{m.bridge}" oifname "{m.bridge}" accept' in table
    assert "ip saddr 172.19.0.0/16 masquerade" in table
    # inspect shows the options as given
    assert engine.find_network("opts").options["com.docker.network.driver.mtu"] == "1400"


@pytest.mark.parametrize("opt,msg", [
    ({"com.docker.network.bridge.enable_icc": "maybe"},
     'failed to parse com.docker.network.bridge.enable_icc value: maybe '
     '(strconv.ParseBool: parsing "maybe": invalid syntax)'),
    ({"com.docker.network.bridge.enable_ip_masquerade": "x"},
     'failed to parse com.docker.network.bridge.enable_ip_masquerade value: x '
     '(strconv.ParseBool: parsing "x": invalid syntax)'),
    ({"com.docker.network.driver.mtu": "abc"},
     'failed to parse com.docker.network.driver.mtu value: abc '
     '(strconv.Atoi: parsing "abc": invalid syntax)'),
])
def test_bad_options_refused(engine, opt, msg):
    before = kernel_snapshot(engine)
    with pytest.raises(InvalidArgument) as info:
        engine.net.create("badopt", options=opt)
    assert info.value.message == msg
    assert kernel_snapshot(engine) == before


def test_default_pools_fresh_then_round_robin(engine):
    assert pool(engine, "bridge") == "172.17.0.0/16"
    engine.net.create("auto1")
    engine.net.create("auto2")
    assert pool(engine, "auto1") == "172.18.0.0/16"
    assert pool(engine, "auto2") == "172.19.0.0/16"
    assert engine.find_network("auto1").ipam_config == {"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}
    engine.net.remove("auto1")
    engine.net.create("auto3")   # not the just-released 172.18
    assert pool(engine, "auto3") == "172.20.0.0/16"


def test_default_pool_skips_host_route(engine, dummy_routes):
    dummy_routes("172.18.5.0/24")
    dummy_routes("172.19.0.0/16")
    engine.net.create("auto1")
    assert pool(engine, "auto1") == "172.20.0.0/16"
    # a user subnet in a pool skips that pool too
    engine.net.create("user", subnet="172.21.3.0/24")
    engine.net.create("auto2")
    assert pool(engine, "auto2") == "172.22.0.0/16"


def test_default_pools_exhausted(engine, dummy_routes):
    dummy_routes("172.16.0.0/12")
    dummy_routes("192.168.0.0/16")
    before = kernel_snapshot(engine)
    with pytest.raises(Exhausted) as info:
        engine.net.create("nopool")
    assert info.value.message == ("could not find an available, non-overlapping IPv4 address pool "
                                  "among the defaults to assign to the network")
    assert kernel_snapshot(engine) == before


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kw,err,msg", [
    ({"name": "self_net"}, Conflict, "network with name self_net already exists"),
    ({"name": "ov", "subnet": "172.20.0.0/24"}, Conflict, "Pool overlaps with other one on this address space"),
    ({"name": "ov2", "subnet": "172.17.5.0/24"}, Conflict, "Pool overlaps with other one on this address space"),
    ({"name": "badcidr", "subnet": "10.300.0.0/16"}, InvalidArgument,
     "Invalid subnet 10.300.0.0/16 : invalid CIDR address: 10.300.0.0/16"),
    ({"name": "badcidr2", "subnet": "10.30.0.0"}, InvalidArgument,
     "Invalid subnet 10.30.0.0 : invalid CIDR address: 10.30.0.0"),
    ({"name": "badgw", "subnet": "10.88.0.0/16", "gateway": "10.99.0.1"}, InvalidArgument,
     "no matching subnet for gateway 10.99.0.1"),
    ({"name": "badrange", "subnet": "10.50.0.0/16", "ip_range": "10.51.0.0/24"}, InvalidArgument,
     "no matching subnet for range 10.51.0.0/24"),
    ({"name": "rangeonly", "ip_range": "10.77.0.0/24"}, InvalidArgument,
     "every ip-range or gateway must have a corresponding subnet"),
    ({"name": "gwonly", "gateway": "10.77.0.1"}, InvalidArgument,
     "every ip-range or gateway must have a corresponding subnet"),
    ({"name": ""}, InvalidArgument, "invalid name: "),
    ({"name": "x", "driver": "nosuch"}, NotFound, 'plugin "nosuch" not found'),
    ({"name": "host"}, MinidockerError, "operation is not permitted on predefined host network"),
    ({"name": "bridge"}, MinidockerError, "operation is not permitted on predefined bridge network"),
    ({"name": "x", "driver": "null"}, Conflict, 'only one instance of "null" network is allowed'),
    ({"name": "x", "driver": "host"}, Conflict, 'only one instance of "host" network is allowed'),
    ({"name": "x", "options": {"com.docker.network.bridge.name": "minidocker0"}}, Conflict,
     "bridge name minidocker0 is already in use by another network"),
])
def test_bad_create_changes_nothing(engine, kw, err, msg):
    engine.net.create("self_net", subnet="172.20.16.0/16", gateway="172.20.16.1")
    before = kernel_snapshot(engine)
    cursor = engine.store.get("pool_cursor")
    with pytest.raises(err) as info:
        engine.net.create(**kw)
    assert info.value.message == msg
    assert kernel_snapshot(engine) == before
    assert engine.store.get("pool_cursor") == cursor


def test_client_side_errors_are_marked(engine):
    with pytest.raises(InvalidArgument) as info:
        engine.net.create("x", ip_range="10.77.0.0/24")
    assert ipam.is_client_side(info.value)


# ---------------------------------------------------------------- addresses

def test_walkthrough_odd_gateway_case(engine):
    engine.net.create("self_net", subnet="172.20.16.0/16", gateway="172.20.16.1")
    c1 = run(engine, name="centos1", network="self_net")
    c2 = run(engine, name="centos2", network="self_net", IP="172.20.16.4")
    assert eth_addr(engine, c1) == "172.20.0.1/16"
    assert eth_addr(engine, c2) == "172.20.16.4/16"
    code, out = ex(engine, c1, "ip", "route")
    assert out.splitlines()[0].split()[:5] == ["default", "via", "172.20.16.1", "dev", "eth0"]
    code, out = ex(engine, c1, "ip", "link", "show", "eth0")
    assert "link/ether 02:42:ac:14:00:01" in out
    assert ex(engine, c2, "ping", "-c1", "-W2", "172.20.0.1")[0] == 0


def test_lowest_free_skips_gateway_aux_and_stays_in_range(engine):
    engine.net.create("r", subnet="10.60.0.0/24", gateway="10.60.0.1", ip_range="10.60.0.8/29",
                      aux={"a": "10.60.0.8", "b": "10.60.0.10"})
    cs = [run(engine, name=f"r{i}", network="r") for i in range(3)]
    assert [eth_addr(engine, c).split("/")[0] for c in cs] == ["10.60.0.9", "10.60.0.11", "10.60.0.12"]
    # --ip may be outside the range as long as it is in the subnet (Docker)
    s = run(engine, name="rs", network="r", IP="10.60.0.100")
    assert eth_addr(engine, s) == "10.60.0.100/24"
    # the range runs out: 13, 14, 15, then nothing
    for i in range(3):
        run(engine, name=f"x{i}", network="r")
    # as Docker 20.10: create takes no address, start does (and fails, leaving it created)
    late = engine.ctr.create(body({"Image": "busybox", "Cmd": ["true"], "NetworkMode": "r"}))
    before = kernel_snapshot(engine)
    with pytest.raises(Exhausted) as info:
        engine.ctr.start(late.id)
    n = engine.find_network("r")
    assert info.value.message == f"no available IPv4 addresses on this network's address pools: r ({n.id})"
    assert kernel_snapshot(engine) == before
    assert late.status == "created" and next(iter(late.endpoints.values()))["ip"] == ""


def test_gateway_defaults_to_first_address(engine):
    engine.net.create("g", subnet="10.61.0.0/24")
    assert inet(engine.find_network("g").bridge) == [("10.61.0.1", 24)]
    c = run(engine, name="g1", network="g")
    assert eth_addr(engine, c) == "10.61.0.2/24"


@pytest.mark.parametrize("net,ip,err,msg", [
    ("self_net", "172.19.10.10", InvalidArgument,
     "Invalid address 172.19.10.10: It does not belong to any of this network's subnets"),
    ("auto1", "172.18.0.50", InvalidArgument,
     "user specified IP address is supported only when connecting to networks with user configured subnets"),
    ("self_net", "172.20.16.4", Conflict, "Address already in use"),
    ("self_net", "172.20.16.1", Conflict, "Address already in use"),
    ("bridge", "172.17.0.9", InvalidArgument,
     "user specified IP address is supported on user defined networks only"),
])
def test_static_ip_errors_change_nothing(engine, net, ip, err, msg):
    engine.net.create("self_net", subnet="172.20.16.0/16", gateway="172.20.16.1")
    engine.net.create("auto1")
    run(engine, name="centos2", network="self_net", IP="172.20.16.4")
    # Docker checks a --ip at start, not at create: the container stays, created
    c = engine.ctr.create(body({"Image": "busybox", "Cmd": ["true"], "NetworkMode": net, "IP": ip}))
    before = kernel_snapshot(engine)
    with pytest.raises(err) as info:
        engine.ctr.start(c.id)
    assert info.value.message == msg
    assert kernel_snapshot(engine) == before
    assert c.status == "created" and all(not ep.ip for ep in c.eps())


def test_addresses_released_on_rm_and_disconnect(engine):
    engine.net.create("rel", subnet="10.62.0.0/24")
    a = run(engine, name="aa", network="rel")
    b = run(engine, name="bb", network="rel")
    assert eth_addr(engine, a) == "10.62.0.2/24" and eth_addr(engine, b) == "10.62.0.3/24"
    engine.ctr.remove("aa", force=True)
    c = run(engine, name="cc", network="rel")
    assert eth_addr(engine, c) == "10.62.0.2/24"
    engine.net.disconnect("rel", "cc")
    d = run(engine, name="dd", network="rel")
    assert eth_addr(engine, d) == "10.62.0.2/24"
    # a static address comes back too
    run(engine, name="ss", network="rel", IP="10.62.0.50")
    engine.ctr.remove("ss", force=True)
    s2 = run(engine, name="s2", network="rel", IP="10.62.0.50")
    assert eth_addr(engine, s2) == "10.62.0.50/24"


# ---------------------------------------------------------------- connect / disconnect

def test_connect_disconnect_interfaces_and_default_route(engine):
    engine.net.create("n1", subnet="10.63.0.0/24")
    engine.net.create("n2", subnet="10.64.0.0/24")
    c = run(engine, name="multi")
    engine.net.connect("n1", "multi")
    engine.net.connect("n2", "multi", ip="10.64.0.77")
    assert eth_addr(engine, c, "eth0") == "172.17.0.2/16"
    assert eth_addr(engine, c, "eth1") == "10.63.0.2/24"
    assert eth_addr(engine, c, "eth2") == "10.64.0.77/24"
    routes = ip_j("route", netns=c.netns)
    assert [(r["gateway"], r["dev"]) for r in routes if r["dst"] == "default"] == [("172.17.0.1", "eth0")]
    # the MAC follows the address
    assert ip_j("link", "show", "eth2", netns=c.netns)[0]["address"] == "02:42:0a:40:00:4d"
    # reachability on the new network
    p = run(engine, name="peer", network="n1")
    assert ex(engine, p, "ping", "-c1", "-W2", "10.63.0.2")[0] == 0
    engine.net.disconnect("n1", "multi")
    assert "eth1" not in {l["ifname"] for l in ip_j("link", netns=c.netns)}
    assert ex(engine, p, "ping", "-c1", "-W1", "10.63.0.2")[0] != 0
    # the next connect reuses the lowest free name
    engine.net.connect("n1", "multi")
    assert eth_addr(engine, c, "eth1") == "10.63.0.2/24"
    assert [r["dev"] for r in ip_j("route", netns=c.netns) if r["dst"] == "default"] == ["eth0"]
    # the network's host-side veth count follows
    assert len(ip_j("link", "show", "master", engine.find_network("n1").bridge)) == 2
    engine.net.disconnect("n2", "multi")
    assert len(ip_j("link", "show", "master", engine.find_network("n2").bridge)) == 0


def test_connect_errors_change_nothing(engine):
    engine.net.create("self_net", subnet="172.20.16.0/16")
    c = run(engine, name="centos3")
    engine.net.connect("self_net", "centos3")
    run(engine, name="hosty", network="host")
    run(engine, name="base")
    run(engine, name="joined", network="container:base")
    run(engine, name="nonet", network="none")
    cases = [
        (("self_net", "centos3"), Forbidden, "endpoint with name centos3 already exists in network self_net"),
        # Docker 20.10 (measured): a host container's network is not private, so "sharing"
        (("self_net", "hosty"), InvalidArgument,
         "container sharing network namespace with another container or host cannot be connected "
         "to any other network"),
        (("host", "centos3"), InvalidArgument,
         "container cannot be disconnected from host network or connected to host network"),
        (("self_net", "joined"), InvalidArgument,
         "container sharing network namespace with another container or host cannot be connected "
         "to any other network"),
        (("self_net", "nonet"), InvalidArgument,
         "container cannot be connected to multiple networks with one of the networks in private (none) mode"),
        (("nosuch", "centos3"), NotFound, "network nosuch not found"),
        (("self_net", "nosuch"), NotFound, "No such container: nosuch"),
    ]
    before = kernel_snapshot(engine)
    for args, err, msg in cases:
        with pytest.raises(err) as info:
            engine.net.connect(*args)
        assert info.value.message == msg, args
    with pytest.raises(MinidockerError):
        engine.net.connect("self_net", "centos3", ip="10.0.0.1")
    assert kernel_snapshot(engine) == before
    assert c.id


def test_disconnect_errors(engine):
    engine.net.create("n1", subnet="10.63.0.0/24")
    c = run(engine, name="solo")
    with pytest.raises(MinidockerError) as info:
        engine.net.disconnect("n1", "solo")
    assert info.value.message == f"container {c.id} is not connected to network n1"
    with pytest.raises(NotFound):
        engine.net.disconnect("n1", "nosuch")
    with pytest.raises(NotFound, match="endpoint nosuch not found"):  # as Docker 20.10, even with -f
        engine.net.disconnect("n1", "nosuch", force=True)
    with pytest.raises(NotFound):
        engine.net.disconnect("nosuch", "solo")


def test_stopped_container_connect_then_start(engine):
    engine.net.create("n1", subnet="10.63.0.0/24")
    c = engine.ctr.create(body({"Name": "later", "Image": "busybox", "Cmd": ["sleep", "600"],
                           "NetworkMode": "n1"}))
    engine.net.connect("bridge", "later")
    engine.ctr.start("later")
    assert eth_addr(engine, c, "eth0") == "10.63.0.2/24"
    assert eth_addr(engine, c, "eth1") == "172.17.0.2/16"
    assert [r["dev"] for r in ip_j("route", netns=c.netns) if r["dst"] == "default"] == ["eth0"]


def test_stop_releases_addresses_start_takes_lowest_free(engine):
    """Docker 20.10: a stopped container holds no address; at start it gets the
    lowest free one again, and asks for its --ip again."""
    engine.net.create("n1", subnet="10.63.0.0/24")
    engine.net.create("n2", subnet="10.64.0.0/24")
    c = run(engine, name="keep", network="n1")
    engine.net.connect("n2", "keep", ip="10.64.0.9")
    engine.net.connect("bridge", "keep")
    before = {i: eth_addr(engine, c, i) for i in ("eth0", "eth1", "eth2")}
    assert before == {"eth0": "10.63.0.2/24", "eth1": "10.64.0.9/24", "eth2": "172.17.0.2/16"}
    engine.ctr.stop("keep", timeout=0)
    assert c.netns == "" and not ip_j("link", "show", "master", engine.find_network("n1").bridge)
    assert [ep.ip for ep in c.eps()] == ["", "", ""]
    assert not engine.dns_table.lookup([engine.find_network("n1").id], "keep")  # nor a name
    other = run(engine, name="other", network="n1")  # takes keep's old address
    assert eth_addr(engine, other) == "10.63.0.2/24"
    engine.ctr.start("keep")
    after = {i: eth_addr(engine, c, i) for i in ("eth0", "eth1", "eth2")}
    assert after == {"eth0": "10.63.0.3/24", "eth1": "10.64.0.9/24", "eth2": "172.17.0.2/16"}
    assert [r["gateway"] for r in ip_j("route", netns=c.netns) if r["dst"] == "default"] == ["10.63.0.1"]
    assert ex(engine, other, "ping", "-c1", "-W2", "10.63.0.3")[0] == 0
    # its --ip taken meanwhile: start fails with Docker's words and holds nothing
    engine.ctr.stop("keep", timeout=0)
    engine.net.connect("n2", "other", ip="10.64.0.9")
    snap = kernel_snapshot(engine)
    with pytest.raises(Conflict) as info:
        engine.ctr.start("keep")
    assert info.value.message == "Address already in use"
    assert kernel_snapshot(engine) == snap and [ep.ip for ep in c.eps()] == ["", "", ""]


def test_full_pool_after_stop_as_docker(engine):
    """A /29 holds five: stopped ones give theirs back; a --ip into a full pool
    gets Docker's pool message."""
    engine.net.create("p29", subnet="10.66.0.0/29")
    firsts = [run(engine, name=f"f{i}", network="p29") for i in range(4)]
    fixed = run(engine, name="fixed", network="p29", IP="10.66.0.6")
    for c in firsts + [fixed]:
        engine.ctr.stop(c.id, timeout=0)
    seconds = [run(engine, name=f"s{i}", network="p29") for i in range(5)]
    assert [eth_addr(engine, c) for c in seconds] == [f"10.66.0.{i}/29" for i in range(2, 7)]
    with pytest.raises(Exhausted) as info:
        engine.ctr.start("fixed")
    assert info.value.message == "No available addresses on this pool"
    n = engine.find_network("p29")
    with pytest.raises(Exhausted) as info:
        engine.ctr.start("f0")
    assert info.value.message == f"no available IPv4 addresses on this network's address pools: p29 ({n.id})"
    engine.ctr.remove("s4", force=True)
    engine.ctr.start("f0")
    assert eth_addr(engine, firsts[0]) == "10.66.0.6/29"


# ---------------------------------------------------------------- rm / prune

def test_rm_refuses_active_endpoints_and_builtins(engine):
    n = engine.net.create("busy", subnet="10.65.0.0/24")
    run(engine, name="user", network="busy")
    before = kernel_snapshot(engine)
    with pytest.raises(MinidockerError) as info:
        engine.net.remove("busy")
    assert info.value.message == f"error while removing network: network busy id {n.id} has active endpoints"
    for b in ("bridge", "host", "none"):
        with pytest.raises(MinidockerError) as info:
            engine.net.remove(b)
        assert info.value.message == f"{b} is a pre-defined network and cannot be removed"
    with pytest.raises(NotFound) as info:
        engine.net.remove("nosuch")
    assert info.value.message == "network nosuch not found"
    assert kernel_snapshot(engine) == before
    # a stopped container's endpoint does not count (Docker 20.10): it keeps the
    # network in its settings, and its start names the network that is gone
    engine.ctr.stop("user", timeout=0)
    never = engine.ctr.create(body({"Name": "never", "Image": "busybox", "Cmd": ["true"], "NetworkMode": "busy"}))
    engine.net.remove("busy")
    nets = engine.inspect_container(engine.find_container("user"))["NetworkSettings"]["Networks"]
    assert list(nets) == ["busy"] and (nets["busy"]["NetworkID"], nets["busy"]["IPAddress"]) == (n.id, "")
    nets = engine.inspect_container(never)["NetworkSettings"]["Networks"]
    assert list(nets) == ["busy"] and (nets["busy"]["NetworkID"], nets["busy"]["Aliases"]) == ("", None)
    with pytest.raises(NotFound) as info:
        engine.ctr.start("user")
    assert info.value.message == f"network {n.id} not found"
    with pytest.raises(NotFound) as info:
        engine.ctr.start("never")
    assert info.value.message == "network busy not found"
    assert engine.find_container("user").error == f"network {n.id} not found"
    engine.net.disconnect("busy", "user")  # Docker lets it leave the network that is gone
    assert engine.inspect_container(engine.find_container("user"))["NetworkSettings"]["Networks"] == {}
    engine.ctr.remove("user")


def test_remove_leaves_nothing(engine):
    before = kernel_snapshot(engine)
    n = engine.net.create("tmp", subnet="10.66.0.0/24", internal=True,
                          options={"com.docker.network.bridge.enable_icc": "false"})
    c = run(engine, name="tt", network="tmp")
    engine.net.connect("bridge", "tt")
    engine.ctr.remove("tt", force=True)
    engine.net.remove("tmp")
    assert kernel_snapshot(engine) == before
    ruleset = sh("nft", "list", "ruleset")
    assert n.bridge not in ruleset and n.id[:12] not in ruleset and "10.66.0.0" not in ruleset
    assert c.id


def test_prune_removes_only_unused(engine):
    engine.net.create("used", subnet="10.67.0.0/24")
    engine.net.create("idle1")
    engine.net.create("idle2")
    run(engine, name="uu", network="used")
    assert sorted(engine.net.prune()) == ["idle1", "idle2"]
    assert sorted(n.name for n in engine.networks.values()) == ["bridge", "host", "none", "used"]
    assert engine.net.prune() == []

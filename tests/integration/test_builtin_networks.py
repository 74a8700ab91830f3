"""Issue 2: none, host, the default bridge, joined containers — on the real kernel."""
import os

import pytest

from minidocker.errors import Conflict, Forbidden, InvalidArgument, NotFound

from minidocker.engine import views

from .enginehelp import body, drop_created, ex, ip_j, kernel_snapshot, run


def test_builtin_networks_exist(engine):
    names = {n.name: n.driver for n in engine.networks.values()}
    assert names == {"bridge": "bridge", "host": "host", "none": "null"}
    br = ip_j("addr", "show", "minidocker0")[0]
    assert [(a["local"], a["prefixlen"]) for a in br["addr_info"] if a["family"] == "inet"] == [("172.17.0.1", 16)]


def test_none_has_only_lo(engine):
    c = run(engine, network="none")
    code, out = ex(engine, c, "ip", "-o", "link")
    assert code == 0
    assert [l.split(":")[1].strip() for l in out.splitlines()] == ["lo"]
    code, out = ex(engine, c, "ip", "-o", "addr")
    assert "127.0.0.1/8" in out and "eth0" not in out


def test_none_container_leaves_none_joins_a_network_and_comes_back(engine):
    """As Docker 20.10: `network disconnect none` is accepted (no networks left, the
    mode stays none); the container may then join a bridge network (an eth0 in its
    own namespace), not none beside it; back on none alone, shown as connect shows it."""
    engine.net.create("nonenet", subnet="10.98.0.0/24")
    c = run(engine, network="none")
    engine.net.disconnect("none", c.id)
    view = engine.inspect_container(c)
    assert view["NetworkSettings"]["Networks"] == {} and view["HostConfig"]["NetworkMode"] == "none"
    none = next(n for n in engine.networks.values() if n.name == "none")
    assert c.id not in views.network_inspect(none, list(engine.containers.values()))["Containers"]
    with pytest.raises(Exception, match=f"container {c.id} is not connected to network none"):
        engine.net.disconnect("none", c.id)
    engine.net.connect("nonenet", c.id)
    with pytest.raises(InvalidArgument, match="one of the networks in private \\(none\\) mode"):
        engine.net.connect("none", c.id)
    code, out = ex(engine, c, "ip", "-o", "-4", "addr", "show", "eth0")
    assert code == 0 and "10.98.0.2/24" in out
    engine.net.disconnect("nonenet", c.id)
    engine.net.connect("none", c.id)
    got = engine.inspect_container(c)["NetworkSettings"]["Networks"]
    assert list(got) == ["none"] and got["none"]["IPAMConfig"] == {} and got["none"]["Aliases"] == []
    with pytest.raises(Forbidden, match="endpoint with name .* already exists in network none"):
        engine.net.connect("none", c.id)
    code, out = ex(engine, c, "ip", "-o", "link")
    assert [l.split(":")[1].strip() for l in out.splitlines()] == ["lo"]


def test_host_sees_host_links(engine):
    c = run(engine, network="host")
    code, out = ex(engine, c, "ip", "-o", "link")
    assert code == 0
    assert "minidocker0" in out
    host = {l["ifname"] for l in ip_j("link")}
    seen = {l.split(":")[1].strip().split("@")[0] for l in out.splitlines()}
    assert host <= seen | {l for l in host if l.startswith("mdv")}


def test_default_bridge_addresses_mac_route(engine):
    a = run(engine, name="aa")
    b = run(engine, name="bb")
    code, out = ex(engine, a, "ip", "-o", "-4", "addr", "show", "eth0")
    assert "inet 172.17.0.2/16" in out
    code, out = ex(engine, b, "ip", "link", "show", "eth0")
    assert "link/ether 02:42:ac:11:00:03" in out
    code, out = ex(engine, a, "ip", "route")
    assert out.splitlines()[0].split()[:3] == ["default", "via", "172.17.0.1"]
    code, out = ex(engine, a, "ip", "-o", "link", "show", "lo")
    assert "UP" in out
    # the host ends are on the bridge
    ports = {l["ifname"] for l in ip_j("link", "show", "master", "minidocker0")}
    assert len(ports) == 2 and all(p.startswith("mdv") and len(p) == 10 for p in ports)
    assert ex(engine, a, "ping", "-c1", "-W2", "172.17.0.3")[0] == 0
    assert ex(engine, b, "ping", "-c1", "-W2", "172.17.0.1")[0] == 0
    # hostname = short id; /etc/hosts maps the address to it
    assert ex(engine, a, "hostname")[1].strip() == a.id[:12]
    assert f"172.17.0.2\t{a.id[:12]}" in ex(engine, a, "cat", "/etc/hosts")[1]


def test_rm_f_leaves_nothing(engine):
    before = kernel_snapshot(engine)
    c = run(engine, name="gone")
    engine.ctr.remove(c.id, force=True)
    assert kernel_snapshot(engine) == before


def test_joined_container_shares_stack(engine):
    a = run(engine, name="centos5")
    j = run(engine, name="centos6", network="container:centos5")
    la = ex(engine, a, "ip", "-o", "link", "show", "eth0")[1]
    lj = ex(engine, j, "ip", "-o", "link", "show", "eth0")[1]
    assert la == lj and "02:42:ac:11:00:02" in la
    assert ex(engine, j, "hostname")[1] == ex(engine, a, "hostname")[1]
    assert j.endpoints == {}


@pytest.mark.parametrize("cfg,err,msg", [
    ({"NetworkMode": "container:nosuch"}, NotFound, "No such container: nosuch"),
    ({"NetworkMode": "container:centos5", "Hostname": "foo"}, InvalidArgument,
     "conflicting options: hostname and the network mode"),
    ({"NetworkMode": "container:centos5", "Ports": [{"proto": "tcp", "host_ip": "", "host_port": 8080,
                                                      "container_port": 80}]},
     InvalidArgument, "conflicting options: port publishing and the container type network mode"),
    ({"NetworkMode": "container:centos5", "Dns": ["1.2.3.4"]}, InvalidArgument,
     "conflicting options: dns and the network mode"),
    ({"NetworkMode": "container:centos5", "ExtraHosts": ["a:1.2.3.4"]}, InvalidArgument,
     "conflicting options: custom host-to-IP mapping and the network mode"),
    ({"NetworkMode": "container:centos5", "MacAddress": "02:42:00:00:00:01"}, InvalidArgument,
     "conflicting options: mac-address and the network mode"),
    ({"NetworkMode": "container:centos5", "Expose": ["80"]}, InvalidArgument,
     "conflicting options: port exposing and the container type network mode"),
    ({"NetworkMode": "container:stopped"}, Conflict, "cannot join network of a non running container"),
])
def test_joined_errors_change_nothing(engine, cfg, err, msg):
    run(engine, name="centos5")
    s = engine.ctr.create(body({"Name": "stopped", "Image": "busybox", "Cmd": ["true"]}))
    before = kernel_snapshot(engine)
    known = set(engine.containers)
    with pytest.raises(err) as info:  # conflicts from create; a missing or stopped container from start, as Docker
        c = engine.ctr.create(body(dict({"Image": "busybox", "Cmd": ["true"]}, **cfg)))
        engine.ctr.start(c.id)
    assert msg in info.value.message
    drop_created(engine, known)
    assert kernel_snapshot(engine) == before
    assert s.status == "created"


def test_etc_files_come_with_the_first_start_in_every_mode(engine):
    """As Docker 20.10: create writes no /etc files and inspect shows no paths;
    the first start writes them (host mode: the host's hosts and hostname) and
    inspect shows them, a joined container's being those of the one it joined."""
    from .enginehelp import docker_body
    made = {}
    for name, network in (("etcb", "default"), ("etch", "host")):
        c = made[name] = engine.ctr.create(docker_body(Image="busybox", Cmd=["sleep", "600"], NetworkMode=network),
                                           name=name)
        bundle = engine.store.bundle(c.id)
        assert not any(os.path.exists(os.path.join(bundle, f)) for f in ("hosts", "hostname", "resolv.conf"))
        assert engine.inspect_container(c)["HostsPath"] == ""
        engine.ctr.start(c.id)
        view = engine.inspect_container(c)
        assert view["HostsPath"] == os.path.join(bundle, "hosts") and os.path.exists(view["HostsPath"])
        assert os.path.exists(view["HostnamePath"]) and os.path.exists(view["ResolvConfPath"])
    assert ex(engine, made["etch"], "cat", "/etc/hostname")[1].strip() == os.uname().nodename
    j = run(engine, name="etcj", network="container:etcb")
    assert engine.inspect_container(j)["HostsPath"] == engine.inspect_container(made["etcb"])["HostsPath"]
    for c in (j, made["etcb"], made["etch"]):
        engine.ctr.remove(c.id, force=True)

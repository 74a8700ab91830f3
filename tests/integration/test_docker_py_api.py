"""docker-py 7 against minidockerd: networks with IPAM configs and aliases checked
against the kernel, low-level APIClient calls, events. Containers are made with
minidocker's own CLI (the container endpoints are another step's)."""
import json
import os
import subprocess
import time

import pytest

from .enginehelp import ip_j
from .dockerhelp import dockerpy  # noqa: F401  (fixture)


def links():
    return {l["ifname"] for l in ip_j("link")}


def test_low_level_calls(dockerpy, cli):
    api = dockerpy.api
    assert api.ping() is True
    v = api.version()
    assert (v["ApiVersion"], v["MinAPIVersion"], v["Os"], v["KernelVersion"]) == (
        "1.41", "1.12", "linux", os.uname().release)
    assert api.api_version == "1.41"  # negotiated from the unversioned GET /version
    info = api.info()
    assert info["Swarm"]["LocalNodeState"] == "inactive" and info["Name"] == os.uname().nodename
    assert dockerpy.info()["ID"] == info["ID"]
    images = api.images()
    assert ["busybox:latest"] in [i["RepoTags"] for i in images]
    assert api.inspect_image("busybox")["Config"]["Cmd"] == ["sh"]
    assert dockerpy.images.get("busybox").tags == ["busybox:latest"]
    from docker.errors import ImageNotFound, NotFound
    with pytest.raises(ImageNotFound):
        dockerpy.images.get("nosuch")
    with pytest.raises(NotFound, match="pull access denied for nosuchimage"):
        dockerpy.images.pull("nosuchimage", tag="latest")


def test_networks_against_the_kernel(dockerpy, cli):
    from docker.types import IPAMConfig, IPAMPool
    from docker.errors import APIError, NotFound
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet="172.30.0.0/16", iprange="172.30.5.0/24",
                                             gateway="172.30.0.1")])
    net = dockerpy.networks.create("pynet", driver="bridge", ipam=ipam, labels={"com.example.x": "1"},
                                   check_duplicate=True)
    attrs = dockerpy.networks.get("pynet").attrs
    assert attrs["IPAM"] == {"Driver": "default", "Options": None, "Config": [
        {"Subnet": "172.30.0.0/16", "IPRange": "172.30.5.0/24", "Gateway": "172.30.0.1"}]}
    assert attrs["Labels"] == {"com.example.x": "1"} and attrs["Id"] == net.id
    bridge = f"mdbr-{net.id[:10]}"
    addr = ip_j("-4", "addr", "show", "dev", bridge)[0]["addr_info"]
    assert [(a["local"], a["prefixlen"]) for a in addr] == [("172.30.0.1", 16)]
    net2 = dockerpy.networks.create("pynet2", internal=True, attachable=True)
    assert net2.attrs["Internal"] is True and net2.attrs["Attachable"] is True
    assert sorted(n.name for n in dockerpy.networks.list(names=["pynet"])) == ["pynet", "pynet2"]
    assert [n.name for n in dockerpy.networks.list(filters={"label": "com.example.x=1"})] == ["pynet"]
    assert {n.name for n in dockerpy.networks.list(greedy=True)} >= {"bridge", "host", "none", "pynet"}
    with pytest.raises(APIError) as info:
        dockerpy.networks.create("pynet", check_duplicate=True)
    assert info.value.response.status_code == 409

    cli.ok("run", "-d", "--name", "pyc1", "--network", "pynet", "busybox", "sleep", "600")
    cid = cli.ok("inspect", "-f", "{{.Id}}", "pyc1").strip()
    ns = cli.ok("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", "pyc1").strip()
    first = ip_j("-4", "addr", "show", "dev", "eth0", netns=ns)[0]["addr_info"][0]["local"]
    assert first == "172.30.5.0"  # the range's first address, as Docker
    net2.connect("pyc1", aliases=["db", "database"], ipv4_address=None)
    got = dockerpy.networks.get("pynet2").attrs["Containers"]
    assert list(got) == [cid]
    eth1 = ip_j("-4", "addr", "show", "dev", "eth1", netns=ns)[0]["addr_info"][0]
    assert got[cid]["IPv4Address"] == f"{eth1['local']}/{eth1['prefixlen']}"
    settings = dockerpy.api.inspect_container(cid)["NetworkSettings"]["Networks"]["pynet2"]
    assert settings["Aliases"] == ["db", "database", cid[:12]]
    with pytest.raises(APIError) as info:
        net2.connect("pyc1")
    assert info.value.response.status_code == 403
    assert [c.name for c in dockerpy.networks.get("pynet2").containers] == ["pyc1"]
    net2.disconnect("pyc1", force=True)
    assert "eth1" not in {l["ifname"] for l in ip_j("link", netns=ns)}
    with pytest.raises(APIError) as info:
        net2.disconnect("pyc1")
    assert info.value.response.status_code == 500
    with pytest.raises(APIError) as info:
        net.remove()
    assert info.value.response.status_code == 403

    # a static address given by the client
    cli.ok("run", "-d", "--name", "pyc2", "busybox", "sleep", "600")
    net.connect("pyc2", ipv4_address="172.30.0.50", aliases=["two"])
    ns2 = cli.ok("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", "pyc2").strip()
    assert ip_j("-4", "addr", "show", "dev", "eth1", netns=ns2)[0]["addr_info"][0]["local"] == "172.30.0.50"
    assert cli("exec", "pyc1", "ping", "-c1", "-W2", "two").returncode == 0

    assert dockerpy.networks.prune() == {"NetworksDeleted": ["pynet2"]}
    assert f"mdbr-{net2.id[:10]}" not in links()
    with pytest.raises(NotFound):
        dockerpy.networks.get("pynet2")
    cli.ok("rm", "-f", "pyc1", "pyc2")
    net.remove()
    assert bridge not in links()
    assert dockerpy.networks.prune(filters={"label": "nothing"}) == {"NetworksDeleted": None}


def test_network_events_stream(dockerpy, cli):
    since = time.time()
    stream = dockerpy.events(decode=True, filters={"type": "network"})
    try:
        net = dockerpy.networks.create("evnet")
        ev = next(stream)
        assert (ev["Type"], ev["Action"], ev["Actor"]["ID"]) == ("network", "create", net.id)
        assert ev["Actor"]["Attributes"] == {"name": "evnet", "type": "bridge"}
        net.remove()
        ev = next(stream)
        assert (ev["Action"], ev["Actor"]["Attributes"]["name"]) == ("destroy", "evnet")
    finally:
        stream.close()
    past = list(dockerpy.events(since=since, until=time.time() + 0.5, decode=True))
    assert [e["Action"] for e in past if e["Type"] == "network"] == ["create", "destroy"]
    assert json.loads(json.dumps(past))  # plain JSON objects


COMPOSE_NETWORKS = """
import sys
import docker
from compose.network import Network
client = docker.APIClient(base_url=sys.argv[1], version="auto")
nets = [Network(client, "proj", "front", driver="bridge", labels={"team": "a"},
                ipam={"driver": "default", "config": [{"subnet": "172.28.0.0/24"}]}),
        Network(client, "proj", "back", internal=True, driver_opts={"com.docker.network.driver.mtu": "1400"})]
for n in nets:
    n.ensure()  # creates
for n in nets:
    n.ensure()  # inspects and compares with the file: raises if it "needs to be recreated"
print(sorted(n["Name"] for n in client.networks(filters={"label": ["com.docker.compose.project=proj"]})))
for n in nets:
    n.remove()
"""


def test_compose_finds_its_networks_as_it_made_them(cli):
    """docker-compose's own network code (Debian's compose 1.29 with its docker-py 5):
    create, then a second `up` comparing what the daemon shows with the file."""
    if not os.path.exists("/usr/lib/python3/dist-packages/compose/network.py"):
        pytest.skip("docker-compose is not installed (scripts/setup installs it)")
    sock = os.path.join(cli.run_dir, "minidocker.sock")
    p = subprocess.run(["/usr/bin/python3", "-c", COMPOSE_NETWORKS, f"unix://{sock}"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "['proj_back', 'proj_front']\n"
    assert "recreated" not in p.stderr
    assert cli.ok("network", "ls", "-q", "--filter", "type=custom") == ""

"""minidocker beside Docker, emulated in the test's throwaway host namespace:
a `docker0` bridge with Docker's 172.17.0.1/16, iptables-nft's `table ip filter`
with FORWARD policy DROP and the DOCKER-USER chain, and br_netfilter's
bridge-nf-call-iptables=1 (Docker sets all three)."""
import json
import subprocess

import pytest

from minidocker.network import sysctl
from minidocker.engine.core import Engine
from minidocker.firewall import libnft

from .conftest import _fresh_root
from .enginehelp import run
from .test_isolation import probes, reach

DOCKER_EMULATION = """
table ip filter {
    chain FORWARD { type filter hook forward priority 0; policy drop; jump DOCKER-USER; }
    chain DOCKER-USER { return; }
}
"""
BRNF = "net.bridge.bridge-nf-call-iptables"


def sh(*argv):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    assert r.returncode == 0, f"{argv}: {r.stderr}"
    return r.stdout


@pytest.fixture
def docker_host(no_leaks):
    old = sysctl.read(BRNF)
    if old is None:
        pytest.skip("br_netfilter is not loaded")
    sh("ip", "link", "add", "docker0", "type", "bridge")
    sh("ip", "addr", "add", "172.17.0.1/16", "dev", "docker0")
    sh("ip", "link", "set", "docker0", "up")
    libnft.run(DOCKER_EMULATION)
    sysctl.write(BRNF, "1")
    try:
        yield
    finally:
        sysctl.write(BRNF, old)
        libnft.run("delete table ip filter\n")
        sh("ip", "link", "del", "docker0")


@pytest.fixture
def engine_beside_docker(docker_host, tmp_path, image_root):
    """An Engine started after Docker (so it sees docker0's route at its first start)."""
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e = Engine(root, run_dir, host_resolv_conf=resolv, dns_timeout=1.0)
    yield e
    e.close(teardown=True)


def docker_user_rules():
    return [o["rule"] for o in libnft.list_json("chain ip filter DOCKER-USER") or [] if "rule" in o]


def test_pools_skip_docker0(engine_beside_docker):
    e = engine_beside_docker
    assert e.default_bridge().ipam_config["Subnet"] == "172.18.0.0/16"
    n = e.net.create("auto1")
    assert n.ipam_config["Subnet"] == "172.19.0.0/16"
    n2 = e.net.create("auto2")
    assert n2.ipam_config["Subnet"] == "172.20.0.0/16"


def test_same_network_flows_cross_network_blocked(engine_beside_docker):
    e = engine_beside_docker
    e.net.create("n1", subnet="10.95.1.0/24")
    e.net.create("n2", subnet="10.95.2.0/24")
    a1, a2 = run(e, name="a1", network="n1"), run(e, name="a2", network="n1")
    b1 = run(e, name="b1", network="n2")
    d1, d2 = run(e, name="d1"), run(e, name="d2")  # the default bridge too
    assert reach(e, a1, a2) and reach(e, a2, a1)
    assert reach(e, d1, d2)
    assert not reach(e, a1, b1) and not reach(e, b1, a2) and not reach(e, d1, a1)
    everything = {"arp": True, "icmp": True, "tcp": True, "udp": True}
    nothing = {"arp": False, "icmp": False, "tcp": False, "udp": False}
    assert probes([(a1, a2), (a1, b1), (b1, a1), (d2, a2)]) == [everything, nothing, nothing, nothing]
    # Docker's policy untouched; our rules sit in DOCKER-USER, Docker's RETURN stays last
    fwd = [o["chain"] for o in libnft.list_json("chain ip filter FORWARD") if "chain" in o][0]
    assert fwd["policy"] == "drop"
    rules = docker_user_rules()
    ours = [r for r in rules if r.get("comment") == "minidocker"]
    assert ours and rules[-1].get("comment") is None
    bridges = {e.find_network(x).bridge for x in ("n1", "n2", "bridge")}
    assert all(any(b in json.dumps(r) for r in ours) for b in bridges)
    # removing a network removes its accepts in DOCKER-USER too
    for c in ("b1",):
        e.ctr.remove(c, force=True)
    gone = e.find_network("n2").bridge
    e.net.remove("n2")
    assert not any(gone in json.dumps(r) for r in docker_user_rules())
    assert reach(e, a1, a2)


def test_teardown_leaves_docker_chains_as_found(docker_host, tmp_path, image_root):
    before = libnft.run("list table ip filter\n")
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e = Engine(root, run_dir, host_resolv_conf=resolv, dns_timeout=1.0)
    try:
        e.net.create("n1")
        assert [r for r in docker_user_rules() if r.get("comment") == "minidocker"]
    finally:
        e.close(teardown=True)
    assert libnft.run("list table ip filter\n") == before

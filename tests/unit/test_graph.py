import shutil
import xml.etree.ElementTree as ET

import pytest

from minidocker.observe import graph
from minidocker.errors import InvalidArgument

NETWORKS = [
    {"Name": "bridge", "Id": "f538c3d854a3", "Driver": "bridge", "Internal": False,
     "IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
     "Options": {"com.docker.network.bridge.name": "minidocker0"},
     "Containers": {"feac": {"Name": "centos3", "MacAddress": "02:42:ac:11:00:02",
                             "IPv4Address": "172.17.0.2/16"}}},
    {"Name": "self_net", "Id": "c902eb183c62", "Driver": "bridge", "Internal": False,
     "IPAM": {"Config": [{"Subnet": "172.20.16.0/16", "Gateway": "172.20.16.1"}]},
     "Options": {"com.docker.network.bridge.name": "mdbr-c902eb183c"}, "Containers": {}},
    {"Name": "secret", "Id": "aa11", "Driver": "bridge", "Internal": True,
     "IPAM": {"Config": [{"Subnet": "10.9.0.0/24"}]},
     "Options": {"com.docker.network.bridge.name": "mdbr-aa11",
                 "com.docker.network.bridge.enable_icc": "false"}, "Containers": {}},
    {"Name": "host", "Driver": "host", "IPAM": {"Config": []}, "Containers": {}},
    {"Name": "none", "Driver": "null", "IPAM": {"Config": []}, "Containers": {}},
]


def ctr(name, cid, mode, nets=(), running=True):
    return {"Id": cid, "Name": "/" + name, "State": {"Running": running},
            "HostConfig": {"NetworkMode": mode},
            "NetworkSettings": {"Networks": {
                net: {"IPAddress": ip, "IPPrefixLen": 16, "MacAddress": mac,
                      "minidocker.HostVeth": veth, "minidocker.Interface": ifname}
                for net, ip, mac, veth, ifname in nets}}}


CONTAINERS = [
    ctr("centos1", "4a01c4e3d9ad79c7", "self_net",
        [("self_net", "172.20.0.1", "02:42:ac:14:00:01", "mdv1a2b3c4", "eth0")]),
    ctr("centos3", "feacc9757f396b04", "default",
        [("bridge", "172.17.0.2", "02:42:ac:11:00:02", "mdv5d6e7f8", "eth0"),
         ("self_net", "172.20.0.2", "02:42:ac:14:00:02", "mdv0f0f0f0", "eth1")]),
    ctr("web", "b0b0b0b0b0b0", "host"),
    ctr("lonely", "c1c1c1c1c1c1", "none"),
    ctr("sidecar", "d2d2d2d2d2d2", "container:feacc9757f396b04"),
    ctr("sidecar2", "e3e3e3e3e3e3", "container:sidecar", running=False),
]


def test_text_tree():
    out = graph.render(NETWORKS, CONTAINERS, "text")
    lines = out.splitlines()
    assert lines[0] == "host"
    assert "├── bridge minidocker0  network bridge  (172.17.0.0/16 gateway 172.17.0.1)" in lines
    assert ("│   ├── mdv1a2b3c4 <-veth-> centos1:eth0  172.20.0.1/16  02:42:ac:14:00:01" in lines)
    assert any("mdv0f0f0f0 <-veth-> centos3:eth1  172.20.0.2/16" in l for l in lines)
    assert any("centos3:eth0" in l and "[shared with sidecar, sidecar2]" in l for l in lines)
    assert "(10.9.0.0/24 gateway 10.9.0.1, internal, icc off)" in out
    assert "host network stack (shares the host's interfaces)" in out and "── web" in out
    assert "none (loopback only)" in out and "── lonely" in out
    assert "sidecar shares the network namespace of centos3" in out
    assert "sidecar2 shares the network namespace of sidecar (not running)" in out
    assert "  bridge <-/-> self_net" in out and "  self_net <-/-> secret" in out
    assert "secret is internal: no traffic to or from outside" in out and "secret has icc off" in out
    # host/null networks are not bridges
    assert "network host" not in out and "network none" not in out


def test_text_without_minidocker_keys_uses_network_containers():
    out = graph.render(NETWORKS[:1], [], "text")
    assert "veth? <-veth-> centos3:eth0  172.17.0.2/16  02:42:ac:11:00:02" in out


def test_dot_structure():
    out = graph.render(NETWORKS, CONTAINERS, "dot")
    assert out.startswith("graph minidocker {") and out.rstrip().endswith("}")
    assert '"br:self_net" [shape=box' in out and "mdbr-c902eb183c\\n172.20.16.0/16 gateway 172.20.16.1" in out
    assert '"br:bridge" -- "veth:centos3:eth0";' in out
    assert '"veth:centos3:eth1" -- "ctr:centos3" [label="eth1"];' in out
    assert 'subgraph "cluster_ns_centos3"' in out
    assert '"ctr:sidecar" -- "ctr:centos3" [style=dashed label="joined"];' in out
    assert '"host" -- "ctr:web" [style=bold' in out
    assert 'subgraph "cluster_none_lonely"' in out
    assert '"br:bridge" -- "br:self_net" [style=dashed color=red' in out
    assert '"host" -- "br:secret" [style=dotted label="internal"];' in out
    assert out.count("{") == out.count("}")


def test_mermaid_structure():
    out = graph.render(NETWORKS, CONTAINERS, "mermaid")
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert any(l.strip().startswith("subgraph") and "network self_net" in l for l in lines)
    assert sum(l.strip() == "end" for l in lines) == 3
    assert any("shares netns" in l for l in lines)
    assert any("-. isolated .-" in l for l in lines)
    assert any('"mdv5d6e7f8 ⇄ eth0"' in l for l in lines)
    assert "172.20.0.2/16<br/>02:42:ac:14:00:02" in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_svg_is_xml():
    svg = graph.render_svg(graph.render(NETWORKS, CONTAINERS, "dot"))
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "centos3" in texts and "mdbr-c902eb183c" in texts


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_svg_error_is_typed():
    with pytest.raises(graph.MinidockerError):
        graph.render_svg("graph {")


def test_bad_format_and_empty_host():
    with pytest.raises(InvalidArgument):
        graph.render([], [], "png")
    assert graph.render([], [], "text") == "host\n"
    assert graph.render([], [], "dot").startswith("graph minidocker {")

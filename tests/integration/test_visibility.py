"""Issue 5: network check finds violations, --explain replays to the same kernel state, graph."""
import json
import os
import subprocess
import xml.dom.minidom

import pytest

from .enginehelp import ip_j


@pytest.fixture
def walkthrough(cli):
    cli.ok("network", "create", "--subnet", "172.20.16.0/16", "--gateway", "172.20.16.1", "self_net")
    cli.ok("run", "-d", "--name", "centos1", "--network=self_net", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "centos2", "--network=self_net", "--ip=172.20.16.4", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "centos3", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "centos6", "--network=container:centos3", "busybox", "sleep", "600")
    return cli


def test_check_agrees_with_policy(walkthrough):
    p = walkthrough("network", "check", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data  # the probes ran
    text = walkthrough.ok("network", "check")
    assert "no violation" in text
    lines = {l.split()[0]: l.split()[1:] for l in text.splitlines()[2:8] if l.strip()}
    assert lines["centos2"][0] == "AITU" and lines["centos3"][:2] == ["....", "...."]


def test_check_finds_broken_isolation(walkthrough):
    # a foreign accept in our table is repaired by the daemon within milliseconds
    # (test_firewall_repair.py); a veth taken down is not (only `system check` mends
    # links): centos1 no longer reaches centos2, which the policy allows
    pid = json.loads(walkthrough.ok("inspect", "centos2"))[0]["State"]["Pid"]
    peer = subprocess.run(["nsenter", "-t", str(pid), "-n", "ip", "-o", "link", "show", "eth0"],
                          capture_output=True, text=True, check=True).stdout.split("@if")[1].split(":")[0]
    veth = next(l["ifname"] for l in ip_j("link") if str(l["ifindex"]) == peer)
    subprocess.run(["ip", "link", "set", veth, "down"], check=True)
    try:
        p = walkthrough("network", "check")
        assert p.returncode == 1
        assert "!" in p.stdout and "violation" in p.stdout
    finally:
        walkthrough.ok("system", "check")  # sets the veth up again
    assert walkthrough("network", "check").returncode == 0


def test_check_unknown_network(walkthrough):
    p = walkthrough("network", "check", "nosuch")
    assert p.returncode == 1 and "network nosuch not found" in p.stderr


def test_graph_formats(walkthrough, tmp_path):
    text = walkthrough.ok("network", "graph")
    assert "minidocker0" in text and "centos1" in text and "172.20.16.4" in text
    dot = walkthrough.ok("network", "graph", "--format", "dot")
    assert dot.lstrip().startswith(("graph", "digraph"))
    out = tmp_path / "t.svg"
    assert walkthrough.ok("network", "graph", "--format", "svg", "-o", str(out)).strip() == str(out)
    xml.dom.minidom.parse(str(out))
    assert "flowchart" in walkthrough.ok("network", "graph", "--format", "mermaid") or \
        "graph" in walkthrough.ok("network", "graph", "--format", "mermaid")


def _bridge_addrs(addr_json: list) -> list:
    return sorted((a["local"], a["prefixlen"]) for l in addr_json if l["ifname"].startswith("mdbr-")
                  for a in l["addr_info"] if a["family"] == "inet")


def _ns_view(addr_json: list, route_json: list) -> tuple:
    addrs = sorted((l["ifname"], l.get("address"), a["local"], a["prefixlen"], l.get("mtu"))
                   for l in addr_json for a in l.get("addr_info", []) if a["family"] == "inet")
    routes = sorted((r["dst"], r.get("gateway", ""), r.get("dev")) for r in route_json)
    return addrs, routes


def test_explain_replay_reproduces_kernel_state(cli, tmp_path):
    """Replay the commands --explain printed for `network create` + `run -d` on a
    fresh throwaway host and compare links, addresses and routes."""
    env = dict(cli.env, MINIDOCKER_EXPLAIN="1")
    out = ""
    for args in (("network", "create", "--subnet", "10.123.0.0/24", "exnet"),
                 ("run", "-d", "--name", "ex1", "--network", "exnet", "busybox", "sleep", "600")):
        p = subprocess.run(cli.cmd(*args), env=env, capture_output=True, text=True, check=True)
        out += p.stderr
    # each explained command starts with "+ "; a here-document (nft, the container's
    # start script) spans lines. Replay the network steps, not the process start.
    commands: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("+ "):
            commands.append([line[2:]])
        elif commands:
            commands[-1].append(line)
    starts = [c for c in commands if " unshare --mount " in c[0]]
    assert len(starts) == 1 and "mount -t overlay" in "\n".join(starts[0])
    script = "\n".join("\n".join(c) for c in commands if c not in starts)
    assert "type veth" in script and "nft -f -" in script
    nsname = os.path.basename(cli.ok("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", "ex1").strip())
    pin = os.path.join(cli.run_dir, "netns", nsname)
    ours_bridge = _bridge_addrs(ip_j("addr"))
    ours_ns = _ns_view(ip_j("addr", netns=pin), ip_j("route", netns=pin))
    replay = tmp_path / "replay.sh"
    replay.write_text("set -e\nip link set lo up\n" + script + "\n")
    # a brand-new network + mount namespace plays the fresh host
    res = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
                          f"mount -t tmpfs none /run && bash {replay} >/dev/null && ip -j addr && echo '###' && "
                          f"ip -n {nsname} -j addr && echo '###' && ip -n {nsname} -j route && "
                          f"ip netns delete {nsname}"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr + script
    host_addr, ns_addr, ns_route = res.stdout.split("###\n")
    assert _bridge_addrs(json.loads(host_addr)) == ours_bridge
    assert _ns_view(json.loads(ns_addr), json.loads(ns_route)) == ours_ns


def test_check_twenty_containers(engine):
    """20 containers on three networks: every cell agrees with the policy."""
    from minidocker.engine import inspection

    from .enginehelp import run
    engine.net.create("left", subnet="10.71.0.0/24")
    engine.net.create("right", subnet="10.72.0.0/24", options={"com.docker.network.bridge.enable_icc": "false"})
    for i in range(20):
        run(engine, name=f"n{i:02d}", network=("left", "right", "default")[i % 3])
    res = inspection.check(engine, [], timeout=0.3)
    assert res["violations"] == 0, res["text"]
    assert res["text"].count("\n") >= 20


def test_explain_covers_teardown(cli):
    """The exit of a container is handled on another thread; its kernel steps are
    still explained to the `rm -f` (or `stop`) that caused them."""
    cli.ok("run", "-d", "--name", "gone", "busybox", "sleep", "600")
    sandbox = os.path.basename(json.loads(cli.ok("inspect", "gone"))[0]["NetworkSettings"]["SandboxKey"])
    p = subprocess.run(cli.cmd("--explain", "rm", "-f", "gone"), env=cli.env, capture_output=True, text=True,
                       check=True)
    steps = [l for l in p.stderr.splitlines() if l.startswith("+ ")]
    assert steps[0].startswith("+ kill -KILL ")
    assert any(s.startswith("+ ip link del mdv") for s in steps)
    assert f"+ ip netns delete {sandbox}" in steps

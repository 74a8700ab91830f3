"""Addresses at stop, as Docker 20.10 (issue 10, item 4), driven by the real docker
CLI: a stopped container gives its addresses and names back, gets the lowest free
ones at start (its --ip again), and a network used only by stopped containers can
be removed. Every text and shape below was taken from Docker 20.10.24."""
import json

import pytest

from .dockerhelp import Docker


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


def _ip(docker, name: str) -> str:
    return docker.ok("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).strip()


def _state(docker, name: str) -> str:
    return docker.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{json .State.Error}}", name).strip()


def test_a_full_29_after_stop_and_network_rm(docker):
    net_id = docker.ok("network", "create", "--subnet", "10.77.7.0/29", "n29").strip()
    for i in range(1, 5):
        docker.ok("run", "-d", "--name", f"c{i}", "--network", "n29", "busybox", "sleep", "600")
    docker.ok("run", "-d", "--name", "fx", "--network", "n29", "--ip", "10.77.7.6", "busybox", "sleep", "600")
    full = f"no available IPv4 addresses on this network's address pools: n29 ({net_id})"
    p = docker("run", "-d", "--name", "c6", "--network", "n29", "busybox", "sleep", "600")
    assert (p.returncode, p.stderr) == (125, f"docker: Error response from daemon: {full}.\n")
    assert _state(docker, "c6") == f"created 128 {json.dumps(full)}"

    docker.ok("stop", "-t", "0", "c1", "c2", "c3", "c4", "fx")
    stopped = json.loads(docker.ok("inspect", "c1"))[0]["NetworkSettings"]
    ep = stopped["Networks"]["n29"]
    assert (ep["NetworkID"], ep["EndpointID"], ep["IPAddress"], ep["Gateway"], ep["IPPrefixLen"],
            ep["MacAddress"]) == (net_id, "", "", "", 0, "")
    assert ep["Aliases"] == [json.loads(docker.ok("inspect", "c1"))[0]["Id"][:12]]
    assert (stopped["IPAddress"], stopped["Ports"]) == ("", {})
    assert json.loads(docker.ok("network", "inspect", "n29"))[0]["Containers"] == {}

    for i in range(1, 6):  # the stopped ones' addresses are free again
        docker.ok("run", "-d", "--name", f"d{i}", "--network", "n29", "busybox", "sleep", "600")
    assert [_ip(docker, f"d{i}") for i in range(1, 6)] == [f"10.77.7.{i}" for i in range(2, 7)]
    p = docker("start", "fx")  # its --ip into a full pool
    assert (p.returncode, p.stderr) == (
        1, "Error response from daemon: No available addresses on this pool\nError: failed to start containers: fx\n")
    assert _state(docker, "fx") == 'exited 137 "No available addresses on this pool"'
    docker.ok("rm", "-f", "d5")
    docker.ok("run", "-d", "--name", "taker", "--network", "n29", "busybox", "sleep", "600")
    docker.ok("rm", "-f", "d4")
    p = docker("start", "fx")  # the pool has room, its address has not
    assert (p.returncode, p.stderr) == (
        1, "Error response from daemon: Address already in use\nError: failed to start containers: fx\n")
    docker.ok("rm", "-f", "taker")
    assert docker.ok("start", "fx") == "fx\n" and _ip(docker, "fx") == "10.77.7.6"
    docker.ok("stop", "-t", "0", "fx")

    docker.ok("rm", "-f", "d1", "d2", "d3", "c6")
    assert docker.ok("network", "rm", "n29") == "n29\n"  # only stopped containers use it
    assert json.loads(docker.ok("inspect", "c1"))[0]["NetworkSettings"]["Networks"]["n29"]["NetworkID"] == net_id
    p = docker("start", "c1")
    assert (p.returncode, p.stderr) == (
        1, f"Error response from daemon: network {net_id} not found\nError: failed to start containers: c1\n")
    assert _state(docker, "c1") == f'exited 137 "network {net_id} not found"'
    assert docker("network", "disconnect", "n29", "c2").returncode == 0
    assert docker.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}", "c2") == "{}\n"
    assert docker.ok("ps", "-a", "--filter", "name=c", "--format", "{{.Names}} {{.Networks}}") == \
        "c4 n29\nc3 n29\nc2 \nc1 n29\n"
    docker.ok("rm", "-f", "c1", "c2", "c3", "c4", "fx")


def test_created_container_holds_nothing(docker):
    net_id = docker.ok("network", "create", "--subnet", "10.77.8.0/29", "n8").strip()
    docker.ok("create", "--name", "fresh", "--network", "n8", "busybox", "sleep", "600")
    docker.ok("create", "--name", "wants", "--network", "n8", "--ip", "10.77.8.2", "busybox", "sleep", "600")
    nets = json.loads(docker.ok("inspect", "fresh"))[0]["NetworkSettings"]["Networks"]
    assert {k: nets["n8"][k] for k in ("Aliases", "NetworkID", "EndpointID", "IPAddress", "MacAddress")} == \
        {"Aliases": None, "NetworkID": "", "EndpointID": "", "IPAddress": "", "MacAddress": ""}
    assert docker.ok("inspect", "-f", "{{json .NetworkSettings.Networks.n8.IPAMConfig}}", "wants") == \
        '{"IPv4Address":"10.77.8.2"}\n'
    docker.ok("start", "fresh")  # the lowest free: the --ip of "wants" is not held yet
    assert _ip(docker, "fresh") == "10.77.8.2"
    p = docker("start", "wants")
    assert (p.returncode, p.stderr) == (
        1, "Error response from daemon: Address already in use\nError: failed to start containers: wants\n")
    assert _state(docker, "wants") == 'created 128 "Address already in use"'
    docker.ok("rm", "-f", "fresh")
    docker.ok("create", "--name", "never", "--network", "n8", "busybox", "true")
    assert docker.ok("network", "rm", "n8") == "n8\n"
    p = docker("start", "never")
    assert (p.returncode, p.stderr) == (
        1, "Error response from daemon: network n8 not found\nError: failed to start containers: never\n")
    docker.ok("rm", "wants", "never")
    assert net_id

"""The real docker CLI 20.10: network settings Docker applies at start fail at
start, and the CLI prints exactly what it prints against Docker (found by
`scripts/compare-with-docker --client docker`).

A create error is followed by `See 'docker run --help'.` (and a 404 from create
makes the CLI try to pull the image); a start error is not. With --rm the CLI
waits for the removal: the wait's answer must reach it before the start's error,
or it logs `error waiting for container: context canceled`."""
import json

import pytest

from .dockerhelp import Docker, err


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


def test_run_rm_network_errors_are_start_errors(docker):
    docker.ok("network", "create", "--subnet", "172.20.16.0/16", "--gateway", "172.20.16.1", "self_net")
    docker.ok("network", "create", "auto1")
    docker.ok("run", "-d", "--name", "centos2", "--network=self_net", "--ip=172.20.16.4", "busybox", "sleep", "600")
    cases = [
        (["--network=self_net", "--ip=172.19.10.10", "busybox", "true"], 125,
         "Invalid address 172.19.10.10: It does not belong to any of this network's subnets"),
        (["--network=auto1", "--ip=172.18.0.50", "busybox", "true"], 125,
         "user specified IP address is supported only when connecting to networks with user configured subnets"),
        (["--network=self_net", "--ip=172.20.16.4", "busybox", "true"], 125, "Address already in use"),
        (["--network=bridge", "--ip=172.17.0.9", "busybox", "true"], 125,
         "user specified IP address is supported on user defined networks only"),
        (["--network=host", "--ip=1.2.3.4", "busybox", "true"], 125,
         "user specified IP address is supported on user defined networks only"),
        (["--network=nosuch", "busybox", "true"], 125, "network nosuch not found"),
        (["--network=container:nosuch", "busybox", "true"], 125, "No such container: nosuch"),
        (["busybox", "nosuch"], 127, 'failed to create shim task: OCI runtime create failed: runc create failed: '
         'unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown'),
    ]
    for _ in range(2):  # (the order of the wait's and the start's answers must not be luck)
        for args, code, msg in cases:
            p = docker("run", "--rm", *args)
            assert (p.returncode, err(p), p.stdout) == (code, f"docker: Error response from daemon: {msg}.\n", ""), args
    assert docker.ok("ps", "-aq").split() == [json.loads(docker.ok("inspect", "centos2"))[0]["Id"][:12]]
    # checked at create as Docker checks them: with the usage hint
    p = docker("run", "--rm", "--network=self_net", "--ip=1.2.3", "busybox", "true")
    assert (p.returncode, err(p)) == (125, "docker: Error response from daemon: invalid IPv4 address: 1.2.3.\n"
                                           "See 'docker run --help'.\n")
    p = docker("run", "--rm", "--network=host", "--mac-address=02:42:00:00:00:01", "busybox", "true")
    assert (p.returncode, err(p)) == (125, "docker: Error response from daemon: conflicting options: "
                                           "mac-address and the network mode.\nSee 'docker run --help'.\n")
    docker.ok("rm", "-f", "centos2")
    docker.ok("network", "rm", "self_net", "auto1")


def test_create_on_a_network_made_before_start(docker):
    cid = docker.ok("create", "--name", "late", "--network", "later", "busybox", "sleep", "600").strip()
    assert len(cid) == 64
    nets = json.loads(docker.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}", "late"))
    assert nets == {"later": {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": "", "EndpointID": "",
                              "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                              "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "",
                              "DriverOpts": None}}
    assert docker.ok("ps", "-a", "--format", "{{.Names}} {{.Networks}} {{.Status}}") == "late later Created\n"
    p = docker("start", "late")
    assert (p.returncode, err(p)) == (1, "Error response from daemon: network later not found\n"
                                         "Error: failed to start containers: late\n")
    assert docker.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", "late") == \
        "created 128 network later not found\n"
    docker.ok("network", "create", "--subnet", "10.92.0.0/24", "later")
    docker.ok("start", "late")
    assert docker.ok("inspect", "-f", "{{.NetworkSettings.Networks.later.IPAddress}}", "late") == "10.92.0.2\n"
    assert "inet 10.92.0.2/24" in docker.ok("exec", "late", "ip", "-4", "addr", "show", "eth0")
    docker.ok("rm", "-f", "late")
    docker.ok("network", "rm", "later")


def test_join_a_container_that_is_not_running(docker):
    sid = docker.ok("create", "--name", "stopped", "busybox", "true").strip()
    docker.ok("create", "--name", "joiner", "--network", "container:stopped", "busybox", "true")
    p = docker("start", "joiner")
    assert (p.returncode, err(p)) == (1, "Error response from daemon: cannot join network of a non running "
                                         f"container: {sid}\nError: failed to start containers: joiner\n")
    docker.ok("rm", "-f", "joiner", "stopped")

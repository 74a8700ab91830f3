"""Egress (issue 10, item 3): containers on non-internal networks reach an outside
network routed from the host, masqueraded to the host's address; `--internal`
networks reach nothing outside and publish nothing; enable_ip_masquerade=false
turns the masquerade off for one network.

The "internet" is a namespace the test makes: 203.0.113.10 (TEST-NET-3) behind
198.51.100.2, joined to the test's host namespace (198.51.100.1) by a veth pair.
A busybox nc there answers each connection with its own `netstat -tn`, so the
client sees the source address the outside saw."""
import os
import shutil
import subprocess
import time

import pytest

from minidocker.network import namespaces as ns

from .enginehelp import ex, run

NSDIR = "/run/mdtest-egress"
OUTSIDE = f"{NSDIR}/outside"
HOST_SIDE, OUT_SIDE = "mdtest-up", "eth0"
HOST_IP, ROUTER_IP, SERVER_IP = "198.51.100.1", "198.51.100.2", "203.0.113.10"
MASQ_OFF = {"com.docker.network.bridge.enable_ip_masquerade": "false"}


def sh(*argv, check=True, input=None):
    return subprocess.run(argv, capture_output=True, text=True, check=check, input=input)


def out(*argv, check=True, input=None):
    """A command in the outside namespace."""
    return sh("nsenter", f"--net={OUTSIDE}", *argv, check=check, input=input)


@pytest.fixture
def outside(engine):
    """The outside namespace, routed from the host; removed afterwards."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed on the host (scripts/setup installs busybox-static)")
    ns.ensure_private_dir(NSDIR)
    ns.create_netns(OUTSIDE)
    listeners: list = []
    try:
        sh("ip", "link", "add", HOST_SIDE, "type", "veth", "peer", "name", OUT_SIDE, "netns", OUTSIDE)
        sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", HOST_SIDE)
        sh("ip", "link", "set", HOST_SIDE, "up")
        for cmd in (["link", "set", "lo", "up"], ["addr", "add", f"{ROUTER_IP}/24", "dev", OUT_SIDE],
                    ["link", "set", OUT_SIDE, "up"], ["addr", "add", f"{SERVER_IP}/32", "dev", "lo"]):
            out("ip", *cmd)
        sh("ip", "route", "add", "203.0.113.0/24", "via", ROUTER_IP)

        def listen(port: int) -> None:
            """One connection on SERVER_IP:port, answered with the listener's netstat."""
            listeners.append(subprocess.Popen(
                ["nsenter", f"--net={OUTSIDE}", busybox, "nc", "-l", "-p", str(port), "-e",
                 busybox, "netstat", "-tn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for _ in range(50):
                if f":{port} " in out(busybox, "netstat", "-ltn").stdout:
                    return
                time.sleep(0.05)
        yield listen
    finally:
        for p in listeners:
            p.kill()
            p.wait()
        sh("ip", "link", "del", HOST_SIDE, check=False)
        ns.delete_netns(OUTSIDE)
        ns.umount(NSDIR, ns.MNT_DETACH)
        os.rmdir(NSDIR)


def seen_from(engine, c, port: int) -> str | None:
    """Connect from ``c`` to the outside server; the source address it saw."""
    code, out = ex(engine, c, "nc", "-w", "3", SERVER_IP, str(port))
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 6 and cols[3].endswith(f":{port}"):
            return cols[4].replace("::ffff:", "").rsplit(":", 1)[0]
    return None


def test_egress_is_masqueraded_to_the_host_address(engine, outside):
    engine.net.create("egress_net", subnet="10.91.0.0/24")
    user = run(engine, name="user", network="egress_net")
    default = run(engine, name="dflt")
    outside(9001)
    assert seen_from(engine, user, 9001) == HOST_IP
    outside(9002)
    assert seen_from(engine, default, 9002) == HOST_IP
    assert ex(engine, user, "ping", "-c1", "-W2", SERVER_IP)[0] == 0


def test_masquerade_off_shows_the_container_address(engine, outside):
    engine.net.create("plain_net", subnet="10.92.0.0/24", options=MASQ_OFF)
    assert engine.find_network("plain_net").options == MASQ_OFF
    c = run(engine, name="plain", network="plain_net")
    # nothing translates its source: the outside needs a route back (as a real router would)
    out("ip", "route", "add", "10.92.0.0/24", "via", HOST_IP)
    outside(9003)
    assert seen_from(engine, c, 9003) == "10.92.0.2"
    # other networks keep theirs
    engine.net.create("masq_net", subnet="10.93.0.0/24")
    m = run(engine, name="masq", network="masq_net")
    outside(9004)
    assert seen_from(engine, m, 9004) == HOST_IP
    nft = sh("nft", "list", "table", "inet", "minidocker").stdout
    assert "ip saddr 10.93.0.0/24 masquerade" in nft and "ip saddr 10.92.0.0/24 masquerade" not in nft


def test_internal_reaches_nothing_outside_and_publishes_nothing(engine, outside):
    engine.net.create("inner", subnet="10.94.0.0/24", internal=True)
    ports = [{"proto": "tcp", "host_ip": "", "host_port": "18090", "container_port": 80}]
    c = run(engine, "httpd", "-f", "-p", "80", "-h", "/etc", name="hidden", network="inner", Ports=ports)
    outside(9005)
    assert seen_from(engine, c, 9005) is None
    assert ex(engine, c, "ping", "-c1", "-W1", SERVER_IP)[0] != 0
    # as Docker 20.10: no port is published (inspect shows none, ps and `port` nothing)
    info = engine.inspect_container(c)
    assert info["NetworkSettings"]["Ports"] == {} and c.active_ports == {}
    assert "18090" not in sh("nft", "list", "ruleset").stdout
    # the same httpd on a normal network answers the outside through the host
    engine.net.create("outer", subnet="10.95.0.0/24")
    run(engine, "httpd", "-f", "-p", "80", "-h", "/etc", name="shown", network="outer", Ports=ports)
    got = out("busybox", "nc", "-w", "3", HOST_IP, "18090", input="GET /hostname HTTP/1.0\r\n\r\n")
    assert got.stdout.rstrip().endswith("\n" + engine.find_container("shown").hostname)

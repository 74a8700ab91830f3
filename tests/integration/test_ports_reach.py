"""Published ports answer where Docker's do (issue 10), through the real CLI and daemon:
from another machine (a client namespace behind a veth), from the host on 127.0.0.1
and on its own address, from containers on the same and on another network through
the host's address (hairpin); `-p 127.0.0.1:...` only from the host; TCP and UDP;
Docker's refusals; the views of -p/-P/--expose; and nothing left after `rm`.

Topology (all inside the test's throwaway namespace): the host side of a veth,
198.18.0.1/24 ("the host's address"), and a client namespace behind it, 198.18.0.2.
"""
import json
import socket
import subprocess
import threading
import time

import pytest

from minidocker.engine.port_binding import ipv6_available
from minidocker.network import namespaces

from .dockerhelp import docker  # noqa: F401 - fixture
from .enginehelp import peer_namespace

HOST_IP, CLIENT_IP = "198.18.0.1", "198.18.0.2"
WEB = ["sh", "-c", "mkdir /www && echo web-ok >/www/index.html && exec httpd -f -p 80 -h /www"]


@pytest.fixture
def client_ns():
    """Another machine: a namespace joined to the host by a veth pair."""
    with peer_namespace("ports", "client", "mdtp0", HOST_IP, CLIENT_IP) as path:
        yield path


def http_get(ip: str, port: int, tries: int = 40) -> str:
    """What wget would print: the body of GET /, or "" when nothing answers."""
    for _ in range(tries):
        try:
            with socket.create_connection((ip, port), timeout=2) as s:
                s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                return data.decode(errors="replace").split("\r\n\r\n", 1)[-1]
        except OSError:
            time.sleep(0.05)
    return ""


def refused(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=2):
            return False
    except OSError:
        return True


def udp_ask(ip: str, port: int, tries: int = 5) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for _ in range(tries):
            s.sendto(b"ping", (ip, port))
            try:
                return s.recv(100)
            except OSError:
                continue
    return b""


def udp_echo_in(netns_path: str, port: int) -> socket.socket:
    """A UDP echo server inside a container's network namespace (busybox's nc has no
    -u): the socket is made in there, served from a thread of ours."""
    def make():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        return s
    s = namespaces.run_in_netns(netns_path, make)

    def serve():
        while True:
            try:
                data, peer = s.recvfrom(100)
                s.sendto(b"pong-" + data, peer)
            except OSError:
                return
    threading.Thread(target=serve, daemon=True).start()
    return s


def in_container(cli, name: str, script: str) -> str:
    return cli("exec", name, "sh", "-c", script, timeout=30).stdout


def fetch_in(cli, name: str, ip: str, port: int) -> str:
    """GET / from inside a container with busybox nc (Debian's static busybox wget
    crashes, in Docker's containers too): the body, or nc's complaint."""
    out = in_container(cli, name, f"printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {ip} {port} 2>&1")
    return out.replace("\r", "").split("\n\n", 1)[-1]


def test_published_port_answers_where_docker_does(cli, client_ns):
    cli.ok("network", "create", "--subnet", "172.30.5.0/24", "other")
    cli.ok("run", "-d", "--name", "web", "-p", "18080:80", "-p", "127.0.0.1:18081:80",
           "-p", "18082:81/udp", "busybox", *WEB)
    cli.ok("run", "-d", "--name", "same", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "far", "--network", "other", "busybox", "sleep", "600")
    sandbox = json.loads(cli.ok("inspect", "web"))[0]["NetworkSettings"]["SandboxKey"]
    echo = udp_echo_in(sandbox, 81)
    try:
        # the host itself: loopback and its own address
        assert http_get("127.0.0.1", 18080).strip() == "web-ok"
        assert http_get(HOST_IP, 18080).strip() == "web-ok"
        assert http_get("127.0.0.1", 18081).strip() == "web-ok"
        assert refused(HOST_IP, 18081)  # 127.0.0.1 only
        # another machine
        assert namespaces.run_in_netns(client_ns, http_get, HOST_IP, 18080).strip() == "web-ok"
        assert namespaces.run_in_netns(client_ns, refused, HOST_IP, 18081)
        # containers, through the host's address: same network and another one
        assert fetch_in(cli, "same", HOST_IP, 18080).strip() == "web-ok"
        assert fetch_in(cli, "far", HOST_IP, 18080).strip() == "web-ok"
        assert fetch_in(cli, "web", HOST_IP, 18080).strip() == "web-ok"  # itself
        assert "web-ok" not in fetch_in(cli, "same", HOST_IP, 18081)
        assert "web-ok" not in fetch_in(cli, "same", "127.0.0.1", 18080)  # its own loopback
        # UDP: from the host, on loopback and its address, and from the client
        assert udp_ask("127.0.0.1", 18082) == b"pong-ping"
        assert udp_ask(HOST_IP, 18082) == b"pong-ping"
        assert namespaces.run_in_netns(client_ns, udp_ask, HOST_IP, 18082) == b"pong-ping"
        # gone the moment the container is removed, with no rule and no socket left
        cli.ok("rm", "-f", "web")
        assert refused("127.0.0.1", 18080) and refused(HOST_IP, 18080)
        assert namespaces.run_in_netns(client_ns, refused, HOST_IP, 18080)
        assert udp_ask("127.0.0.1", 18082, tries=2) == b""
        ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
        for port in ("18080", "18081", "18082"):
            assert port not in ruleset
        with socket.socket() as s:  # the host port is free again
            s.bind(("0.0.0.0", 18080))
    finally:
        echo.close()


def udp_ask6(port: int, tries: int = 5) -> bytes:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for _ in range(tries):
            s.sendto(b"ping", ("::1", port))
            try:
                return s.recv(100)
            except OSError:
                continue
    return b""


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 on this host")
def test_ipv6_clients_of_the_unspecified_binding_are_proxied(cli):
    """Docker 20.10 lists "::" beside 0.0.0.0 and its docker-proxy serves IPv6
    clients there; minidocker relays them to the container's IPv4 address."""
    cli.ok("run", "-d", "--name", "web6", "-p", "18085:80", "-p", "18086:81/udp", "-p", "127.0.0.1:18087:80",
           "busybox", *WEB)
    sandbox = json.loads(cli.ok("inspect", "web6"))[0]["NetworkSettings"]["SandboxKey"]
    echo = udp_echo_in(sandbox, 81)
    try:
        assert http_get("::1", 18085).strip() == "web-ok"
        assert http_get("::1", 18085).strip() == "web-ok"  # and again: one connection each
        assert udp_ask6(18086) == b"pong-ping"
        with pytest.raises(OSError):  # bound on 127.0.0.1 only: nothing for IPv6
            socket.create_connection(("::1", 18087), timeout=2).close()
        cli.ok("rm", "-f", "web6")
        with pytest.raises(OSError):
            socket.create_connection(("::1", 18085), timeout=2).close()
        assert udp_ask6(18086, tries=2) == b""
        with socket.socket(socket.AF_INET6) as s:  # the host port is free again (but for TIME_WAIT)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::", 18085))
    finally:
        echo.close()


def test_refusals_leave_nothing_behind(cli):
    cli.ok("run", "-d", "--name", "pa", "-p", "18090:80", "busybox", *WEB)
    p = cli("run", "-d", "--name", "pb", "-p", "18090:80", "busybox", "sleep", "600")
    assert p.returncode == 125
    assert "Bind for 0.0.0.0:18090 failed: port is already allocated" in p.stderr
    # another address of the same port: the kernel refuses it, as docker-proxy's listen
    p = cli("run", "-d", "--name", "pc", "-p", "127.0.0.1:18090:80", "busybox", "sleep", "600")
    assert "Error starting userland proxy: listen tcp4 127.0.0.1:18090: bind: address already in use" in p.stderr
    with socket.socket() as held:  # a host process holds a port
        held.bind(("0.0.0.0", 18091))
        held.listen()
        p = cli("run", "-d", "--name", "pd", "-p", "18091:80", "busybox", "sleep", "600")
        assert p.returncode == 125
        assert ("driver failed programming external connectivity on endpoint pd (" in p.stderr and
                "): Error starting userland proxy: listen tcp4 0.0.0.0:18091: bind: address already in use"
                in p.stderr)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("0.0.0.0", 18092))
        p = cli("run", "-d", "--name", "pe", "-p", "18092:80/udp", "busybox", "sleep", "600")
        assert "listen udp4 0.0.0.0:18092: bind: address already in use" in p.stderr
    rows = dict(line.split(" ", 1) for line in
                cli.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}|{{.Ports}}").splitlines())
    for name in ("pb", "pc", "pd", "pe"):
        assert rows[name] == "Created|"
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert "18091" not in ruleset and "18092" not in ruleset
    cli.ok("rm", "-f", "pa")
    cli.ok("start", "pb")  # free again
    assert http_get("127.0.0.1", 18090) == ""  # b runs sleep: nothing listens, but it is b's now
    assert json.loads(cli.ok("inspect", "pb"))[0]["NetworkSettings"]["Ports"]["80/tcp"][0] == \
        {"HostIp": "0.0.0.0", "HostPort": "18090"}


def test_views_of_publish_expose_and_ranges(cli):
    cli.ok("run", "-d", "--name", "pv", "-p", "18080:80", "-p", "127.0.0.1:18081:80",
           "-p", "18100-18101:90-91/udp", "--expose", "7000-7001", "--expose", "99/udp",
           "busybox", "sleep", "600")
    ins = json.loads(cli.ok("inspect", "pv"))[0]
    six = [{"HostIp": "::", "HostPort": "18080"}] if ipv6_available() else []
    assert ins["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "18080"}, {"HostIp": "127.0.0.1", "HostPort": "18081"}],
        "90/udp": [{"HostIp": "", "HostPort": "18100"}], "91/udp": [{"HostIp": "", "HostPort": "18101"}]}
    ports = ins["NetworkSettings"]["Ports"]
    assert ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "18081"},
                               {"HostIp": "0.0.0.0", "HostPort": "18080"}, *six]
    assert ports["7000/tcp"] is None and ports["7001/tcp"] is None and ports["99/udp"] is None
    assert sorted(ins["Config"]["ExposedPorts"]) == ["7000/tcp", "7001/tcp", "80/tcp", "90/udp", "91/udp",
                                                     "99/udp"]
    row = cli.ok("ps", "--filter", "name=pv", "--format", "{{.Ports}}").strip()
    if ipv6_available():
        assert row == ("99/udp, 7000-7001/tcp, 0.0.0.0:18080->80/tcp, 127.0.0.1:18081->80/tcp, "
                       ":::18080->80/tcp, 0.0.0.0:18100->90/udp, :::18100->90/udp, 0.0.0.0:18101->91/udp, "
                       ":::18101->91/udp")
    assert cli.ok("port", "pv", "80").splitlines()[:2] == ["127.0.0.1:18081", "0.0.0.0:18080"]
    assert cli.ok("port", "pv").splitlines()[0] == "80/tcp -> 127.0.0.1:18081"
    p = cli("port", "pv", "7000")
    assert p.returncode == 1 and p.stderr.strip() == "Error: No public port '7000/tcp' published for pv"
    # same-numbered ranges fold into one group in PORTS
    cli.ok("run", "-d", "--name", "pr", "-p", "18110-18111:18110-18111", "busybox", "sleep", "600")
    assert cli.ok("ps", "--filter", "name=pr", "--format", "{{.Ports}}").strip().startswith(
        "0.0.0.0:18110-18111->18110-18111/tcp")
    # -P: every exposed port on an ephemeral one; PortBindings stays as asked
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    cli.ok("run", "-d", "--name", "all", "-P", "--expose", "8", "-p", "127.0.0.1::9", "busybox", "sleep", "600")
    ins = json.loads(cli.ok("inspect", "all"))[0]
    assert ins["HostConfig"]["PublishAllPorts"] is True
    assert ins["HostConfig"]["PortBindings"] == {"9/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    got = ins["NetworkSettings"]["Ports"]
    assert [b["HostIp"] for b in got["8/tcp"]] == ["0.0.0.0"] + (["::"] if ipv6_available() else [])
    assert all(int(b["HostPort"]) >= lo for b in got["8/tcp"] + got["9/tcp"])
    assert got["9/tcp"][0]["HostIp"] == "127.0.0.1"
    # stopped: no ports shown, as Docker
    cli.ok("stop", "-t", "0", "all")
    assert json.loads(cli.ok("inspect", "all"))[0]["NetworkSettings"]["Ports"] == {}
    assert cli.ok("ps", "-a", "--filter", "name=all", "--format", "[{{.Ports}}]").strip() == "[]"


def test_docker_cli_publish_all_and_expose(docker):  # noqa: F811
    docker.ok("run", "-d", "--name", "dk", "-P", "--expose", "7000-7001", "-p", "18120:80", "busybox",
              "sleep", "600")
    ins = json.loads(docker.ok("inspect", "dk"))[0]
    assert ins["HostConfig"]["PublishAllPorts"] is True
    assert ins["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "18120"}]}
    assert sorted(ins["NetworkSettings"]["Ports"]) == ["7000/tcp", "7001/tcp", "80/tcp"]
    assert ins["NetworkSettings"]["Ports"]["80/tcp"][0] == {"HostIp": "0.0.0.0", "HostPort": "18120"}
    row = docker.ok("ps", "--format", "{{.Ports}}").strip()
    assert "0.0.0.0:18120->80/tcp" in row and "->7000/tcp" in row and "->7001/tcp" in row
    assert docker.ok("port", "dk", "80").splitlines()[0] == "0.0.0.0:18120"
    assert http_get("127.0.0.1", 18120, tries=2) == ""  # sleep answers nothing, but nothing hangs either

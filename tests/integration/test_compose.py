"""docker-compose (Debian's 1.29, on docker-py) drives minidockerd as it drives dockerd.

A three-service project on two networks: `front` (services reach each other by name
and by alias) and `back` (internal, an explicit subnet, one service at a static
ipv4_address). `up -d`, `ps`, `exec` (compose execs the docker CLI it finds on PATH:
the 20.10 one), `logs`, and `down` leaving nothing behind.
"""
import json
import os
import subprocess
import textwrap

import pytest

from .dockerhelp import compose_binary, docker_binary

COMPOSE = compose_binary()
DOCKER = docker_binary()

pytestmark = pytest.mark.skipif(not (COMPOSE and DOCKER),
                                reason="docker-compose or the docker 20.10 CLI is missing (scripts/setup installs them)")

PROJECT = textwrap.dedent("""\
    version: "3.8"
    services:
      web:
        image: busybox
        command: sleep 3600
        networks:
          front:
            aliases: [www, frontdoor]
      app:
        image: busybox
        command: sh -c "echo app started; sleep 3600"
        networks:
          front: {}
          back:
            ipv4_address: 10.123.0.10
      db:
        image: busybox
        command: sleep 3600
        networks:
          back: {}
    networks:
      front: {}
      back:
        internal: true
        ipam:
          config:
            - subnet: 10.123.0.0/24
    """)


@pytest.fixture
def compose(cli, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "docker-compose.yml").write_text(PROJECT)
    env = dict(cli.env, DOCKER_HOST=f"unix://{cli.run_dir}/minidocker.sock",
               DOCKER_CONFIG=str(tmp_path / "docker-config"), COMPOSE_INTERACTIVE_NO_CLI="",
               PATH=f"{os.path.dirname(DOCKER)}:/usr/sbin:/usr/bin:/sbin:/bin")

    def run(*args, check=True, timeout=120):
        p = subprocess.run([COMPOSE, "-p", "proj", *args], cwd=proj, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p
    yield run
    run("down", check=False)


def _links() -> list[str]:
    out = subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True).stdout
    return [l["ifname"] for l in json.loads(out)]


def test_compose_project_up_exec_logs_down(compose, cli):
    before = set(_links())
    compose("up", "-d")

    ps = compose("ps").stdout
    for svc in ("proj_web_1", "proj_app_1", "proj_db_1"):
        line = next(l for l in ps.splitlines() if l.startswith(svc))
        assert "Up" in line, ps

    # by service name and by alias on `front`; the static address on `back`
    compose("exec", "-T", "app", "ping", "-c1", "-W2", "web")
    compose("exec", "-T", "app", "ping", "-c1", "-W2", "www")
    compose("exec", "-T", "web", "ping", "-c1", "-W2", "app")
    compose("exec", "-T", "db", "ping", "-c1", "-W2", "10.123.0.10")
    addrs = compose("exec", "-T", "app", "ip", "-o", "-4", "addr").stdout
    assert "inet 10.123.0.10/24" in addrs, addrs
    # db is only on the internal network: it cannot resolve or reach web
    assert compose("exec", "-T", "db", "ping", "-c1", "-W1", "web", check=False).returncode != 0

    # the kernel agrees: two new bridges, one veth per endpoint (web 1, app 2, db 1)
    new = set(_links()) - before
    assert len([n for n in new if n.startswith("mdbr-")]) == 2, new
    assert len([n for n in new if n.startswith("mdv")]) == 4, new
    nets = {n["Name"]: n for n in json.loads(cli.ok("network", "inspect", "proj_front", "proj_back"))}
    assert nets["proj_back"]["Internal"] is True
    assert nets["proj_back"]["IPAM"]["Config"][0]["Subnet"] == "10.123.0.0/24"

    assert "app started" in compose("logs", "app").stdout

    compose("down")
    assert cli.ok("ps", "-aq") == ""
    assert cli.ok("network", "ls", "-q", "--filter", "type=custom") == ""
    assert set(_links()) == before
    assert os.listdir(os.path.join(cli.run_dir, "netns")) == []
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert "mdbr-" not in ruleset and "10.123.0." not in ruleset

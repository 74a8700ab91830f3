"""docker-compose 1.29 with a bind-mounted config file (read-only) and a named volume
shared by two services: `up -d` creates the volume (with compose's labels), both
services see one directory, `down -v` removes it."""
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
      writer:
        image: busybox
        command: sh -c "cp /etc/app.conf /data/copied; sleep 3600"
        volumes:
          - ./app.conf:/etc/app.conf:ro
          - shared:/data
      reader:
        image: busybox
        command: sleep 3600
        volumes:
          - type: volume
            source: shared
            target: /shared
            read_only: true
    volumes:
      shared: {}
    """)


def test_compose_bind_config_and_shared_volume(cli, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "docker-compose.yml").write_text(PROJECT)
    (proj / "app.conf").write_text("setting=1\n")
    env = dict(cli.env, DOCKER_HOST=f"unix://{cli.run_dir}/minidocker.sock",
               DOCKER_CONFIG=str(tmp_path / "docker-config"), COMPOSE_INTERACTIVE_NO_CLI="",
               PATH=f"{os.path.dirname(DOCKER)}:/usr/sbin:/usr/bin:/sbin:/bin")

    def compose(*args, check=True):
        p = subprocess.run([COMPOSE, "-p", "vp", *args], cwd=proj, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p
    try:
        compose("up", "-d")
        vol = json.loads(cli.ok("volume", "inspect", "vp_shared"))[0]
        assert vol["Labels"]["com.docker.compose.project"] == "vp"
        for _ in range(100):
            if os.path.exists(os.path.join(vol["Mountpoint"], "copied")):
                break
            compose("exec", "-T", "writer", "true")
        assert compose("exec", "-T", "reader", "cat", "/shared/copied").stdout == "setting=1\n"
        assert compose("exec", "-T", "writer", "cat", "/etc/app.conf").stdout == "setting=1\n"
        assert compose("exec", "-T", "reader", "touch", "/shared/x", check=False).returncode != 0
        writer = json.loads(cli.ok("inspect", "vp_writer_1"))[0]
        with open(f"/proc/{writer['State']['Pid']}/mountinfo") as f:
            conf = next(line.split() for line in f if line.split()[4] == "/etc/app.conf")
        assert conf[3] == str(proj / "app.conf") and conf[5].startswith("ro")
    finally:
        compose("down", "-v", check=False)
    assert cli.ok("ps", "-aq") == "" and cli.ok("volume", "ls", "-q") == ""

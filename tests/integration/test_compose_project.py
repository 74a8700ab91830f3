"""Issue 11's project: a compose file with a bind-mounted config file, a named
volume shared by two services, `restart: on-failure`, a memory limit and a
health check that the second service waits on. On Docker 20.10 (measured with
this very file): it comes up healthy; after its main process is killed from
outside, web is restarted (RestartCount 1, both starts in the shared volume)
and is healthy again within seconds."""
import json
import os
import signal
import subprocess
import textwrap
import time

import pytest

from .dockerhelp import compose_binary, docker_binary

COMPOSE = compose_binary()
DOCKER = docker_binary()

pytestmark = pytest.mark.skipif(not (COMPOSE and DOCKER),
                                reason="docker-compose or the docker 20.10 CLI is missing (scripts/setup installs them)")

PROJECT = textwrap.dedent("""\
    version: "2.4"
    services:
      web:
        image: busybox
        command: sh -c "mkdir -p /www && cp /cfg/index.html /www/ && echo started >>/shared/starts && exec httpd -f -p 80 -h /www"
        volumes:
          - ./cfg:/cfg:ro
          - shared:/shared
        restart: on-failure
        mem_limit: 64m
        healthcheck:
          test: ["CMD-SHELL", "printf 'GET /index.html HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc 127.0.0.1 80 | grep -q page-ok"]
          interval: 1s
          timeout: 2s
          retries: 3
      reader:
        image: busybox
        command: sh -c "while true; do cat /shared/starts >/dev/null; sleep 1; done"
        volumes:
          - shared:/shared
        depends_on:
          web:
            condition: service_healthy
    volumes:
      shared: {}
    """)


def wait_for(fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    return fn()


def test_compose_project_comes_up_and_heals_as_on_docker(cli, tmp_path):
    proj = tmp_path / "cproj"
    (proj / "cfg").mkdir(parents=True)
    (proj / "cfg" / "index.html").write_text("page-ok\n")
    (proj / "docker-compose.yml").write_text(PROJECT)
    env = dict(cli.env, DOCKER_HOST=f"unix://{cli.run_dir}/minidocker.sock",
               DOCKER_CONFIG=str(tmp_path / "docker-config"), COMPOSE_INTERACTIVE_NO_CLI="",
               PATH=f"{os.path.dirname(DOCKER)}:/usr/sbin:/usr/bin:/sbin:/bin")

    def compose(*args):
        return subprocess.run([COMPOSE, "-p", "cproj", *args], cwd=proj, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)

    def state(name):
        return json.loads(cli.ok("inspect", name))[0]
    try:
        p = compose("up", "-d")
        assert p.returncode == 0, p.stdout + p.stderr
        web = state("cproj_web_1")
        assert web["State"]["Health"]["Status"] == "healthy"  # reader waited for it
        assert web["HostConfig"]["Memory"] == 64 * 1024 * 1024
        assert web["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 0}
        assert state("cproj_reader_1")["State"]["Running"]
        assert cli.ok("exec", "cproj_web_1", "cat", "/cfg/index.html") == "page-ok\n"
        os.kill(web["State"]["Pid"], signal.SIGKILL)  # killed from outside: on-failure restarts it
        healed = wait_for(lambda: (lambda s: s["RestartCount"] == 1 and s["State"]["Status"] == "running" and
                                   (s["State"].get("Health") or {}).get("Status") == "healthy")(state("cproj_web_1"))
                          and "(healthy)" in cli.ok("ps", "--filter", "name=cproj_web_1", "--format", "{{.Status}}"))
        assert healed, state("cproj_web_1")["State"]
        assert cli.ok("exec", "cproj_reader_1", "cat", "/shared/starts") == "started\nstarted\n"
        assert "(healthy)" in cli.ok("ps", "--filter", "name=cproj_web_1", "--format", "{{.Status}}")
    finally:
        compose("down", "-v", "-t", "0")

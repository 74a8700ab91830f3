"""docker-compose's `depends_on: condition: service_healthy` waits for the
health check minidockerd runs (State.Health), as it waits on dockerd's."""
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
    version: "2.4"
    services:
      db:
        image: busybox
        command: sh -c "sleep 2; touch /tmp/ready; sleep 3600"
        healthcheck:
          test: ["CMD-SHELL", "test -f /tmp/ready"]
          interval: 1s
          timeout: 2s
          retries: 30
      app:
        image: busybox
        command: sleep 3600
        depends_on:
          db:
            condition: service_healthy
    """)


def test_depends_on_service_healthy(cli, tmp_path):
    proj = tmp_path / "hproj"
    proj.mkdir()
    (proj / "docker-compose.yml").write_text(PROJECT)
    env = dict(cli.env, DOCKER_HOST=f"unix://{cli.run_dir}/minidocker.sock",
               DOCKER_CONFIG=str(tmp_path / "docker-config"), COMPOSE_INTERACTIVE_NO_CLI="",
               PATH=f"{os.path.dirname(DOCKER)}:/usr/sbin:/usr/bin:/sbin:/bin")

    def run(*args):
        return subprocess.run([COMPOSE, "-p", "hproj", *args], cwd=proj, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)
    try:
        p = run("up", "-d")
        assert p.returncode == 0, p.stdout + p.stderr
        db = cli.ok("inspect", "-f", "{{.State.Health.Status}}", "hproj_db_1").strip()
        assert db == "healthy"  # compose started app only once db was healthy
        assert cli.ok("inspect", "-f", "{{.State.Status}}", "hproj_app_1").strip() == "running"
        assert "(healthy)" in cli.ok("ps", "--filter", "name=hproj_db_1", "--format", "{{.Status}}")
    finally:
        run("down", "-t", "0")

"""The real Docker clients (docker CLI 20.10, docker-py) pointed at the test's
minidockerd (the `cli` fixture's daemon) through DOCKER_HOST. Import the fixtures
into a test module: ``from .realclients import docker, dockerpy  # noqa: F401``.

scripts/setup installs both (the CLI into .venv/clients/usr/bin/docker); without them the
tests skip, saying why.
"""
import os
import shutil
import subprocess

import pytest

from .conftest import REPO

CANDIDATES = (os.path.join(REPO, ".venv", "clients", "usr", "bin", "docker"), "/usr/bin/docker")


def docker_binary() -> str | None:
    """The docker 20.10 CLI (a newer one words its errors differently)."""
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
            if out.startswith("Docker version 20.10."):
                return path
    return None


class DockerCLI:
    """`docker ...` against the test daemon, in its own config dir, /usr/bin first on PATH."""

    def __init__(self, binary: str, socket_path: str, config_dir: str):
        self.binary = binary
        self.host = f"unix://{socket_path}"
        self.env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": config_dir, "DOCKER_HOST": self.host,
                    "DOCKER_CONFIG": config_dir, "LANG": "C.UTF-8"}

    def __call__(self, *args, input=None, timeout=60):
        return subprocess.run([self.binary, *args], env=self.env, input=input, capture_output=True,
                              text=isinstance(input, str) or input is None, timeout=timeout)

    def ok(self, *args, **kw) -> str:
        p = self(*args, **kw)
        assert p.returncode == 0, f"docker {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout


@pytest.fixture
def docker(cli, tmp_path):
    binary = docker_binary()
    if binary is None:
        pytest.skip("the docker 20.10 CLI is not installed (scripts/setup puts it in .venv/clients/usr/bin/docker)")
    config = tmp_path / "docker-config"
    config.mkdir()
    return DockerCLI(binary, os.path.join(cli.run_dir, "minidocker.sock"), str(config))


@pytest.fixture
def dockerpy(cli):
    docker_module = pytest.importorskip("docker", reason="docker-py is not installed (pip install -e .[test])")
    client = docker_module.DockerClient(base_url=f"unix://{os.path.join(cli.run_dir, 'minidocker.sock')}",
                                        version="auto", timeout=60)
    yield client
    client.close()


def have_compose() -> bool:
    return shutil.which("docker-compose", path="/usr/bin") is not None

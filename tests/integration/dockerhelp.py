"""The real Docker clients (docker CLI 20.10, docker-py, docker-compose) against the
test's minidockerd (the `cli` fixture's daemon) through DOCKER_HOST.

scripts/setup installs them (the CLI into .venv/clients/usr/bin/docker); without them
the tests skip, saying why. Fixtures: ``from .dockerhelp import docker, dockerpy``.
"""
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def docker_binary() -> str | None:
    """The 20.10 CLI (a newer one words its errors differently): the one scripts/setup
    unpacks into .venv, else Debian's."""
    for path in (os.path.join(REPO, ".venv", "clients", "usr", "bin", "docker"), "/usr/bin/docker"):
        if os.access(path, os.X_OK):
            out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
            if out.startswith("Docker version 20.10."):
                return path
    return None


def compose_binary() -> str | None:
    return shutil.which("docker-compose", path="/usr/bin")


class Docker:
    def __init__(self, cli, tmp_path):
        binary = docker_binary()
        if binary is None:
            pytest.skip("the docker CLI 20.10 is not installed (scripts/setup installs it)")
        self.binary = binary
        self.sock = os.path.join(cli.run_dir, "minidocker.sock")
        conf = tmp_path / "docker-config"
        conf.mkdir(exist_ok=True)
        # the CLI negotiates its API version from our ping, as it does with dockerd
        self.env = dict(cli.env, DOCKER_HOST=f"unix://{self.sock}", DOCKER_CONFIG=str(conf),
                        PATH=os.path.dirname(binary) + ":/usr/bin:/bin:/usr/sbin:/sbin")
        self.env.pop("DOCKER_API_VERSION", None)

    def cmd(self, *args) -> list:
        return [self.binary, *args]

    def __call__(self, *args, input=None, timeout=60):
        return subprocess.run(self.cmd(*args), env=self.env, input=input, capture_output=True,
                              text=isinstance(input, str) or input is None, timeout=timeout)

    def ok(self, *args, **kw) -> str:
        p = self(*args, **kw)
        if p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p.stdout

    def py(self):
        docker = pytest.importorskip("docker", reason="docker-py is not installed (the test extra has it)")
        return docker.DockerClient(base_url=f"unix://{self.sock}", version="1.41", timeout=60)


def in_pty(cmd: list, env: dict, lines: list, rows: int = 30, cols: int = 100, timeout: float = 60):
    """Run ``cmd`` on a real terminal of rows x cols; type each line once the
    previous output settled. (exit status, everything it printed)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(cmd[0], cmd, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    out, todo = b"", list(lines)
    deadline = time.monotonic() + timeout
    next_at = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        if todo and time.monotonic() >= next_at:
            os.write(fd, todo.pop(0).encode())
            next_at = time.monotonic() + 0.7
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
    else:
        os.kill(pid, 9)
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(st), out.decode(errors="replace")


def err(p) -> str:
    """stderr without the Go client's complaint about a HEAD /_ping answered with
    a body (a branch without Docker's ping yet)."""
    return "".join(l for l in p.stderr.splitlines(keepends=True) if "Unsolicited response" not in l)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def in_netns(pid: int, *argv) -> str:
    return subprocess.run(["nsenter", "-t", str(pid), "-n", *argv], capture_output=True, text=True,
                          check=True).stdout


__all__ = ["Docker", "err", "in_pty", "pid_alive", "in_netns", "shutil"]


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


@pytest.fixture
def dockerpy(cli):
    docker_module = pytest.importorskip("docker", reason="docker-py is not installed (pip install -e .[test])")
    client = docker_module.DockerClient(base_url=f"unix://{os.path.join(cli.run_dir, 'minidocker.sock')}",
                                        version="auto", timeout=60)
    yield client
    client.close()

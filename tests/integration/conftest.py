"""Fixtures for tests that drive the whole engine or the real CLI + daemon.

Each test gets its own state root and runtime dir inside the throwaway namespaces
set up by tests/conftest.py; the busybox image is imported once per session and
shared read-only (it is the overlay's lower layer).
"""
import os
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE_TAR = os.environ.get("MINIDOCKER_TEST_IMAGE_TAR", os.path.join(REPO, "rootfs", "build", "busybox.tar"))
UPSTREAM_RESOLV = "nameserver 127.0.0.53\n"


@pytest.fixture(scope="session")
def image_root(tmp_path_factory):
    """A state root holding only the imported busybox image."""
    if not os.path.exists(IMAGE_TAR):
        subprocess.run(["bash", os.path.join(REPO, "rootfs", "make-image"), IMAGE_TAR], check=True)
    root = str(tmp_path_factory.mktemp("images"))
    from minidocker.engine.images import Images
    with open(IMAGE_TAR, "rb") as f:
        Images(root).import_tar("busybox", f, env=["PATH=/bin"], cmd=["sh"])  # as scripts/setup does
    return root


def _fresh_root(tmp_path, image_root) -> tuple[str, str, str]:
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(os.path.join(image_root, "images"), root / "images")
    run = f"/run/mdtest-{os.path.basename(tmp_path)}"
    resolv = tmp_path / "host-resolv.conf"
    resolv.write_text(UPSTREAM_RESOLV)
    return str(root), run, str(resolv)


_PARENTS = iter(range(1, 1 << 30))


@pytest.fixture(autouse=True)
def cgroup_parent(request):
    """Each test's containers get their cgroups under a parent of its own
    (MINIDOCKER_CGROUP_PARENT, read by engines and daemons it starts); after the
    test nothing may be left in it, and it is removed."""
    from minidocker.runtime import cgroups
    parent = f"minidocker-test-{os.getpid()}-{next(_PARENTS)}"
    old = os.environ.get("MINIDOCKER_CGROUP_PARENT")
    os.environ["MINIDOCKER_CGROUP_PARENT"] = parent
    yield parent
    if old is None:
        os.environ.pop("MINIDOCKER_CGROUP_PARENT", None)
    else:
        os.environ["MINIDOCKER_CGROUP_PARENT"] = old
    cg = cgroups.detect(parent)
    if cg is None:
        return
    left = cg.children()
    for cid in left:
        cg.remove(cid)
    cg.remove_parent()
    assert not left, f"test leaked cgroups: {left}"


@pytest.fixture
def engine(no_leaks, tmp_path, image_root):
    from minidocker.engine.core import Engine
    root, run, resolv = _fresh_root(tmp_path, image_root)
    e = Engine(root, run, host_resolv_conf=str(resolv), dns_timeout=1.0)
    yield e
    e.close(teardown=True)


class CLI:
    """The real `minidocker` command against a real daemon process."""

    def __init__(self, root: str, run: str, resolv: str):
        self.env = dict(os.environ, MINIDOCKER_ROOT=root, MINIDOCKER_RUN=run,
                        MINIDOCKER_HOST_RESOLV_CONF=resolv)
        self.env.pop("MINIDOCKER_EXPLAIN", None)
        self.run_dir = run

    def cmd(self, *args) -> list:
        return [sys.executable, "-m", "minidocker", *args]

    def __call__(self, *args, input=None, timeout=60, check=False):
        p = subprocess.run(self.cmd(*args), env=self.env, input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"minidocker {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    def ok(self, *args, **kw) -> str:
        return self(*args, check=True, **kw).stdout


def _stop_pidfile_daemon(run: str) -> None:
    try:
        with open(os.path.join(run, "minidockerd.pid")) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    for _ in range(600):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)


@pytest.fixture
def cli(no_leaks, tmp_path, image_root):
    root, run, resolv = _fresh_root(tmp_path, image_root)
    c = CLI(root, run, resolv)
    log = open(tmp_path / "daemon.log", "wb")
    d = subprocess.Popen([sys.executable, "-m", "minidocker.api.server", "--root", root, "--run", run],
                         env=c.env, stdout=log, stderr=log)
    sock = os.path.join(run, "minidocker.sock")
    for _ in range(500):
        if os.path.exists(sock):
            break
        if d.poll() is not None:
            raise AssertionError((tmp_path / "daemon.log").read_text())
        time.sleep(0.02)
    c.daemon = d
    yield c
    # leave the host as we found it: every container, network, bridge and rule
    for cid in c("ps", "-aq", "--no-trunc").stdout.split():
        c("rm", "-f", cid)
    for nid in c("network", "ls", "-q", "--filter", "type=custom").stdout.split():
        c("network", "rm", nid)
    d.terminate()
    d.wait(timeout=30)
    _stop_pidfile_daemon(run)  # one the CLI itself started (autostart)
    log.close()
    from minidocker.engine.core import teardown_host
    teardown_host(run)

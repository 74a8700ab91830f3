"""Health checks across a daemon restart: the state is on disk, and the
restarted daemon probes the adopted container again (from "starting", as
Docker's initHealthMonitor does)."""
import time

from minidocker.engine.core import Engine

from .conftest import _fresh_root
from .enginehelp import docker_body


def _wait_status(e, cid, want, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        with e.lock:
            h = e.containers[cid].health or {}
        if h.get("Status") == want:
            return h
        assert time.monotonic() < deadline, h
        time.sleep(0.2)


def test_health_survives_a_daemon_restart(no_leaks, tmp_path, image_root):
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e1 = Engine(root, run_dir, host_resolv_conf=resolv)
    e2 = None
    try:
        b = docker_body(Image="busybox", Cmd=["sleep", "600"])
        b["Healthcheck"] = {"Test": ["CMD", "true"], "Interval": 500_000_000}
        c = e1.ctr.create(b, name="hr1")
        e1.ctr.start(c.id)
        _wait_status(e1, c.id, "healthy")
        e1.close()
        e2 = Engine(root, run_dir, host_resolv_conf=resolv)
        with e2.lock:
            h = e2.containers[c.id].health
        assert h["Status"] == "starting" and h["FailingStreak"] == 0 and h["Log"]  # the log came along
        h = _wait_status(e2, c.id, "healthy")
        assert h["Log"][-1]["ExitCode"] == 0
        inspect = e2.inspect_container(e2.containers[c.id])
        assert inspect["State"]["Health"]["Status"] == "healthy"
        assert inspect["Config"]["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 500_000_000}
    finally:
        (e2 or e1).close(teardown=True)


def test_a_probe_that_cannot_start(no_leaks, tmp_path, image_root):
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e = Engine(root, run_dir, host_resolv_conf=resolv)
    try:
        b = docker_body(Image="busybox", Cmd=["sleep", "600"])
        b["Healthcheck"] = {"Test": ["CMD", "nosuch"], "Interval": 500_000_000, "Retries": 2}
        c = e.ctr.create(b, name="hn1")
        e.ctr.start(c.id)
        h = _wait_status(e, c.id, "unhealthy")
        assert h["FailingStreak"] >= 2
        assert h["Log"][0]["ExitCode"] == -1 and h["Log"][0]["Output"] == (
            'OCI runtime exec failed: exec failed: unable to start container process: '
            'exec: "nosuch": executable file not found in $PATH: unknown')
    finally:
        e.close(teardown=True)

"""Restart policies: on-failure's count, always until `stop`, a process killed
from outside, and the policy honoured when the daemon starts again."""
import os
import signal
import time

import pytest

from minidocker.engine.core import Engine
from minidocker.errors import Conflict

from .conftest import _fresh_root
from .enginehelp import ip_j, run


def _until(pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def _settled(e, c, count):
    with e.lock:
        x = e.containers[c.id]
        return x.status == "exited" and x.restart_count == count and c.id not in e.ctr.restarts.timers


def test_on_failure_restarts_up_to_its_count(engine):
    engine.net.create("rp_net", subnet="10.66.0.0/24")
    c = run(engine, "sh", "-c", "ip -o -4 addr show eth0 >> /tmp/addrs; exit 3", network="rp_net",
            RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2})
    _until(lambda: _settled(engine, c, 2))
    st = engine.inspect_container(c)
    assert st["RestartCount"] == 2 and st["State"]["ExitCode"] == 3 and st["State"]["Status"] == "exited"
    assert st["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    # each run went through the normal start path: address taken again, released at the end
    upper = os.path.join(engine.store.bundle(c.id), "upper", "tmp", "addrs")
    with open(upper) as f:
        lines = f.read().splitlines()
    assert len(lines) == 3 and all("10.66.0.2/24" in line for line in lines)
    assert [ep.ip for ep in engine.containers[c.id].eps()] == [""]
    actions = [ev["Action"] for ev in engine.events.recent() if ev.get("id") == c.id]
    assert actions.count("start") == 3 and actions.count("die") == 3
    engine.ctr.start(c.id)  # a user's start: the count begins again
    assert engine.containers[c.id].restart_count == 0
    _until(lambda: _settled(engine, c, 2))
    engine.ctr.remove(c.id)


def test_always_restarts_until_stopped(engine):
    c = run(engine, "sh", "-c", "sleep 0.2; exit 3", RestartPolicy={"Name": "always"})
    _until(lambda: engine.containers[c.id].restart_count >= 2)
    engine.ctr.stop(c.id, 1)
    with engine.lock:
        x = engine.containers[c.id]
        assert x.status == "exited" and c.id not in engine.ctr.restarts.timers and x.manually_stopped
    engine.ctr.remove(c.id)


def test_a_process_killed_from_outside_comes_back(engine):
    c = run(engine, "sleep", "600", RestartPolicy={"Name": "unless-stopped"})
    old = c.pid
    os.kill(old, signal.SIGKILL)
    _until(lambda: engine.containers[c.id].status == "running" and engine.containers[c.id].pid != old)
    st = engine.inspect_container(c)
    assert st["RestartCount"] == 1 and st["State"]["Running"] and st["State"]["Pid"] != old
    engine.ctr.kill(c.id)  # docker kill: manually stopped, no restart
    with engine.lock:
        assert engine.containers[c.id].status == "exited" and c.id not in engine.ctr.restarts.timers
    engine.ctr.remove(c.id)


def test_restarting_container_refuses_rm_and_stop_ends_it(engine):
    c = run(engine, "sh", "-c", "exit 1", RestartPolicy={"Name": "always"})
    with engine.lock:  # hold the next restart: the container waits as "restarting"
        engine.ctr.restarts.delays[c.id] = 30.0
    _until(lambda: engine.containers[c.id].status == "restarting")
    engine.ctr.restarts._schedule(c.id, 60.0)
    st = engine.inspect_container(c)["State"]
    assert (st["Status"], st["Running"], st["Restarting"], st["Pid"]) == ("restarting", True, True, 0)
    with pytest.raises(Conflict) as err:
        engine.ctr.remove(c.id)
    assert err.value.message == (f"You cannot remove a restarting container {c.id}. "
                                 "Stop the container before attempting removal or force remove")
    engine.ctr.stop(c.id)
    assert engine.containers[c.id].status == "exited" and c.id not in engine.ctr.restarts.timers
    engine.ctr.remove(c.id)


def test_policy_honoured_when_the_daemon_starts(no_leaks, tmp_path, image_root):
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e1 = Engine(root, run_dir, host_resolv_conf=resolv)
    e2 = None
    try:
        died = run(e1, "sleep", "600", name="died", RestartPolicy={"Name": "always"})
        stopped_always = run(e1, "sleep", "600", name="stopped-always", RestartPolicy={"Name": "always"})
        stopped_unless = run(e1, "sleep", "600", name="stopped-unless", RestartPolicy={"Name": "unless-stopped"})
        failed = run(e1, "sleep", "600", name="failed", RestartPolicy={"Name": "on-failure"})
        plain = run(e1, "sleep", "600", name="plain")
        for c in (stopped_always, stopped_unless):
            e1.ctr.stop(c.id, 0)
        e1.close()  # the daemon goes away; containers keep running
        for c in (died, failed, plain):
            os.kill(c.pid, signal.SIGKILL)
            _until(lambda c=c: not os.path.exists(f"/proc/{c.pid}"))
        stray = "f" * 64  # what a crash mid-start leaves: a cgroup no container owns
        if e1.cgroups is not None:
            from minidocker.runtime.cgroups import Limits
            e1.cgroups.create(stray, Limits())
        e2 = Engine(root, run_dir, host_resolv_conf=resolv)
        if e2.cgroups is not None:
            assert not e2.cgroups.exists(stray)  # swept
        with e2.lock:  # no restart in between
            assert e2.cgroups is None or sorted(e2.cgroups.children()) == sorted(
                e2.find_container(n).id for n in ("died", "stopped-always", "failed")
                if e2.find_container(n).status == "running")
        for name in ("died", "stopped-always", "failed"):
            _until(lambda n=name: e2.find_container(n).status == "running")
        assert e2.find_container("died").restart_count == 1
        assert e2.find_container("stopped-unless").status == "exited"
        assert e2.find_container("plain").status == "exited"
        assert e2.find_container("plain").exit_code == 137
        assert os.path.exists(f"/proc/{e2.find_container('died').pid}")
        assert ip_j("link")  # still a sane host
    finally:
        (e2 or e1).close(teardown=True)

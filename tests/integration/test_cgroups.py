"""Resource limits, pause, OOM, update, stats and top, checked in the kernel:
the container's cgroup files, /proc/PID/cgroup, the freezer."""
import os
import time

import pytest

from minidocker.errors import Conflict, InvalidArgument
from tests.integration.enginehelp import docker_body, ex, run

MiB = 1024 * 1024


@pytest.fixture
def cg(engine):
    if engine.cgroups is None:
        pytest.skip("no cgroups on this host")
    return engine.cgroups


def _file(cg, ctrl: str, cid: str, name: str) -> str:
    path = os.path.join(cg.dir(ctrl, cid), name) if cg.version == 1 else os.path.join(cg.dir(cid), name)
    with open(path) as f:
        return f.read().strip()


def _member(cg, pid: int, cid: str) -> bool:
    with open(f"/proc/{pid}/cgroup") as f:
        text = f.read()
    want = f"/{cg.parent}/{cid}"
    return all(line.endswith(want) for line in text.splitlines()
               if line.split(":")[1] in ("memory", "pids", "freezer", "cpu")) and want in text


def _wait(pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_limits_are_written_and_the_process_runs_inside(engine, cg):
    c = run(engine, "sleep", "600", Memory=64 * MiB, MemorySwap=128 * MiB, NanoCpus=500_000_000,
            CpuShares=512, PidsLimit=50)
    if cg.version == 1:
        assert _file(cg, "memory", c.id, "memory.limit_in_bytes") == str(64 * MiB)
        assert _file(cg, "memory", c.id, "memory.memsw.limit_in_bytes") == str(128 * MiB)
        assert _file(cg, "cpu", c.id, "cpu.cfs_quota_us") == "50000"
        assert _file(cg, "cpu", c.id, "cpu.cfs_period_us") == "100000"
        assert _file(cg, "cpu", c.id, "cpu.shares") == "512"
        assert _file(cg, "pids", c.id, "pids.max") == "50"
    assert _member(cg, c.pid, c.id)
    assert cg.pids(c.id) == [c.pid]
    code, out = ex(engine, c, "cat", "/proc/self/cgroup")  # an exec joins the container's cgroup
    want = f"/{cg.parent}/{c.id}"
    assert code == 0 and want in out
    joined = {line.split(":")[1]: line.endswith(want) for line in out.splitlines()}
    if cg.version == 1:  # every controller's hierarchy (the launcher writes 0 into each one's tasks)
        assert all(joined[k] for k in ("memory", "cpu", "cpuacct", "pids", "freezer") if k in joined), out
    hc = engine.inspect_container(c)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["CpuShares"], hc["PidsLimit"]) == \
        (64 * MiB, 128 * MiB, 500_000_000, 512, 50)
    engine.ctr.remove(c.id, force=True)
    assert not cg.exists(c.id)  # removed with the container


def test_defaults_as_docker_create_adapts_them(engine, cg):
    c = engine.ctr.create(docker_body(Image="busybox", Cmd=["true"], Memory=10 * MiB, PidsLimit=-1))
    hc = engine.inspect_container(c)["HostConfig"]
    assert hc["MemorySwap"] == 20 * MiB and hc["PidsLimit"] is None and hc["NanoCpus"] == 0
    plain = engine.ctr.create(docker_body(Image="busybox", Cmd=["true"]))
    hc = engine.inspect_container(plain)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"]) == (0, 0, None)
    assert not cg.exists(c.id)  # made at start only


@pytest.mark.parametrize("cfg,message", [
    ({"Memory": MiB}, "Minimum memory limit allowed is 6MB"),
    ({"MemorySwap": MiB}, "You should always set the Memory limit when using Memoryswap limit, see usage"),
    ({"Memory": 10 * MiB, "MemorySwap": 5 * MiB},
     "Minimum memoryswap limit should be larger than memory limit, see usage"),
    ({"Memory": 10 * MiB, "MemoryReservation": 20 * MiB},
     "Minimum memory limit can not be less than memory reservation limit, see usage"),
    ({"NanoCpus": 1_000_000_000, "CpuQuota": 50000},
     "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    ({"CpuPeriod": 500}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    ({"CpuQuota": 500}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    ({"RestartPolicy": {"Name": "foo"}}, "invalid restart policy 'foo'"),
    ({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}},
     "maximum retry count cannot be used with restart policy 'always'"),
    ({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}}, "maximum retry count cannot be negative"),
    ({"RestartPolicy": {"Name": "always"}, "AutoRemove": True}, "can't create 'AutoRemove' container with restart policy"),
])
def test_bad_values_are_refused_with_dockers_words(engine, cg, cfg, message):
    before = set(engine.containers)
    with pytest.raises(InvalidArgument) as err:
        engine.ctr.create(docker_body(Image="busybox", Cmd=["true"], **cfg))
    assert err.value.message == message
    assert set(engine.containers) == before


def test_cpus_beyond_the_host(engine, cg):
    n = os.cpu_count()
    with pytest.raises(InvalidArgument) as err:
        engine.ctr.create(docker_body(Image="busybox", Cmd=["true"], NanoCpus=(n + 1) * 1_000_000_000))
    assert err.value.message == f"Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available"


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/status") as f:
        return next(l.split()[1] for l in f if l.startswith("State:"))


def test_pause_freezes_the_cgroup(engine, cg):
    c = run(engine, "sleep", "600")
    engine_pause = __import__("minidocker.engine.pause", fromlist=["pause"])
    engine_pause.pause(engine, c.name)
    if cg.version == 1:
        assert _file(cg, "freezer", c.id, "freezer.state") == "FROZEN"
    assert cg.frozen(c.id)
    assert _state(c.pid) == "D"  # a frozen task sleeps uninterruptibly
    st = engine.inspect_container(c)["State"]
    assert (st["Status"], st["Running"], st["Paused"]) == ("paused", True, True)
    with pytest.raises(Conflict) as err:
        engine_pause.pause(engine, c.name)
    assert err.value.message == f"Container {c.id} is already paused"
    with pytest.raises(Conflict) as err:
        engine.ctr.remove(c.name)
    assert err.value.message == (f"You cannot remove a paused container {c.id}. Unpause and then stop the "
                                 "container before attempting removal or force remove")
    with pytest.raises(Conflict) as err:
        engine.ctr.exec(c.name, ["true"], [], "", False, None)
    assert err.value.message == f"Container {c.name} is paused, unpause the container before exec"
    engine_pause.unpause(engine, c.name)
    assert not cg.frozen(c.id) and _state(c.pid) == "S"
    with pytest.raises(Conflict) as err:
        engine_pause.unpause(engine, c.name)
    assert err.value.message == f"Container {c.id} is not paused"
    engine_pause.pause(engine, c.name)
    engine.ctr.kill(c.name, "TERM")  # Docker thaws after the signal: sleep as PID 1 ignores TERM
    st = engine.inspect_container(c)["State"]
    assert (st["Status"], st["Paused"]) == ("running", False)
    engine_pause.pause(engine, c.name)
    engine.ctr.stop(c.name, 1)
    st = engine.inspect_container(c)["State"]
    assert (st["Status"], st["Paused"], st["ExitCode"]) == ("exited", False, 137)
    with pytest.raises(Conflict) as err:
        engine_pause.pause(engine, c.name)
    assert err.value.message == f"Container {c.id} is not running"
    engine.ctr.remove(c.id)


def test_oom_kill_is_reported(engine, cg):
    c = run(engine, "sh", "-c", "head -c 50m /dev/zero | tail", Memory=8 * MiB)
    assert engine.ctr.wait(c.id) == 137
    st = engine.inspect_container(c)["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 137
    assert not cg.exists(c.id)  # removed when the process ended
    engine.ctr.start(c.id)  # a new run starts with a clean record
    assert engine.inspect_container(c)["State"]["OOMKilled"] is False
    engine.ctr.wait(c.id)
    engine.ctr.remove(c.id)


def test_update_changes_the_live_cgroup(engine, cg):
    from minidocker.engine import resources
    c = run(engine, "sleep", "600", Memory=64 * MiB)
    resources.update(engine, c.name, {"Memory": 32 * MiB, "MemorySwap": 64 * MiB, "NanoCpus": 1_000_000_000,
                                      "PidsLimit": 20, "RestartPolicy": {"Name": "always"}})
    if cg.version == 1:
        assert _file(cg, "memory", c.id, "memory.limit_in_bytes") == str(32 * MiB)
        assert _file(cg, "memory", c.id, "memory.memsw.limit_in_bytes") == str(64 * MiB)
        assert _file(cg, "cpu", c.id, "cpu.cfs_quota_us") == "100000"
        assert _file(cg, "pids", c.id, "pids.max") == "20"
    hc = engine.inspect_container(c)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["PidsLimit"]) == (32 * MiB, 64 * MiB, 10 ** 9, 20)
    assert hc["RestartPolicy"] == {"Name": "always", "MaximumRetryCount": 0}
    resources.update(engine, c.name, {"PidsLimit": -1})  # lifted
    if cg.version == 1:
        assert _file(cg, "pids", c.id, "pids.max") == "max"
        assert _file(cg, "memory", c.id, "memory.limit_in_bytes") == str(32 * MiB)  # the rest kept
    assert engine.inspect_container(c)["HostConfig"]["PidsLimit"] is None
    with pytest.raises(Conflict) as err:
        resources.update(engine, c.name, {"Memory": 100 * MiB})
    assert err.value.message == (f"Cannot update container {c.id}: Memory limit should be smaller than already "
                                 "set memoryswap limit, update the memoryswap at the same time")
    with pytest.raises(InvalidArgument) as err:
        resources.update(engine, c.name, {"Memory": MiB})
    assert err.value.message == "Minimum memory limit allowed is 6MB"
    if cg.version == 1:
        assert _file(cg, "memory", c.id, "memory.limit_in_bytes") == str(32 * MiB)  # nothing changed
    engine.ctr.stop(c.id, 0)
    engine.ctr.remove(c.id)


def test_stats_and_top_read_the_cgroup(engine, cg):
    from minidocker.engine import stats
    c = run(engine, "sleep", "600", Memory=64 * MiB, PidsLimit=50)
    ex(engine, c, "sh", "-c", "sleep 600 >/dev/null 2>&1 &")
    rec = next(stats.records(engine, c.id, stream=False, one_shot=True))
    assert rec["memory_stats"]["limit"] == 64 * MiB and rec["memory_stats"]["usage"] > 0
    assert rec["pids_stats"] == {"current": 2, "limit": 50}
    assert rec["cpu_stats"]["cpu_usage"]["total_usage"] > 0 and rec["cpu_stats"]["system_cpu_usage"] > 0
    assert rec["cpu_stats"]["online_cpus"] >= 1
    assert "eth0" in rec["networks"] and rec["name"] == "/" + c.name and rec["id"] == c.id
    assert rec["blkio_stats"]["io_service_bytes_recursive"] == []
    t = stats.top(engine, c.id)
    assert t["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert [p[7] for p in t["Processes"]] == ["sleep 600", "sleep 600"]
    assert t["Processes"][0][1] == str(c.pid) and t["Processes"][0][0] == "root"
    t = stats.top(engine, c.id, "-o pid,comm")
    assert t["Titles"] == ["PID", "COMMAND"] and t["Processes"][0] == [str(c.pid), "sleep"]
    engine.ctr.stop(c.id, 0)
    with pytest.raises(Conflict):
        stats.top(engine, c.id)
    rec = next(stats.records(engine, c.id, stream=False, one_shot=True))
    assert rec["read"] == "0001-01-01T00:00:00Z" and rec["memory_stats"] == {}
    engine.ctr.remove(c.id)

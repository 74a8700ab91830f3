"""The files each cgroup backend writes for a set of limits (pure rendering),
the v1/v2 choice, and the restart policy's decisions."""
import os

from minidocker.engine import restart_policy
from minidocker.runtime import cgroups
from minidocker.runtime.cgroups import Limits, render_v1, render_v2

MiB = 1024 * 1024


def test_v1_files_for_a_docker_run():
    lim = Limits(Memory=64 * MiB, MemorySwap=128 * MiB, NanoCpus=500_000_000, CpuShares=512, PidsLimit=50)
    assert render_v1(lim) == [
        ("memory", "memory.limit_in_bytes", str(64 * MiB)),
        ("memory", "memory.memsw.limit_in_bytes", str(128 * MiB)),
        ("memory", "memory.soft_limit_in_bytes", "-1"),
        ("cpu", "cpu.shares", "512"),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("pids", "pids.max", "50"),
    ]


def test_v1_unlimited_and_update_only_what_is_set():
    assert ("pids", "pids.max", "max") in render_v1(Limits())
    assert ("cpu", "cpu.cfs_quota_us", "-1") in render_v1(Limits())
    assert render_v1(Limits(PidsLimit=20), update=True) == [("pids", "pids.max", "20")]
    assert render_v1(Limits(CpuPeriod=50000, CpuQuota=25000), update=True) == [
        ("cpu", "cpu.cfs_period_us", "50000"), ("cpu", "cpu.cfs_quota_us", "25000")]


def test_v2_files_for_a_docker_run():
    lim = Limits(Memory=64 * MiB, MemorySwap=128 * MiB, MemoryReservation=32 * MiB, NanoCpus=1_500_000_000,
                 CpuShares=1024, PidsLimit=50)
    assert render_v2(lim) == [
        ("memory.max", str(64 * MiB)),
        ("memory.swap.max", str(64 * MiB)),   # v2 counts swap alone
        ("memory.low", str(32 * MiB)),
        ("cpu.weight", "39"),                 # runc's shares -> weight
        ("cpu.max", "150000 100000"),
        ("pids.max", "50"),
    ]
    assert render_v2(Limits()) == [("memory.max", "max"), ("memory.swap.max", "max"), ("memory.low", "0"),
                                   ("cpu.max", "max 100000"), ("pids.max", "max")]
    assert render_v2(Limits(MemorySwap=-1, Memory=10 * MiB), update=True) == [
        ("memory.max", str(10 * MiB)), ("memory.swap.max", "max")]


def test_shares_to_weight_bounds():
    assert cgroups.shares_to_weight(2) == 1
    assert cgroups.shares_to_weight(262144) == 10000


def test_detect_picks_the_hierarchy_the_host_has(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpu memory pids\n")
    assert isinstance(cgroups.detect("p", str(v2)), cgroups.V2)
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "unified").mkdir()
    (v1 / "unified" / "cgroup.controllers").write_text("")  # the hybrid layout: an empty cgroup2
    assert isinstance(cgroups.detect("p", str(v1)), cgroups.V1)
    assert cgroups.detect("p", str(tmp_path / "none")) is None


def test_v2_backend_writes_into_a_fake_tree(tmp_path):
    """The v2 backend's file writes, against a directory standing in for cgroup2."""
    root = tmp_path
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    cg = cgroups.V2("md", str(root))
    d = root / "md" / "abc"
    d.mkdir(parents=True)
    for name in ("memory.max", "memory.swap.max", "memory.low", "cpu.max", "pids.max", "cgroup.freeze"):
        (d / name).write_text("")
    (root / "md" / "cgroup.subtree_control").write_text("")
    cg.create("abc", Limits(Memory=8 * MiB, PidsLimit=5))
    assert (d / "memory.max").read_text() == str(8 * MiB)
    assert (d / "pids.max").read_text() == "5"
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert cg.procs_files("abc") == [os.path.join(str(d), "cgroup.procs")]
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert cg.oom_kills("abc") == 1


def test_restart_decisions_as_dockers_restartmanager():
    always = {"Name": "always", "MaximumRetryCount": 0}
    unless = {"Name": "unless-stopped", "MaximumRetryCount": 0}
    on_failure = {"Name": "on-failure", "MaximumRetryCount": 2}
    assert restart_policy.wants_restart(always, 0, True, 5)
    assert not restart_policy.wants_restart(unless, 0, True, 0)
    assert restart_policy.wants_restart(unless, 0, False, 0)
    assert restart_policy.wants_restart(on_failure, 1, False, 1)
    assert not restart_policy.wants_restart(on_failure, 1, False, 2)
    assert not restart_policy.wants_restart(on_failure, 0, False, 0)
    assert restart_policy.wants_restart({"Name": "on-failure", "MaximumRetryCount": 0}, 1, False, 99)
    assert not restart_policy.wants_restart({"Name": "no", "MaximumRetryCount": 0}, 1, False, 0)


def test_back_off_doubles_and_resets():
    d = 0.0
    seen = []
    for _ in range(12):
        d = restart_policy.next_delay(d, 0.5)
        seen.append(d)
    assert seen[:4] == [0.1, 0.2, 0.4, 0.8] and seen[-1] == 60.0
    assert restart_policy.next_delay(60.0, 10.0) == 0.1

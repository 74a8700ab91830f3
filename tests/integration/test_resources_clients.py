"""Resource limits, pause, update, stats, top and restart policies through our
CLI, the real docker CLI 20.10 and docker-py, with Docker's words and shapes."""
import json
import os
import re
import subprocess
import time

import pytest

from .dockerhelp import Docker, err

MiB = 1024 * 1024


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


def _cgroup_file(parent: str, ctrl: str, cid: str, name: str) -> str:
    with open(f"/sys/fs/cgroup/{ctrl}/{parent}/{cid}/{name}") as f:
        return f.read().strip()


def _v1() -> bool:
    return os.path.isdir("/sys/fs/cgroup/memory") and not os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def test_cli_run_limits_update_and_errors(cli, cgroup_parent):
    cid = cli.ok("run", "-d", "--name", "lim", "-m", "64m", "--cpus", "0.5", "-c", "512", "--pids-limit", "50",
                 "--restart", "on-failure:3", "busybox", "sleep", "600").strip()
    hc = json.loads(cli.ok("inspect", "lim"))[0]["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["CpuShares"], hc["PidsLimit"]) == \
        (64 * MiB, 128 * MiB, 500_000_000, 512, 50)
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    if _v1():
        assert _cgroup_file(cgroup_parent, "memory", cid, "memory.limit_in_bytes") == str(64 * MiB)
        assert _cgroup_file(cgroup_parent, "cpu", cid, "cpu.cfs_quota_us") == "50000"
    assert cli.ok("update", "-m", "32m", "--memory-swap", "64m", "--pids-limit", "20", "lim") == "lim\n"
    if _v1():
        assert _cgroup_file(cgroup_parent, "memory", cid, "memory.limit_in_bytes") == str(32 * MiB)
        assert _cgroup_file(cgroup_parent, "pids", cid, "pids.max") == "20"
    p = cli("update", "lim")
    assert (p.returncode, p.stderr) == (1, "you must provide one or more flags when using this command\n")
    p = cli("update", "-m", "1m", "lim")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: Minimum memory limit allowed is 6MB\n")
    n = os.cpu_count()
    p = cli("run", "--cpus", str(n + 1), "busybox", "true")
    assert p.returncode == 125 and p.stderr == (
        f"minidocker: Error response from daemon: Range of CPUs is from 0.01 to {n}.00, as there are only "
        f"{n} CPUs available.\nSee 'minidocker run --help'.\n")
    p = cli("run", "-m", "abc", "busybox", "true")
    assert p.returncode == 125 and p.stderr == (
        "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'\nSee 'minidocker run --help'.\n")
    p = cli("run", "--restart", "on-failure:x", "busybox", "true")
    assert p.returncode == 125 and p.stderr == (
        "minidocker: maximum retry count must be an integer.\nSee 'minidocker run --help'.\n")
    p = cli("run", "--rm", "--restart", "always", "busybox", "true")
    assert p.returncode == 125 and p.stderr == (
        "minidocker: Conflicting options: --restart and --rm.\nSee 'minidocker run --help'.\n")
    assert cli.ok("ps", "-aq").split() == [cid[:12]]  # nothing else was made
    cli.ok("rm", "-f", "lim")


def test_cli_pause_top_stats(cli, cgroup_parent):
    cid = cli.ok("run", "-d", "--name", "pz", "-m", "64m", "busybox", "sleep", "600").strip()
    assert cli.ok("pause", "pz") == "pz\n"
    if _v1():
        assert _cgroup_file(cgroup_parent, "freezer", cid, "freezer.state") == "FROZEN"
    assert re.fullmatch(r"Up .* \(Paused\)\n", cli.ok("ps", "--format", "{{.Status}}"))
    p = cli("pause", "pz")
    assert (p.returncode, p.stderr) == (1, f"Error response from daemon: Container {cid} is already paused\n")
    p = cli("exec", "pz", "true")
    assert p.returncode == 1 and "Container pz is paused, unpause the container before exec" in p.stderr
    assert cli.ok("unpause", "pz") == "pz\n"
    p = cli("unpause", "pz")
    assert (p.returncode, p.stderr) == (1, f"Error response from daemon: Container {cid} is not paused\n")
    top = cli.ok("top", "pz").splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert top[0].startswith("UID" + " " * 17 + "PID")  # docker's tabwriter: 20 wide
    assert top[1].split()[0] == "root" and top[1].endswith("sleep 600")
    out = cli.ok("stats", "--no-stream", "pz").splitlines()
    assert re.split(r"\s{2,}", out[0]) == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
                                           "NET I/O", "BLOCK I/O", "PIDS"]
    row = re.split(r"\s{2,}", out[1])
    assert row[0] == cid[:12] and row[1] == "pz" and row[2].endswith("%")
    assert row[3].endswith(" / 64MiB") and row[7] == "1"
    # streaming: the table again and again, each after a clear-screen, until interrupted
    proc = subprocess.Popen(cli.cmd("stats", "pz"), env=cli.env, stdout=subprocess.PIPE)
    buf = b""
    while buf.count(b"\033[2J\033[H") < 3 or buf.count(b"pz") < 2:
        chunk = proc.stdout.read1(4096)
        assert chunk, buf
        buf += chunk
    proc.terminate()
    proc.wait()
    proc.stdout.close()
    assert b"CONTAINER ID   NAME" in buf
    cli.ok("rm", "-f", "pz")


def test_docker_cli_speaks_the_same(docker, cgroup_parent):
    cid = docker.ok("run", "-d", "--name", "dk", "-m", "64m", "--pids-limit", "50", "busybox", "sleep", "600").strip()
    assert docker.ok("pause", "dk") == "dk\n"
    st = json.loads(docker.ok("inspect", "dk"))[0]["State"]
    assert (st["Status"], st["Paused"], st["Running"]) == ("paused", True, True)
    assert docker.ok("unpause", "dk") == "dk\n"
    out = docker.ok("stats", "--no-stream", "dk").splitlines()
    assert out[0].startswith("CONTAINER ID   NAME ")
    assert re.split(r"\s{2,}", out[1])[3].endswith(" / 64MiB")
    top = docker.ok("top", "dk").splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert docker.ok("top", "dk", "-o", "pid,comm").splitlines()[1].split()[1] == "sleep"
    assert docker.ok("update", "--cpus", "1", "--restart", "always", "dk") == "dk\n"
    hc = json.loads(docker.ok("inspect", "dk"))[0]["HostConfig"]
    assert hc["NanoCpus"] == 10 ** 9 and hc["RestartPolicy"]["Name"] == "always" and hc["PidsLimit"] == 50
    p = docker("update", "--cpus", "99", "dk")
    assert p.returncode == 1 and err(p).startswith("Error response from daemon: Range of CPUs is from 0.01 to")
    p = docker("run", "-m", "1m", "busybox", "true")
    assert p.returncode == 125 and "Minimum memory limit allowed is 6MB" in err(p)
    docker.ok("rm", "-f", "dk")
    p = docker("run", "--name", "oom", "-m", "8m", "busybox", "sh", "-c", "head -c 50m /dev/zero | tail")
    assert p.returncode == 137
    st = json.loads(docker.ok("inspect", "oom"))[0]["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 137
    docker.ok("rm", "oom")
    assert cid


def test_docker_py_resources(docker, cgroup_parent):
    client = docker.py()
    try:
        c = client.containers.run("busybox", ["sleep", "600"], detach=True, name="py", mem_limit="64m",
                                  nano_cpus=500_000_000, pids_limit=30,
                                  restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
        c.reload()
        hc = c.attrs["HostConfig"]
        assert (hc["Memory"], hc["NanoCpus"], hc["PidsLimit"]) == (64 * MiB, 500_000_000, 30)
        s = c.stats(stream=False)
        assert s["memory_stats"]["limit"] == 64 * MiB and s["pids_stats"]["current"] == 1
        assert s["precpu_stats"]["cpu_usage"]["total_usage"] > 0 and s["preread"] != "0001-01-01T00:00:00Z"
        first = next(c.stats(decode=True, stream=True))
        assert first["id"] == c.id
        t = c.top()
        assert t["Titles"][1] == "PID" and t["Processes"][0][7] == "sleep 600"
        c.pause()
        c.reload()
        assert c.status == "paused"
        c.unpause()
        c.update(mem_limit="32m", memswap_limit="64m")
        c.reload()
        assert c.attrs["HostConfig"]["Memory"] == 32 * MiB
        c.remove(force=True)
        r = client.containers.run("busybox", ["sh", "-c", "exit 2"], detach=True, name="rp",
                                  restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r.reload()
            if r.attrs["RestartCount"] == 2 and r.status == "exited":
                break
            time.sleep(0.1)
        assert r.attrs["RestartCount"] == 2 and r.attrs["State"]["ExitCode"] == 2
        r.remove()
    finally:
        client.close()

"""The real docker CLI 20.10 drives minidockerd: run (-d, --rm, -i, -it), attach,
wait, logs, exec, stop/kill/rm, ps/inspect — checked against the kernel."""
import json
import os
import time

import pytest

from .dockerhelp import Docker, err, in_netns, pid_alive


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


def test_run_detached_ps_inspect_logs_stop_rm(docker):
    cid = docker.ok("run", "-d", "--name", "web", "busybox", "sh", "-c",
                    "echo out; echo err >&2; exec sleep 600").strip()
    assert len(cid) == 64
    info = json.loads(docker.ok("inspect", "web"))[0]
    assert info["Id"] == cid and info["State"]["Running"] and info["Config"]["Cmd"][0] == "sh"
    pid = info["State"]["Pid"]
    assert pid_alive(pid)
    ip = info["NetworkSettings"]["IPAddress"]
    assert ip and f"inet {ip}/" in in_netns(pid, "ip", "-4", "addr", "show", "eth0")
    assert cid[:12] in docker.ok("ps")
    for _ in range(50):
        if docker("logs", "web").stdout:
            break
        time.sleep(0.1)
    p = docker("logs", "web")
    assert (p.stdout, err(p)) == ("out\n", "err\n")
    assert docker.ok("stop", "-t", "1", "web") == "web\n"
    assert not pid_alive(pid)
    assert docker.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web") == "exited 137\n"
    assert docker.ok("stop", "web") == "web\n"  # 304: already stopped
    assert docker.ok("rm", "web") == "web\n"
    assert docker("inspect", "web").returncode == 1


def test_run_rm_exit_code_and_output(docker):
    p = docker("run", "--rm", "--name", "once", "busybox", "sh", "-c", "echo hi; echo oops >&2; exit 7")
    assert (p.returncode, p.stdout, err(p)) == (7, "hi\n", "oops\n")
    assert docker("inspect", "once").returncode == 1  # removed
    assert docker.ok("ps", "-aq") == ""


def test_run_interactive_from_a_pipe(docker):
    p = docker("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done", input="piped\nlines\n")
    assert (p.returncode, p.stdout) == (0, "piped\nlines\ndone\n")


def test_run_attached_without_rm_then_start_attach_and_wait(docker):
    p = docker("run", "--name", "fg", "busybox", "sh", "-c", "echo run-$RANDOM; exit 3")
    assert p.returncode == 3 and p.stdout.startswith("run-")
    p = docker("start", "-a", "fg")
    assert p.returncode == 3 and p.stdout.startswith("run-")
    assert len(docker.ok("logs", "fg").splitlines()) == 2
    assert docker.ok("wait", "fg") == "3\n"


def test_exec_and_kill_and_rm_force(docker):
    docker.ok("run", "-d", "--name", "box", "busybox", "sleep", "600")
    pid = json.loads(docker.ok("inspect", "box"))[0]["State"]["Pid"]
    p = docker("exec", "box", "sh", "-c", "echo in-$(hostname); echo e >&2; exit 4")
    assert (p.returncode, err(p)) == (4, "e\n") and p.stdout.startswith("in-")
    p = docker("exec", "-i", "box", "cat", input="to-exec\n")
    assert (p.returncode, p.stdout) == (0, "to-exec\n")
    p = docker("exec", "box", "nosuchcmd")
    assert p.returncode == 126 or p.returncode == 127
    assert docker.ok("kill", "box") == "box\n"
    assert not pid_alive(pid)
    assert docker.ok("inspect", "-f", "{{.State.ExitCode}}", "box") == "137\n"
    docker.ok("start", "box")
    pid = json.loads(docker.ok("inspect", "box"))[0]["State"]["Pid"]
    p = docker("rm", "box")
    assert p.returncode == 1 and "You cannot remove a running container" in p.stderr
    assert docker.ok("rm", "-f", "box") == "box\n"
    assert not pid_alive(pid)


def test_logs_follow_ends_when_the_container_stops(docker):
    docker.ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done")
    t0 = time.monotonic()
    p = docker("logs", "-f", "ticker", timeout=30)
    assert p.stdout == "1\n2\n3\n" and time.monotonic() - t0 < 20
    p = docker("logs", "--tail", "1", "-t", "ticker")
    stamp, line = p.stdout.split(" ")
    assert line == "3\n" and stamp.endswith("Z") and len(stamp) == 30

"""The real docker CLI 20.10 drives minidockerd: run (-d, --rm, -i, -it), attach,
wait, logs, exec, stop/kill/rm, ps/inspect — checked against the kernel."""
import json
import os
import time

import pytest

from .dockerhelp import Docker, err, in_netns, in_pty, pid_alive


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


def test_run_it_and_exec_it_in_a_real_terminal(docker):
    code, out = in_pty(docker.cmd("run", "-it", "--rm", "--name", "tty1", "busybox", "sh"), docker.env,
                       ["echo got-$((6*7)); stty size\n", "exit 5\n"])
    assert code == 5 and "got-42" in out and "30 100" in out  # the resize reached the container's pty
    docker.ok("run", "-d", "--name", "box", "busybox", "sleep", "600")
    code, out = in_pty(docker.cmd("exec", "-it", "box", "sh"), docker.env,
                       ["echo in-$((6*7)); stty size\n", "exit 3\n"], rows=20, cols=70)
    assert code == 3 and "in-42" in out and "20 70" in out
    code, out = in_pty(docker.cmd("run", "-t", "--rm", "busybox", "sh", "-c", "tty; exit 2"), docker.env, [])
    assert code == 2 and "/dev/pts/0" in out


def test_networks_container_mode_static_ip_and_names(docker):
    docker.ok("network", "create", "--subnet", "10.77.0.0/24", "dnet")
    docker.ok("run", "-d", "--name", "aa", "--network", "dnet", "--ip", "10.77.0.50", "busybox", "sleep", "600")
    docker.ok("run", "-d", "--name", "bb", "--network", "dnet", "busybox", "sleep", "600")
    a = json.loads(docker.ok("inspect", "aa"))[0]
    assert a["NetworkSettings"]["Networks"]["dnet"]["IPAddress"] == "10.77.0.50"
    assert a["NetworkSettings"]["Networks"]["dnet"]["IPAMConfig"] == {"IPv4Address": "10.77.0.50"}
    assert "inet 10.77.0.50/24" in in_netns(a["State"]["Pid"], "ip", "-4", "addr", "show", "eth0")
    p = docker("exec", "bb", "ping", "-c", "1", "-W", "2", "aa")
    assert p.returncode == 0 and "10.77.0.50" in p.stdout
    p = docker("run", "--rm", "--network", "container:aa", "busybox", "ip", "-4", "addr", "show", "eth0")
    assert p.returncode == 0 and "inet 10.77.0.50/24" in p.stdout
    docker.ok("rm", "-f", "aa", "bb")
    docker.ok("network", "rm", "dnet")


def test_bad_input_creates_nothing(docker, cli):
    import socket
    sock = docker.sock

    def post(path, body: bytes, ctype="application/json"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: {ctype}\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, rest = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), rest
    status, body = post("/v1.41/containers/create", b'{"Image":"busybox","Cmd":5}')
    assert status == 500 and b"cannot unmarshal number" in body
    status, body = post("/v1.41/containers/create", b'{"Image":"busybox","Tty":"yes"}')
    assert status == 500 and b"ContainerConfigWrapper.Tty of type bool" in body
    status, body = post("/v1.41/containers/create", b'{"Image":"nosuchimage","Cmd":["true"]}')
    assert status == 404 and b"No such image: nosuchimage" in body
    status, body = post("/v1.41/containers/create", b'{}')
    assert status == 400 and b"Config cannot be empty in order to create a container" in body
    status, body = post("/v1.41/containers/create", b'{"Image":"busybox","HostConfig":{"NetworkMode":5}}')
    assert status == 500 and b"HostConfig.NetworkMode of type string" in body
    assert docker.ok("ps", "-aq") == ""
    # a string Cmd is Docker's strslice: one argument (so this one cannot be found at start)
    status, body = post("/v1.41/containers/create?name=str", b'{"Image":"busybox","Cmd":"echo hi"}')
    assert status == 201
    assert json.loads(docker.ok("inspect", "str"))[0]["Config"]["Cmd"] == ["echo hi"]
    p = docker("run", "--name", "str", "busybox", "true")
    assert p.returncode == 125 and 'The container name "/str" is already in use by container' in p.stderr
    p = docker("run", "--pull", "never", "nosuchimage")
    assert p.returncode == 125 and "No such image: nosuchimage" in p.stderr


def test_output_survives_a_daemon_restart(docker, cli, tmp_path):
    """The container writes into FIFOs it holds open itself: while no daemon reads
    them its writes wait in the pipe; the restarted daemon copies on, nothing lost."""
    import subprocess
    import sys
    from .test_cli_daemon import _wait_for_lock_free, _wait_for_socket
    docker.ok("run", "-d", "--name", "talker", "busybox", "sh", "-c",
              "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.1; done")
    pid = json.loads(docker.ok("inspect", "talker"))[0]["State"]["Pid"]
    cli.daemon.terminate()
    cli.daemon.wait(timeout=30)
    time.sleep(1)
    assert pid_alive(pid)
    _wait_for_lock_free(cli.run_dir)
    with open(tmp_path / "daemon2.log", "wb") as log:
        cli.daemon = subprocess.Popen([sys.executable, "-m", "minidocker.api.server", "--root",
                                       cli.env["MINIDOCKER_ROOT"], "--run", cli.run_dir],
                                      env=cli.env, stdout=log, stderr=log)
    _wait_for_socket(cli.run_dir, cli.daemon)
    time.sleep(1)
    lines = docker.ok("logs", "talker").split()
    assert lines == [f"line-{i}" for i in range(1, len(lines) + 1)] and len(lines) >= 15
    assert docker.ok("rm", "-f", "talker") == "talker\n"
    assert not pid_alive(pid)


def test_attach_to_a_running_terminal_and_rm_detached(docker):
    docker.ok("run", "-dit", "--name", "tt", "busybox", "sh")
    code, out = in_pty(docker.cmd("attach", "tt"), docker.env, ["echo att-$((6*7))\n", "exit 4\n"])
    assert code == 4 and "att-42" in out
    assert docker.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "tt") == "exited 4\n"
    cid = docker.ok("run", "--rm", "-d", "busybox", "sleep", "600").strip()
    pid = json.loads(docker.ok("inspect", cid))[0]["State"]["Pid"]
    docker.ok("stop", "-t", "0", cid)
    assert docker("inspect", cid).returncode == 1 and not pid_alive(pid)

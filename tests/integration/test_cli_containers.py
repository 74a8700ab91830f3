"""Issue 2 through the real CLI and a real daemon process."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from .enginehelp import ip_j


def test_run_exit_codes_and_output(cli):
    p = cli("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (p.returncode, p.stdout, p.stderr) == (3, "out\n", "err\n")
    p = cli("run", "--rm", "busybox", "nosuch")
    assert p.returncode == 127
    assert 'exec: "nosuch": executable file not found in $PATH' in p.stderr
    p = cli("run", "--rm", "busybox", "/etc/hosts")
    assert p.returncode == 126
    p = cli("run", "--rm", "nosuchimage", "true")  # Docker's --pull missing: look, then try to pull
    assert p.returncode == 125 and p.stderr.startswith("Unable to find image 'nosuchimage:latest' locally\n")
    p = cli("run", "--rm", "--pull", "never", "nosuchimage", "true")
    assert p.returncode == 125 and "No such image: nosuchimage:latest" in p.stderr
    assert cli.ok("ps", "-aq") == ""


def test_an_execve_that_fails_once_started_is_the_containers_own(cli, tmp_path):
    """As runc (Docker 20.10, runc 1.1): the start checks what runc's init checks
    before its exec fifo (found, a file, executable: 126/127 above); an execve
    failing after that (ENOEXEC, a shebang's missing interpreter) is a started
    container's line on stderr and exit code 1, with no start error."""
    (tmp_path / "bad").write_text("hello\n")
    (tmp_path / "bad3").write_text("#!/nonexistent-interpreter\n")
    for name in ("bad", "bad3"):
        os.chmod(tmp_path / name, 0o755)
    mount = f"{tmp_path}:/x"
    p = cli("run", "--rm", "-v", mount, "busybox", "/x/bad")
    assert (p.returncode, p.stdout, p.stderr) == (1, "", "exec /x/bad: exec format error\n")
    p = cli("run", "--rm", "-v", mount, "busybox", "/x/bad3")
    assert (p.returncode, p.stdout, p.stderr) == (1, "", "exec /x/bad3: no such file or directory\n")
    cid = cli.ok("run", "-d", "--name", "b1", "-v", mount, "busybox", "/x/bad").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert cli.ok("wait", "b1") == "1\n"
    assert cli.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{json .State.Error}}", "b1") \
        == 'exited 1 ""\n'
    p = cli("logs", "b1")
    assert (p.stdout, p.stderr) == ("", "exec /x/bad: exec format error\n")
    p = cli("start", "-a", "b1")
    assert (p.returncode, p.stdout, p.stderr) == (1, "", "exec /x/bad: exec format error\n")
    cli.ok("rm", "b1")


def test_run_options_env_workdir_hostname(cli):
    out = cli.ok("run", "--rm", "-e", "FOO=bar", "-w", "/tmp/wd", "--hostname", "box1", "busybox",
                 "sh", "-c", "echo $FOO; pwd; hostname; cat /etc/hostname")
    assert out.split() == ["bar", "/tmp/wd", "box1", "box1"]


def test_stdin_with_i(cli):
    assert cli.ok("run", "--rm", "-i", "busybox", "cat", input="piped\n") == "piped\n"
    assert cli.ok("run", "--rm", "busybox", "cat", input="ignored\n") == ""


def test_name_rules(cli):
    cli.ok("run", "-d", "--name", "web", "busybox", "sleep", "600")
    p = cli("run", "-d", "--name", "web", "busybox", "true")
    assert p.returncode == 125
    assert re.search(r'Conflict\. The container name "/web" is already in use by container "[0-9a-f]{64}"', p.stderr)
    p = cli("run", "--name", "a", "busybox", "true")
    assert p.returncode == 125 and "Invalid container name (a)" in p.stderr


def test_ps_inspect_stop_start_logs_rm(cli):
    cid = cli.ok("run", "-d", "--name", "c1", "busybox", "sh", "-c", "echo hello; sleep 600").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    lines = cli.ok("ps").splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert lines[1].startswith(cid[:12]) and '"sh -c \'echo hello; …"' in lines[1] and lines[1].endswith("c1")
    info = json.loads(cli.ok("inspect", "c1"))[0]
    assert info["Id"] == cid and info["Name"] == "/c1" and info["State"]["Running"] is True
    net = info["NetworkSettings"]
    assert net["IPAddress"] == "172.17.0.2" and net["MacAddress"] == "02:42:ac:11:00:02"
    assert net["Networks"]["bridge"]["Gateway"] == "172.17.0.1"
    assert cli.ok("inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", "c1") == "172.17.0.2\n"
    assert cli.ok("inspect", "-f", "{{.Config.Hostname}}", "c1") == cid[:12] + "\n"
    for _ in range(50):
        if cli.ok("logs", "c1"):
            break
        time.sleep(0.05)
    assert cli.ok("logs", "c1") == "hello\n"
    assert cli.ok("stop", "-t", "1", "c1") == "c1\n"
    assert cli.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "c1") == "exited 137\n"
    assert "Exited (137)" in cli.ok("ps", "-a")
    assert cli.ok("ps", "-q") == ""
    assert cli.ok("start", "c1") == "c1\n"
    assert cli.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "c1") == "172.17.0.2\n"
    assert cli.ok("exec", "c1", "hostname") == cid[:12] + "\n"
    p = cli("rm", "c1")
    assert p.returncode == 1 and "You cannot remove a running container" in p.stderr
    assert cli.ok("kill", "c1") == "c1\n"
    assert cli.ok("rm", "c1") == "c1\n"
    p = cli("inspect", "c1")
    assert p.returncode == 1 and "No such object: c1" in p.stderr


def test_exec_errors(cli):
    cli.ok("run", "-d", "--name", "c2", "busybox", "sleep", "600")
    p = cli("exec", "c2", "nosuch")
    assert p.returncode == 126 and "executable file not found" in (p.stdout + p.stderr)
    assert cli("exec", "c2", "sh", "-c", "exit 4").returncode == 4
    p = cli("exec", "nosuch", "true")
    assert p.returncode == 1 and p.stderr == "Error: No such container: nosuch\n"  # looked up first, as docker
    assert cli.ok("exec", "-e", "X=1", "c2", "sh", "-c", "echo $X") == "1\n"


def test_rm_f_leaves_nothing(cli):
    before = sorted(l["ifname"] for l in ip_j("link"))
    cli.ok("run", "-d", "--name", "x1", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "x2", "--network", "none", "busybox", "sleep", "600")
    assert cli.ok("rm", "-f", "x1", "x2") == "x1\nx2\n"
    assert sorted(l["ifname"] for l in ip_j("link")) == before
    assert os.listdir(os.path.join(cli.run_dir, "netns")) == []


def test_import_from_stdin_and_images(cli):
    tar = os.environ.get("MINIDOCKER_TEST_IMAGE_TAR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "rootfs", "build", "busybox.tar")
    with open(tar, "rb") as f:
        p = subprocess.run([sys.executable, "-m", "minidocker", "import", "-", "mybox"], stdin=f,
                           env=cli.env, capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("sha256:")
    assert "mybox" in cli.ok("images")
    assert cli.ok("run", "--rm", "mybox", "echo", "ok") == "ok\n"


def test_interactive_tty(cli, tmp_path):
    """`run -it` gives a working shell in a real terminal (driven through a pty)."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(cli.env)
        os.execv(sys.executable, [sys.executable, "-m", "minidocker", "run", "-it", "--rm", "busybox", "sh"])
    out = b""

    def read_until(token, timeout=10):
        nonlocal out
        deadline = time.time() + timeout
        while token not in out and time.time() < deadline:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
        return token in out
    assert read_until(b"# ")
    os.write(fd, b"tty; hostname; exit 7\r")
    read_until(b"exit 7", 5)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert b"/dev/pts/0" in out
    assert os.waitstatus_to_exitcode(status) == 7


def test_daemon_autostart(cli):
    """The CLI starts minidockerd when none runs, and says so on stderr."""
    cli.daemon.terminate()
    cli.daemon.wait(timeout=30)
    p = cli("ps")
    assert p.returncode == 0 and "starting minidockerd" in p.stderr
    assert os.path.exists(os.path.join(cli.run_dir, "minidockerd.pid"))


def test_logs_follow_until_exit(cli):
    cli.ok("run", "-d", "--name", "talker", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done")
    out = cli.ok("logs", "-f", "talker", timeout=30)
    assert out == "line1\nline2\nline3\n"
    assert cli.ok("inspect", "-f", "{{.State.Status}}", "talker") == "exited\n"


def test_run_detached_tty_goes_to_log(cli):
    cli.ok("run", "-d", "-t", "--name", "ttylog", "busybox", "sh", "-c", "tty; echo done")
    for _ in range(100):
        if "done" in cli.ok("logs", "ttylog"):
            break
        time.sleep(0.05)
    assert "/dev/pts/0" in cli.ok("logs", "ttylog")


def test_exec_detached(cli):
    cli.ok("run", "-d", "--name", "bg", "busybox", "sleep", "600")
    assert cli.ok("exec", "-d", "bg", "sh", "-c", "sleep 0.2; echo done > /tmp/flag") == ""
    for _ in range(100):
        if cli("exec", "bg", "cat", "/tmp/flag").stdout == "done\n":
            break
        time.sleep(0.05)
    assert cli.ok("exec", "bg", "cat", "/tmp/flag") == "done\n"


def test_foreground_output_is_logged_too(cli):
    p = cli("run", "--name", "fg", "busybox", "sh", "-c", "echo to-out; echo to-err >&2")
    assert (p.returncode, p.stdout, p.stderr) == (0, "to-out\n", "to-err\n")
    logs = cli("logs", "fg")  # as `docker logs`: each record on the stream it was written to
    assert (logs.returncode, logs.stdout, logs.stderr) == (0, "to-out\n", "to-err\n")


def test_usage_and_flag_errors_like_docker(cli):
    p = cli("run")
    assert p.returncode == 1 and p.stderr.startswith('"minidocker run" requires at least 1 argument.\n')
    p = cli("run", "--bogus", "busybox")
    assert (p.returncode, p.stderr) == (125, "unknown flag: --bogus\nSee 'minidocker run --help'.\n")
    p = cli("run", "--rm", "--add-host", "foo", "busybox", "true")
    assert (p.returncode, p.stderr) == (125, 'invalid argument "foo" for "--add-host" flag: bad format for '
                                             'add-host: "foo"\nSee \'minidocker run --help\'.\n')
    p = cli("run", "--rm", "--dns", "bad", "busybox", "true")
    assert p.returncode == 125 and "bad is not an ip address" in p.stderr
    env = dict(cli.env)
    env.pop("BAZ_UNSET", None)
    assert cli("run", "--rm", "-e", "BAZ_UNSET", "busybox", "sh", "-c", "env | grep -c BAZ_UNSET").stdout == "0\n"
    assert cli("run", "--name", "wdbad", "-w", "rel", "busybox", "true").returncode == 125
    assert cli.ok("ps", "-aq") == ""  # nothing was created
    p = cli("run", "--rm", "--network", "host", "-p", "8080:80", "busybox", "true")
    assert p.returncode == 0 and "Published ports are discarded" in p.stderr


def test_restart_and_port(cli):
    cli.ok("run", "-d", "--name", "rp", "-p", "8088:80", "busybox", "sleep", "600")
    # Docker 20.10 lists the IPv6 binding beside the IPv4 one (the test namespace has IPv6)
    assert cli.ok("port", "rp") == "80/tcp -> 0.0.0.0:8088\n80/tcp -> :::8088\n"
    assert cli.ok("port", "rp", "80") == "0.0.0.0:8088\n:::8088\n"
    pid1 = cli.ok("inspect", "-f", "{{.State.Pid}}", "rp")
    assert cli.ok("restart", "-t", "0", "rp") == "rp\n"
    assert cli.ok("inspect", "-f", "{{.State.Status}}", "rp") == "running\n"
    assert cli.ok("inspect", "-f", "{{.State.Pid}}", "rp") != pid1


def test_exec_detached_reports_start_failure(cli):
    cli.ok("run", "-d", "--name", "bg2", "busybox", "sleep", "600")
    p = cli("exec", "-d", "bg2", "nosuchcmd")  # as docker 20.10: the daemon's error on stderr, exit 1
    assert (p.returncode, p.stdout) == (1, "") and p.stderr == (
        'Error response from daemon: OCI runtime exec failed: exec failed: unable to start container process: '
        'exec: "nosuchcmd": executable file not found in $PATH: unknown\n')


def test_ps_filters_and_logs_tail(cli):
    cli.ok("network", "create", "fnet")
    cli.ok("run", "-d", "--name", "f-one", "--network", "fnet", "busybox", "sh", "-c", "seq 1 5; sleep 600")
    cli.ok("run", "--name", "f-two", "busybox", "true")
    assert cli.ok("ps", "--format", "{{.Names}}", "--filter", "network=fnet") == "f-one\n"
    assert cli.ok("ps", "--format", "{{.Names}}", "--filter", "status=exited") == "f-two\n"
    assert cli.ok("ps", "-a", "--format", "{{.Names}}", "--filter", "name=f-") == "f-two\nf-one\n"
    p = cli("ps", "--filter", "bogus=1")
    assert p.returncode == 1 and "Invalid filter 'bogus'" in p.stderr
    for _ in range(100):
        if cli.ok("logs", "f-one").count("\n") >= 5:
            break
        time.sleep(0.05)
    assert cli.ok("logs", "--tail", "2", "f-one") == "4\n5\n"
    assert cli.ok("logs", "-n", "0", "f-one") == ""

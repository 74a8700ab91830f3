"""Container runtime against the real kernel: a busybox rootfs built in tmp."""
import os
import select
import shutil
import signal
import subprocess
import threading
import time

import pytest

from minidocker.network import namespaces
from minidocker.engine import etcfiles
from minidocker.runtime import process
from minidocker.errors import StartError
from minidocker.runtime.exec import exec_

BUSYBOX = "/usr/bin/busybox"


@pytest.fixture(scope="session")
def image(tmp_path_factory):
    """A tiny image: bin/busybox + applet symlinks, etc/, proc/, sys/, dev/, tmp/."""
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox-static not installed")
    root = tmp_path_factory.mktemp("image") / "rootfs"
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "sbin", "usr/sbin"):
        (root / d).mkdir(parents=True)
    os.chmod(root / "tmp", 0o1777)
    subprocess.run(["cp", BUSYBOX, str(root / "bin/busybox")], check=True)
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", root / "bin" / a)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\ntty:x:5:\n")
    (root / "etc/hosts").write_text("127.0.0.1\timage-hosts\n")
    return str(root)


class Box:
    """A bundle dir plus helpers to run one container and read its log."""

    def __init__(self, image, path, name, run_dir=None):
        self.image = image
        self.run_dir = run_dir  # the supervisor's; None: a shim per container
        self.bundle = str(path / name)
        os.makedirs(self.bundle)
        self.log = os.path.join(self.bundle, "log")
        self.hostname = name
        etcfiles.write_etc_files(self.bundle, name, [("172.17.0.2", None)], "nameserver 127.0.0.11\noptions ndots:0\n")

    def spec(self, *argv, **kw):
        kw.setdefault("hostname", self.hostname)
        kw.setdefault("log_path", self.log)
        kw.setdefault("run_dir", self.run_dir)
        return process.ContainerSpec(id=self.hostname, image_rootfs=self.image, bundle_dir=self.bundle,
                                     argv=list(argv), **kw)

    def run(self, *argv, **kw):
        h = process.start(self.spec(*argv, **kw))
        code = process.wait(h)
        return code, self.output()

    def output(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""


@pytest.fixture(params=["supervisor", "per-container"])
def box(request, no_leaks, image, tmp_path):
    """Boxes of one mode: started by the run dir's supervisor, or each with its
    own shim. (Depends on no_leaks: the supervisor is gone before it looks.)"""
    boxes = []
    run_dir = f"/run/mdrt-{os.path.basename(tmp_path)}" if request.param == "supervisor" else None

    def make(name="c0ffee000001"):
        b = Box(image, tmp_path, name, run_dir)
        boxes.append(b)
        return b
    make.mode = request.param
    yield make
    for b in boxes:
        process.cleanup(b.bundle)
    if run_dir:
        process.release_supervisor(run_dir)
        assert not os.path.exists(os.path.join(run_dir, "supervisor.sock")), "supervisor still running"
        shutil.rmtree(run_dir, ignore_errors=True)


def test_echo_to_log(box, no_leaks):
    code, out = box().run("echo", "hi")
    assert (code, out) == (0, "hi\n")


def test_exit_codes(box, no_leaks):
    b = box()
    assert b.run("sh", "-c", "exit 3")[0] == 3
    assert b.run("true")[0] == 0
    st = process.exit_status(b.bundle)
    assert st["ExitCode"] == 0 and st["FinishedAt"].endswith("Z")


@pytest.mark.parametrize("argv,code,reason", [
    (["nosuch"], 127, 'exec: "nosuch": executable file not found in $PATH'),
    (["/nosuch"], 127, 'exec: "/nosuch": stat /nosuch: no such file or directory'),
    (["/etc/hosts"], 126, 'exec: "/etc/hosts": permission denied'),
    (["/etc"], 126, 'exec: "/etc": permission denied'),
])
def test_start_errors(box, no_leaks, argv, code, reason):
    b = box()
    with pytest.raises(StartError) as ei:
        process.start(b.spec(*argv))
    assert ei.value.code == code
    assert ei.value.reason == reason
    assert ei.value.message == ("failed to create shim task: OCI runtime create failed: runc create failed: "
                                f"unable to start container process: {reason}: unknown")
    assert process.exit_status(b.bundle) is None


def test_identity_and_fs(box, image, no_leaks):
    b = box("abcdef123456")
    script = ("hostname; echo pid=$$; cat /etc/hostname; grep abcdef /etc/hosts; cat /etc/resolv.conf;"
              "echo x > /dev/null && head -c3 /dev/zero | wc -c; ls /proc/self/ns >/dev/null && echo proc;"
              "echo written > /etc/newfile; echo more >> /etc/hosts; mount | grep -c ' / type overlay';"
              "ls /sys/class/net; pwd; echo $HOME $PATH $HOSTNAME; ls /dev/pts/ptmx /dev/shm -d")
    code, out = b.run("sh", "-c", script)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[:4] == ["abcdef123456", "pid=1", "abcdef123456", "172.17.0.2\tabcdef123456"]
    assert lines[4:6] == ["nameserver 127.0.0.11", "options ndots:0"]
    assert lines[6:9] == ["3", "proc", "1"]
    assert lines[-4] == "/"
    assert lines[-3] == "/root /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin abcdef123456"
    assert lines[-2:] == ["/dev/pts/ptmx", "/dev/shm"]
    assert not os.path.exists(os.path.join(image, "etc/newfile"))  # writes never reach the image
    assert open(os.path.join(image, "etc/hosts")).read() == "127.0.0.1\timage-hosts\n"
    assert os.path.exists(os.path.join(b.bundle, "upper/etc/newfile"))
    assert open(os.path.join(b.bundle, "hosts")).read().endswith("more\n")  # bind, not a copy


def test_cwd_created_and_env(box, no_leaks):
    code, out = box().run("sh", "-c", "pwd; echo $FOO", cwd="/a/b", env=["PATH=/bin", "FOO=bar"])
    assert (code, out) == (0, "/a/b\nbar\n")


def test_joined_netns(box, no_leaks, tmp_path):
    path = "/run/rt-test-netns"
    namespaces.create_netns(path)
    try:
        namespaces.run_in_netns(path, lambda: subprocess.run(
            ["ip", "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"], check=True))
        code, out = box().run("sh", "-c", "ls /sys/class/net | sort", netns=path)
        assert (code, out) == (0, "lo\nprobe0\nprobe1\n")
    finally:
        namespaces.delete_netns(path)


def test_stdin_pipe_and_output(box, no_leaks):
    b = box()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        h = process.start(b.spec("sh", "-c", "read x; echo got $x; echo err >&2",
                                 stdio_fds=(in_r, out_w, out_w), stdin_open=True))
    finally:
        os.close(in_r)
        os.close(out_w)
    os.write(in_w, b"ping\n")
    os.close(in_w)
    assert process.wait(h) == 0
    with os.fdopen(out_r) as f:
        assert f.read() == "got ping\nerr\n"


def test_tty_allocated_inside(box, no_leaks):
    b = box()
    h = process.start(b.spec("sh", "-c", "tty; echo $TERM", tty=True))
    assert h.pty_master is not None
    out = _drain(h.pty_master)
    assert process.wait(h) == 0
    assert out.replace("\r", "").splitlines() == ["/dev/pts/0", "xterm"]


def test_tty_slave_from_caller(box, no_leaks):
    b = box()
    master, slave = os.openpty()
    try:
        h = process.start(b.spec("sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo is-a-tty", tty=True,
                                 stdio_fds=(slave,)))
        os.close(slave)
        slave = -1
        out = _drain(master)
        assert process.wait(h) == 0
        assert "is-a-tty" in out
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def _drain(master, timeout=10):
    out = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if not select.select([master], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO once the last slave is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        pass
    return out.decode()


def test_exec_enters_namespaces(box, no_leaks):
    b = box("feedface0001")
    h = process.start(b.spec("sleep", "600"))
    try:
        r, w = os.pipe()
        try:
            code = exec_(h.pid, ["sh", "-c", "hostname; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'; echo $$; cat /etc/hostname; pwd"],
                         [], "/tmp", False, (w, w, w), run_dir=b.run_dir)
        finally:
            os.close(w)
        with os.fdopen(r) as f:
            out = f.read()
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == "feedface0001"
        assert lines[1] == "sleep"  # the container's pid 1, seen through its own /proc
        assert int(lines[2]) <= 4  # sleep, sh, ls, grep: nothing of the host
        assert 1 < int(lines[3]) < 10
        assert lines[4:] == ["feedface0001", "/tmp"]
        assert exec_(h.pid, ["sh", "-c", "exit 5"], [], "/", False, None, run_dir=b.run_dir) == 5
        with pytest.raises(StartError) as ei:
            exec_(h.pid, ["nosuch"], [], "/", False, None, run_dir=b.run_dir)
        assert ei.value.code == 126
        assert ei.value.message == ('OCI runtime exec failed: exec failed: unable to start container process: '
                                    'exec: "nosuch": executable file not found in $PATH: unknown')
        with pytest.raises(StartError) as ei:
            exec_(h.pid, ["pwd"], [], "/newdir", False, None, run_dir=b.run_dir)
        assert ei.value.reason == 'chdir to cwd ("/newdir") set in config.json failed: no such file or directory'
    finally:
        process.stop(h, timeout=0)
    assert process.exit_status(b.bundle)["ExitCode"] == 137


def test_stop_waits_for_timeout_when_sigterm_ignored(box, no_leaks):
    b = box()
    h = process.start(b.spec("sleep", "600"))
    assert process.is_running(h)
    t0 = time.monotonic()
    assert process.stop(h, timeout=1) == 137
    took = time.monotonic() - t0
    assert 1.0 <= took < 3, took
    assert not process.is_running(h)


def test_stop_with_handler_is_fast(box, no_leaks):
    b = box()
    h = process.start(b.spec("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"))
    time.sleep(0.2)
    t0 = time.monotonic()
    assert process.stop(h, timeout=5) == 0
    assert time.monotonic() - t0 < 1.5


def test_wait_after_daemon_forgot_shim(box, no_leaks):
    """A restarted daemon has only the serialized handle: wait/kill still work."""
    if box.mode == "supervisor":
        pytest.skip("no shim of its own (see test_supervisor.py)")
    b = box()
    h = process.start(b.spec("sleep", "600"))
    h2 = process.Handle.from_dict(h.to_dict())
    with process._lock:
        proc = process._shims.pop(h.shim_pid)
    assert process.is_running(h2)
    assert process.kill(h2, signal.SIGKILL)
    result = []
    t = threading.Thread(target=lambda: result.append(process.wait(h2)))
    t.start()
    t.join(10)
    assert result == [137]
    proc.wait()  # we are still its parent in the test: reap it


def test_start_plus_wait_true_timing(box, no_leaks):
    b = box()
    b.run("true")
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        assert b.run("true")[0] == 0
        times.append(time.monotonic() - t0)
    best = min(times)
    print(f"start+wait of true: best {best * 1000:.1f} ms, median {sorted(times)[2] * 1000:.1f} ms")
    assert best < 1.0


def test_exec_tty_and_env(box, no_leaks):
    b = box()
    h = process.start(b.spec("sleep", "600", env=["PATH=/bin", "A=1"]))
    masters = []
    try:
        code = exec_(h.pid, ["sh", "-c", "tty; echo $A $B $TERM"], ["B=2"], "/", True, None, on_pty=masters.append,
                     run_dir=b.run_dir)
        assert code == 0
        out = _drain(masters[0])
        assert out.replace("\r", "").splitlines() == ["/dev/pts/0", "1 2 xterm"]
    finally:
        for m in masters:
            os.close(m)
        process.stop(h, timeout=0)


def test_exec_stdin(box, no_leaks):
    b = box()
    h = process.start(b.spec("sleep", "600"))
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        os.write(in_w, b"hello\n")
        os.close(in_w)
        assert exec_(h.pid, ["cat"], [], "/", False, (in_r, out_w, out_w), stdin_open=True,
                     run_dir=b.run_dir) == 0
        os.close(out_w)
        with os.fdopen(out_r) as f:
            assert f.read() == "hello\n"
    finally:
        os.close(in_r)
        process.stop(h, timeout=0)


def test_log_mode_stdin_is_dev_null(box, no_leaks):
    code, out = box().run("sh", "-c", "cat; echo done; echo err >&2")
    assert (code, out) == (0, "done\nerr\n")


def test_concurrent_starts_from_threads(box, no_leaks):
    boxes = [box(f"c0ffee00000{i}") for i in range(6)]
    results = {}

    def go(b, i):
        results[i] = b.run("sh", "-c", f"hostname; exit {i}")

    threads = [threading.Thread(target=go, args=(b, i)) for i, b in enumerate(boxes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {i: (i, f"c0ffee00000{i}\n") for i in range(6)}

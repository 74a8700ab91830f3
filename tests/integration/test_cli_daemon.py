"""`minidocker daemon` in the foreground, and the daemon the CLI starts by itself."""
import fcntl
import os
import subprocess
import time


def _wait_for_socket(run_dir: str, proc) -> None:
    sock = os.path.join(run_dir, "minidocker.sock")
    for _ in range(500):
        if os.path.exists(sock):
            return
        assert proc.poll() is None, "the daemon exited"
        time.sleep(0.02)
    raise AssertionError("no daemon socket")


def _wait_for_lock_free(run_dir: str) -> None:
    """Until nothing holds the run dir's daemon lock (the stopped daemon is wholly gone)."""
    fd = os.open(os.path.join(run_dir, "minidockerd.lock"), os.O_RDWR)
    try:
        for _ in range(500):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                time.sleep(0.02)
        raise AssertionError("the stopped daemon's lock is still held")
    finally:
        os.close(fd)


def test_daemon_command_execs_minidockerd(cli, tmp_path):
    cli.daemon.terminate()
    cli.daemon.wait(timeout=30)
    _wait_for_lock_free(cli.run_dir)
    stale = os.path.join(cli.run_dir, "minidocker.sock")
    if os.path.exists(stale):  # a daemon stopped before it set up its signal handlers leaves it
        os.unlink(stale)
    log_path = tmp_path / "foreground.log"
    with open(log_path, "wb") as log:
        d = subprocess.Popen(cli.cmd("daemon", "--root", cli.env["MINIDOCKER_ROOT"]), env=cli.env,
                             stdout=log, stderr=log)
    cli.daemon = d  # the fixture stops it
    try:
        _wait_for_socket(cli.run_dir, d)
        with open(f"/proc/{d.pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        assert b"minidocker.api.server" in argv  # the same process became minidockerd
        assert "bridge" in cli.ok("network", "ls")
    except AssertionError as ex:
        raise AssertionError(f"{ex}\ndaemon log:\n{log_path.read_text()}") from None


def test_autostart_says_so_and_appends_to_its_log(cli):
    cli.daemon.terminate()
    cli.daemon.wait(timeout=30)
    log = os.path.join(cli.run_dir, "minidockerd.log")
    with open(log, "w") as f:
        f.write("an earlier run\n")
    p = cli("ps")
    assert p.returncode == 0
    assert f"minidocker: daemon not running; starting minidockerd (log: {log})" in p.stderr
    with open(log) as f:
        assert f.read().startswith("an earlier run\n")

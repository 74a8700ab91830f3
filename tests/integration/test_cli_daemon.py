"""`minidocker daemon` in the foreground, and the daemon the CLI starts by itself."""
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


def test_daemon_command_execs_minidockerd(cli, tmp_path):
    cli.daemon.terminate()
    cli.daemon.wait(timeout=30)
    log = open(tmp_path / "foreground.log", "wb")
    d = subprocess.Popen(cli.cmd("daemon", "--root", cli.env["MINIDOCKER_ROOT"]), env=cli.env,
                         stdout=log, stderr=log)
    cli.daemon = d  # the fixture stops it
    _wait_for_socket(cli.run_dir, d)
    with open(f"/proc/{d.pid}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    assert b"minidocker.api.server" in argv  # the same process became minidockerd
    assert "bridge" in cli.ok("network", "ls")


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

"""minidockerd logs through `logging` on stderr, with timestamps and levels: one
line per request with --debug, none without."""
import os
import re
import subprocess
import sys
import time

REQUEST = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} DEBUG minidockerd: "
                     r"(?P<method>[A-Z]+) (?P<target>/\S*) (?P<status>\d{3}) \d+\.\dms$", re.M)


def test_request_lines_only_with_debug(cli, tmp_path):
    cli.ok("ps")
    cli.ok("network", "ls")
    quiet = (tmp_path / "daemon.log").read_text()  # the fixture's daemon, started without --debug
    assert re.search(r"^\S+ INFO minidockerd: serving on ", quiet, re.M), quiet
    assert not REQUEST.search(quiet), quiet

    cli.daemon.terminate()
    cli.daemon.wait(timeout=30)
    sock = os.path.join(cli.run_dir, "minidocker.sock")
    with open(tmp_path / "debug.log", "wb") as log:  # the fixture stops it through its pid file
        d = subprocess.Popen([sys.executable, "-m", "minidocker.api.server", "--debug",
                              "--root", cli.env["MINIDOCKER_ROOT"], "--run", cli.run_dir],
                             env=cli.env, stdout=log, stderr=log)
    for _ in range(500):
        if os.path.exists(sock) or d.poll() is not None:
            break
        time.sleep(0.02)
    cli.ok("ps", "-a")
    p = cli("network", "inspect", "nosuch")
    assert p.returncode == 1
    text = (tmp_path / "debug.log").read_text()
    seen = [(m["method"], m["target"], m["status"]) for m in REQUEST.finditer(text)]
    assert ("GET", "/v1.41/containers/json?all=1", "200") in seen, text
    assert ("GET", "/v1.41/networks/nosuch", "404") in seen, text

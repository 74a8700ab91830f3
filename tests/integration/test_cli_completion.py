"""Shell completion (click's `_MINIDOCKER_COMPLETE`) against a real daemon, and without one."""
import os
import subprocess

import pytest


def complete(cli, line: str, env=None) -> list[str]:
    """What bash would be offered after typing `line` (the word being completed is its last)."""
    words = line.split(" ")
    env = dict(env or cli.env, _MINIDOCKER_COMPLETE="bash_complete", COMP_WORDS=line, COMP_CWORD=str(len(words) - 1))
    p = subprocess.run(cli.cmd(), env=env, capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stderr) == (0, ""), p
    return [item.partition(",")[2] for item in p.stdout.splitlines() if item]


def test_completes_container_and_network_names(cli):
    cli.ok("network", "create", "--subnet", "172.29.0.0/16", "compnet")
    cli.ok("run", "-d", "--name", "compweb", "busybox", "sleep", "600")
    cli.ok("run", "--name", "compdone", "busybox", "true")  # exited: offered too

    assert {"compweb", "compdone"} <= set(complete(cli, "minidocker inspect "))
    assert complete(cli, "minidocker logs compw") == ["compweb"]
    for verb in ("exec", "stop", "start", "restart", "kill", "rm", "port"):
        assert complete(cli, f"minidocker {verb} compd") == ["compdone"], verb
    assert "compnet" in complete(cli, "minidocker network rm ")
    assert {"bridge", "host", "none", "compnet"} <= set(complete(cli, "minidocker network inspect "))
    assert complete(cli, "minidocker run --network comp") == ["compnet"]
    assert complete(cli, "minidocker network connect comp") == ["compnet"]
    assert complete(cli, "minidocker network connect compnet compw") == ["compweb"]
    assert complete(cli, "minidocker network disconnect compnet compw") == ["compweb"]
    assert complete(cli, "minidocker inspect --type network compn") == ["compnet"]


def test_no_daemon_completes_nothing_and_starts_nothing(cli, tmp_path):
    run = tmp_path / "norun"
    run.mkdir()
    env = dict(cli.env, MINIDOCKER_RUN=str(run))
    assert complete(cli, "minidocker inspect ", env) == []
    assert complete(cli, "minidocker network rm ", env) == []
    assert os.listdir(run) == []  # no socket, no pid file, no log: no daemon was started


@pytest.mark.parametrize("shell,marker", [("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")])
def test_source_scripts(cli, shell, marker):
    p = subprocess.run(cli.cmd(), env=dict(cli.env, _MINIDOCKER_COMPLETE=f"{shell}_source"),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and marker in p.stdout and "_MINIDOCKER_COMPLETE" in p.stdout, p


def test_bash_script_end_to_end(cli, tmp_path):
    """The sourced bash script, as bash runs it on <TAB>, fills COMPREPLY from the daemon."""
    cli.ok("run", "-d", "--name", "tabweb", "busybox", "sleep", "600")
    bindir = tmp_path / "bin"  # `minidocker` as the shell finds it on PATH
    bindir.mkdir()
    (bindir / "minidocker").write_text("#!/bin/sh\nexec " + " ".join(cli.cmd()) + ' "$@"\n')
    (bindir / "minidocker").chmod(0o755)
    script = ('eval "$(_MINIDOCKER_COMPLETE=bash_source minidocker)"\n'
              'COMP_WORDS=(minidocker exec tab); COMP_CWORD=2\n'
              '_minidocker_completion minidocker\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = dict(cli.env, PATH=f"{bindir}:{os.environ['PATH']}")
    p = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, "tabweb\n", "")

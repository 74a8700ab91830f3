"""The CLI is a thin client: it must not load the heavy libraries the daemon uses."""
import os
import subprocess
import sys

from click.testing import CliRunner


def test_cli_imports_nothing_heavy():
    code = ("import sys, minidocker.cli.main, minidocker.api.client; "
            "heavy = [m for m in ('pyroute2', 'scapy', 'dnslib') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_help_lists_docker_verbs():
    out = subprocess.run([sys.executable, "-m", "minidocker", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for verb in ("run", "ps", "exec", "stop", "kill", "start", "rm", "logs", "inspect", "network", "import",
                 "images", "daemon"):
        assert f"  {verb} " in out


def test_cli_loads_the_template_engine_only_to_format():
    code = ("import sys, minidocker.cli.main; "
            "print(sorted(m for m in sys.modules if m.startswith('minidocker.cli.template')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_imports_no_daemon_side_module():
    """cli -> api.client only: never the server, the engine or the kernel-facing packages."""
    code = ("import sys, minidocker.cli.main; "
            "print(sorted(m for m in sys.modules if m.startswith(('minidocker.api.server', 'minidocker.engine', "
            "'minidocker.network', 'minidocker.firewall', 'minidocker.dns', 'minidocker.runtime', "
            "'minidocker.observe'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_daemon_command_execs_the_server_with_its_flags(monkeypatch):
    """`minidocker daemon` replaces the CLI process with minidockerd instead of importing it."""
    from minidocker.cli.main import cli
    calls = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append((path, argv)))
    CliRunner().invoke(cli, ["daemon", "--root", "/srv/md", "--debug"], catch_exceptions=False)
    CliRunner().invoke(cli, ["daemon"], catch_exceptions=False)
    server = [sys.executable, "-m", "minidocker.api.server"]
    assert calls == [(sys.executable, server + ["--root", "/srv/md", "--debug"]), (sys.executable, server)]

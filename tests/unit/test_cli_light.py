"""The CLI is a thin client: it must not load the heavy libraries the daemon uses."""
import subprocess
import sys


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

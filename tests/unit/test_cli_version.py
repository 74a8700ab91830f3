"""`minidocker --version` is answered before the click command tree loads, and says
exactly what the click path says."""
import subprocess
import sys

from click.testing import CliRunner


def test_version_answers_without_importing_click():
    for flag in ("--version", "-v"):
        p = subprocess.run([sys.executable, "-X", "importtime", "-m", "minidocker", flag],
                           capture_output=True, text=True, check=True)
        assert p.stdout == "minidocker version 0.1.0\n"
        imported = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
        assert "minidocker" in imported  # the importtime report is read correctly
        assert not {m for m in imported if m == "click" or m.startswith("click.")}


def test_click_path_prints_the_same_version():
    from minidocker.cli.main import cli
    for flag in ("--version", "-v"):
        res = CliRunner().invoke(cli, [flag], catch_exceptions=False)
        assert (res.exit_code, res.output) == (0, "minidocker version 0.1.0\n")


def test_other_command_lines_go_to_click():
    """Only a lone --version takes the short path: with another flag it is click's."""
    p = subprocess.run([sys.executable, "-m", "minidocker", "--explain", "--version"],
                       capture_output=True, text=True, check=True)
    assert p.stdout == "minidocker version 0.1.0\n"
    p = subprocess.run([sys.executable, "-m", "minidocker", "--versio"], capture_output=True, text=True)
    assert p.returncode == 125 and "unknown flag: --versio" in p.stderr


def test_version_is_the_packages():
    import tomllib
    from pathlib import Path
    from minidocker.cli.entry import VERSION
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert VERSION == pyproject["project"]["version"]

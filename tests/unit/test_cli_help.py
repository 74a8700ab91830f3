"""Every command and option of the CLI has help text (Docker's own words where Docker has the flag)."""
import click

from minidocker.cli.main import cli

cli.list_commands(None)  # every command's module (they load lazily)


def _walk(cmd: click.Command, path: str):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from _walk(sub, f"{path} {name}")


def test_every_command_and_option_has_help():
    missing = []
    for path, cmd in _walk(cli, "minidocker"):
        if not (cmd.help or cmd.short_help or "").strip():
            missing.append(path)
        for p in cmd.params:
            if isinstance(p, click.Option) and "--help" not in p.opts and not (p.help or "").strip():
                missing.append(f"{path} {'/'.join(p.opts)}")
    assert not missing, "no help text: " + ", ".join(missing)


def test_the_walk_sees_the_whole_tree():
    paths = {path for path, _ in _walk(cli, "minidocker")}
    assert {"minidocker run", "minidocker network create", "minidocker network graph", "minidocker daemon"} <= paths


def test_docker_wording():
    helps = {o.name: o.help for o in cli.commands["run"].params}
    assert helps["detach"] == "Run container in background and print container ID"
    assert helps["network"] == "Connect a container to a network"
    create = cli.commands["network"].commands["create"]
    assert {o.name: o.help for o in create.params}["subnet"] == "Subnet in CIDR format that represents a network segment"


def test_every_command_is_in_the_lazy_map():
    """A command defined in a module the lazy map does not name would never load."""
    import pathlib
    import re
    src = pathlib.Path(__file__).resolve().parents[2] / "minidocker" / "cli"
    defined = {}
    for f in src.glob("*.py"):
        for name in re.findall(r'@cli\.(?:command|group)\("([^"]+)"', f.read_text()):
            defined[name] = f.stem
    defined["create"] = "verb_commands"  # made from run's flags (cli.add_command)
    own = {n for n, m in defined.items() if m == "main"}
    assert {n: f"minidocker.cli.{m}" for n, m in defined.items() if n not in own} == cli.lazy

"""Every command and option of the CLI has help text (Docker's own words where Docker has the flag)."""
import click

from minidocker.cli.main import cli


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

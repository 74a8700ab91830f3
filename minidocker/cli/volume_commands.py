"""`minidocker volume create|ls|inspect|rm|prune`, worded as the docker 20.10 CLI."""
import sys

import click

from minidocker.api.client import APIError, q
from minidocker.cli.base import CTX, api_errors, cli, filters_query, for_each, get_or_none


def human_size(n: float) -> str:
    """go-units HumanSize: decimal units, 4 significant digits."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000.0
        i += 1
    return f"{n:.4g}{units[i]}"


@cli.group("volume", context_settings=CTX)
def volume():
    """Manage volumes."""


@volume.command("create", context_settings=CTX)
@click.option("-d", "--driver", default="local", help='Specify volume driver name (default "local")')
@click.option("--label", "labels", multiple=True, help="Set metadata for a volume")
@click.option("-o", "--opt", "opts", multiple=True, help="Set driver specific options")
@click.option("--name", "name_opt", default="", help="Specify volume name")
@click.argument("name", required=False)
@click.pass_obj
@api_errors()
def create(st, driver, labels, opts, name_opt, name):
    """Create a volume."""
    if name and name_opt and name != name_opt:
        click.echo(f'Conflicting options: either specify --name or provide positional arg, not both', err=True)
        sys.exit(1)
    body = {"Name": name or name_opt, "Driver": driver,
            "DriverOpts": {k: v for k, _, v in (o.partition("=") for o in opts)},
            "Labels": {k: v for k, _, v in (lab.partition("=") for lab in labels)}}
    click.echo(st.client().post("/volumes/create", body)["Name"])


@volume.command("ls", context_settings=CTX)
@click.option("-q", "--quiet", is_flag=True, help="Only display volume names")
@click.option("-f", "--filter", "filters", multiple=True, help="Provide filter values (e.g. 'dangling=true')")
@click.option("--format", "fmt", default="", help="Pretty-print volumes using a Go template")
@click.pass_obj
@api_errors()
def ls(st, quiet, filters, fmt):
    """List volumes."""
    vols = st.client().get("/volumes", query={"filters": filters_query(filters)})["Volumes"] or []
    vols = sorted(vols, key=lambda v: v["Name"])
    if quiet:
        for v in vols:
            click.echo(v["Name"])
        return
    from minidocker.cli.template.tableformat import render_table
    rows = [{"Driver": v["Driver"], "Name": v["Name"], "Mountpoint": v["Mountpoint"], "Scope": v["Scope"],
             "Labels": ",".join(f"{k}={val}" for k, val in (v.get("Labels") or {}).items())} for v in vols]
    click.echo(render_table(fmt or "table {{.Driver}}\t{{.Name}}", rows,
                            {".Driver": "DRIVER", ".Name": "VOLUME NAME", ".Mountpoint": "MOUNTPOINT",
                             ".Scope": "SCOPE", ".Labels": "LABELS"}), nl=False)


@volume.command("inspect", context_settings=CTX)
@click.option("-f", "--format", "fmt", default="", help="Format the output using the given Go template")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def inspect(st, fmt, names):
    """Display detailed information on one or more volumes."""
    from minidocker.cli.container_commands import inspect_each
    client = st.client()
    inspect_each(names, lambda ref: get_or_none(client, f"/volumes/{q(ref)}"), "volume", fmt)


def _rm_error(ex: APIError) -> None:
    if ex.status == 404:
        click.echo(f"Error: No such volume: {ex.message.split(':')[0].removeprefix('get ')}", err=True)
    else:
        click.echo(f"Error response from daemon: {ex.message}", err=True)


@volume.command("rm", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Force the removal of one or more volumes")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def rm(st, force, names):
    """Remove one or more volumes."""
    def remove(ref):
        st.client().delete(f"/volumes/{q(ref)}", query={"force": "1" if force else None})
    if for_each(names, remove, _rm_error):
        sys.exit(1)


@volume.command("prune", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. 'label=<label>')")
@click.pass_obj
@api_errors()
def prune(st, force, filters):
    """Remove all unused local volumes."""
    if not force:
        click.echo("WARNING! This will remove all local volumes not used by at least one container.")
        if not click.confirm("Are you sure you want to continue?", default=False, prompt_suffix=" [y/N] ",
                             show_default=False):
            return
    res = st.client().post("/volumes/prune", query={"filters": filters_query(filters)})
    gone = res.get("VolumesDeleted") or []
    if gone:
        click.echo("Deleted Volumes:\n" + "".join(f"{n}\n" for n in gone))
    click.echo(f"Total reclaimed space: {human_size(res.get('SpaceReclaimed') or 0)}")

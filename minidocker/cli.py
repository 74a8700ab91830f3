"""The `minidocker` command line: Docker's verbs, flags, output and errors.

A thin edge: parse, send one request to minidockerd, print. No kernel work and no
heavy imports here (click, the stdlib client, and the pure template renderer).
"""
import json
import sys

import click

from .cli_base import CTX, api_fail, cli, fail
from .client import APIError
from . import cli_containers, cli_networks  # noqa: E402,F401  (register commands)


@cli.command("daemon", context_settings=CTX)
@click.option("--root", default=None)
def daemon_cmd(root):
    """Run minidockerd in the foreground."""
    from .daemon import main as dmain
    sys.exit(dmain(["--root", root] if root else []))


@cli.command("import", context_settings=CTX)
@click.option("-c", "--change", "changes", multiple=True, help="Dockerfile instruction: ENV or CMD")
@click.argument("source")
@click.argument("name")
@click.pass_obj
def import_cmd(st, changes, source, name):
    """Import a root filesystem tarball (FILE or - for stdin) as image NAME."""
    try:
        f = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as ex:
        fail(f"open {source}: {ex.strerror.lower()}", prefix=False)
    try:
        res = st.client().post("/images/create", query={"fromSrc": "-", "repo": name,
                                                       "changes": json.dumps(list(changes))}, fds=[f.fileno()])
    except APIError as ex:
        api_fail(ex)
    click.echo(res["Id"])


@cli.command("images", context_settings=CTX)
@click.option("-q", "--quiet", is_flag=True)
@click.pass_obj
def images_cmd(st, quiet):
    """List images."""
    try:
        imgs = st.client().get("/images/json")
    except APIError as ex:
        api_fail(ex)
    rows = []
    for m in imgs:
        repo, _, tag = m["RepoTags"][0].rpartition(":")
        rows.append({"Repository": repo, "Tag": tag, "ID": m["Id"].split(":")[-1][:12],
                     "CreatedSince": m["Created"][:19].replace("T", " "),
                     "Size": f"{m.get('Size', 0) / 1e6:.2f}MB"})
    if quiet:
        for r in rows:
            click.echo(r["ID"])
        return
    from . import gotemplate  # only the listing commands pay for the template engine
    click.echo(gotemplate.render_table("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
                                       rows, {".Repository": "REPOSITORY", ".Tag": "TAG", ".ID": "IMAGE ID",
                                              ".CreatedSince": "CREATED", ".Size": "SIZE"}), nl=False)


def main():
    cli(prog_name="minidocker")


if __name__ == "__main__":
    main()

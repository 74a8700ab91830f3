"""A container's filesystem from the command line: `cp`, `diff`, `commit`,
`export`, `rmi`, `container prune`, worded as the docker 20.10 CLI."""
import base64
import json
import os
import sys
import tarfile

import click

from minidocker.api.client import APIError, q
from minidocker.api.framing import PiecesReader
from minidocker.cli.base import CTX, api_errors, cli, fail, filters_query
from minidocker.cli.volume_commands import human_size

KINDS = {0: "C", 1: "A", 2: "D"}


def _split(arg: str) -> tuple[str, str]:
    """docker's splitCpArg: CONTAINER:PATH, unless the part before ':' looks like a
    local path (absolute or starting with '.')."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return "", arg
    c, _, p = arg.partition(":")
    return c, p


@cli.command("cp", context_settings=CTX)
@click.option("-a", "--archive", is_flag=True, help="Archive mode (copy all uid/gid information)")
@click.option("-L", "--follow-link", is_flag=True, help="Always follow symbol link in SRC_PATH")
@click.argument("src")
@click.argument("dest")
@click.pass_obj
def cp_cmd(st, archive, follow_link, src, dest):
    """Copy files/folders between a container and the local filesystem."""
    src_c, src_p = _split(src)
    dest_c, dest_p = _split(dest)
    if src_c and dest_c:
        fail("copying between containers is not supported", prefix=False)
    if not src_c and not dest_c:
        fail("must specify at least one container source", prefix=False)
    client = st.client()
    if src_c:
        _copy_from(client, src_c, src_p, dest_p)
    else:
        _copy_to(client, src_p, dest_c, dest_p)


def _stat(client, container: str, path: str) -> dict | None:
    try:
        resp = client.request("HEAD", f"/containers/{q(container)}/archive", query={"path": path}, stream=True)
    except APIError as ex:
        if ex.status == 404:
            return None
        fail(ex.message)
    resp.sock.close()
    return json.loads(base64.b64decode(resp.headers.get("x-docker-container-path-stat", "") or "e30="))


def _copy_from(client, container: str, path: str, dest: str) -> None:
    try:
        resp = client.request("GET", f"/containers/{q(container)}/archive", query={"path": path}, stream=True)
    except APIError as ex:
        if ex.status == 404:
            fail(f"Error: No such container:path: {container}:{path}", prefix=False)
        fail(ex.message)
    if dest == "-":
        for chunk in resp.chunks():
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    info = json.loads(base64.b64decode(resp.headers.get("x-docker-container-path-stat", "") or "e30="))
    top = info.get("name", "")
    contents_only = path.endswith("/.")
    if os.path.isdir(dest) and not contents_only:
        target_dir, rename = dest, None
    elif os.path.isdir(dest):
        target_dir, rename = dest, None
    else:
        parent = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            fail("no such directory", prefix=False)
        target_dir, rename = parent, os.path.basename(dest.rstrip("/"))
    with tarfile.open(fileobj=PiecesReader(resp.chunks()), mode="r|") as tar:
        for m in tar:
            name = m.name
            if rename is not None and (name == top or name.startswith(top + "/")):
                name = rename + name[len(top):]
            elif contents_only and (name == "." or name.startswith("./")):
                name = name[2:] if name != "." else ""
                if not name:
                    continue
            m.name = name
            tar.extract(m, target_dir, numeric_owner=True)


def _copy_to(client, src: str, container: str, path: str) -> None:
    import tempfile
    if src != "-" and not os.path.lexists(src):
        fail(f"lstat {src}: no such file or directory", prefix=False)
    info = _stat(client, container, path)
    if src == "-":
        if info is None:
            fail(f"Error: No such container:path: {container}:{path}", prefix=False)
        _put(client, container, path, sys.stdin.buffer.fileno())
        return
    src_dir = os.path.isdir(src)
    if info is not None and info["mode"] & (1 << 31):  # a directory: into it
        where, name = path, os.path.basename(src.rstrip("/")) or "."
    else:
        if path.endswith("/"):
            fail("no such directory", prefix=False)
        if info is not None and src_dir:
            fail("cannot copy directory", prefix=False)
        parent = os.path.dirname(path.rstrip("/")) or "/"
        pinfo = _stat(client, container, parent)
        if pinfo is None:
            fail(f"Error: No such container:path: {container}:{parent}", prefix=False)
        where, name = parent, os.path.basename(path.rstrip("/"))
    with tempfile.TemporaryFile() as f:
        with tarfile.open(fileobj=f, mode="w") as tar:
            if src.endswith("/.") and src_dir:
                for entry in sorted(os.listdir(src)):
                    tar.add(os.path.join(src, entry), arcname=entry)
            else:
                tar.add(src, arcname=name)
        f.seek(0)
        _put(client, container, where, f.fileno())


def _put(client, container: str, path: str, fd: int) -> None:
    with api_errors():
        client.request("PUT", f"/containers/{q(container)}/archive",
                       query={"path": path, "noOverwriteDirNonDir": "true"}, fds=[fd])


@cli.command("diff", context_settings=CTX)
@click.argument("container")
@click.pass_obj
@api_errors()
def diff_cmd(st, container):
    """Inspect changes to files or directories on a container's filesystem."""
    for ch in st.client().get(f"/containers/{q(container)}/changes") or []:
        click.echo(f"{KINDS.get(ch['Kind'], '?')} {ch['Path']}")


@cli.command("commit", context_settings=CTX)
@click.option("-a", "--author", default="", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
@click.option("-m", "--message", default="", help="Commit message")
@click.option("-p", "--pause", is_flag=True, default=True, help="Pause container during commit (default true)")
@click.argument("container")
@click.argument("repository", required=False)
@click.pass_obj
@api_errors()
def commit_cmd(st, author, message, pause, container, repository):
    """Create a new image from a container's changes."""
    repo, tag = repository or "", ""
    if repo and ":" in repo.rsplit("/", 1)[-1]:
        repo, _, tag = repo.rpartition(":")
    res = st.client().post("/commit", None, query={"container": container, "repo": repo or None,
                                                   "tag": tag or None, "comment": message or None,
                                                   "author": author or None, "pause": "1" if pause else "0"})
    click.echo(res["Id"])


@cli.command("export", context_settings=CTX)
@click.option("-o", "--output", default="", help="Write to a file, instead of STDOUT")
@click.argument("container")
@click.pass_obj
@api_errors()
def export_cmd(st, output, container):
    """Export a container's filesystem as a tar archive."""
    if not output and sys.stdout.isatty():
        fail("cowardly refusing to save to a terminal. Use the -o flag or redirect", prefix=False)
    resp = st.client().request("GET", f"/containers/{q(container)}/export", stream=True)
    out = open(output, "wb") if output else sys.stdout.buffer
    try:
        for chunk in resp.chunks():
            out.write(chunk)
    finally:
        if output:
            out.close()
        else:
            out.flush()


@cli.command("rmi", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Force removal of the image")
@click.option("--no-prune", is_flag=True, help="Do not delete untagged parents")
@click.argument("images", nargs=-1, required=True)
@click.pass_obj
def rmi_cmd(st, force, no_prune, images):
    """Remove one or more images."""
    failed = False
    for ref in images:
        with api_errors(lambda ex: click.echo(f"Error response from daemon: {ex.message}", err=True)) as outcome:
            res = st.client().delete(f"/images/{q(ref)}", query={"force": "1" if force else None,
                                                                 "noprune": "1" if no_prune else None})
            for item in res or []:
                for k, v in item.items():
                    click.echo(f"{k}: {v}")
        failed = failed or bool(outcome.error)
    if failed:
        sys.exit(1)


@cli.group("container", context_settings=CTX)
def container():
    """Manage containers."""


@container.command("prune", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. 'until=<timestamp>')")
@click.pass_obj
@api_errors()
def container_prune(st, force, filters):
    """Remove all stopped containers."""
    if not force:
        click.echo("WARNING! This will remove all stopped containers.")
        if not click.confirm("Are you sure you want to continue?", default=False, prompt_suffix=" [y/N] ",
                             show_default=False):
            return
    res = st.client().post("/containers/prune", query={"filters": filters_query(filters)})
    gone = res.get("ContainersDeleted") or []
    if gone:
        click.echo("Deleted Containers:\n" + "".join(f"{n}\n" for n in gone))
    click.echo(f"Total reclaimed space: {human_size(res.get('SpaceReclaimed') or 0)}")


@cli.group("image", context_settings=CTX)
def image():
    """Manage images."""


@image.command("inspect", context_settings=CTX)
@click.option("-f", "--format", "fmt", default="", help="Format the output using the given Go template")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def image_inspect(st, fmt, names):
    """Display detailed information on one or more images."""
    from minidocker.cli.base import get_or_none
    from minidocker.cli.container_commands import inspect_each
    client = st.client()
    inspect_each(names, lambda ref: get_or_none(client, f"/images/{q(ref)}/json"), "image", fmt)


@image.command("rm", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Force removal of the image")
@click.option("--no-prune", is_flag=True, help="Do not delete untagged parents")
@click.argument("images", nargs=-1, required=True)
@click.pass_context
def image_rm(ctx, force, no_prune, images):
    """Remove one or more images."""
    ctx.invoke(rmi_cmd, force=force, no_prune=no_prune, images=images)

"""The `minidocker` command line: Docker's verbs, flags, output and errors.

The entry point (usage errors worded as the docker CLI's), the commands that are
neither container nor network commands (daemon, import, images), and the
registration of the others. Shell completion goes through click's own
`_MINIDOCKER_COMPLETE` handling in `cli.main` (see completion.py).
"""
import json
import os
import sys
import time

import click

from minidocker.cli.base import CTX, api_errors, cli, fail
from minidocker.ids import human_duration

# where each command lives: only the one that runs is imported (cli.base.LazyGroup)
_MODULES = {
    "container_commands": "exec inspect kill logs port ps restart rm start stop",
    "fs_commands": "commit cp diff export rmi container image",
    "network_commands": "network",
    "resource_commands": "pause stats top unpause update",
    "run_command": "run",
    "swarm_commands": "node service",
    "system_commands": "system",
    "verb_commands": "attach rename wait create",
    "volume_commands": "volume",
}
cli.lazy = {name: f"minidocker.cli.{module}" for module, names in _MODULES.items() for name in names.split()}


@cli.command("daemon", context_settings=CTX)
@click.option("--root", default=None,
              help="Root directory of persistent state (default $MINIDOCKER_ROOT or /var/lib/minidocker)")
@click.option("-D", "--debug", is_flag=True, help="Enable debug mode (log every request)")
def daemon_cmd(root, debug):
    """Run minidockerd in the foreground (it logs to stderr)."""
    # exec, not import: the CLI process never loads the daemon's side (api.server, engine, kernel)
    argv = [sys.executable, "-m", "minidocker.api.server"]
    argv += ["--root", root] if root else []
    argv += ["--debug"] if debug else []
    os.execv(sys.executable, argv)


@cli.command("import", context_settings=CTX)
@click.option("-c", "--change", "changes", multiple=True,
              help="Apply Dockerfile instruction to the created image (ENV and CMD only)")
@click.argument("source")
@click.argument("name")
@click.pass_obj
@api_errors()
def import_cmd(st, changes, source, name):
    """Import a root filesystem tarball (FILE or - for stdin) as image NAME."""
    try:
        f = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as ex:
        fail(f"open {source}: {ex.strerror.lower()}", prefix=False)
    res = st.client().post("/images/create", query={"fromSrc": "-", "repo": name,
                                                   "changes": json.dumps(list(changes))}, fds=[f.fileno()])
    click.echo(res["status"])  # Docker's progress message: the new image's id


@cli.command("images", context_settings=CTX)
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs")
@click.pass_obj
@api_errors()
def images_cmd(st, quiet):
    """List images."""
    imgs = st.client().get("/images/json")
    rows = []
    now = time.time()
    for m in imgs:
        for ref in m.get("RepoTags") or ["<none>:<none>"]:
            repo, _, tag = ref.rpartition(":")
            rows.append({"Repository": repo, "Tag": tag, "ID": m["Id"].split(":")[-1][:12],
                         "CreatedSince": human_duration(now - m["Created"]) + " ago",
                         "Size": f"{m.get('Size', 0) / 1e6:.3g}MB"})
    if quiet:
        for r in rows:
            click.echo(r["ID"])
        return
    from minidocker.cli.template.tableformat import render_table  # only commands that format pay for it
    click.echo(render_table("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
                            rows, {".Repository": "REPOSITORY", ".Tag": "TAG", ".ID": "IMAGE ID",
                                   ".CreatedSince": "CREATED", ".Size": "SIZE"}), nl=False)


def main():
    """Run the CLI; usage errors are worded (and exit) as the docker CLI's are."""
    try:
        cli.main(prog_name="minidocker", standalone_mode=False)
    except click.exceptions.NoSuchOption as ex:
        path = ex.ctx.command_path if ex.ctx else "minidocker"
        click.echo(f"unknown flag: {ex.option_name}\nSee '{path} --help'.", err=True)
        sys.exit(125)
    except (click.exceptions.MissingParameter, click.exceptions.BadArgumentUsage) as ex:
        if ex.ctx is None or isinstance(ex.ctx.command, click.Group):
            ex.show()
            sys.exit(1)
        click.echo(_arity_message(ex.ctx), err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.exceptions.Exit as ex:
        sys.exit(ex.exit_code)
    except click.ClickException as ex:
        ex.show()
        sys.exit(ex.exit_code)


def _arity_message(ctx: click.Context) -> str:
    cmd, path = ctx.command, ctx.command_path
    args = [p for p in cmd.params if isinstance(p, click.Argument)]
    n = sum(1 for p in args if p.required)
    what = f"at least {n}" if any(p.nargs == -1 for p in args) else f"exactly {n}"
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    short = (cmd.help or "").strip().split("\n")[0]
    return (f'"{path}" requires {what} argument{"" if n == 1 else "s"}.\nSee \'{path} --help\'.\n\n'
            f"Usage:  {path} {usage}\n\n{short}")


if __name__ == "__main__":
    main()

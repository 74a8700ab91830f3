"""Container commands of issue 11: rename, wait, attach, and `start -a/-i`
(worded and exiting as the docker 20.10 CLI does)."""
import os
import sys
import threading

import click

from minidocker.api.client import APIError, demux, q
from minidocker.cli.base import CTX, api_errors, cli, get_or_none
from minidocker.cli.completion import container_names


@cli.command("rename", context_settings=CTX)
@click.argument("container", shell_complete=container_names)
@click.argument("new_name")
@click.pass_obj
def rename_cmd(st, container, new_name):
    """Rename a container."""
    old, new = container.strip(), new_name.strip()
    if not old or not new:
        click.echo("Error: Neither old nor new names may be empty", err=True)
        sys.exit(1)
    try:
        st.client().post(f"/containers/{q(old)}/rename", query={"name": new})
    except APIError as ex:
        if ex.status == 0:
            click.echo(ex.message, err=True)
        else:
            click.echo(f"Error response from daemon: {ex.message}", err=True)
        click.echo(f"Error: failed to rename container named {old}", err=True)
        sys.exit(1)


@cli.command("wait", context_settings=CTX)
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def wait_cmd(st, containers):
    """Block until one or more containers stop, then print their exit codes."""
    client = st.client()
    errors = []
    for ref in containers:
        try:
            click.echo(client.post(f"/containers/{q(ref)}/wait")["StatusCode"])
        except APIError as ex:
            errors.append(ex.message if ex.status == 0 else f"Error response from daemon: {ex.message}")
    if errors:
        click.echo("\n".join(errors), err=True)
        sys.exit(1)


def _inspect(client, ref: str) -> dict:
    obj = get_or_none(client, f"/containers/{q(ref)}/json")
    if obj is None:
        click.echo(f"Error: No such container: {ref}", err=True)
        sys.exit(1)
    return obj


def stream_attach(client, cid: str, tty: bool, stdin: bool, logs: bool = False) -> None:
    """POST /containers/{id}/attach, hijacked: the output to our stdout/stderr
    (demultiplexed without a terminal), our stdin to the container (``stdin``),
    until the daemon ends the stream."""
    resp = client.request("POST", f"/containers/{q(cid)}/attach", {}, stream=True,
                          query={"stream": "1", "stdout": "1", "stderr": "1", "stdin": "1" if stdin else None,
                                 "logs": "1" if logs else None})
    sock = resp.sock
    if stdin:
        def pump():
            try:
                while True:
                    data = os.read(0, 65536)
                    if not data:
                        break
                    sock.sendall(data)
                sock.shutdown(1)  # SHUT_WR: the daemon ends the container's stdin (StdinOnce)
            except OSError:
                pass
        threading.Thread(target=pump, name="attach-stdin", daemon=True).start()
    outs = {1: sys.stdout.buffer, 2: sys.stderr.buffer}
    try:
        for stream, data in ((1, c) for c in resp.chunks()) if tty else demux(resp.chunks()):
            out = outs.get(stream, sys.stdout.buffer)
            out.write(data)
            out.flush()
    except (ConnectionError, OSError):
        pass
    finally:
        sock.close()


@cli.command("attach", context_settings=CTX)
@click.option("--no-stdin", is_flag=True, help="Do not attach STDIN")
@click.option("--sig-proxy", default=True, type=bool, help="Proxy all received signals to the process (default true)")
@click.argument("container", shell_complete=container_names)
@click.pass_obj
@api_errors()
def attach_cmd(st, no_stdin, sig_proxy, container):
    """Attach local standard input, output, and error streams to a running container."""
    client = st.client()
    obj = _inspect(client, container)
    if not obj["State"]["Running"]:
        click.echo("You cannot attach to a stopped container, start it first", err=True)
        sys.exit(1)
    cfg = obj["Config"]
    stream_attach(client, obj["Id"], cfg["Tty"], cfg["OpenStdin"] and not no_stdin)
    # the stream ended with the run: its exit code is ours (Docker's CLI waits for it)
    sys.exit(client.post(f"/containers/{q(obj['Id'])}/wait")["StatusCode"])


def start_attached(client, ref: str, interactive: bool) -> None:
    """`start -a` (`-ai`): our stdio handed to the container for this run (run's
    own path), then its exit code is ours."""
    from minidocker.cli.run_command import attach_and_run
    obj = _inspect(client, ref)
    cfg = obj["Config"]
    sys.exit(attach_and_run(client, obj["Id"], cfg["Tty"], interactive and cfg["OpenStdin"]))


def _create_command() -> click.Command:
    """`create`: run's flags (without -d), the container made and its id printed (no start)."""
    from minidocker.cli.base import RUN_CTX
    from minidocker.cli.run_command import run_cmd
    params = [p for p in run_cmd.params if p.name != "detach"]

    def create(**kw):
        return run_cmd.callback(detach=False, **kw)  # Attach* and StdinOnce as a foreground run sets them
    return click.Command("create", params=params, callback=create, context_settings=RUN_CTX,
                         help="Create a new container.", short_help="Create a new container")


cli.add_command(_create_command())

"""Container commands: start, stop, kill, rm, restart, ps, exec, logs, inspect, port (run: run_command.py)."""
import os
import sys
from typing import NoReturn

import click

from minidocker.cli import list_rows
from minidocker.errors import TemplateError
from minidocker.cli.base import (CTX, RUN_CTX, api_errors, cli, daemon_fail, dump_json, filters_query, for_each,
                                 get_or_none, print_daemon_error)
from minidocker.cli.completion import container_names, object_names
from minidocker.cli.flags import env_list
from minidocker.cli.terminal import copy_winsize, relay_pty
from minidocker.api.client import APIError, demux, q


@cli.command("start", context_settings=CTX)
@click.option("-a", "--attach", is_flag=True, help="Attach STDOUT/STDERR and forward signals")
@click.option("-i", "--interactive", is_flag=True, help="Attach container's STDIN")
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def start_cmd(st, attach, interactive, containers):
    """Start one or more stopped containers."""
    if attach or interactive:
        if len(containers) > 1:
            click.echo("Error: you cannot start and attach multiple containers at once", err=True)
            sys.exit(1)
        from minidocker.cli.verb_commands import start_attached
        with api_errors():
            start_attached(st.client(), containers[0], interactive)
    failed = for_each(containers, lambda ref: st.client().post(f"/containers/{q(ref)}/start"))
    if failed:
        click.echo("Error: failed to start containers: " + ", ".join(failed), err=True)
        sys.exit(1)


def _each(st, refs, method, path_fmt, query=None, missing_ok=False):
    """``missing_ok`` (rm -f): a missing container is reported, not a failure (exit 0)."""
    fatal = []

    def report(ex: APIError) -> None:
        if not (missing_ok and ex.status == 404):
            fatal.append(ex)
        (_print_rm_error if method == "DELETE" else print_daemon_error)(ex)

    def request(ref):
        st.client().request(method, path_fmt.format(q(ref)), {} if method == "POST" else None, query=query)
    for_each(refs, request, report, errors_last=True)
    if fatal:
        sys.exit(1)


def _print_rm_error(ex: APIError) -> None:
    if ex.status == 404:  # docker rm words a missing container without the daemon prefix
        click.echo(f"Error: {ex.message}", err=True)
    else:
        print_daemon_error(ex)


@cli.command("stop", context_settings=CTX)
@click.option("-t", "--time", "timeout", type=int, default=None,
              help="Seconds to wait for stop before killing it (default 10)")
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def stop_cmd(st, timeout, containers):
    """Stop one or more running containers."""
    _each(st, containers, "POST", "/containers/{}/stop", {"t": timeout})


@cli.command("kill", context_settings=CTX)
@click.option("-s", "--signal", "sig", default="KILL", help='Signal to send to the container (default "KILL")')
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def kill_cmd(st, sig, containers):
    """Kill one or more running containers."""
    _each(st, containers, "POST", "/containers/{}/kill", {"signal": sig})


@cli.command("rm", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Force the removal of a running container (uses SIGKILL)")
@click.option("-v", "--volumes", is_flag=True, help="Remove anonymous volumes associated with the container")
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def rm_cmd(st, force, volumes, containers):
    """Remove one or more containers."""
    _each(st, containers, "DELETE", "/containers/{}", {"force": "1" if force else None, "v": "1" if volumes else None},
          missing_ok=force)


@cli.command("ps", context_settings=CTX)
@click.option("-a", "--all", "show_all", is_flag=True, help="Show all containers (default shows just running)")
@click.option("-q", "--quiet", is_flag=True, help="Only display container IDs")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.option("--format", "fmt", default="", help="Pretty-print containers using a Go template")
@click.option("-f", "--filter", "filters", multiple=True, help="Filter output based on conditions provided")
@click.pass_obj
@api_errors()
def ps_cmd(st, show_all, quiet, no_trunc, fmt, filters):
    """List containers."""
    found = st.client().get("/containers/json", query={"all": "1" if show_all else None,
                                                        "filters": filters_query(filters),
                                                        "size": "1" if ".Size" in fmt else None})
    rows = [list_rows.ps_row(c, trunc=not no_trunc) for c in found]
    if quiet:
        for r in rows:
            click.echo(r["ID"])
        return
    out_format(fmt or list_rows.PS_TABLE, rows, list_rows.PS_HEADERS)


def out_format(fmt: str, rows: list, headers: dict) -> None:
    from minidocker.cli.template.tableformat import render_rows  # only commands that format pay for it
    try:
        click.echo(render_rows(fmt, rows, headers, default_table=fmt, json_keyword=True), nl=False)
    except TemplateError as ex:
        click.echo(str(ex), err=True)
        sys.exit(1)


def exec_error(ex: APIError) -> NoReturn:
    """How `docker exec` reports a failed request."""
    if ex.body.get("ExitCode"):  # the process could not start: Docker prints runc's text on stdout
        click.echo(ex.message + "\r")  # as it came through the stream: "...\r\n"
        sys.exit(ex.body["ExitCode"])
    click.echo(f"Error response from daemon: {ex.message}" if ex.status != 0 else ex.message, err=True)
    sys.exit(1)


@cli.command("exec", context_settings=RUN_CTX)
@click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached")
@click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY")
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("-w", "--workdir", default="", help="Working directory inside the container")
@click.option("-d", "--detach", is_flag=True, help="Detached mode: run command in the background")
@click.option("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])")
@click.argument("container", shell_complete=container_names)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
@api_errors(exec_error)
def exec_cmd(st, interactive, tty, env, workdir, detach, user, container, command):
    """Run a command in a running container."""
    client = st.client()
    # as the docker CLI: the container is looked up first ("Error: No such container: X")
    if get_or_none(client, f"/containers/{q(container)}/json") is None:
        click.echo(f"Error: No such container: {container}", err=True)
        sys.exit(1)
    body = {"Cmd": list(command), "Env": env_list(env, "exec"), "WorkingDir": workdir, "Tty": tty, "User": user,
            "AttachStdin": interactive and not detach, "AttachStdout": not detach, "AttachStderr": not detach}
    start = f"/exec/{client.post(f'/containers/{q(container)}/exec', body)['Id']}/start"
    if detach:  # the daemon runs it in the background; nothing to attach
        with api_errors(daemon_fail):  # `exec -d`: Docker's daemon error on stderr, exit 1
            client.post(start, {"Detach": True})
        return
    if tty:  # our fast path: the terminal's master comes back with the answer
        resp = client.request("POST", start, {"Tty": True}, query={"pty": "1"}, stream=True)
        if not resp.fds:  # failed before a terminal existed
            sys.exit(resp.json().get("ExitCode", 126))
        master = resp.fds[0]
        copy_winsize(master)
        relay_pty(master, interactive)
        code = (resp.json() or {}).get("ExitCode", 126)
        resp.sock.close()
        sys.exit(code)
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:  # our fast path: the process writes to our own stdio, passed along
        res = client.post(start, {}, fds=[0 if interactive else devnull, 1, 2])
    finally:
        os.close(devnull)
    sys.exit(res["ExitCode"])


@cli.command("logs", context_settings=CTX)
@click.option("-f", "--follow", is_flag=True, help="Follow log output")
@click.option("-n", "--tail", default="all", help='Number of lines to show from the end of the logs (default "all")')
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps")
@click.option("--since", default="", help="Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative "
                                          "(e.g. 42m for 42 minutes)")
@click.option("--until", default="", help="Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative "
                                          "(e.g. 42m for 42 minutes)")
@click.argument("container", shell_complete=container_names)
@click.pass_obj
@api_errors(daemon_fail)
def logs_cmd(st, follow, tail, timestamps, since, until, container):
    """Fetch the logs of a container."""
    from minidocker.cli.timestamps import query_time
    times = {k: query_time(v, k) for k, v in (("since", since), ("until", until)) if v}
    client = st.client()
    tty = client.get(f"/containers/{q(container)}/json")["Config"]["Tty"]
    resp = client.get(f"/containers/{q(container)}/logs", stream=True,
                      query={"stdout": "1", "stderr": "1", "follow": "1" if follow else None, "tail": tail,
                             "timestamps": "1" if timestamps else None, **times})
    outs = {1: sys.stdout.buffer, 2: sys.stderr.buffer}
    try:
        for stream, data in ((1, c) for c in resp.chunks()) if tty else demux(resp.chunks()):
            out = outs.get(stream, sys.stdout.buffer)
            out.write(data)
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        resp.sock.close()


@cli.command("inspect", context_settings=CTX)
@click.option("-f", "--format", "fmt", default="", help="Format the output using the given Go template")
@click.option("--type", "kind", type=click.Choice(["container", "network", "image"]), default=None,
              help="Return JSON for specified type")
@click.argument("names", nargs=-1, required=True, shell_complete=object_names)
@click.pass_obj
def inspect_cmd(st, fmt, kind, names):
    """Return low-level information on minidocker objects."""
    client = st.client()

    def lookup(ref):
        for k, path in (("container", f"/containers/{q(ref)}/json"), ("image", f"/images/{q(ref)}/json"),
                        ("network", f"/networks/{q(ref)}")):
            if not kind or kind == k:
                obj = get_or_none(client, path)
                if obj is not None:
                    return obj
        return None
    inspect_each(names, lookup, "object", fmt)


def inspect_each(names, lookup, what: str, fmt: str) -> None:
    """Docker's inspect of several names: what was found is printed, then one
    "Error: No such WHAT: NAME" per name that was not; exit 1 if any was missing."""
    found, missing = [], []
    for ref in names:
        obj = lookup(ref)
        if obj is None:
            missing.append(ref)
        else:
            found.append(obj)
    print_objects(found, fmt)
    for ref in missing:
        click.echo(f"Error: No such {what}: {ref}", err=True)
    if missing:
        sys.exit(1)


def print_objects(objs: list, fmt: str) -> None:
    if not fmt:
        click.echo(dump_json(objs))
        return
    from minidocker.cli.template.executor import render  # only commands that format pay for it
    for o in objs:
        try:
            click.echo(render(fmt, typed_zeroes(o)))
        except TemplateError as ex:  # as the docker CLI: a newline first when it failed while executing
            if not ex.parse:
                click.echo("")
            click.echo(ex.cli_message, err=True)
            sys.exit(64 if ex.parse else 1)


@cli.command("restart", context_settings=CTX)
@click.option("-t", "--time", "timeout", type=int, default=None,
              help="Seconds to wait for stop before killing the container (default 10)")
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def restart_cmd(st, timeout, containers):
    """Restart one or more containers."""
    _each(st, containers, "POST", "/containers/{}/restart", {"t": timeout})


@cli.command("port", context_settings=CTX)
@click.argument("container", shell_complete=container_names)
@click.argument("private_port", required=False)
@click.pass_obj
@api_errors(daemon_fail)
def port_cmd(st, container, private_port):
    """List port mappings or a specific mapping for the container."""
    ports = st.client().get(f"/containers/{q(container)}/json")["NetworkSettings"]["Ports"] or {}
    if private_port:
        key = private_port if "/" in private_port else f"{private_port}/tcp"
        if not ports.get(key):
            click.echo(f"Error: No public port '{key}' published for {container}", err=True)
            sys.exit(1)
        for b in ports[key]:
            click.echo(f"{b['HostIp']}:{b['HostPort']}")
        return
    for key in sorted(ports):
        for b in ports[key] or []:
            click.echo(f"{key} -> {b['HostIp']}:{b['HostPort']}")


def typed_zeroes(obj: dict) -> dict:
    """What the docker CLI's templates see: a container's typed struct, where a
    field the JSON leaves out (omitempty) is still there as its zero value
    (`{{.State.Health}}` is <nil>, `{{json .HostConfig.Tmpfs}}` null)."""
    if not (isinstance(obj, dict) and "State" in obj and "HostConfig" in obj and "Config" in obj):
        return obj
    from minidocker.cli.template.values import NIL_PTR, NilMap, NilSlice
    zero = {"State": {"Health": NIL_PTR},
            "Config": {"Healthcheck": NIL_PTR, "StopSignal": "", "StopTimeout": NIL_PTR, "MacAddress": "",
                       "ExposedPorts": NilMap(), "ArgsEscaped": False, "NetworkDisabled": False,
                       "Shell": NilSlice()},
            "HostConfig": {"Tmpfs": NilMap(), "Mounts": NilSlice(), "Init": NIL_PTR, "StorageOpt": NilMap(),
                           "Sysctls": NilMap()},
            "Node": NIL_PTR}
    out = dict(obj)
    for key, fields in zero.items():
        if not isinstance(fields, dict):
            out.setdefault(key, fields)
        elif isinstance(out.get(key), dict):
            out[key] = {**fields, **out[key]}
    return out


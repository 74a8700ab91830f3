"""`minidocker run`: create a container, start it, and attach to it or print its id."""
import contextlib
import os
import signal
import sys
from typing import NoReturn

import click

from minidocker import validation
from minidocker.api.client import APIError
from minidocker.cli import run_options
from minidocker.cli.base import RUN_CTX, api_errors, api_fail, cli, fail
from minidocker.cli.completion import network_names
from minidocker.cli.flags import check_flag, env_list, ip_address
from minidocker.cli.resource_commands import resource_flags
from minidocker.cli.terminal import copy_winsize, relay_pty


def run_fail(message: str, code: int = 125, usage: bool = True) -> NoReturn:
    """The docker 20.10 CLI's reportError: one trailing period, and the usage hint
    for errors before the container exists (create), not for those of its start."""
    text = f"minidocker: Error response from daemon: {message.removesuffix('.')}."
    if usage:
        text += f"\nSee 'minidocker {verb()} --help'."
    click.echo(text, err=True)
    sys.exit(code)


def verb() -> str:
    """"run", or "create" (verb_commands.py makes `create` from run's flags)."""
    ctx = click.get_current_context(silent=True)
    return ctx.info_name if ctx is not None and ctx.info_name == "create" else "run"


def run_create_error(ex: APIError) -> NoReturn:
    if ex.status == 0:
        api_fail(ex, 125)
    if verb() == "create":  # docker create: the daemon's error as any command's, exit 1
        api_fail(ex, 1)
    run_fail(ex.message)


def cli_error(message: str) -> NoReturn:
    """An error the docker CLI finds itself (its reportError with help): exit 125."""
    click.echo(f"minidocker: {message.rstrip('.')}.\nSee 'minidocker {verb()} --help'.", err=True)
    sys.exit(125)


def create_pulling(client, cfg: dict, name: str, ref: str, pull: str) -> str:
    """`POST /containers/create` with the docker CLI's --pull: "always" pulls first,
    "missing" pulls when the image is not there and creates again; any other word
    never pulls (Docker 20.10 takes it as "never")."""
    def pull_image():
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        try:
            client.post("/images/create", None, query={"fromImage": repo, "tag": tag})
        except APIError as ex:
            if ex.status == 0:
                api_fail(ex, 125)
            cli_error(f"Error response from daemon: {ex.message}")

    if pull == "always":
        pull_image()
    try:
        return client.post("/containers/create", cfg, query={"name": name or None})["Id"]
    except APIError as ex:
        if ex.status != 404 or not ex.message.startswith("No such image"):
            run_create_error(ex)
        if pull != "missing":
            cli_error(f"Error response from daemon: {ex.message}")
    click.echo(f"Unable to find image '{ref}' locally", err=True)
    pull_image()
    with api_errors(run_create_error):
        return client.post("/containers/create", cfg, query={"name": name or None})["Id"]


def filesystem_config(volumes, mounts, tmpfs, read_only, cfg: dict) -> dict:
    """-v, --mount, --tmpfs, --read-only: HostConfig keys (and Config.Volumes in ``cfg``)."""
    from minidocker.cli import mount_flags
    binds, anonymous = mount_flags.split_volumes(volumes)
    if anonymous:
        cfg["Volumes"] = anonymous
    host: dict = {"Binds": binds or None, "ReadonlyRootfs": read_only}
    parsed = [check_flag(mount_flags.parse_mount, m, "--mount", "run") for m in mounts]
    if parsed:
        host["Mounts"] = parsed
    if tmpfs:
        host["Tmpfs"] = mount_flags.tmpfs_map(tmpfs)
    return host


def run_start_error(ex: APIError) -> NoReturn:
    run_fail(ex.message, ex.body.get("ExitCode", 125), usage=False)


def wait_error(ex: APIError) -> NoReturn:
    fail(ex.message, 125)


@cli.command("run", context_settings=RUN_CTX)
@click.option("-d", "--detach", is_flag=True, help="Run container in background and print container ID")
@click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached")
@click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY")
@click.option("--rm", "auto_remove", is_flag=True, help="Automatically remove the container when it exits")
@click.option("--name", default="", help="Assign a name to the container")
@click.option("-h", "--hostname", default=None, help="Container host name")
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("-w", "--workdir", default="", help="Working directory inside the container")
@click.option("--network", "--net", "network", default="default", shell_complete=network_names,
              help="Connect a container to a network")
@click.option("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
@click.option("--network-alias", "--net-alias", "aliases", multiple=True,
              help="Add network-scoped alias for the container")
@click.option("--dns", multiple=True, help="Set custom DNS servers")
@click.option("--dns-search", multiple=True, help="Set custom DNS search domains")
@click.option("--dns-option", "--dns-opt", "dns_options", multiple=True, help="Set DNS options")
@click.option("--add-host", multiple=True, help="Add a custom host-to-IP mapping (host:ip)")
@click.option("-p", "--publish", multiple=True, help="Publish a container's port(s) to the host")
@click.option("--mac-address", default="", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)")
@click.option("--expose", multiple=True, help="Expose a port or a range of ports")
@click.option("-P", "--publish-all", is_flag=True, help="Publish all exposed ports to random ports")
@click.option("-l", "--label", "labels", multiple=True, help="Set meta data on a container")
@click.option("--pull", default="missing", help='Pull image before running ("always"|"missing"|"never")')
@click.option("-v", "--volume", "volumes", multiple=True, help="Bind mount a volume")
@click.option("--mount", "mounts", multiple=True, help="Attach a filesystem mount to the container")
@click.option("--tmpfs", multiple=True, help="Mount a tmpfs directory")
@click.option("--read-only", is_flag=True, help="Mount the container's root filesystem as read only")
@run_options.options
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@resource_flags
@click.pass_obj
def run_cmd(st, resources, detach, interactive, tty, auto_remove, name, hostname, env, workdir, network, ip,
            aliases, dns, dns_search, dns_options, add_host, publish, mac_address, expose, publish_all, labels, pull,
            volumes, mounts, tmpfs, read_only, image, command, **verb_kw):
    """Run a command in a new container."""
    if mac_address and not validation.valid_mac(mac_address):
        cli_error(f"{mac_address} is not a valid mac address")
    if aliases and (network in ("host", "none", "bridge") or network.startswith("container:")):
        cli_error("network-scoped aliases are only supported for user-defined networks")
    extra_hosts = [":".join(check_flag(validation.parse_add_host, h, "--add-host", verb())) for h in add_host]
    verb_config, verb_host, file_envs, file_labels = run_options.body(verb_kw, verb())
    envs = file_envs + env_list(env, verb())
    labels = tuple(file_labels) + tuple(labels)
    for server in dns:
        check_flag(ip_address, server, "--dns", verb())
    try:
        mappings = [p for spec in publish for p in validation.parse_port(spec)]
        exposed_keys = [k for e in expose for k in validation.parse_expose(e)]
    except Exception as ex:  # noqa: BLE001 - validation errors carry Docker's text
        click.echo(f"minidocker: {getattr(ex, 'message', ex)}.\nSee 'minidocker {verb()} --help'.", err=True)
        sys.exit(125)
    if network == "host" and mappings:
        click.echo("WARNING: Published ports are discarded when using host network mode", err=True)
        mappings = []
    bindings: dict = {}
    for p in mappings:  # Docker's HostConfig.PortBindings, as the docker CLI builds it
        bindings.setdefault(p.key, []).append({"HostIp": p.host_ip, "HostPort": p.host_port})
    exposed = {k: {} for k in bindings}
    exposed.update({k: {} for k in exposed_keys})
    endpoint = {}
    if ip or aliases:
        endpoint = {network: {"IPAMConfig": {"IPv4Address": ip} if ip else None, "Aliases": list(aliases)}}
    cfg = {"Image": image, "Cmd": list(command) or None, "Env": envs, "WorkingDir": workdir,
           "Hostname": hostname, "Tty": tty, "OpenStdin": interactive, "StdinOnce": interactive and not detach,
           "AttachStdin": interactive and not detach, "AttachStdout": not detach, "AttachStderr": not detach,
           "MacAddress": mac_address, "ExposedPorts": exposed,
           "Labels": {k: v for k, _, v in (lab.partition("=") for lab in labels)},
           "HostConfig": {"NetworkMode": network, "AutoRemove": auto_remove, "Dns": list(dns),
                          "DnsSearch": list(dns_search), "DnsOptions": list(dns_options),
                          "ExtraHosts": extra_hosts, "PortBindings": bindings,
                          "PublishAllPorts": publish_all, **resources},
           "NetworkingConfig": {"EndpointsConfig": endpoint}}
    cfg["HostConfig"].update(filesystem_config(volumes, mounts, tmpfs, read_only, cfg))
    cfg.update(verb_config)
    cfg["HostConfig"].update(verb_host)
    warning = validation.localhost_dns_warning(dns)
    if warning:
        click.echo(warning, err=True)
    try:
        ref = validation.image_reference(image)
    except ValueError as ex:
        cli_error(str(ex))
    client = st.client()
    cid = create_pulling(client, cfg, name, ref, pull)
    if verb() == "create":
        click.echo(cid)
        return
    if detach:  # the docker CLI prints the id before it starts the container
        click.echo(cid)
        with api_errors(run_start_error):
            client.post(f"/containers/{cid}/start")
        return
    code = attach_and_run(client, cid, tty, interactive)
    sys.exit(code)


def attach_and_run(client, cid: str, tty: bool, interactive: bool) -> int:
    """Foreground run: hand our stdio to the container (or, with -t, take the
    master of a terminal opened inside it), then wait for it to exit."""
    if tty:
        with api_errors(run_start_error):
            resp = client.request("POST", f"/containers/{cid}/start", {}, query={"pty": "1"}, stream=True)
        resp.sock.close()
        master = resp.fds[0]
        copy_winsize(master)
        relay_pty(master, interactive)
        return _wait(client, cid)
    devnull = os.open(os.devnull, os.O_RDONLY)
    stdin_fd = 0 if interactive else devnull
    try:
        with api_errors(run_start_error):
            client.post(f"/containers/{cid}/start", fds=[stdin_fd, 1, 2])
    finally:
        os.close(devnull)

    def forward(signum, _frame):
        with contextlib.suppress(APIError):  # it may be gone already
            client.post(f"/containers/{cid}/kill", query={"signal": str(signum)})
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return _wait(client, cid)


@api_errors(wait_error)
def _wait(client, cid: str) -> int:
    return client.post(f"/containers/{cid}/wait")["StatusCode"]

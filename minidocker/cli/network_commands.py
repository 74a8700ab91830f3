"""`minidocker network ...` commands."""
import json
import re
import sys

import click

from minidocker import validation
from minidocker.cli import list_rows
from minidocker.cli.base import (CTX, api_errors, api_fail, cli, fail, filters_query, for_each, get_or_none,
                                 print_daemon_error)
from minidocker.cli.completion import container_names, network_names
from minidocker.cli.container_commands import inspect_each, out_format
from minidocker.api.client import APIError, q

def natural_key(name: str) -> list:
    """docker's sortorder.NaturalLess: digit runs compare as numbers."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name) if part]


@cli.group("network", context_settings=CTX)
def network():
    """Manage networks."""


def _kv(items, what):
    out = {}
    for item in items:
        k, eq, v = item.partition("=")
        if what == "aux" and not eq:
            fail(f"invalid aux-address {item}: expected NAME=IP", prefix=False)
        out[k] = v
    return out


@network.command("create", context_settings=CTX)
@click.option("-d", "--driver", default="bridge", help='Driver to manage the Network (default "bridge")')
@click.option("--subnet", multiple=True, help="Subnet in CIDR format that represents a network segment")
@click.option("--gateway", multiple=True, help="IPv4 or IPv6 Gateway for the master subnet")
@click.option("--ip-range", multiple=True, help="Allocate container ip from a sub-range")
@click.option("--aux-address", multiple=True, help="Auxiliary IPv4 or IPv6 addresses used by Network driver")
@click.option("--internal", is_flag=True, help="Restrict external access to the network")
@click.option("--attachable", is_flag=True, help="Enable manual container attachment")
@click.option("--label", multiple=True, help="Set metadata on a network")
@click.option("-o", "--opt", multiple=True, help="Set driver specific options")
@click.option("--ipv6", is_flag=True, help="Enable IPv6 networking")
@click.argument("name")
@click.pass_obj
@api_errors()
def create(st, driver, subnet, gateway, ip_range, aux_address, internal, attachable, label, opt, ipv6, name):
    """Create a network."""
    if (gateway or ip_range) and not subnet:
        fail("every ip-range or gateway must have a corresponding subnet", prefix=False)
    if len(gateway) > len(subnet) or len(ip_range) > len(subnet):
        fail("every ip-range or gateway must have a corresponding subnet", prefix=False)
    config = []
    for i, s in enumerate(subnet):
        entry = {"Subnet": s}
        if i < len(gateway):
            entry["Gateway"] = gateway[i]
        if i < len(ip_range):
            entry["IPRange"] = ip_range[i]
        if aux_address:
            entry["AuxiliaryAddresses"] = _kv(aux_address, "aux")
        config.append(entry)
    if aux_address and not subnet:
        fail("no matching subnet for aux-address", prefix=False)
    body = {"Name": name, "Driver": driver, "Internal": internal, "Attachable": attachable,
            "EnableIPv6": ipv6, "IPAM": {"Driver": "default", "Config": config, "Options": {}},
            "Labels": _kv(label, "label"), "Options": _kv(opt, "opt"), "CheckDuplicate": True}
    res = st.client().post("/networks/create", body)
    click.echo(res["Id"])


@network.command("ls", context_settings=CTX)
@click.option("-q", "--quiet", is_flag=True, help="Only display network IDs")
@click.option("--no-trunc", is_flag=True, help="Do not truncate the output")
@click.option("--format", "fmt", default="", help="Pretty-print networks using a Go template")
@click.option("-f", "--filter", "filters", multiple=True, help="Provide filter values (e.g. 'driver=bridge')")
@click.pass_obj
@api_errors()
def ls(st, quiet, no_trunc, fmt, filters):
    """List networks."""
    nets = st.client().get("/networks", query={"filters": filters_query(filters)})
    rows = sorted((list_rows.network_row(n, trunc=not no_trunc) for n in nets),
                  key=lambda r: natural_key(r["Name"]))
    if quiet:
        for r in rows:
            click.echo(r["ID"])
        return
    out_format(fmt or list_rows.LS_TABLE, rows, list_rows.LS_HEADERS)


@network.command("inspect", context_settings=CTX)
@click.option("-f", "--format", "fmt", default="", help="Format the output using the given Go template")
@click.option("-v", "--verbose", is_flag=True, help="Verbose output for diagnostics")
@click.argument("names", nargs=-1, required=True, shell_complete=network_names)
@click.pass_obj
def inspect(st, fmt, verbose, names):
    """Display detailed information on one or more networks."""
    client = st.client()
    inspect_each(names, lambda ref: get_or_none(client, f"/networks/{q(ref)}"), "network", fmt)


@network.command("connect", context_settings=CTX)
@click.option("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
@click.option("--alias", multiple=True, help="Add network-scoped alias for the container")
@click.argument("net", shell_complete=network_names)
@click.argument("container", shell_complete=container_names)
@click.pass_obj
@api_errors()
def connect(st, ip, alias, net, container):
    """Connect a container to a network."""
    body = {"Container": container,
            "EndpointConfig": {"IPAMConfig": {"IPv4Address": ip} if ip else {}, "Aliases": list(alias)}}
    st.client().post(f"/networks/{q(net)}/connect", body)


@network.command("disconnect", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Force the container to disconnect from a network")
@click.argument("net", shell_complete=network_names)
@click.argument("container", shell_complete=container_names)
@click.pass_obj
@api_errors()
def disconnect(st, force, net, container):
    """Disconnect a container from a network."""
    st.client().post(f"/networks/{q(net)}/disconnect", {"Container": container, "Force": force})


@network.command("rm", context_settings=CTX)
@click.argument("names", nargs=-1, required=True, shell_complete=network_names)
@click.pass_obj
def rm(st, names):
    """Remove one or more networks."""
    failed = []

    def remove(ref):
        failed.append(ref)  # taken back below once the request went through
        st.client().delete(f"/networks/{q(ref)}")
        failed.pop()

    def report(ex: APIError) -> None:
        if ex.status == 0:  # no daemon: stop at the first name
            api_fail(ex)
        if ex.status == 404:  # the docker CLI's own words for a 404 (Docker 20.10 measured)
            click.echo(f"Error: No such network: {failed[-1]}", err=True)
        else:
            print_daemon_error(ex)

    if for_each(names, remove, report):
        sys.exit(1)


@network.command("prune", context_settings=CTX)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. 'until=<timestamp>')")
@click.pass_obj
@api_errors()
def prune(st, force, filters):
    """Remove all unused networks."""
    if not force:
        click.echo("WARNING! This will remove all custom networks not used by at least one container.")
        if not click.confirm("Are you sure you want to continue?", default=False, prompt_suffix=" [y/N] ",
                             show_default=False):
            return
    res = st.client().post("/networks/prune", query={"filters": filters_query(filters)})
    gone = res.get("NetworksDeleted") or []
    if gone:  # as docker: a heading, the names, then an empty line
        click.echo("Deleted Networks:\n" + "".join(f"{n}\n" for n in gone))


@network.command("check", context_settings=CTX)
@click.option("--json", "as_json", is_flag=True, help="Print every pair's observed and expected reachability as JSON")
@click.option("--timeout", type=float, default=0.5,
              help="Seconds to wait for each probe's answer (default 0.5)")
@click.argument("networks", nargs=-1, shell_complete=network_names)
@click.pass_obj
@api_errors()
def check(st, as_json, timeout, networks):
    """Probe every pair of containers and compare with the policy.

    Sends ARP, ICMP, TCP and UDP probes between every pair of running containers on
    the given networks (default: all) and compares what got through with what the
    networks allow; exits 1 on any violation."""
    res = st.client().post("/minidocker/check", {"Networks": list(networks), "Timeout": timeout})
    if as_json:
        click.echo(json.dumps(res["json"], indent=2))
    else:
        click.echo(res["text"], nl=not res["text"].endswith("\n"))
    sys.exit(1 if res["violations"] else 0)


@network.command("graph", context_settings=CTX)
@click.option("--format", "fmt", type=click.Choice(["text", "dot", "svg", "mermaid"]), default="text",
              help='Output format: text, dot (Graphviz), svg or mermaid (default "text")')
@click.option("-o", "--output", default="", help="Write the graph to this file and print its name (default: stdout)")
@click.pass_obj
@api_errors()
def graph(st, fmt, output):
    """Draw the host's container network topology.

    Bridges, veth pairs and containers with their addresses, as text, Graphviz dot,
    SVG or a mermaid diagram."""
    res = st.client().get("/minidocker/graph", query={"format": fmt})
    data = res["data"]
    if output:
        with open(output, "w") as f:
            f.write(data)
        click.echo(output)
    else:
        click.echo(data, nl=not data.endswith("\n"))


_ = validation  # the run command validates; network names are validated by the daemon

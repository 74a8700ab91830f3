"""`service`, `node`, `swarm`: a node that is not in a swarm, as Docker answers
(the daemon's 503: "This node is not a swarm manager...")."""
import sys

import click

from minidocker.cli.base import CTX, api_errors, cli, print_daemon_error


def _ask(st, path: str) -> None:
    with api_errors(print_daemon_error) as outcome:
        st.client().get(path)
    if outcome.error:
        sys.exit(1)


@cli.group("service", context_settings=CTX)
def service():
    """Manage services."""


@service.command("ls", context_settings=CTX)
@click.pass_obj
def service_ls(st):
    """List services."""
    _ask(st, "/services")


@cli.group("node", context_settings=CTX)
def node():
    """Manage Swarm nodes."""


@node.command("ls", context_settings=CTX)
@click.pass_obj
def node_ls(st):
    """List nodes in the swarm."""
    _ask(st, "/nodes")

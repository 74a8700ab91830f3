"""The root of the `minidocker` command line: the click group, global flags, and
Docker-style error printing shared by every command.

A thin edge: parse, send one request to minidockerd, print. No kernel work and no
heavy imports here (click, the stdlib client, and the pure template renderer).
"""
import json
import os
import sys

import click

from minidocker.api.client import APIError, Client

CTX = {"help_option_names": ["--help"]}


class State:
    def __init__(self, explain: bool):
        self.explain = explain

    def client(self) -> Client:
        return Client(explain=self.explain)


def fail(message: str, code: int = 1, prefix: bool = True) -> None:
    click.echo(("Error response from daemon: " if prefix else "") + message, err=True)
    sys.exit(code)


def api_fail(ex: APIError, code: int = 1) -> None:
    if ex.status == 0:
        click.echo(ex.message, err=True)
        sys.exit(code)
    fail(ex.message, code, prefix=not ex.body.get("ClientSide"))


def filters_query(filters) -> str | None:
    """`--filter k=v` flags as the Engine API's `filters` JSON ({"k": {"v": true}})."""
    out: dict = {}
    for f in filters:
        k, eq, v = f.partition("=")
        if not eq:
            fail("bad format of filter (expected name=value)", prefix=False)
        out.setdefault(k, {})[v] = True
    return json.dumps(out) if out else None


def dump_json(obj) -> str:
    """Like Docker: 4-space indent, HTML-safe escapes."""
    text = json.dumps(obj, indent=4)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@click.group(context_settings=CTX)
@click.option("--explain", is_flag=True, default=os.environ.get("MINIDOCKER_EXPLAIN") == "1",
              help="Print every kernel change as the equivalent shell command")
@click.pass_context
def cli(ctx, explain):
    """minidocker: Docker's single-host networking on raw Linux primitives."""
    ctx.obj = State(explain)

"""The root of the `minidocker` command line: the click group, global flags, and
what every command shares: how a failed request ends (api_errors and its reports,
worded and exiting as the docker CLI does), loops over several names, JSON output.

A thin edge: parse, send one request to minidockerd, print. No kernel work and no
heavy imports here (click and the stdlib client).
"""
import contextlib
import importlib
import json
import os
import sys
from typing import Callable, NoReturn

import click

from minidocker.api.client import APIError, Client
from minidocker.cli.entry import version_line

CTX = {"help_option_names": ["--help"]}
RUN_CTX = dict(CTX, allow_interspersed_args=False)  # run/exec: what follows the command is its own


class State:
    def __init__(self, explain: bool):
        self.explain = explain

    def client(self) -> Client:
        return Client(explain=self.explain)


def fail(message: str, code: int = 1, prefix: bool = True) -> NoReturn:
    click.echo(("Error response from daemon: " if prefix else "") + message, err=True)
    sys.exit(code)


def api_fail(ex: APIError, code: int = 1) -> NoReturn:
    """The usual end of a failed request: the daemon's message after "Error response from
    daemon: " on stderr (without it for errors the docker CLI finds itself, and for no
    daemon at all), exit 1."""
    if ex.status == 0:
        click.echo(ex.message, err=True)
        sys.exit(code)
    fail(ex.message, code, prefix=not ex.body.get("ClientSide"))


def daemon_fail(ex: APIError) -> NoReturn:
    """Print "Error response from daemon: MESSAGE" on stderr and exit 1, whatever the
    error (logs, port)."""
    fail(ex.message)


def print_daemon_error(ex: APIError) -> None:
    """Print "Error response from daemon: MESSAGE" on stderr, and go on (one of several
    names failed)."""
    click.echo(f"Error response from daemon: {ex.message}", err=True)


class api_errors(contextlib.ContextDecorator):
    """Where a failed request ends: an APIError raised inside is handed to `report`, which
    prints Docker's words on the right stream and exits with Docker's code, or returns to
    let the command go on (the error is then in `.error`).

    On a command or helper:  @api_errors()            (report = api_fail)
    Around one request:      with api_errors(run_start_error): client.post(...)
    """

    def __init__(self, report: Callable[[APIError], None] = api_fail):
        self.report = report
        self.error: APIError | None = None

    def __enter__(self) -> "api_errors":
        self.error = None
        return self

    def __exit__(self, kind, ex, tb) -> bool:
        if not isinstance(ex, APIError):
            return False
        self.error = ex
        self.report(ex)
        return True


def for_each(refs, request: Callable[[str], object], report=print_daemon_error, errors_last: bool = False) -> list[str]:
    """Docker's loop over several names (start, stop, rm, network rm...): `request(ref)`
    then print the name; a failure is reported by `report` and the loop goes on
    (``errors_last``: after the loop, as the docker CLI's rm/stop/kill/restart collect
    them). Returns the names that failed."""
    failed, errors = [], []
    for ref in refs:
        with api_errors(errors.append if errors_last else report) as outcome:
            request(ref)
            click.echo(ref)
        if outcome.error:
            failed.append(ref)
    for ex in errors:
        report(ex)
    return failed


def _unless_not_found(ex: APIError) -> None:
    if ex.status != 404:
        api_fail(ex)


def get_or_none(client: Client, path: str):
    """GET `path`; None when the daemon answers 404 (inspect's "No such ..."); any
    other error ends the command as api_fail does."""
    with api_errors(_unless_not_found):
        return client.get(path)
    return None


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


class LazyGroup(click.Group):
    """The top-level group: a command's module is imported when that command runs
    (``lazy``: command name -> module), all of them only to list every command."""

    lazy: dict = {}

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            importlib.import_module(self.lazy[name])
        return super().get_command(ctx, name)

    def list_commands(self, ctx):
        for module in sorted(set(self.lazy.values())):
            importlib.import_module(module)
        return super().list_commands(ctx)


@click.group(cls=LazyGroup, context_settings=CTX)
@click.option("--explain", is_flag=True, default=os.environ.get("MINIDOCKER_EXPLAIN") == "1",
              help="Print every kernel change as the equivalent shell command (or MINIDOCKER_EXPLAIN=1)")
@click.version_option(version_line(), "-v", "--version", message="%(version)s",
                      help="Print version information and quit")
@click.pass_context
def cli(ctx, explain):
    """minidocker: Docker's single-host networking on raw Linux primitives."""
    ctx.obj = State(explain)

"""Flag values checked as the docker CLI's own flag parser checks them (bad ones exit 125)."""
import os
import sys

import click

from minidocker import validation


def check_flag(parse, value: str, flag: str, verb: str):
    """A bad flag value, reported as the docker CLI's flag parser does (exit 125)."""
    try:
        return parse(value)
    except Exception as ex:  # noqa: BLE001
        click.echo(validation.flag_message(value, flag, getattr(ex, "message", str(ex))) +
                   f"\nSee 'minidocker {verb} --help'.", err=True)
        sys.exit(125)


def ip_address(text: str) -> str:
    import ipaddress  # only `run --dns` pays for it
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"{text} is not an ip address") from None


def env_list(values, verb: str) -> list:
    """-e K=V as given; -e K takes K from our environment, or is left out when unset."""
    out = []
    for v in values:
        item = check_flag(lambda t: validation.parse_env(t, os.environ), v, "-e, --env", verb)
        if "=" in item:
            out.append(item)
    return out

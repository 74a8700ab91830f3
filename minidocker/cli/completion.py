"""Shell completion of container and network names, through click's own mechanism.

    eval "$(_MINIDOCKER_COMPLETE=bash_source minidocker)"     # bash (zsh_source, fish_source)

The shell runs `minidocker` again with `_MINIDOCKER_COMPLETE=bash_complete` and the
words typed so far; the functions here are the `shell_complete` callbacks of the
arguments and options that take a container or a network. They ask a running daemon
and never start one: with no daemon (or no permission on its socket) they complete
nothing and print nothing.
"""
from minidocker.api.client import APIError, Client


def _ask(path: str, query: dict | None = None) -> list:
    try:
        return Client(autostart=False).get(path, query=query) or []
    except (APIError, OSError, ValueError):  # no daemon, no access, or an answer we cannot read
        return []


def _container_name(summary: dict) -> str:
    """An entry of GET /containers/json, in Docker's shape: "Names": ["/web"]."""
    names = summary.get("Names") or [""]
    return names[0].lstrip("/")


def _starting_with(names, incomplete: str) -> list[str]:
    return sorted({n for n in names if n and n.startswith(incomplete)})


def container_names(ctx, param, incomplete: str) -> list[str]:
    """Every container's name, running or not."""
    return _starting_with((_container_name(c) for c in _ask("/containers/json", {"all": "1"})), incomplete)


def network_names(ctx, param, incomplete: str) -> list[str]:
    return _starting_with((n.get("Name") for n in _ask("/networks")), incomplete)


def object_names(ctx, param, incomplete: str) -> list[str]:
    """`inspect`: networks with --type network, else containers."""
    if ctx.params.get("kind") == "network":
        return network_names(ctx, param, incomplete)
    return container_names(ctx, param, incomplete)

"""`--filter` as the Engine API takes it, for `network ls` and `ps` (pure).

Filters arrive as Docker's JSON, ``{"key": {"value": true}}`` (or the older
``{"key": ["value"]}``). Keys are checked first, then values; the values of one
key are OR-ed, different keys AND-ed, as in Docker.
"""
import re
from typing import Callable

from minidocker.engine.models import Container, Network
from minidocker.errors import InvalidArgument
from minidocker.ids import parse_time

NETWORK_KEYS = ("name", "id", "driver", "type", "label", "scope", "dangling")
CONTAINER_KEYS = ("name", "id", "status", "network", "label")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def normalize(filters: dict | None) -> dict[str, list[str]]:
    """Both JSON shapes as {key: [values]}."""
    out = {}
    for key, values in (filters or {}).items():
        out[key] = list(values.keys()) if isinstance(values, dict) else list(values)
    return out


def _check_keys(filters: dict, allowed: tuple) -> None:
    for key in filters:
        if key not in allowed:
            raise InvalidArgument(f"Invalid filter '{key}'")


def network_filters(filters: dict | None) -> dict[str, list[str]]:
    """Validated filters of `network ls`."""
    f = normalize(filters)
    _check_keys(f, NETWORK_KEYS)
    for v in f.get("type", []):
        if v not in ("builtin", "custom"):
            raise InvalidArgument(f"invalid filter: 'type'='{v}'")
    for v in f.get("dangling", []):
        if v.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"invalid filter 'dangling={v}'")
    return f


PRUNE_KEYS = ("until", "label", "label!")


def prune_filters(filters: dict | None, now: float) -> Callable[[Network], bool]:
    """`network prune --filter`: a predicate true for the networks to keep."""
    f = normalize(filters)
    _check_keys(f, PRUNE_KEYS)
    untils = [timestamp(v, now) for v in f.get("until", [])]

    def keep(n: Network) -> bool:
        if untils and not parse_time(n.created) < max(untils):
            return True
        if not all(_has_label(n.labels, v) for v in f.get("label", [])):
            return True
        return any(_has_label(n.labels, v) for v in f.get("label!", []))
    return keep


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def timestamp(value: str, now: float) -> float:
    """moby's timetypes.GetTimestamp: a Go duration before ``now`` ("24h", "1h30m"),
    unix seconds ("1796146559.5"), or an RFC 3339 date ("2026-12-01T17:00:00Z")."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
    if parts and "".join(a + b for a, b in parts) == value:
        return now - sum(float(a) * _UNITS[b] for a, b in parts)
    try:
        return float(value)
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?Z?)?", value):
        return parse_time(value if "T" in value else value + "T00:00:00Z")
    raise InvalidArgument(f"failed to parse value as time or duration: \"{value}\"")


def container_filters(filters: dict | None) -> dict[str, list[str]]:
    """Validated filters of `ps`."""
    f = normalize(filters)
    _check_keys(f, CONTAINER_KEYS)
    for v in f.get("status", []):
        if v not in STATUSES:
            raise InvalidArgument(f"Unrecognised filter value for status: {v}")
    return f


def _has_label(labels: dict, want: str) -> bool:
    k, eq, v = want.partition("=")
    return k in labels and (not eq or labels[k] == v)


def network_matches(n: Network, filters: dict[str, list[str]], used: set | None = None) -> bool:
    """Whether network ``n`` passes validated ``filters``; ``used``: the ids of
    networks some container is attached to (for ``dangling``). Every network
    here is local: ``scope=local`` keeps all, another scope none. Labels must
    all match (moby's MatchKVList); other keys' values are alternatives."""
    tests = {
        "name": lambda v: v in n.name,
        "id": lambda v: v in n.id,
        "driver": lambda v: n.driver == v,
        "type": lambda v: (v == "builtin") == n.builtin,
        "scope": lambda v: v == "local",
        "dangling": lambda v: (v.lower() in ("true", "1")) == (not n.builtin and n.id not in (used or set())),
    }
    if not all(_has_label(n.labels, v) for v in filters.get("label", [])):
        return False
    return all(any(tests[key](v) for v in vals) for key, vals in filters.items() if key in tests and vals)


def container_matches(c: Container, filters: dict[str, list[str]], networks: dict) -> bool:
    """Whether container ``c`` passes validated ``filters``; ``networks`` by id."""
    def on_network(v: str) -> bool:
        names = {networks[n].name for n in c.endpoints if n in networks} | {c.network_mode}
        return v in names or any(i.startswith(v) for i in c.endpoints)
    tests = {
        "name": lambda v: v.lstrip("/") in c.name,
        "id": lambda v: c.id.startswith(v),
        "status": lambda v: c.status == v,
        "network": on_network,
    }
    labels = filters.get("label") or []  # every label asked must match (Docker's MatchKVList)
    return all(_has_label(c.labels, v) for v in labels) and \
        all(any(tests[key](v) for v in vals) for key, vals in filters.items() if key != "label")

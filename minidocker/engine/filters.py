"""`--filter` as the Engine API takes it, for `network ls` and `ps` (pure).

Filters arrive as Docker's JSON, ``{"key": {"value": true}}`` (or the older
``{"key": ["value"]}``). Keys are checked first, then values; the values of one
key are OR-ed, different keys AND-ed, as in Docker.
"""
from minidocker.engine.models import Container, Network
from minidocker.errors import InvalidArgument

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
    return f


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


def network_matches(n: Network, filters: dict[str, list[str]]) -> bool:
    """Whether network ``n`` passes validated ``filters`` (scope and dangling are
    accepted and do not narrow: every network here is local)."""
    tests = {
        "name": lambda v: v in n.name,
        "id": lambda v: n.id.startswith(v),
        "driver": lambda v: n.driver == v,
        "type": lambda v: (v == "builtin") == n.builtin,
        "label": lambda v: _has_label(n.labels, v),
    }
    return all(any(tests[key](v) for v in vals) for key, vals in filters.items() if key in tests)


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

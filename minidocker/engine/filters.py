"""`--filter` as the Engine API takes it, for `network ls` and `ps` (pure).

Filters arrive as Docker's JSON, ``{"key": {"value": true}}`` (or the older
``{"key": ["value"]}``). Keys are checked first, then values; the values of one
key are OR-ed, different keys AND-ed, as in Docker.
"""
import re
from typing import Callable

from minidocker.engine import health
from minidocker.engine.models import Container, Network
from minidocker.errors import InvalidArgument, MinidockerError
from minidocker.ids import parse_time

NETWORK_KEYS = ("name", "id", "driver", "type", "label", "scope", "dangling")
CONTAINER_KEYS = ("ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label",
                  "name", "network", "publish", "since", "status", "volume")
HEALTH = ("starting", "healthy", "unhealthy", "none")
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
    """Validated filters of `ps`, checked in Docker 20.10's order and words
    (daemon/list.go foldFilter); ``exited`` values become ints, ``publish`` and
    ``expose`` values sets of "PORT/PROTO"."""
    f = normalize(filters)
    _check_keys(f, CONTAINER_KEYS)
    exited = []
    for v in f.get("exited", []):
        try:
            exited.append(int(v, 10))
        except ValueError:
            raise MinidockerError(f'strconv.Atoi: parsing "{v}": invalid syntax') from None
    for v in f.get("status", []):
        if v not in STATUSES:
            raise InvalidArgument(f"Invalid filter 'status={v}'")
    task = f.get("is-task", [])
    if task and not ("true" in task or "false" in task):
        raise InvalidArgument(f"Invalid filter 'is-task=[{' '.join(task)}]'")
    for v in f.get("health", []):
        if v not in HEALTH:
            raise InvalidArgument(f"Unrecognised filter value for health: {v}")
    out = dict(f)
    out["exited"] = exited
    for key in ("publish", "expose"):
        out[key] = sorted({p for v in f.get(key, []) for p in _port_values(key, v)})
    return out


def _port_values(key: str, value: str) -> list[str]:
    """moby's portOp: "80", "80/udp", "8000-8010/tcp" as "PORT/PROTO" keys."""
    if ":" in value:
        raise MinidockerError(f"filter for '{key}' should not contain ':': {value}")
    port, _, proto = value.partition("/")
    proto = proto or "tcp"
    lo, dash, hi = port.partition("-")
    try:
        start = _uint16(lo)
        end = _uint16(hi) if dash else start
    except ValueError as ex:
        raise MinidockerError(f"error while looking up for {key} {value}: {ex}") from None
    if end < start:
        raise MinidockerError(f"error while looking up for {key} {value}: Invalid range specified for the Port: {port}")
    return [f"{p}/{proto.lower()}" for p in range(start, end + 1)]


def _uint16(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    n = int(text)
    if n > 65535:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return n


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


def _regex_or_exact(pattern: str, text: str) -> bool:
    """moby's filters.Match: the value itself, or a regexp found in ``text``."""
    if pattern == text:
        return True
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def container_matches(c: Container, filters: dict, networks: dict, image_ids=None) -> bool:
    """Whether container ``c`` passes validated ``filters`` (container_filters);
    ``networks`` by id; ``image_ids``: the ids the ``ancestor`` values name (before
    and since are the caller's: they depend on the order of the list)."""
    if not any(filters.values()):  # (plain `ps`: nothing to test)
        return True

    def on_network(v: str) -> bool:
        names = {networks[n].name for n in c.endpoints if n in networks} | {c.network_mode}
        return v in names or any(i.startswith(v) for i in c.endpoints)

    def on_volume(v: str) -> bool:
        """A volume's name or a mount's destination (Docker: any mount point's)."""
        for bind in c.binds or []:
            src, _, rest = bind.partition(":")
            if v in (src, rest.split(":", 1)[0]):
                return True
        return any(v in (p.get("Name"), p.get("Destination"), p.get("Source"))
                   for p in (getattr(c, "mounts", None) or []))
    bound = {f"{b.get('HostPort')}/{key.split('/')[1]}" for key, bs in (c.active_ports or {}).items()
             for b in (bs or []) if b.get("HostPort")} if c.status == "running" else set()
    tests = {
        "name": lambda v: _regex_or_exact(v, "/" + c.name),
        "id": lambda v: c.id.startswith(v),
        "status": lambda v: (("paused" if c.paused and c.status == "running" else c.status) == v),
        "network": on_network,
        "exited": lambda v: c.status == "exited" and c.exit_code == v,
        "health": lambda v: v == health.status_word(c),
        "is-task": lambda v: v == "false",
        "volume": on_volume,
        "publish": lambda v: v in bound,
        "expose": lambda v: v in (c.exposed_ports or {}),
        "ancestor": lambda v: c.image_id in (image_ids or ()),
    }
    labels = filters.get("label") or []  # every label asked must match (Docker's MatchKVList)
    if not all(_has_label(c.labels, v) for v in labels):
        return False
    if "ancestor" in filters and filters["ancestor"] and not (image_ids and c.image_id in image_ids):
        return False
    return all(any(tests[key](v) for v in vals) for key, vals in filters.items()
               if key in tests and key != "ancestor" and vals)

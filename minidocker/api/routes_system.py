"""The daemon itself: `_ping` (every docker CLI command starts with `HEAD /_ping`),
`version` (docker-py and compose negotiate the API version with it), `info`, and
`events`: the engine's events as a stream of JSON lines (Docker's shape), the past
ones from ``since``, then live ones until ``until`` or the client leaves (the head
goes out at once: clients block on it before any event)."""
import json

from minidocker.api.router import Raw, Routes, Stream, json_query
from minidocker.engine import events as ev
from minidocker.engine import system
from minidocker.errors import InvalidArgument, NotFound

routes = Routes()

PING_HEADERS = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
                "Content-Type": "text/plain; charset=utf-8"}


@routes("GET", r"/_ping")
def ping(e, req):
    return 200, Raw(b"OK", PING_HEADERS)


@routes("HEAD", r"/_ping")
def ping_head(e, req):
    return 200, Raw(b"", PING_HEADERS)


@routes("GET", r"/version")
def version(e, req):
    return 200, system.version()


@routes("GET", r"/info")
def info(e, req):
    return 200, system.info(e, e.events.listeners)


# ---- events -----------------------------------------------------------------------

def unix_time(value: str | None, name: str) -> float | None:
    """Docker's timestamps in a query: unix seconds with an optional fraction
    ("1796146559.035"); the CLI turns durations and dates into those."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidArgument(f"invalid value for {name}: {value}") from None


@routes("GET", r"/events")
def events(e, req):
    since = unix_time(req.arg("since"), "since")
    until = unix_time(req.arg("until"), "until")
    if since is not None and until is not None and until < since:
        raise InvalidArgument(f"`since` time ({req.arg('since')}) cannot be after `until` time "
                              f"({req.arg('until')})")
    if until is not None and since is None:  # Docker replays everything before `until`
        since = 0.0
    filters = ev.check_filters(json_query(req, "filters"))

    def pieces():
        for item in e.events.listen(since, until, filters):
            yield b"" if item is None else (json.dumps(item, separators=(",", ":")) + "\n").encode()
    return 200, Stream(pieces(), {"Content-Type": "application/json"})


# ---- objects minidocker has none of (the docker CLI's `inspect` asks for each) ------

@routes("GET", r"/plugins")
def plugins_list(e, req):
    return 200, []


@routes("GET", r"/plugins/(?P<name>.+)/json")
def plugins_inspect(e, req, name):
    raise NotFound(f'plugin "{name}" not found')


@routes("POST", r"/minidocker/system/check")
def system_check(e, req):
    """minidocker's own: drift between state and kernel, repaired unless ?dry_run=1."""
    from minidocker.engine import system_check as sc
    return 200, {"Findings": sc.check(e, repair=not req.flag("dry_run"))}

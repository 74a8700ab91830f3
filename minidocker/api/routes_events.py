"""`GET /events`: the engine's events as a stream of JSON lines (Docker's shape),
the past ones from ``since``, then live ones until ``until`` or the client leaves.
The head goes out at once: clients block on it before any event."""
import json

from minidocker.api.router import Routes, Stream, json_query
from minidocker.engine import events as ev
from minidocker.errors import InvalidArgument

routes = Routes()


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

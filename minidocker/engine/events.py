"""The daemon's event log (Docker's `GET /events`): what happened to containers and
networks, kept in memory for replay (``since``) and handed to listeners as it happens.

Verbs call ``engine.events.emit(type, action, actor_id, attributes)``; the event
has Docker's shape (container events also carry the legacy ``status``/``id``/
``from`` keys). Listeners iterate ``events.listen(...)``: the past events that
match, then new ones, with an idle tick (None) every ``tick`` seconds so the
server can notice a client that went away; it ends at ``until``.

Filters (pure, `filters.py`-style {key: [values]}): type, container, network,
event, label, image, scope, daemon; values of one key OR-ed, keys AND-ed (labels:
all must match).

Who emits what (Docker 20.10's sequences, api-research NOTES §10):
- network verbs: network ``create``/``destroy`` {name, type}, ``prune`` {reclaimed};
  sandbox.py: network ``connect``/``disconnect`` {container, name, type} whenever a
  container's endpoint joins or leaves (start, stop, connect/disconnect while running);
- images.py: image ``import``/``tag``/``untag``/``delete`` {name};
- container verbs (container_verbs.py, container_create.py, exec_verbs.py), with
  ``container_attributes(c, ...)``: ``create``, ``attach``, ``start``, ``die``
  {exitCode}, ``kill`` {signal}, ``stop``, ``restart``, ``destroy``, and
  ``exec_create: <cmd>``/``exec_start: <cmd>``/``exec_die`` {execID, exitCode}.
  docker-compose waits for ``die`` (with the container's labels) to see exits.
"""
import collections
import threading
import time

from minidocker.errors import InvalidArgument

KEYS = ("config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope",
        "secret", "service", "type", "volume")
TYPES = ("builder", "config", "container", "daemon", "image", "network", "node", "plugin", "secret",
         "service", "volume")
KEEP = 1024  # Docker keeps the last 1024 events for replay (events.eventsLimit)


def event(kind: str, action: str, actor_id: str, attributes: dict | None = None,
          time_ns: int | None = None) -> dict:
    """One event in Docker's JSON shape."""
    t = time.time_ns() if time_ns is None else time_ns
    attrs = {str(k): str(v) for k, v in (attributes or {}).items()}
    out = {}
    if kind == "container":  # the pre-1.22 keys, still sent for container and image events
        out = {"status": action, "id": actor_id, "from": attrs.get("image", "")}
    elif kind == "image":
        out = {"status": action, "id": actor_id}
    out.update({"Type": kind, "Action": action, "Actor": {"ID": actor_id, "Attributes": attrs},
                "scope": "local", "time": t // 1_000_000_000, "timeNano": t})
    return out


def container_attributes(c, **extra) -> dict:
    """A container event's Actor.Attributes: its labels, then image and name (and
    ``extra``, e.g. exitCode=0 on ``die``, signal=15 on ``kill``)."""
    return {**(getattr(c, "labels", None) or {}), "image": c.image, "name": c.name,
            **{k: str(v) for k, v in extra.items()}}


def check_filters(filters: dict) -> dict:
    """Docker's events filters, normalised to {key: [values]}; unknown keys refused."""
    for key in filters:
        if key not in KEYS:
            raise InvalidArgument(f"Invalid filter '{key}'")
    return {k: list(v.keys()) if isinstance(v, dict) else list(v) for k, v in filters.items()}


def _label(attrs: dict, want: str) -> bool:
    k, eq, v = want.partition("=")
    return k in attrs and (not eq or attrs[k] == v)


def _fuzzy(values: list, *candidates: str) -> bool:
    """moby's FuzzyMatch: no values, or one equal to or a prefix of a candidate."""
    return not values or any(c and c.startswith(v) for v in values for c in candidates)


def matches(ev: dict, filters: dict) -> bool:
    """Whether event ``ev`` passes checked ``filters`` (moby's events.Filter.Include)."""
    kind, actor = ev["Type"], ev["Actor"]
    attrs = actor["Attributes"]
    f = {k: v for k, v in filters.items() if v}

    def named(key: str) -> bool:  # container=, network=...: the actor's id or name, on any event
        return key not in f or _fuzzy(f[key], actor["ID"], attrs.get("name", ""))
    action = ev["Action"]
    events = f.get("event", [])
    if events and not any(action == v or (v in ("health_status", "exec_create", "exec_start")
                                          and action.startswith(v)) for v in events):
        return False
    if "type" in f and kind not in f["type"]:
        return False
    if "scope" in f and ev["scope"] not in f["scope"]:
        return False
    if "label" in f and not all(_label(attrs, v) for v in f["label"]):
        return False
    if "image" in f and not any(v in (attrs.get("image", ""), actor["ID"]) for v in f["image"]):
        return False
    if any(k in f for k in ("config", "node", "plugin", "secret", "service", "volume")):
        return False  # objects minidocker has not
    return named("container") and named("network") and named("daemon")


class Events:
    def __init__(self, keep: int = KEEP):
        self._log: collections.deque = collections.deque(maxlen=keep)
        self._cond = threading.Condition()
        self._seq = 0  # events ever emitted: listeners use it to find what is new
        self.listeners = 0  # clients following the stream now (`info`'s NEventsListener)

    def emit(self, kind: str, action: str, actor_id: str, attributes: dict | None = None) -> dict:
        ev = event(kind, action, actor_id, attributes)
        with self._cond:
            self._seq += 1
            self._log.append((self._seq, ev))
            self._cond.notify_all()
        return ev

    def recent(self) -> list[dict]:
        with self._cond:
            return [ev for _, ev in self._log]

    def listen(self, since: float | None = None, until: float | None = None, filters: dict | None = None,
               tick: float = 0.5):
        """Matching events as dicts: those at or after ``since`` (unix seconds) from
        the log, then new ones as they come, until ``until`` (None: forever); None
        is yielded when nothing happened for ``tick`` seconds."""
        with self._cond:
            self.listeners += 1
        try:
            yield from self._listen(since, until, filters or {}, tick)
        finally:
            with self._cond:
                self.listeners -= 1

    def _listen(self, since, until, f, tick):
        with self._cond:
            seq = self._seq
            past = [ev for _, ev in self._log] if since is not None else []
        for ev in past:
            t = ev["timeNano"] / 1e9
            if t >= since and (until is None or t <= until) and matches(ev, f):
                yield ev
        while until is None or time.time() <= until:
            with self._cond:
                wait = tick if until is None else max(0.0, min(tick, until - time.time()))
                if self._seq == seq:
                    self._cond.wait(wait)
                fresh = [ev for s, ev in self._log if s > seq]
                seq = self._seq
            if not fresh:
                yield None
                continue
            for ev in fresh:
                t = ev["timeNano"] / 1e9
                if until is not None and t > until:
                    return
                if (since is None or t >= since) and matches(ev, f):
                    yield ev

"""Container routes (Docker's /containers). Each parses the request, makes one
Engine call, and answers in Docker's shapes; attach takes the connection over
(hijack.py). The minidocker CLI's own fast paths stay: fds that came with a
start request (its stdio) get the output, `?pty=1` hands a terminal's master back."""
import json
import threading

from minidocker.api import framing, hijack
from minidocker.api.container_bodies import CREATE
from minidocker.api.router import PassFds, Routes, Stream, Takeover, json_query
from minidocker.api.schema import bad_json_message, check
from minidocker.engine import queries, rename
from minidocker.engine import volume_verbs
from minidocker.engine.outputs import frame
from minidocker.errors import DecodeError, InvalidArgument, MinidockerError, NotFound

routes = Routes()


def _int(req, name: str, default=None):
    v = req.arg(name)
    if v in (None, ""):
        return default
    try:
        return int(v)
    except ValueError:
        raise InvalidArgument(f"invalid {name}: {v}") from None


def _flag(req, name: str, default: bool = False) -> bool:
    """moby's BoolValue: false iff the value is one of "", 0, no, false, none."""
    v = req.arg(name)
    if v is None:
        return default
    return v.strip().lower() not in ("", "0", "no", "false", "none")


def _seconds(req, name: str) -> float:
    """Docker's timestamp query value: SECONDS[.NANOS] (its ParseInt error otherwise)."""
    v = req.arg(name)
    if not v:
        return 0.0
    whole, _, frac = v.partition(".")
    for part in (whole, frac):
        if part and not part.isdigit():
            raise MinidockerError(f'strconv.ParseInt: parsing "{part}": invalid syntax')
    return float(v)


@routes("GET", r"/containers/json")
def containers_list(e, req):
    limit = _int(req, "limit", -1)
    out = queries.containers(e, show_all=_flag(req, "all") or limit > 0, filters=json_query(req, "filters"),
                             size=_flag(req, "size"))
    return 200, out[:limit] if limit > 0 else out


@routes("POST", r"/containers/create")
def containers_create(e, req):
    """Go's decoder's words for a body it would not read, with dockerd's 500."""
    try:
        body = req.json()
    except framing.BadJSON as ex:
        raise DecodeError(bad_json_message(ex)) from None
    check(body, CREATE, DecodeError)
    c = e.ctr.create(body, name=req.arg("name", "") or "")
    return 201, {"Id": c.id, "Warnings": []}


@routes("GET", r"/containers/(?P<ref>[^/]+)/json")
def containers_inspect(e, req, ref):
    return 200, queries.container(e, ref)


@routes("POST", r"/containers/(?P<ref>[^/]+)/start")
def containers_start(e, req, ref):
    try:
        if req.flag("pty"):  # `minidocker run -it`: the pty is opened inside the container; its master goes to the CLI
            return 200, PassFds([e.ctr.start_with_pty(ref)])
        if not e.ctr.start_if_stopped(ref, stdio_fds=tuple(req.fds[:3]) or None):
            return 304, None
    except MinidockerError:
        _removal_answers.settle(e, ref)
        raise
    return 204, None


class RemovalAnswers:
    """`docker run --rm` waits with ?condition=removed before it starts; when the
    start fails the container is removed and the CLI cancels its wait the moment
    the start's error arrives: a wait answered later makes it log `error waiting
    for container: context canceled`. Docker's wait answer almost always comes
    first, so here the start's error goes out once the waits for the removed
    container have written theirs."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[str, list[threading.Event]] = {}

    def add(self, ref: str) -> threading.Event:
        ev = threading.Event()
        with self.lock:
            self.pending.setdefault(ref, []).append(ev)
        return ev

    def done(self, ref: str, ev: threading.Event) -> None:
        ev.set()
        with self.lock:
            evs = self.pending.get(ref, [])
            if ev in evs:
                evs.remove(ev)
            if not evs:
                self.pending.pop(ref, None)

    def settle(self, e, ref: str) -> None:
        with self.lock:
            evs = list(self.pending.get(ref, []))
        if not evs:
            return
        try:
            with e.lock:
                e.find_container(ref)
            return  # still there: its waits go on
        except NotFound:
            pass
        for ev in evs:
            ev.wait(timeout=1.0)


_removal_answers = RemovalAnswers()


@routes("POST", r"/containers/(?P<ref>[^/]+)/wait")
def containers_wait(e, req, ref):
    """The head goes out at once (docker run waits for it before it starts the
    container); the body when the condition is met."""
    condition = req.arg("condition") or "not-running"
    poll = e.ctr.waiter(ref, condition)
    answered = _removal_answers.add(ref) if condition == "removed" else None

    def pieces():
        try:
            while True:
                code = poll(1.0)
                if code is not None:
                    yield json.dumps({"Error": None, "StatusCode": code}).encode() + b"\n"
                    return  # (resumed once the body is written)
                yield b""  # an idle tick: a client that left ends it
        finally:
            if answered is not None:
                _removal_answers.done(ref, answered)
    return 200, Stream(pieces(), {"Content-Type": "application/json"})


@routes("POST", r"/containers/(?P<ref>[^/]+)/stop")
def containers_stop(e, req, ref):
    return (204 if e.ctr.stop_if_running(ref, _int(req, "t")) else 304), None


@routes("POST", r"/containers/(?P<ref>[^/]+)/restart")
def containers_restart(e, req, ref):
    e.ctr.restart(ref, _int(req, "t"))
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/kill")
def containers_kill(e, req, ref):
    e.ctr.kill(ref, req.arg("signal") or "KILL")
    return 204, None


@routes("DELETE", r"/containers/(?P<ref>[^/]+)")
def containers_remove(e, req, ref):
    volume_verbs.remove_container(e, ref, force=_flag(req, "force"), volumes=_flag(req, "v"))
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/rename")
def containers_rename(e, req, ref):
    rename.rename(e, ref, req.arg("name") or "")
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/resize")
def containers_resize(e, req, ref):
    e.ctr.resize(ref, _int(req, "h", 0), _int(req, "w", 0))
    return 200, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/attach")
def containers_attach(e, req, ref):
    tty, hub, log_records = e.ctr.attach_target(ref, logs=_flag(req, "logs"))
    stdin, stdout, stderr = (_flag(req, k) for k in ("stdin", "stdout", "stderr"))

    def run(out):
        hijack.upgrade(out, req)
        sink = hijack.SocketSink(out.sock, tty, stdout, stderr)
        for stream, _t, data in log_records or ():
            sink.write(stream, data)
        if not _flag(req, "stream"):
            sink.end()
            return
        hub.subscribe(sink)
        try:
            hijack.serve(out.sock, hub, sink, stdin)
        finally:
            hub.unsubscribe(sink)
    return 101, Takeover(run)


@routes("GET", r"/containers/(?P<ref>[^/]+)/logs")
def containers_logs(e, req, ref):
    stdout, stderr, stamps = _flag(req, "stdout"), _flag(req, "stderr"), _flag(req, "timestamps")
    if not (stdout or stderr):
        raise InvalidArgument("Bad parameters: you must choose at least one stream")
    tty, records = queries.logs(e, ref, follow=_flag(req, "follow"), tail=req.arg("tail", "all"),
                                since=_seconds(req, "since"), until=_seconds(req, "until"))

    def pieces():
        for rec in records:
            if rec is None:
                yield b""
                continue
            stream, t, data = rec
            if (stream == 1 and not stdout) or (stream == 2 and not stderr):
                continue
            if stamps:
                data = (t or "0001-01-01T00:00:00.000000000Z").encode() + b" " + data
            yield data if tty else frame(stream, data)
    return 200, Stream(pieces())

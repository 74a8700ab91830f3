"""Container resource routes: pause/unpause, update, stats, top (Docker's
shapes; the decisions are engine/pause.py, resources.py, stats.py)."""
import json

from minidocker.api.router import Routes, Stream
from minidocker.engine import pause, resources, stats
from minidocker.errors import NotFound

routes = Routes()


def _bool(req, name: str, default: bool) -> bool:
    v = req.arg(name)
    if v is None:
        return default
    return v.strip().lower() not in ("", "0", "no", "false", "none")


@routes("POST", r"/containers/(?P<ref>[^/]+)/pause")
def containers_pause(e, req, ref):
    pause.pause(e, ref)
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/unpause")
def containers_unpause(e, req, ref):
    pause.unpause(e, ref)
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/update")
def containers_update(e, req, ref):
    return 200, {"Warnings": resources.update(e, ref, req.json() or {})}


@routes("GET", r"/containers/(?P<ref>[^/]+)/top")
def containers_top(e, req, ref):
    return 200, stats.top(e, ref, req.arg("ps_args") or "")


@routes("GET", r"/containers/(?P<ref>[^/]+)/stats")
def containers_stats(e, req, ref):
    stream = _bool(req, "stream", True)
    one_shot = _bool(req, "one-shot", False)
    with e.lock:
        e.find_container(ref)  # 404 before the answer's head

    def pieces():
        try:
            for rec in stats.records(e, ref, stream=stream, one_shot=one_shot):
                yield json.dumps(rec).encode() + b"\n"
        except NotFound:  # removed meanwhile: the stream ends
            return
    return 200, Stream(pieces(), {"Content-Type": "application/json"})

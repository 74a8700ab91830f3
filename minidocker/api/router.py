"""Requests to handlers: the route table, the API version prefix, typed errors
answered as Docker answers them (``{"message": ...}`` with the error's status).

A handler is ``fn(engine, req, **path_params) -> (status, result)``: it parses
the request, makes one Engine call and returns data in Docker's shapes. The
result is JSON data (None: no body), a ``Stream`` (a body produced piece by
piece), ``PassFds`` (an empty answer with file descriptors attached) or a
``Takeover`` (the handler writes its answer itself through the framing's
writer, as `exec -it` does; the attach hijack will be one too).

A request with header ``X-Explain: 1`` gets the kernel steps it caused back in
the ``X-Explain`` response header (a JSON list of shell commands).
"""
import json
import logging
import re
from urllib.parse import unquote

from minidocker import explain
from minidocker.api import framing
from minidocker.errors import InvalidArgument, MinidockerError

log = logging.getLogger(__name__)

_VERSION = re.compile(r"^/v(\d+\.\d+)(?=/)")


class Stream:
    """A body produced piece by piece (`logs -f`). An empty piece is an idle
    tick: nothing new yet, and a chance to notice that the client went away."""

    def __init__(self, pieces, headers: dict | None = None):
        self.pieces = pieces
        self.headers = headers or {}


class PassFds:
    """An answer without a body whose head carries file descriptors (a pty
    master for `run -it`); the server closes its own copies once sent."""

    def __init__(self, fds: list):
        self.fds = fds


class Takeover:
    """The handler writes the answer itself: ``fn(out)`` with the framing's
    ResponseWriter. An error raised before ``out`` started is answered as usual."""

    def __init__(self, fn):
        self.fn = fn


class Routes(list):
    """One resource's routes; ``@routes("GET", r"/networks/(?P<ref>[^/]+)")``."""

    def __call__(self, method: str, pattern: str):
        def deco(fn):
            self.append((method, re.compile("^" + pattern + "$"), fn))
            return fn
        return deco


def split_version(path: str) -> tuple[str | None, str]:
    """``/v1.41/networks`` -> ("1.41", "/networks"); paths without a prefix as they are."""
    m = _VERSION.match(path)
    return (m.group(1), path[m.end():]) if m else (None, path)


def json_query(req, name: str) -> dict:
    """A JSON-encoded query parameter, as Docker's `filters`; {} when absent."""
    raw = req.arg(name)
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        raise InvalidArgument(f"invalid {name}: {raw}") from None


def error_body(ex: MinidockerError) -> dict:
    body = {"message": ex.message}
    if getattr(ex, "client_side", False):
        body["ClientSide"] = True
    if getattr(ex, "code", None) is not None:
        body["ExitCode"] = ex.code
    return body


class Router:
    def __init__(self, *tables: Routes):
        self.routes = [r for table in tables for r in table]

    def resolve(self, method: str, path: str):
        """The handler and its path parameters, or (None, {})."""
        for m, rx, fn in self.routes:
            hit = rx.match(path)
            if hit and m == method:
                return fn, {k: unquote(v) for k, v in hit.groupdict().items()}
        return None, {}

    def dispatch(self, engine, req, out) -> None:
        """Answer one request through ``out`` (a framing.ResponseWriter)."""
        req.api_version, path = split_version(req.path)
        fn, params = self.resolve(req.method, path)
        lines: list = []
        status, result = 404, {"message": "page not found"}
        if fn is not None:
            with explain.recording(lines):
                status, result = self._call(fn, engine, req, params, out)
        if out.started:  # a takeover answered
            return
        headers = {"X-Explain": json.dumps(lines)} if req.headers.get("x-explain") == "1" else {}
        if isinstance(result, Stream):
            out.stream(status, result.pieces, {**result.headers, **headers})
        elif isinstance(result, PassFds):
            try:
                out.send(status, b"", headers, fds=result.fds)
            finally:
                framing.close_fds(result.fds)
        else:
            out.send_json(status, result, headers)

    @staticmethod
    def _call(fn, engine, req, params, out):
        try:
            status, result = fn(engine, req, **params)
            if isinstance(result, Takeover):
                result.fn(out)
            return status, result
        except MinidockerError as ex:
            if out.started:
                log.warning("%s %s failed after its answer began: %s", req.method, req.path, ex.message)
            return ex.status, error_body(ex)
        except Exception as ex:  # noqa: BLE001 - a bug: log it, answer 500, keep serving
            log.exception("%s %s failed", req.method, req.path)
            return 500, {"message": f"{type(ex).__name__}: {ex}"}

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

As dockerd (moby's VersionMiddleware): paths may carry an API version prefix,
/v1.12 ... /v1.41; a newer one is refused (JSON error), an older one too (text);
errors are ``{"message": ...}\n`` JSON, or Go's text/plain for paths of API
1.12-1.23; every answer carries Api-Version, Docker-Experimental, Ostype, Server
and Date.
"""
import email.utils
import errno
import json
import logging
import re
import resource
from urllib.parse import unquote

from minidocker import explain
from minidocker.api import framing
from minidocker.engine import system
from minidocker.errors import InvalidArgument, MinidockerError

log = logging.getLogger(__name__)

_VERSION = re.compile(r"^/v([0-9.]+)(?=/)")
API_VERSION = system.API_VERSION
MIN_API_VERSION = system.MIN_API_VERSION
SERVER = "minidocker"  # the Server header: no client reads it, so it says who answers


def version_tuple(v: str) -> tuple:
    """moby's versions.compare: dot-separated numbers, missing parts are 0."""
    out = []
    for part in v.split("."):
        try:
            out.append(int(part))
        except ValueError:
            out.append(0)
    return tuple(out)


def common_headers() -> dict:
    return {"Api-Version": API_VERSION, "Docker-Experimental": "false", "Ostype": "linux",
            "Server": f"{SERVER}/{system.VERSION} (linux)", "Date": email.utils.formatdate(usegmt=True)}


class Raw:
    """A body that is not JSON (`_ping`'s ``OK``), with its own headers."""

    def __init__(self, body: bytes, headers: dict | None = None):
        self.body = body
        self.headers = headers or {}


def check_json(req) -> None:
    """moby's httputils.CheckForJSON: a body, or any Content-Type at all, must be JSON."""
    ct = req.headers.get("content-type", "")
    if not ct and req.headers.get("content-length", "0") in ("", "0") and \
            "chunked" not in req.headers.get("transfer-encoding", ""):
        return
    if ct.split(";")[0].strip().lower() == "application/json":
        return
    raise InvalidArgument(f"Content-Type specified ({ct}) must be 'application/json'")


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
    """A JSON-encoded query parameter, as Docker's `filters`; {} when absent.
    Both of Docker's shapes come through: {"key": {"value": true}} and {"key": ["value"]}."""
    raw = req.arg(name)
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        raise InvalidArgument(f"invalid {name}: {raw}") from None
    if not isinstance(value, dict) or not all(isinstance(v, (dict, list)) for v in value.values()):
        raise InvalidArgument(f"invalid {name}: {raw}")
    return value


def _out_of_fds(ex: BaseException) -> bool:
    """EMFILE, raised as it is or carried in a typed error's message."""
    while ex is not None:
        if isinstance(ex, OSError) and ex.errno == errno.EMFILE:
            return True
        if "Too many open files" in (getattr(ex, "message", None) or str(ex)):
            return True
        ex = ex.__cause__ or ex.__context__
    return False


def fd_limit_message(message: str) -> str:
    """What ran out, and the limit's name and value."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return (f"{message}: the daemon reached its open-files limit (RLIMIT_NOFILE {soft}); "
            f"raise it (ulimit -n, or LimitNOFILE= in its service) or remove containers")


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
        out.common = common_headers()
        req.api_version, path = split_version(req.path)
        fn, params = self.resolve(req.method, path)
        if fn is None:  # mux's NotFoundHandler: JSON whatever the version
            out.send_json(404, {"message": "page not found"})
            return
        v = req.api_version
        if v is not None and version_tuple(v) > version_tuple(API_VERSION):
            self._error(out, req, 400, {"message": f"client version {v} is too new. Maximum supported API "
                                                   f"version is {API_VERSION}"})
            return
        if v is not None and version_tuple(v) < version_tuple(MIN_API_VERSION):
            self._error(out, req, 400, {"message": f"client version {v} is too old. Minimum supported API "
                                                   f"version is {MIN_API_VERSION}, please upgrade your client "
                                                   f"to a newer version"})
            return
        lines: list = []
        with explain.recording(lines):
            status, result, failed = self._call(fn, engine, req, params, out)
        if out.started:  # a takeover answered
            return
        headers = {"X-Explain": json.dumps(lines)} if req.headers.get("x-explain") == "1" else {}
        if failed:
            self._error(out, req, status, result, headers)
        elif isinstance(result, Stream):
            out.stream(status, result.pieces, {**result.headers, **headers})
        elif isinstance(result, PassFds):
            try:
                out.send(status, b"", headers, fds=result.fds)
            finally:
                framing.close_fds(result.fds)
        elif isinstance(result, Raw):
            out.send(status, result.body, {**result.headers, **headers})
        else:
            out.send_json(status, result, headers)

    @staticmethod
    def _error(out, req, status: int, body: dict, headers: dict | None = None) -> None:
        """JSON for unversioned paths and API > 1.23; Go's text/plain below that."""
        v = req.api_version
        if v is None or version_tuple(v) > (1, 23):
            out.send_json(status, body, headers)
        else:
            out.send_text(status, body["message"], headers)

    @staticmethod
    def _call(fn, engine, req, params, out):
        """(status, result, failed)."""
        try:
            status, result = fn(engine, req, **params)
            if isinstance(result, Takeover):
                result.fn(out)
            return status, result, False
        except MinidockerError as ex:
            if out.started:
                log.warning("%s %s failed after its answer began: %s", req.method, req.path, ex.message)
            if _out_of_fds(ex):
                return 503, {"message": fd_limit_message(ex.message)}, True
            return ex.status, error_body(ex), True
        except framing.ClientTimeout:
            raise  # a half-sent request: the server closes the connection
        except framing.BodyTooLarge as ex:
            req.keep_alive = out.keep_alive = False  # the rest of it is not read: the connection ends
            return 413, {"message": str(ex)}, True
        except framing.BadRequest as ex:
            req.keep_alive = out.keep_alive = False
            return ex.status, {"message": f"bad request: {ex}"}, True
        except framing.BadJSON as ex:  # a handler that read the body as JSON itself
            from minidocker.api.schema import bad_json_message
            return 400, {"message": bad_json_message(ex)}, True
        except Exception as ex:  # noqa: BLE001 - a bug: log it, answer 500, keep serving
            if _out_of_fds(ex):
                log.warning("%s %s failed: %s", req.method, req.path, ex)
                return 503, {"message": fd_limit_message(str(ex))}, True
            log.exception("%s %s failed", req.method, req.path)
            return 500, {"message": f"{type(ex).__name__}: {ex}"}, True

"""HTTP/1.1 over a unix socket, with file descriptors riding along (SCM_RIGHTS).

One implementation for both ends (stdlib only: the CLI imports it): heads built
and parsed, bodies read by Content-Length, chunked or until the connection
closes, JSON bodies, and fds attached to the first byte of a message (the CLI's
stdin/stdout/stderr, a tar file; a pty master coming back).

A connection may carry several requests (HTTP/1.1 keep-alive) unless either side
says ``Connection: close``; the minidocker CLI does, one request per connection.
"""
import array
import http
import json
import os
import socket
import time
from urllib.parse import parse_qs, urlsplit

from minidocker.readiness import readable

MAX_FDS = 8
MAX_HEADER = 64 * 1024
MAX_BODY = 64 << 20  # a body read whole (JSON); streamed ones (`docker import -`) have no limit
JSON = "application/json"


class BadRequest(ValueError):
    """A request that cannot be read (its head, its framing): answered 400
    (``status``) and the connection closed."""
    status = 400


class BodyTooLarge(ValueError):
    """A body bigger than the server reads into memory."""
    status = 413


class ClientTimeout(TimeoutError):
    """The client sent nothing within a limit: the connection is closed unanswered."""


class Limits:
    """How long a server waits for a client, in seconds: ``idle`` for the first
    byte of a request (keep-alive), ``head`` for the rest of the head once it
    began, ``body`` between two pieces of a body (a half-sent request must not
    hold a thread for ever)."""

    def __init__(self, idle: float | None = None, head: float | None = None, body: float | None = None):
        self.idle, self.head, self.body = idle, head, body


# ---- heads -------------------------------------------------------------------------

def _head(first: str, headers: dict) -> bytes:
    return ("\r\n".join([first] + [f"{k}: {v}" for k, v in headers.items()]) + "\r\n\r\n").encode()


def request_head(method: str, target: str, headers: dict) -> bytes:
    return _head(f"{method} {target} HTTP/1.1", {"Host": "minidocker", **headers})


def response_head(status: int, headers: dict) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return _head(f"HTTP/1.1 {status} {reason}", headers)


def parse_head(raw: bytes) -> tuple[list[str], dict]:
    """The first line's words and the headers (names lower-cased)."""
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return lines[0].split(" "), headers


def json_body(obj) -> tuple[bytes, dict]:
    """A JSON body as Go's json.Encoder writes it (compact, a trailing newline), and
    the headers that describe it."""
    data = (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    return data, {"Content-Type": JSON, "Content-Length": str(len(data))}


def bool_value(value) -> bool:
    """moby's httputils.BoolValue: false only for "", 0, no, false and none (any case)."""
    return str(value if value is not None else "").strip().lower() not in ("", "0", "no", "false", "none")


def wants_close(version: str, headers: dict) -> bool:
    """Whether the peer ends the connection after this message."""
    conn = headers.get("connection", "").lower()
    return "close" in conn or (version == "HTTP/1.0" and "keep-alive" not in conn)


# ---- sending -----------------------------------------------------------------------

def send(sock: socket.socket, data: bytes, fds=()) -> None:
    """Send bytes, with file descriptors attached to the first one."""
    if fds:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", list(fds)))]
        sent = sock.sendmsg([data[:1]], anc)
        data = data[sent:]
    sock.sendall(data)


def chunk(data: bytes) -> bytes:
    """One piece of a chunked body (b"" ends the body)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def send_request(sock: socket.socket, method: str, target: str, body=None, fds=(), headers=None) -> None:
    """A whole request: ``body`` is bytes, or an object sent as JSON."""
    if body is None:
        data, head = b"", {"Content-Length": "0"}
    elif isinstance(body, bytes):
        data, head = body, {"Content-Length": str(len(body))}
    else:
        data, head = json_body(body)
    head = {"Connection": "close", **head, **(headers or {})}
    send(sock, request_head(method, target, head) + data, fds)


# ---- receiving ---------------------------------------------------------------------

class Reader:
    """The incoming bytes of one connection, and the fds that arrived with them."""

    def __init__(self, sock: socket.socket, limits: Limits | None = None):
        self.sock = sock
        self.buf = b""
        self.fds: list[int] = []
        self.limits = limits
        self.deadline: float | None = None  # the head's: the whole head within limits.head
        self.wait: float | None = None  # for each recv (the body's idle limit)

    def _fill(self) -> bool:
        if self.limits is not None:
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise ClientTimeout("the client did not finish its request head in time")
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(self.wait)
            try:
                data, anc, _, _ = self.sock.recvmsg(262144, socket.CMSG_SPACE(MAX_FDS * 4))
            except TimeoutError:
                raise ClientTimeout("the client sent nothing in time") from None
            finally:
                self.sock.settimeout(None)  # handlers that take the socket over block as usual
        else:
            data, anc, _, _ = self.sock.recvmsg(262144, socket.CMSG_SPACE(MAX_FDS * 4))
        _collect_fds(anc, self.fds)
        self.buf = self.buf + data if self.buf else data
        return bool(data)

    def take_fds(self) -> list[int]:
        fds, self.fds = self.fds, []
        return fds

    def head(self) -> bytes | None:
        """The next message's head; None when the peer closed before starting one.
        With limits: the first byte within ``idle``, the whole head ``head`` after it."""
        lim = self.limits
        if lim is not None and not self.buf:
            self.wait = lim.idle
            if not self._fill():
                return None
        if lim is not None and lim.head is not None:
            self.deadline = time.monotonic() + lim.head
        try:
            while b"\r\n\r\n" not in self.buf:
                if len(self.buf) > MAX_HEADER:
                    raise BadRequest("request header too large")
                if not self._fill():
                    if self.buf:
                        raise ConnectionError("the peer closed the connection inside a message head")
                    return None
        finally:
            self.deadline = None
            if lim is not None:
                self.wait = lim.body
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if len(head) > MAX_HEADER:
            raise BadRequest("request header too large")
        return head

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_HEADER or not self._fill():
                raise ConnectionError("malformed chunked body")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes, buffered ones first; b"" at the end of the stream."""
        if not self.buf and not self._fill():
            return b""
        data, self.buf = self.buf[:limit], self.buf[limit:]
        return data

    def body(self, headers: dict, until_close: bool = False):
        """The pieces of a body as they arrive: chunked, Content-Length long, or
        (``until_close``, a response without either) up to the end of the stream."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = _chunk_size(self._line())
                if size == 0:
                    while self._line():  # trailers, up to the empty line
                        pass
                    return
                left = size
                while left:
                    data = self._some(left)
                    if not data:
                        raise ConnectionError("the peer closed the connection inside a chunk")
                    left -= len(data)
                    yield data
                self._line()
        elif "content-length" in headers:
            left = content_length(headers)
            while left:
                data = self._some(min(left, 1 << 20))
                if not data:
                    return  # the peer gave up early: the body is what came
                left -= len(data)
                yield data
        elif until_close:
            while True:
                data = self._some(1 << 20)
                if not data:
                    return
                yield data


def content_length(headers: dict) -> int:
    """The Content-Length, as Go's server reads it: digits only."""
    text = headers["content-length"].strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise BadRequest(f"invalid Content-Length {text!r}")
    return int(text)


def _chunk_size(line: bytes) -> int:
    text = line.split(b";")[0].strip() or b"0"
    try:
        size = int(text, 16)
    except ValueError:
        raise BadRequest(f"invalid chunk size {text[:20]!r}") from None
    if size < 0 or len(text) > 15:
        raise BadRequest(f"invalid chunk size {text[:20]!r}")
    return size


def _collect_fds(anc, out: list) -> None:
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            arr = array.array("i")
            arr.frombytes(cdata[: len(cdata) - len(cdata) % arr.itemsize])
            out.extend(arr)


class Request:
    """Server side: one parsed request, the fds it carried, and its body: read whole
    (``body``, ``json()``) or piece by piece as it arrives (``body_pieces()``, a
    chunked `docker import -`); what a handler leaves unread is drained after it."""

    def __init__(self, method, target, version, headers, body=b"", fds=(), pieces=None):
        url = urlsplit(target)
        self.method, self.target, self.version = method, target, version
        self.path, self.query = url.path, parse_qs(url.query, keep_blank_values=True)
        self.headers, self.fds = headers, list(fds)
        self._body = None if pieces is not None else body
        self._pieces = pieces
        self.body_started = pieces is None
        self.keep_alive = not wants_close(version, headers)
        self.api_version: str | None = None  # from a /vX.Y prefix (the router strips it)

    @property
    def body(self) -> bytes:
        """The whole body (up to MAX_BODY: beyond, BodyTooLarge), read in linear time."""
        if self._body is None:
            if "content-length" in self.headers and content_length(self.headers) > MAX_BODY:
                raise BodyTooLarge(f"request body too large: the limit is {MAX_BODY} bytes")
            parts, size = [], 0
            for piece in self.body_pieces():
                size += len(piece)
                if size > MAX_BODY:
                    raise BodyTooLarge(f"request body too large: the limit is {MAX_BODY} bytes")
                parts.append(piece)
            self._body = b"".join(parts)
        return self._body

    def body_pieces(self):
        if self._body is not None:
            if self._body:
                yield self._body
            return
        while self._pieces is not None:
            self.body_started = True
            try:
                piece = next(self._pieces)
            except StopIteration:
                self._pieces, self._body = None, b""
                return
            yield piece

    def drain(self) -> None:
        """Read what is left of the body, so the next request on the connection starts clean."""
        for _ in self.body_pieces():
            pass

    def json(self):
        """The body as JSON ({} when empty); BadJSON with Go's words when it is not."""
        return loads(self.body) if self.body.strip() else {}

    def arg(self, name, default=None):
        return self.query.get(name, [default])[0]

    def flag(self, name) -> bool:
        return bool_value(self.arg(name))


class BadJSON(ValueError):
    """A body that is not JSON: Go's encoding/json words, or the JSONDecodeError
    (``syntax``) that schema.syntax_message words."""

    def __init__(self, message, syntax: json.JSONDecodeError | None = None):
        super().__init__(message)
        self.syntax = syntax


GO_MAX_DEPTH = 10000


def loads(data: bytes):
    """json.loads, with Go's messages for what it refuses (schema.py words the syntax
    errors; nesting deeper than Python recurses is Go's `exceeded max depth`)."""
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise BadJSON("invalid character in request body") from None
    except json.JSONDecodeError as ex:
        raise BadJSON(str(ex), ex) from None
    except RecursionError:
        raise BadJSON(f"invalid character {_too_deep(data)!r} exceeded max depth") from None


def _too_deep(data: bytes) -> str:
    """The opening bracket that makes the nesting too deep (outside strings)."""
    depth, in_str, esc, last = 0, False, False, "["
    for ch in data.decode("utf-8", "replace"):
        if in_str:
            esc, in_str = (False, True) if esc else (ch == "\\", ch != '"')
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth, last = depth + 1, ch
            if depth > GO_MAX_DEPTH:
                return ch
        elif ch in "]}":
            depth -= 1
    return last


def read_request(reader: Reader) -> Request | None:
    """The next request on a connection (its body still to be read); None when the
    client closed it in between. Fds that came with a request we cannot read are closed."""
    try:
        raw = reader.head()
        if raw is None:
            return None
        (method, target, *rest), headers = parse_head(raw)
        if not method or not target.startswith("/") and target != "*" and "://" not in target:
            first = raw.split(b"\r\n", 1)[0][:80]
            raise BadRequest(f"malformed request line {first!r}")
        if "content-length" in headers and "chunked" not in headers.get("transfer-encoding", "").lower():
            content_length(headers)
        pieces = reader.body(headers)
        if headers.get("expect", "").lower() == "100-continue":
            pieces = _continue_first(reader.sock, pieces)
        return Request(method, target, rest[0] if rest else "HTTP/1.0", headers, fds=reader.take_fds(),
                       pieces=pieces)
    except BaseException:
        close_fds(reader.take_fds())
        raise


def _continue_first(sock, pieces):
    """`Expect: 100-continue` (curl with a big body): say go on when the body is wanted."""
    sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    yield from pieces


def close_fds(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:  # already closed by its new owner
            continue


class Response:
    """Client side: status, headers, fds, and the body as a stream of pieces."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._reader = Reader(sock)
        raw = self._reader.head()
        if raw is None:
            raise ConnectionError("daemon closed the connection")
        first, self.headers = parse_head(raw)
        self.status = int(first[1])
        self.fds = self._reader.take_fds()

    def chunks(self):
        if self.status in (204, 304):
            return
        yield from self._reader.body(self.headers, until_close=True)

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def json(self):
        data = self.read()
        return json.loads(data) if data else None


# ---- the server's side of one response -------------------------------------------------

class ResponseWriter:
    """Writes one response: whole (JSON or bytes), as a stream of pieces (chunked to
    an HTTP/1.1 client), or started by a handler that takes the connection over."""

    def __init__(self, sock: socket.socket, request: Request | None = None, headers: dict | None = None):
        self.sock = sock  # (no request: answering one that could not be read)
        self.chunked_ok = request is not None and request.version == "HTTP/1.1"
        self.keep_alive = request is not None and request.keep_alive
        self.http10 = request is not None and request.version == "HTTP/1.0"
        self.common = dict(headers or {})  # on every answer (the daemon's Api-Version, Server...)
        self.head_only = request is not None and request.method == "HEAD"
        self.status: int | None = None
        self.chunked = False

    @property
    def started(self) -> bool:
        return self.status is not None

    def _connection(self, headers: dict) -> dict:
        """The common headers, then ``headers``; ``Connection`` only when it is not
        HTTP/1.1's default (Go's server says close when it closes)."""
        head = {**self.common, **headers}
        if not self.keep_alive:
            head["Connection"] = "close"
        elif self.http10:
            head["Connection"] = "keep-alive"
        return head

    def send(self, status: int, body: bytes = b"", headers: dict | None = None, fds=()) -> None:
        """A whole response (204 and 304 go bare: no length, no type, no body)."""
        self.status = status
        head = dict(headers or {})
        if status in (204, 304) or status < 200:
            head = {k: v for k, v in head.items() if k.lower() != "content-type"}
            body = b""
        else:
            head["Content-Length"] = str(len(body))
        send(self.sock, response_head(status, self._connection(head)) + (b"" if self.head_only else body), fds)

    def send_json(self, status: int, obj, headers: dict | None = None) -> None:
        if obj is None:
            self.send(status, b"", headers)
            return
        data, head = json_body(obj)
        self.send(status, data, {**head, **(headers or {})})

    def send_text(self, status: int, text: str, headers: dict | None = None) -> None:
        """Go's http.Error: the text and a newline, as text/plain."""
        self.send(status, (text + "\n").encode(), {"Content-Type": "text/plain; charset=utf-8",
                                                    "X-Content-Type-Options": "nosniff", **(headers or {})})

    def start(self, status: int, headers: dict | None = None, fds=(), chunked: bool = True) -> None:
        """The head of a body written piece by piece; it ends with ``finish()``
        (chunked) or when the connection closes."""
        self.status = status
        self.chunked = chunked and self.chunked_ok
        head = dict(headers or {})
        if self.chunked:
            head["Transfer-Encoding"] = "chunked"
        else:
            self.keep_alive = False
        send(self.sock, response_head(status, self._connection(head)), fds)

    def write(self, data: bytes) -> None:
        if data:
            self.sock.sendall(chunk(data) if self.chunked else data)

    def finish(self) -> None:
        if self.chunked:
            self.sock.sendall(chunk(b""))

    def stream(self, status: int, pieces, headers: dict | None = None) -> None:
        """A body written as it is produced; an empty piece is an idle tick, on
        which a client that hung up (Ctrl-C on `logs -f`) ends the stream."""
        self.start(status, headers)
        try:
            for piece in pieces:
                if piece:
                    self.write(piece)
                elif self.client_gone():
                    self.keep_alive = False
                    return
            self.finish()
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()

    def client_gone(self) -> bool:
        """True when the client closed its end of the connection."""
        if not readable([self.sock], 0):
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


class PiecesReader:
    """Pieces of bytes (a chunked body, a stream) as a file object for tarfile's
    stream mode: ``read(n)`` returns up to n bytes, b"" at the end."""

    def __init__(self, pieces):
        self.pieces, self.buf = iter(pieces), b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buf) < n:
            piece = next(self.pieces, None)
            if piece is None:
                break
            self.buf += piece
        if n < 0:
            n = len(self.buf)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

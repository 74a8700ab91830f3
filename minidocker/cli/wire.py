"""The smallest client of minidockerd: one HTTP/1.1 request over the unix socket,
with file descriptors attached, for the CLI's fast path (cli/fastpath.py).

It imports only what the interpreter has already loaded or builds in (`_socket`,
`_json`, `posix`): `socket`, `json`, `re` and `enum` cost about 15 ms of start-up
together, more than the daemon needs to create and start a container, and `os`
alone 2-3 ms (its environ mapping, posixpath, stat, _collections_abc) in an
interpreter started with -S, which has not loaded it. The full
client (api/client.py with api/framing.py) stays the one every other command uses;
this one speaks the same protocol (a request with ``Connection: close``, an answer
framed by Content-Length, chunks, or the end of the connection).
"""
import _json
import _socket
import posix
import sys

API_PREFIX = "/v1.41"
_SCM_RIGHTS = 1
_MAX_HEAD = 64 * 1024


class WireError(Exception):
    """The daemon could not be reached, or its answer could not be read: the caller
    goes the full client's way (which starts the daemon, or says what is wrong)."""


class Answer:
    def __init__(self, status: int, body: bytes):
        self.status, self.body = status, body

    def json(self):
        return loads(self.body) if self.body.strip() else None

    @property
    def message(self) -> str:
        data = self.json()
        return data.get("message", f"HTTP {self.status}") if isinstance(data, dict) else f"HTTP {self.status}"


def _constant(name):
    raise ValueError(f"JSON constant {name} is not allowed")


class _Decoding:  # the attributes _json.make_scanner reads
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_constant)
    memo: dict = {}


_scan = _json.make_scanner(_Decoding())
_encode = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ": ", ", ", False, False, False)


def dumps(obj) -> str:
    """json.dumps(obj) for what requests carry: dicts, lists, strings, ints, bools, None."""
    return "".join(_encode(obj, 0))


def loads(data: bytes):
    text = data.decode()
    start = len(text) - len(text.lstrip())
    try:
        obj, end = _scan(text, start)
    except StopIteration:  # the scanner's way of saying "no JSON value here"
        raise ValueError("not a JSON value") from None
    if text[end:].strip():
        raise ValueError("extra data after the JSON value")
    return obj


def env(name: str, default: str | None = None) -> str | None:
    """os.environ.get(name, default), without importing os: where os is loaded
    (not in the -S launcher), its environ, which may have been changed since;
    else posix.environ, the bytes the process started with, decoded as os does."""
    os = sys.modules.get("os")
    if os is not None:
        return os.environ.get(name, default)
    enc = sys.getfilesystemencoding()
    value = posix.environ.get(name.encode(enc, "surrogateescape"))
    return default if value is None else value.decode(enc, "surrogateescape")


def socket_path() -> str:
    run = env("MINIDOCKER_RUN", "/run/minidocker")
    return run + ("minidocker.sock" if not run or run.endswith("/") else "/minidocker.sock")  # os.path.join's


def connect():
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(socket_path())
    except OSError as ex:
        sock.close()
        raise WireError(f"cannot connect: {ex}") from None
    return sock


def request(method: str, path: str, body=None, fds=(), sock=None) -> Answer:
    """One request, its whole answer. ``path`` is the Engine API's, without the
    version (added here); ``body`` a JSON value or None; ``fds`` ride along with the
    first byte (SCM_RIGHTS). Raises WireError when no answer could be read."""
    sock = sock or connect()
    try:
        data = b"" if body is None else dumps(body).encode()
        head = f"{method} {API_PREFIX}{path} HTTP/1.1\r\nHost: minidocker\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        message = head.encode() + b"\r\n" + data
        try:
            if fds:
                sent = sock.sendmsg([message], [(_socket.SOL_SOCKET, _SCM_RIGHTS, _fd_bytes(fds))])
                message = message[sent:]
            if message:
                sock.sendall(message)
            return _read_answer(sock)
        except OSError as ex:
            raise WireError(f"the daemon closed the connection ({ex})") from None
    finally:
        sock.close()


def _fd_bytes(fds) -> bytes:
    return b"".join(int(fd).to_bytes(4, "little", signed=True) for fd in fds)


def _read_answer(sock) -> Answer:
    raw = b""
    while b"\r\n\r\n" not in raw:
        piece = sock.recv(65536)
        if not piece or len(raw) > _MAX_HEAD:
            raise WireError("the daemon's answer ended before its head")
        raw += piece
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise WireError(f"bad status line {lines[0]!r}") from None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if status in (204, 304):
        return Answer(status, b"")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Answer(status, _read_chunked(sock, rest))
    if "content-length" in headers:
        size = int(headers["content-length"])
        while len(rest) < size:
            piece = sock.recv(max(65536, size - len(rest)))
            if not piece:
                raise WireError("the daemon's answer ended early")
            rest += piece
        return Answer(status, rest[:size])
    while True:  # until the connection closes
        piece = sock.recv(65536)
        if not piece:
            return Answer(status, rest)
        rest += piece


def _read_chunked(sock, buf: bytes) -> bytes:
    out = b""
    while True:
        while b"\r\n" not in buf:
            piece = sock.recv(65536)
            if not piece:
                raise WireError("the daemon's answer ended inside a chunk")
            buf += piece
        line, _, buf = buf.partition(b"\r\n")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return out
        while len(buf) < size + 2:
            piece = sock.recv(65536)
            if not piece:
                raise WireError("the daemon's answer ended inside a chunk")
            buf += piece
        out += buf[:size]
        buf = buf[size + 2:]

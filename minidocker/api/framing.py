"""HTTP/1.1 over a unix socket, with file descriptors riding along (SCM_RIGHTS).

Stdlib only: the CLI imports this. One request per connection (Connection: close).
A request may carry fds (the CLI's stdin/stdout/stderr, a pty slave, a tar file)
attached to its first bytes; the server collects them while reading the request.
"""
import array
import json
import os
import socket
from urllib.parse import parse_qs, urlsplit

MAX_FDS = 8
MAX_HEADER = 64 * 1024


def send_request(sock: socket.socket, method: str, path: str, body=None, fds=(), headers=None) -> None:
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    head = [f"{method} {path} HTTP/1.1", "Host: minidocker", "Connection: close",
            f"Content-Length: {len(data)}"]
    if body is not None and not isinstance(body, bytes):
        head.append("Content-Type: application/json")
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    payload = ("\r\n".join(head) + "\r\n\r\n").encode() + data
    if fds:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", list(fds)))]
        sent = sock.sendmsg([payload[:1]], anc)
        payload = payload[sent:]
    sock.sendall(payload)


class Request:
    def __init__(self, method, path, query, headers, body, fds):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.fds = headers, body, fds

    def json(self):
        return json.loads(self.body) if self.body else {}

    def arg(self, name, default=None):
        return self.query.get(name, [default])[0]

    def flag(self, name) -> bool:
        return str(self.arg(name, "")).lower() in ("1", "true", "yes")


def _parse_head(raw: bytes):
    lines = raw.decode("latin-1").split("\r\n")
    first = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return first, headers


def read_request(sock: socket.socket) -> Request:
    fds: list[int] = []
    try:
        return _read_request(sock, fds)
    except BaseException:
        for fd in fds:  # whatever arrived with a request we cannot serve
            os.close(fd)
        raise


def _read_request(sock: socket.socket, fds: list) -> Request:
    buf = b""
    while b"\r\n\r\n" not in buf:
        data, anc, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * 4))
        _collect_fds(anc, fds)
        if not data:
            raise ConnectionError("client went away")
        buf += data
        if len(buf) > MAX_HEADER:
            raise ValueError("request header too large")
    head, body = buf.split(b"\r\n\r\n", 1)
    (method, target, *_), headers = _parse_head(head)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        data = sock.recv(min(1 << 20, length - len(body)))
        if not data:
            break
        body += data
    url = urlsplit(target)
    return Request(method, url.path, parse_qs(url.query), headers, body, fds)


def send_with_fds(sock: socket.socket, data: bytes, fds) -> None:
    """Send bytes with file descriptors attached to the first one."""
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", list(fds)))]
    sent = sock.sendmsg([data[:1]], anc)
    sock.sendall(data[sent:])


def _collect_fds(anc, out: list) -> None:
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            arr = array.array("i")
            arr.frombytes(cdata[: len(cdata) - len(cdata) % arr.itemsize])
            out.extend(arr)


def response_head(status: int, headers: dict | None = None, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Response:
    """Client side: status, headers, and the body as a file (may be a stream)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.fds: list[int] = []
        buf = b""
        while b"\r\n\r\n" not in buf:
            data, anc, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * 4))
            _collect_fds(anc, self.fds)
            if not data:
                raise ConnectionError("daemon closed the connection")
            buf += data
        head, self._rest = buf.split(b"\r\n\r\n", 1)
        first, self.headers = _parse_head(head)
        self.status = int(first[1])

    def chunks(self):
        if self._rest:
            yield self._rest
            self._rest = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            yield data

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def json(self):
        data = self.read()
        return json.loads(data) if data else None

"""The CLI's side of the unix socket (stdlib only: no pyroute2, scapy or dnslib).

Starts minidockerd when it is not running, says so on stderr, and appends the
daemon's output to <run dir>/minidockerd.log.
"""
import json
import os
import socket
import subprocess
import sys
import time
from urllib.parse import quote, urlencode

from minidocker.api import framing


API_VERSION = "1.41"  # the Engine API the daemon speaks; our CLI is one client of it
VENDOR_PREFIX = "/minidocker/"  # minidocker's own extras (network check, graph)


def versioned(path: str) -> str:
    """`/containers/json` -> `/v1.41/containers/json`, as the docker CLI asks; the
    extras under /minidocker/ have no Docker version."""
    return path if path.startswith(VENDOR_PREFIX) else f"/v{API_VERSION}{path}"


class APIError(Exception):
    def __init__(self, status: int, message: str, body: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.body = status, message, body or {}


def run_dir() -> str:
    return os.environ.get("MINIDOCKER_RUN", "/run/minidocker")


def daemon_log_path() -> str:
    """Where an autostarted minidockerd writes its log."""
    return os.path.join(run_dir(), "minidockerd.log")


class Client:
    def __init__(self, explain: bool = False, autostart: bool = True):
        self.socket_path = os.path.join(run_dir(), "minidocker.sock")
        self.explain = explain
        self.autostart = autostart and os.environ.get("MINIDOCKER_NO_AUTOSTART", "") in ("", "0")
        self.explained: list[str] = []

    # ---- connection ---------------------------------------------------------------
    def _connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket_path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if not self.autostart:
                raise APIError(0, f"Cannot connect to the minidocker daemon at unix://{self.socket_path}. "
                                  "Is the minidocker daemon running?")
        self._start_daemon()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.socket_path)
        return s

    def _start_daemon(self) -> None:
        """Start minidockerd in the background, say so on stderr, and wait for its socket.
        Its stdout and stderr (its log) are appended to <run dir>/minidockerd.log."""
        if os.geteuid() != 0:
            raise APIError(0, "minidockerd is not running and starting it needs root")
        log_path = daemon_log_path()
        print(f"minidocker: daemon not running; starting minidockerd (log: {log_path})", file=sys.stderr)
        os.makedirs(run_dir(), exist_ok=True)
        with open(log_path, "ab") as log:
            subprocess.Popen([sys.executable, "-m", "minidocker.api.server"], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, start_new_session=True, close_fds=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.socket_path)
                s.close()
                return
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                time.sleep(0.02)
        raise APIError(0, f"minidockerd did not start; see {log_path}")

    # ---- requests -------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, query: dict | None = None, fds=(),
                stream: bool = False):
        path = versioned(path)
        if query:
            path += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        s = self._connect()
        try:
            headers = {"X-Explain": "1"} if self.explain else None
            try:
                framing.send_request(s, method, path, body, fds=fds, headers=headers)
                resp = framing.Response(s)
            except OSError as ex:  # ConnectionError included: the daemon went away
                raise APIError(0, f"error during connect: the minidocker daemon closed the connection ({ex})")
            if "x-explain" in resp.headers:
                lines = json.loads(resp.headers["x-explain"])
                self.explained.extend(lines)
                for line in lines:
                    print(f"+ {line}", file=sys.stderr)
            if resp.status >= 400:
                data = resp.json() or {}
                raise APIError(resp.status, data.get("message", f"HTTP {resp.status}"), data)
            if stream:
                return resp
            return resp.json()
        finally:
            if not stream:
                s.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def demux(chunks):
    """Docker's multiplexed stream (8-byte headers: stream, 0, 0, 0, length) ->
    (stream, bytes) pieces; stream 1 is stdout, 2 stderr."""
    buf = b""
    for data in chunks:
        buf += data
        while len(buf) >= 8:
            size = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            yield buf[0], buf[8:8 + size]
            buf = buf[8 + size:]


def q(ref: str) -> str:
    return quote(ref, safe="")

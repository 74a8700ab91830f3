"""A container's log, in Docker's json-file format: one JSON object per line,
``{"log": text, "stream": "stdout"|"stderr", "time": RFC3339Nano}``, so that
stdout and stderr stay apart; written by the daemon's output copiers
(container_io.py), read back by `logs` (tail, since/until, follow) and by
`attach?logs=1`.

Bytes that are not UTF-8 survive the round trip (surrogate escapes). A log
written before this format (raw bytes) reads back as stdout lines.
"""
import json
import os
import threading
import time

STREAMS = {1: "stdout", 2: "stderr"}
STREAM_NO = {"stdout": 1, "stderr": 2}


def rfc3339nano(t: float | None = None) -> str:
    t = time.time() if t is None else t
    ns = int(round((t % 1) * 1e9))
    if ns >= 1_000_000_000:
        t, ns = t + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % ns


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of an RFC3339(Nano) UTC time; 0 when unreadable."""
    try:
        head, _, frac = text.rstrip("Z").partition(".")
        base = time.mktime(time.strptime(head, "%Y-%m-%dT%H:%M:%S")) - time.timezone
        return base + (float("0." + frac) if frac else 0.0)
    except ValueError:
        return 0.0


class JsonLog:
    """The writing end: records of one stream, split at line ends, appended whole."""

    def __init__(self, path: str):
        self.path = path
        self.closed = False
        os.close(self._open())  # the log exists from the start of the run
        self.lock = threading.Lock()

    def _open(self) -> int:
        """Opened for each write, not held: a running container costs the daemon
        one fd fewer (its open-files limit bounds how many can run)."""
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)

    def write(self, stream: int, data: bytes) -> None:
        name = STREAMS.get(stream, "stdout")
        now = rfc3339nano()
        lines = data.splitlines(keepends=True)
        out = b"".join(json.dumps({"log": ln.decode("utf-8", "surrogateescape"), "stream": name, "time": now})
                       .encode() + b"\n" for ln in lines)
        with self.lock:
            if self.closed:
                return
            fd = self._open()
            try:
                view = memoryview(out)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)

    def close(self) -> None:
        with self.lock:
            self.closed = True


def _record(line: bytes) -> tuple[int, str, bytes]:
    """(stream number, time text, bytes) of one log line."""
    try:
        d = json.loads(line)
        return STREAM_NO.get(d.get("stream"), 1), d.get("time", ""), d["log"].encode("utf-8", "surrogateescape")
    except (ValueError, KeyError, TypeError, AttributeError):
        return 1, "", line  # a raw line of an older log


def read_records(path: str, tail: str | None = "all", follow: bool = False, running=lambda: False,
                 since: float = 0, until: float = 0, poll: float = 0.1):
    """The log's records ``(stream, time, bytes)``: all, or the last ``tail``; with
    ``follow`` then new ones until the container stops, with None as an idle tick
    every ``poll`` seconds (a chance for the reader to notice a client that left)."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:  # never started: an empty log
        return

    def keep(rec) -> bool:
        t = parse_rfc3339(rec[1]) if (since or until) and rec[1] else None
        return t is None or ((not since or t >= since) and (not until or t <= until))
    with f:
        lines = f.read().splitlines(keepends=True)
        partial = b""
        if lines and not lines[-1].endswith(b"\n"):
            partial = lines.pop()
        n = _tail_count(tail)
        if n is not None:
            lines = lines[-n:] if n else []
        for ln in lines:
            rec = _record(ln)
            if keep(rec):
                yield rec
        if not follow:
            return
        while True:
            data = f.read(65536)
            if data:
                partial += data
                *whole, partial = partial.split(b"\n")
                for ln in whole:
                    rec = _record(ln + b"\n")
                    if keep(rec):
                        yield rec
                continue
            if not running():
                data = f.read()
                if data or partial:
                    for ln in (partial + data).splitlines(keepends=True):
                        yield _record(ln)
                return
            time.sleep(poll)
            yield None


def _tail_count(tail) -> int | None:
    if tail in ("all", "", None):
        return None
    try:
        n = int(tail)
    except ValueError:
        return None
    return n if n >= 0 else None


def frame(stream: int, data: bytes) -> bytes:
    """Docker's 8-byte stream header: stream, 0, 0, 0, big-endian length."""
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data

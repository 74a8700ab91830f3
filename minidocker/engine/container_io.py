"""The daemon owns every container's stdio (and every exec's): one StreamHub each.

For a run without a terminal the container writes into two FIFOs in its bundle
(``stdout.fifo``, ``stderr.fifo``), each opened read-write by the container so
that a writer never meets a missing reader: if the daemon goes away the writes
only block once the pipe is full, and a restarted daemon opens the FIFOs again
and goes on copying (``reopen``). Its stdin is a pipe the daemon writes (when
OpenStdin), else /dev/null. With a terminal the runtime opens a pty inside the
container and the daemon holds the master. Output is copied to the log (the
json-file log, outputs.JsonLog) and to every subscriber: a hijacked attach
stream, or the fds the minidocker CLI passed (its fast path). After a daemon
restart a terminal's master and a stdin pipe are gone with the old daemon: such
a container's output is lost (a tty) and its stdin sees EOF.

A subscriber (``Sink``) has ``write(stream, data) -> bool`` (False: it went
away) and ``end()`` (the run ended: close the stream). Subscribers may come
before the start (docker run attaches first); stdin that arrives before the
start is kept and written once the process exists.
"""
import fcntl
import logging
import os
import struct
import termios
import threading

from minidocker.readiness import readable
from minidocker.engine.outputs import JsonLog

log = logging.getLogger(__name__)


class FdSink:
    """The minidocker CLI's own stdout/stderr, passed with the start request."""

    def __init__(self, out: int, err: int):
        self.fds = {1: os.dup(out), 2: os.dup(err)}

    def write(self, stream: int, data: bytes) -> bool:
        fd = self.fds.get(stream)
        if fd is None:
            return True
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:  # the caller went away: it stops getting output, the log goes on
            self.fds.pop(stream, None)
            os.close(fd)
        return bool(self.fds)

    def end(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


class Detacher:
    """The daemon is going away, its containers are not: output copiers stop
    between two reads, so what a container writes next waits in its FIFO for the
    next daemon (nothing is read and then lost). One pipe for all of them."""

    def __init__(self):
        self.r, self.w = os.pipe2(os.O_CLOEXEC)
        self.event = threading.Event()

    def stopped(self, fd: int) -> bool:
        """Block until ``fd`` has data (False) or the daemon detaches (True)."""
        ready = readable([fd, self.r])
        return self.r in ready or self.event.is_set()

    def detach(self) -> None:
        self.event.set()
        os.write(self.w, b"x")

    def close(self) -> None:
        os.close(self.r)
        os.close(self.w)


class StreamHub:
    def __init__(self, tty: bool, open_stdin: bool, stdin_once: bool, log_path: str | None = None,
                 fifo_dir: str | None = None, end_on_exit: bool = False):
        self.end_on_exit = end_on_exit  # (exec) the streams end once the exit code is known
        self.exited = False
        self.tty, self.open_stdin, self.stdin_once = tty, open_stdin, stdin_once
        self.log_path, self.fifo_dir = log_path, fifo_dir
        self.cond = threading.Condition()
        self.subs: list = []
        self.stdin_w: int | None = None
        self.pending = bytearray()
        self.pending_eof = False
        self.master: int | None = None
        self.live = 0            # output copiers still running
        self.running = False     # a run has begun and not ended
        self.done = threading.Event()
        self.done.set()
        self._log: JsonLog | None = None
        self._child: list[int] = []
        self._readers: list[int] = []
        self._stdin_next: int | None = None
        self.size: tuple | None = None
        self.detacher: Detacher | None = None  # set by the daemon: its copiers stop when it goes
        self._copiers: list[threading.Thread] = []

    # ---- subscribers -------------------------------------------------------------
    def subscribe(self, sink) -> None:
        with self.cond:
            self.subs.append(sink)

    def unsubscribe(self, sink) -> None:
        with self.cond:
            if sink in self.subs:
                self.subs.remove(sink)

    # ---- one run -----------------------------------------------------------------
    def child_fds(self, stdin_fd: int | None = None) -> tuple | None:
        """The (stdin, stdout, stderr) the process gets; None with a terminal (the
        runtime opens it and hands the master to ``begin``). ``stdin_fd``: the
        caller's own stdin (the minidocker CLI's fast path) instead of a pipe."""
        if self.tty:
            return None
        if stdin_fd is not None:
            stdin = os.dup(stdin_fd)
        elif self.open_stdin:
            stdin, self._stdin_next = os.pipe()
        else:
            stdin = os.open(os.devnull, os.O_RDONLY)
        outs = []
        for name in ("stdout", "stderr"):
            if self.fifo_dir is None:
                r, w = os.pipe()
            else:
                r, w = _fifo(os.path.join(self.fifo_dir, name + ".fifo"))
            self._readers.append(r)
            outs.append(w)
        self._child = [stdin, *outs]
        return tuple(self._child)

    def abort(self) -> None:
        """The process did not start: drop what child_fds opened."""
        _close([*self._child, *self._readers] + ([self._stdin_next] if self._stdin_next is not None else []))
        self._child, self._readers, self._stdin_next = [], [], None

    def begin(self, master: int | None = None, copy_output: bool = True) -> None:
        """The process runs: close its ends, start copying. ``copy_output=False``:
        somebody else holds the terminal (`minidocker run -it`)."""
        _close(self._child)
        self._child = []
        readers = [(fd, 1 if i == 0 else 2) for i, fd in enumerate(self._readers)]
        self._readers = []
        with self.cond:
            self.running = True
            self.exited = False
            self.done.clear()
            if master is not None and copy_output:
                self.master = master
                readers = [(master, 1)]
                if self.size:
                    _set_size(master, *self.size)
            elif master is not None:
                readers = []
            if self.log_path and readers:
                self._log = JsonLog(self.log_path)
            stdin = master if (master is not None and copy_output) else self._stdin_next
            self._stdin_next = None
            data, eof = bytes(self.pending), self.pending_eof
            self.pending.clear()
            self.pending_eof = False
            self.live = len(readers)
        self._start_copiers(readers)
        if stdin is not None:
            threading.Thread(target=self._open_stdin, args=(stdin, data, eof), name="stdin-first",
                             daemon=True).start()

    def reopen(self) -> None:
        """After a daemon restart: copy a still-running container's output again."""
        if self.tty or self.fifo_dir is None:
            return
        readers = []
        for i, name in enumerate(("stdout", "stderr")):
            path = os.path.join(self.fifo_dir, name + ".fifo")
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError:
                continue
            os.set_blocking(fd, True)
            readers.append((fd, i + 1))
        with self.cond:
            self.running, self.live = True, len(readers)
            self.done.clear()
            if self.log_path and readers:
                self._log = JsonLog(self.log_path)
        self._start_copiers(readers)

    def _start_copiers(self, readers) -> None:
        for fd, stream in readers:
            t = threading.Thread(target=self._copy, args=(fd, stream), name="output-copy", daemon=True)
            self._copiers.append(t)
            t.start()

    def join_copiers(self, timeout: float = 2.0) -> None:
        for t in self._copiers:
            t.join(timeout)

    def _open_stdin(self, fd: int, data: bytes, eof: bool) -> None:
        if data:
            _write_all(fd, data)
        with self.cond:
            if not self.running or (eof and not self.tty):
                if fd != self.master:
                    os.close(fd)
                return
            self.stdin_w = fd

    def _copy(self, fd: int, stream: int) -> None:
        while True:
            try:
                if self.detacher is not None and self.detacher.stopped(fd):
                    with self.cond:
                        if self._log is not None:
                            self._log.close()
                            self._log = None
                    if fd != self.master:
                        os.close(fd)
                    return
                data = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's other side is gone
                break
            if not data:
                break
            if self._log is not None:
                self._log.write(stream, data)
            with self.cond:
                subs = list(self.subs)
            for s in subs:
                if not s.write(stream, data):
                    self.unsubscribe(s)
        if fd != self.master:
            os.close(fd)
        with self.cond:
            self.live -= 1
            last = self.live <= 0 and (self.exited or not self.end_on_exit)
        if last:
            self._end_run()

    def process_exited(self) -> None:
        """The watcher saw the exit; a run with nothing to copy ends here."""
        with self.cond:
            self.exited = True
            idle = self.running and self.live <= 0
        if idle:
            self._end_run()

    def _end_run(self) -> None:
        with self.cond:
            if not self.running:
                return
            self.running = False
            subs, self.subs = self.subs, []
            fds = [fd for fd in (self.stdin_w, self.master) if fd is not None]
            self.stdin_w = self.master = None
            if self._log is not None:
                self._log.close()
                self._log = None
        _close(set(fds))
        for s in subs:
            try:
                s.end()
            except OSError:
                pass
        self.done.set()

    def close(self) -> None:
        """The container is removed: end every stream still attached."""
        with self.cond:
            self.running = True  # (whatever it was: end what is there)
        self._end_run()

    # ---- input -------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Bytes from an attached client's stdin."""
        with self.cond:
            fd = self.stdin_w
            if fd is None:
                if not self.running and (self.open_stdin or self.tty):
                    self.pending += data
                return
        _write_all(fd, data)

    def client_eof(self) -> None:
        """An attached client closed its stdin: with StdinOnce the process's stdin
        ends too (never a terminal's, as in Docker)."""
        if self.tty or not self.stdin_once:
            return
        with self.cond:
            if not self.running:
                self.pending_eof = True
                return
            fd, self.stdin_w = self.stdin_w, None
        if fd is not None:
            _close([fd])

    def resize(self, h: int, w: int) -> None:
        """The terminal's size; one asked before the terminal exists (exec -it
        resizes right after the 101) is applied when it comes."""
        with self.cond:
            self.size = (h, w)
            if self.master is not None:
                _set_size(self.master, h, w)


def _set_size(fd: int, h: int, w: int) -> None:
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", h, w, 0, 0))
    except OSError as ex:
        log.debug("resize: %s", ex)


def _fifo(path: str) -> tuple[int, int]:
    """A FIFO's reading end (the daemon's) and a read-write end for the writer."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.mkfifo(path, 0o600)
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(r, True)
    return r, os.open(path, os.O_RDWR)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError as ex:  # the process closed its stdin or is gone
        log.debug("stdin write: %s", ex)


def _close(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass

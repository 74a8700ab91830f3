"""The daemon's side of the container supervisor (runtime/supervisor.py).

One supervisor per run dir, found by its socket or started on demand (its own
session: it outlives the daemon, and a restarted daemon reconnects to it). It
forks each container's launcher from itself and is the subreaper that writes
``<bundle>/exit.json``. The sync-socket protocol is spawn.py's, unchanged: the
container init's report comes on the socketpair end passed along with the spec.

Thread-safe: one request at a time per supervisor connection.
"""
import marshal
import os
import socket
import subprocess
import sys
import threading
import time

from minidocker.errors import KernelError, StartError
from minidocker.runtime import pids
from minidocker.runtime.spawn import Report, _close, _read_reports

SUPERVISOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "supervisor.py")
SOCK, LOG = "supervisor.sock", "supervisor.log"
MAX_MSG = 1 << 17
START_WAIT = 10.0      # for a new supervisor to answer
RECORD_WAIT = 10.0     # for a live supervisor to write an exit it has reaped


def enabled(run_dir: str | None) -> bool:
    """Containers go to the supervisor unless MINIDOCKER_SHIM=per-container
    (one launcher interpreter staying as each container's shim, as before)."""
    return bool(run_dir) and os.environ.get("MINIDOCKER_SHIM", "supervisor") != "per-container"


class Client:
    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.pid: int | None = None
        self.start_time: int | None = None

    def _connect(self) -> bool:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(30)
        try:
            s.connect(os.path.join(self.run_dir, SOCK))
            s.send(marshal.dumps({"op": "hello"}))
            data = s.recv(MAX_MSG)
        except OSError:
            data = b""
        if not data:
            s.close()
            return False
        msg = marshal.loads(data)
        self.sock, self.pid, self.start_time = s, msg["pid"], msg["start_time"]
        return True

    def _ensure(self, start: bool) -> bool:
        if self.sock is not None:
            return True
        if self._connect():
            return True
        if not start:
            return False
        self._reap()
        os.makedirs(self.run_dir, exist_ok=True)
        with open(os.path.join(self.run_dir, LOG), "ab") as log:
            _spawned[self.run_dir] = subprocess.Popen([sys.executable, "-I", "-S", SUPERVISOR, self.run_dir],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True,
                                         start_new_session=True, cwd="/")
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            if self._connect():
                return True
            time.sleep(0.003)
        raise KernelError(f"the container supervisor of {self.run_dir} did not answer (see {LOG})")

    def _drop(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = self.pid = self.start_time = None
        self._reap()

    def _reap(self) -> None:
        proc = _spawned.get(self.run_dir)
        if proc is not None and proc.poll() is not None:
            _spawned.pop(self.run_dir, None)

    def request(self, msg: dict, fds=(), start: bool = True) -> dict | None:
        """One request, one reply; None if no supervisor answered it (with
        ``start``, a dead one is replaced first when the request was not delivered)."""
        with self.lock:
            return self._request(msg, fds, start)

    def _request(self, msg, fds, start):
        data = marshal.dumps(msg)
        for _ in range(2):
            if not self._ensure(start):
                return None
            try:
                socket.send_fds(self.sock, [data], list(fds)) if fds else self.sock.send(data)
            except OSError:
                self._drop()  # not delivered: the next supervisor gets it
                continue
            try:
                reply = self.sock.recv(MAX_MSG)
            except OSError:
                reply = b""
            if not reply:  # it died with the request in hand
                self._drop()
                return None
            return marshal.loads(reply)
        return None

    def close(self) -> None:
        """The daemon is going: the supervisor exits if it supervises nothing."""
        with self.lock:
            if self.sock is None and not self._connect():
                return
            pid, started = self.pid, self.start_time
            reply = self._request({"op": "close"}, (), False) or {}
            self._drop()
            if reply.get("exiting"):
                proc = _spawned.pop(self.run_dir, None)
                if proc is not None and proc.pid == pid:
                    proc.wait(START_WAIT)  # we started it: reap it
                elif pid is not None:
                    pids.wait_gone(pid, started, START_WAIT)


_clients: dict[str, Client] = {}
_spawned: dict[str, subprocess.Popen] = {}  # run dir -> the supervisor we started (and must reap)
_clients_lock = threading.Lock()


def client(run_dir: str) -> Client:
    with _clients_lock:
        c = _clients.get(run_dir)
        if c is None:
            c = _clients[run_dir] = Client(run_dir)
        return c


def start(run_dir: str) -> None:
    """Have the run dir's supervisor running, the caller connected to it (the
    daemon, at its start: as containerd runs beside dockerd, its fixed cost is
    paid once, and not by the first container's start)."""
    if not enabled(run_dir):
        return
    c = client(run_dir)
    with c.lock:
        c._ensure(True)


def release(run_dir: str) -> None:
    """Done with this run dir's supervisor (it stays while containers run)."""
    with _clients_lock:
        c = _clients.pop(run_dir, None)
    (c or Client(run_dir)).close()


def containers(run_dir: str, keep: bool = False) -> dict[int, str]:
    """{init pid: bundle} of every container the supervisor watches ({} if none
    runs). With ``keep`` (the daemon) over the connection it keeps; else over one
    of its own, closed after, which keeps no supervisor alive (tests, tools)."""
    with _clients_lock:
        cached = _clients.get(run_dir)
    c = client(run_dir) if keep else (cached or Client(run_dir))
    try:
        reply = c.request({"op": "list"}, start=False) or {}
    finally:
        if c is not cached and not keep:
            c._drop()
    return dict(reply.get("containers") or {})


def spawn(run_dir: str, spec: dict, fds: list[int], hold: bool = False) -> tuple[Report, int, int]:
    """spawn.spawn's contract, with the supervisor forking the launcher: returns
    the Report and the supervisor's (pid, start time)."""
    if hold:
        spec = dict(spec, await_go=True)
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        passed = [child.fileno()] + list(dict.fromkeys(f for f in fds if f is not None))
        msg = {"op": "start", "spec": dict(spec, sync_fd=child.fileno(), passed=passed)}
        if len(marshal.dumps(msg)) >= 65536:
            raise StartError(125, "container spec too large")
        c = client(run_dir)
        with c.lock:
            reply = c._request(msg, passed, True)
            sup = (c.pid, c.start_time)
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    rep = Report(None)
    if reply is not None and "error" in reply:
        parent.close()
        rep.error = (125, reply["error"])
        return rep, sup[0] or 0, sup[1]
    try:
        _read_reports(parent, rep, until_pid=hold)
    except BaseException:
        _close(rep)
        parent.close()  # a held init exits unrun on this EOF
        raise
    if hold and rep.pid is not None and rep.error is None:
        rep.sock = parent
    else:
        parent.close()
    return rep, sup[0] or 0, sup[1]


def wait_recorded(exit_file: str, sup_pid: int | None, sup_start: int | None, timeout: float | None) -> bool:
    """After the init is gone: wait for the supervisor to write its exit; False if
    it died without doing so (or did not within the time). ``sup_pid`` None: the
    supervisor is not known, wait the time."""
    limit = RECORD_WAIT if timeout is None else min(timeout, RECORD_WAIT)
    deadline = time.monotonic() + limit
    delay = 0.0005
    while True:
        if os.path.exists(exit_file):
            return True
        if sup_pid is not None and (sup_start is None or not pids.is_alive(sup_pid, sup_start)):
            return os.path.exists(exit_file)
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)

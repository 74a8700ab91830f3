"""Start launcher.py and read its sync socket (daemon side, thread-safe).

The daemon is multi-threaded, so it never forks Python itself: subprocess
starts a fresh single-threaded interpreter running launcher.py, which does the
namespace/mount/exec work. Its report arrives on a SOCK_SEQPACKET socket, one
marshalled dict per packet, possibly with a pty master attached; EOF with no error
means the container process exec'd.
"""
import marshal
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from minidocker.errors import StartError

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launcher.py")
SYNC_TIMEOUT = 30.0
_started: dict[int, threading.Event] = {}  # init pid -> set once it exec'd (release() to exec_d())
_started_lock = threading.Lock()


@dataclass
class Report:
    proc: subprocess.Popen
    pid: int | None = None
    start_time: int | None = None
    pty_master: int | None = None
    error: tuple[int, str] | None = None
    extra: list = field(default_factory=list)
    sock: socket.socket | None = None  # held open until release() (spawn with hold=True), then until exec_d()
    ready: bool = False  # a held init said it is checked and waits for go


def spawn(spec: dict, fds: list[int], stderr_path: str | None, new_session: bool,
          hold: bool = False, cwd: str | None = None) -> Report:
    """Run the launcher with ``spec``; ``fds`` are handed over (same numbers
    in the spec after dup). Returns once the container process exec'd or failed;
    with ``hold``, once its pid is known: it then waits, ready, for release()
    (and exits without running anything if this process dies first). ``cwd``:
    where the launcher runs (a container's shim: its bundle, which is how a
    restarted daemon finds every shim, recorded or not)."""
    if hold:
        spec = dict(spec, await_go=True)
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    dups: dict[int, int] = {}
    spec_r, spec_w = os.pipe()
    err = None
    try:
        for fd in fds:
            if fd is not None and fd not in dups:
                dups[fd] = os.dup(fd)  # > 2, so it cannot clash with the launcher's stdio
        spec = dict(spec, sync_fd=child.fileno())
        if spec.get("fds") is not None:
            spec["fds"] = [dups[f] for f in spec["fds"]]
        if spec.get("tty_fd") is not None:
            spec["tty_fd"] = dups[spec["tty_fd"]]
        data = marshal.dumps(spec)
        if len(data) >= 65536:
            raise StartError(125, "container spec too large")
        os.write(spec_w, data)
        os.close(spec_w)
        spec_w = -1
        err = open(stderr_path, "ab") if stderr_path else subprocess.PIPE
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", LAUNCHER], stdin=spec_r, stdout=subprocess.DEVNULL,
            stderr=err, pass_fds=[child.fileno(), *dups.values()], close_fds=True,
            start_new_session=new_session, cwd=cwd)
    finally:
        child.close()
        os.close(spec_r)
        if spec_w >= 0:
            os.close(spec_w)
        for d in dups.values():
            os.close(d)
        if err not in (None, subprocess.PIPE):
            err.close()
    rep = Report(proc)
    try:
        _read_reports(parent, rep, until_pid=hold)
    except BaseException:
        proc.kill()
        proc.wait()
        _close(rep)
        parent.close()
        raise
    if hold and rep.pid is not None and rep.error is None:
        rep.sock = parent
    else:
        parent.close()
    return rep


def release(rep: Report) -> None:
    """Let a held container init run its command, as `runc start` does: once it
    said it is ready (everything runc's init checks before its exec fifo done,
    the command looked up), say go and return; a failure before that is
    ``rep.error``. The execve is the container's own from then on (runc's: a
    failure of it is one line on the container's stderr and exit code 1). The
    socket stays in ``rep.sock`` until ``exec_d`` sees the execve close it."""
    sock = rep.sock
    if sock is None:
        return
    try:
        while rep.error is None and not rep.ready:
            if not _read_one(sock, rep):
                break  # EOF: it died before it was ready
        if rep.error is None and rep.ready:
            with _started_lock:
                _started[rep.pid] = threading.Event()
            sock.send(b"go")
            return
    except OSError:
        with _started_lock:
            _started.pop(rep.pid, None)  # it failed just now
    except BaseException:  # it said nothing within SYNC_TIMEOUT (StartError)
        rep.sock = None
        sock.close()
        raise
    rep.sock = None
    sock.close()
    if rep.error is None:
        rep.error = (125, "container init exited before it ran its command")


def exec_d(rep: Report, timeout: float = SYNC_TIMEOUT) -> None:
    """Wait, after release(), until the init has exec'd its command (or died),
    and close the socket: its end closes at the execve."""
    sock, rep.sock = rep.sock, None
    if sock is None:
        return
    try:
        sock.settimeout(timeout)
        while sock.recv(64):
            pass
    except OSError:  # timed out, or reset: it is gone either way
        pass
    finally:
        sock.close()
        with _started_lock:
            started = _started.pop(rep.pid, None)
        if started is not None:
            started.set()


def wait_exec_d(pid: int, timeout: float = SYNC_TIMEOUT) -> None:
    """If the init ``pid`` was released and has not exec'd yet, wait until it has
    (a `docker exec` right after a start must find the command, not our launcher)."""
    with _started_lock:
        started = _started.get(pid)
    if started is not None:
        started.wait(timeout)


def _read_reports(sock: socket.socket, rep: Report, until_pid: bool = False) -> None:
    sock.settimeout(SYNC_TIMEOUT)
    while not (until_pid and rep.pid is not None):
        if not _read_one(sock, rep):
            return


def _read_one(sock: socket.socket, rep: Report) -> bool:
    """One report into ``rep``; False at EOF."""
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
    except socket.timeout:
        raise StartError(125, "container process did not report within %ds" % SYNC_TIMEOUT)
    except ConnectionResetError:  # it exited with our "go" unread (it failed first): EOF all the same
        return False
    if not data and not fds:
        return False
    msg = marshal.loads(data)
    if "pid" in msg:
        rep.pid, rep.start_time = msg["pid"], msg["start_time"]
    if "error" in msg:
        rep.error = (msg["code"], msg["error"])
    if msg.get("ready"):
        rep.ready = True
    if msg.get("pty") and fds:
        rep.pty_master = fds.pop(0)
    for fd in fds:
        os.close(fd)
    return True


def stderr_tail(rep: Report) -> str:
    """Last line the launcher wrote to stderr (when started without a log file)."""
    if rep.proc.stderr is None:
        return ""
    lines = [l for l in rep.proc.stderr.read().decode(errors="replace").splitlines() if l.strip()]
    rep.proc.stderr.close()
    return lines[-1] if lines else ""


def _close(rep: Report) -> None:
    if rep.pty_master is not None:
        os.close(rep.pty_master)
        rep.pty_master = None

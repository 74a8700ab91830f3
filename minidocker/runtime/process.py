"""Container processes: start, wait, stop, kill, clean up (daemon side).

``start()`` has the run dir's supervisor (supervisor.py, a fork server and
subreaper in its own session) fork launcher.py's steps (see there for the
in-container steps); the supervisor reaps the container init and writes
``<bundle>/exit.json``. With MINIDOCKER_SHIM=per-container (or no run dir) it
runs launcher.py instead, whose parent half stays as the container's shim,
waits for the init and writes exit.json; it is the daemon's child until the
daemon restarts. After a restart everything is found again from the
serialized Handle and the bundle dir: pids are checked with their start time,
and waiting uses pidfds, which work on non-children.

All functions are safe to call from any thread.
"""
import json
import os
import shutil
import signal as _signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

from minidocker import explain
from minidocker.errors import InvalidArgument, KernelError
from minidocker.runtime import pids, supervised
from minidocker.errors import StartError
from minidocker.runtime.spawn import exec_d as spawn_exec_d, release, spawn

EXIT_FILE = "exit.json"
SHIM_LOG = "shim.log"

_lock = threading.Lock()
_shims: dict[int, subprocess.Popen] = {}  # shim pid -> Popen, while we are its parent


@dataclass
class ContainerSpec:
    id: str
    image_rootfs: str
    bundle_dir: str
    argv: list[str]
    netns: str | None = None          # pinned netns file, /proc/PID/ns/net, or None = host stack
    hostname: str = ""
    env: list[str] = field(default_factory=list)   # "KEY=value"
    cwd: str = "/"
    tty: bool = False
    stdin_open: bool = False
    # (stdin, stdout, stderr) fds; for tty: (slave,) or None = allocate a pty
    # inside the container (master comes back as Handle.pty_master); None without
    # tty: stdin /dev/null, stdout+stderr appended to log_path
    stdio_fds: tuple | None = None
    log_path: str | None = None
    etc_files: dict | None = None     # {"hosts": path, ...}; default: bundle's own files
    # [{"type": "bind"|"volume"|"tmpfs", "source", "target", "ro", "flags", "data"}], parents first
    mounts: list = field(default_factory=list)
    readonly_rootfs: bool = False
    lower_dirs: list = field(default_factory=list)  # image layers, top first (default: image_rootfs)
    user: dict | None = None          # {"uid", "gid", "groups", "home"} (engine/users.py), None: root
    init: str | None = None           # --init: host path of a static init, mounted at /sbin/docker-init
    cgroup_procs: list | None = None  # cgroup.procs (v2) / tasks (v1) files the init writes itself into before exec
    run_dir: str | None = None        # whose supervisor starts it; None: a shim of its own


@dataclass
class Handle:
    pid: int            # host pid of the container init
    start_time: int     # its /proc/PID/stat starttime
    shim_pid: int                   # its shim, or the supervisor (supervised)
    shim_start_time: int | None
    bundle_dir: str
    pty_master: int | None = None   # not serialized; the caller owns and closes it
    held: object = None             # not serialized: the launcher's report while it waits for go()
    released: object = None         # not serialized: that report from go() until exec_d()
    supervised: bool = False        # its exit is written by the run dir's supervisor

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("pid", "start_time", "shim_pid", "shim_start_time", "bundle_dir")}
        if self.supervised:
            d["supervised"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Handle":
        return cls(**{k: d[k] for k in ("pid", "start_time", "shim_pid", "shim_start_time", "bundle_dir")},
                   supervised=bool(d.get("supervised")))


ETC_FILES = ("hostname", "hosts", "resolv.conf")


def _validate(spec: ContainerSpec) -> None:
    if not spec.argv or not spec.argv[0]:
        raise InvalidArgument("No command specified")
    for what, p in (("image rootfs", spec.image_rootfs), ("bundle dir", spec.bundle_dir)):
        if not os.path.isabs(p) or not os.path.isdir(p):
            raise InvalidArgument(f"{what} {p} is not a directory")
        if any(c in p for c in ",:\n"):
            raise InvalidArgument(f"{what} {p}: overlay paths cannot contain ',' or ':'")
    if spec.netns is not None and not os.path.exists(spec.netns):
        raise InvalidArgument(f"network namespace {spec.netns} does not exist")
    if not os.path.isabs(spec.cwd or "/"):
        raise InvalidArgument(f"the working directory '{spec.cwd}' is invalid, it needs to be an absolute path")
    if spec.stdio_fds is not None:
        n = len(spec.stdio_fds)
        if (spec.tty and n not in (1, 3)) or (not spec.tty and n != 3):
            raise InvalidArgument("stdio_fds must be (stdin, stdout, stderr), or (pty slave,) with tty")
    elif not spec.tty and not spec.log_path:
        raise InvalidArgument("log_path is required when no stdio fds are given")


def _etc_files(spec: ContainerSpec) -> dict:
    if spec.etc_files is not None:
        return dict(spec.etc_files)
    out = {}
    for name in ETC_FILES:
        p = os.path.join(spec.bundle_dir, name)
        if os.path.isfile(p):
            out[name] = p
    return out


def start(spec: ContainerSpec, hold: bool = False) -> Handle:
    """Start the container's init; returns once it has exec'd the command.
    Raises StartError (code 125/126/127, Docker's text) with nothing left behind.
    With ``hold`` it returns once the init is ready, before the command runs:
    the caller records the handle, then calls go(); if the caller dies first, the
    command never runs (so a crash cannot leave a process nobody tracks)."""
    _validate(spec)
    b = spec.bundle_dir
    for d in ("upper", "work", "merged"):
        os.makedirs(os.path.join(b, d), exist_ok=True)
        os.chmod(os.path.join(b, d), 0o755)  # the container's / gets the upper dir's mode
    _remove(os.path.join(b, EXIT_FILE))
    launch = {
        "mode": "run", "id": spec.id, "rootfs": ":".join(spec.lower_dirs or [spec.image_rootfs]), "bundle": b,
        "netns": spec.netns, "hostname": spec.hostname, "argv": list(spec.argv),
        "env": list(spec.env), "cwd": spec.cwd or "/", "tty": spec.tty,
        "stdin_open": spec.stdin_open, "log_path": spec.log_path, "etc_files": _etc_files(spec),
        "fds": None, "tty_fd": None, "alloc_pty": False, "user": spec.user, "init": spec.init,
        "mounts": [dict(m) for m in spec.mounts], "readonly_rootfs": spec.readonly_rootfs,
        "cgroup_procs": list(spec.cgroup_procs or []),
    }
    fds: list[int] = []
    if spec.tty and spec.stdio_fds is None:
        launch["alloc_pty"] = True
    elif spec.tty:
        launch["tty_fd"] = spec.stdio_fds[0]
        fds = [spec.stdio_fds[0]]
    elif spec.stdio_fds is not None:
        launch["fds"] = list(spec.stdio_fds)
        fds = list(spec.stdio_fds)
    _explain_start(spec, launch["etc_files"])
    if supervised.enabled(spec.run_dir):
        rep, sup_pid, sup_start = supervised.spawn(spec.run_dir, launch, fds, hold=hold)
        if rep.error is not None or rep.pid is None:
            _failed(rep, b)
        h = Handle(rep.pid, rep.start_time, sup_pid, sup_start, b, rep.pty_master, supervised=True)
        h.held = rep if hold else None
        return h
    rep = spawn(launch, fds, os.path.join(b, SHIM_LOG), new_session=True, hold=hold, cwd=b)
    if rep.error is not None or rep.pid is None:
        _failed(rep, b)
    with _lock:
        _shims[rep.proc.pid] = rep.proc
    h = Handle(rep.pid, rep.start_time, rep.proc.pid, pids.start_time(rep.proc.pid), b, rep.pty_master)
    h.held = rep if hold else None
    return h


class Starting:
    """``start(spec, hold=True)`` on a thread of its own, for the caller to plumb
    the container's network meanwhile: the supervisor forks the init while the
    daemon joins the bridge (the init needs only its namespace to exist, and
    runs nothing before go()). ``handle()`` waits for it: the Handle, or its
    StartError; what it explained goes to the caller's --explain then, after
    what the caller explained meanwhile."""

    def __init__(self, spec: ContainerSpec):
        self._rec = explain.current()
        self._lines: list = []
        self._result: Handle | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(spec,), name="container-start", daemon=True)
        self._thread.start()

    def _run(self, spec: ContainerSpec) -> None:
        try:
            with explain.attached(self._lines if self._rec is not None else None):
                self._result = start(spec, hold=True)
        except BaseException as e:  # noqa: BLE001 - raised by handle()
            self._error = e

    def handle(self) -> Handle:
        self._thread.join()
        if self._rec is not None:
            self._rec.extend(self._lines)
            self._lines = []
        if self._error is not None:
            raise self._error
        return self._result

    def abort(self) -> None:
        """Undo: once it is through, its init (held) exits unrun."""
        self._thread.join()
        if self._result is not None:
            abort(self._result)


def go(handle: Handle) -> None:
    """Let a container started with ``hold`` run its command, as `runc start`:
    returns once it is told to (its execve is then its own: see spawn.release),
    or raises StartError as start() does (its init is gone then). Call
    ``exec_d`` after, on any thread."""
    rep, handle.held = handle.held, None
    if rep is None:
        return
    release(rep)
    if rep.error is not None:
        if rep.proc is not None:
            with _lock:
                _shims.pop(rep.proc.pid, None)
        _failed(rep, handle.bundle_dir)
    handle.pty_master = rep.pty_master
    handle.released = rep


def exec_d(handle: Handle) -> None:
    """After go(): wait until the init has exec'd its command (or died)."""
    rep, handle.released = handle.released, None
    if rep is not None:
        spawn_exec_d(rep)


def abort(handle: Handle) -> None:
    """Undo a start with ``hold``: before go() the init exits unrun; after it, the
    running command is killed and its exit waited for (nothing may outlive a
    start that failed)."""
    rep, handle.held = handle.held, None
    if rep is None:
        if kill(handle, _signal.SIGKILL):
            try:
                wait(handle, timeout=10)
            except (TimeoutError, KernelError):
                pass
        _remove(os.path.join(handle.bundle_dir, EXIT_FILE))
        return
    if rep.sock is not None:
        rep.sock.close()
        rep.sock = None
    _reap_launch(rep, handle.bundle_dir)
    if rep.proc is not None:
        with _lock:
            _shims.pop(rep.proc.pid, None)
    if rep.pty_master is not None:
        os.close(rep.pty_master)
    _remove(os.path.join(handle.bundle_dir, EXIT_FILE))


def _reap_launch(rep, bundle: str) -> None:
    """Wait until an init that will not run is gone and its exit recorded."""
    if rep.proc is not None:
        rep.proc.wait()
    elif rep.pid is not None:
        pids.wait_gone(rep.pid, rep.start_time, 30)
        supervised.wait_recorded(os.path.join(bundle, EXIT_FILE), None, None, 2.0)


def _failed(rep, bundle: str):
    _reap_launch(rep, bundle)
    if rep.pty_master is not None:
        os.close(rep.pty_master)
    _remove(os.path.join(bundle, EXIT_FILE))
    code, reason = rep.error or (125, _shim_log_tail(bundle) or "container init did not start")
    raise StartError.for_run(code, reason)


def _explain_start(spec: ContainerSpec, etc_files: dict) -> None:
    """What launcher.py does, as a script a person could run: new mount, UTS, IPC
    and PID namespaces (joining the sandbox's netns), the overlay root and its
    mounts, the hostname, then the command inside the new root."""
    import shlex
    b, m = spec.bundle_dir, os.path.join(spec.bundle_dir, "merged")
    q = shlex.quote
    lower = ":".join(spec.lower_dirs or [spec.image_rootfs])
    lines = [f"mount -t overlay overlay -o lowerdir={lower},upperdir={b}/upper,workdir={b}/work {q(m)}",
             f"mount -t proc proc {q(m)}/proc",
             f"mount -t sysfs -o ro sysfs {q(m)}/sys",
             f"mount -t tmpfs -o mode=755 tmpfs {q(m)}/dev",
             f"mkdir -p {q(m)}/dev/pts",
             f"mount -t devpts -o newinstance,ptmxmode=0666 devpts {q(m)}/dev/pts"]
    lines += [f"mount --bind {q(src)} {q(m)}/etc/{name}" for name, src in sorted(etc_files.items())]
    lines += _explain_mounts(spec, m)
    lines.append(f"hostname {q(spec.hostname)}")
    env = " ".join(q(e) for e in spec.env)
    cmd = " ".join(q(a) for a in spec.argv)
    lines.append(f"cd {q(m)} && exec chroot . env -i {env} sh -c {q(f'cd {q(spec.cwd or chr(47))} && exec {cmd}')}")
    prefix = ["nsenter", f"--net={spec.netns}"] if spec.netns else []
    explain.emit(*prefix, "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--propagation", "private",
                 "sh", "-e", stdin="\n".join(lines))


def _explain_mounts(spec: ContainerSpec, m: str) -> list[str]:
    """-v, --mount, --tmpfs and --read-only, as launcher.user_mounts does them."""
    import shlex
    q, out = shlex.quote, []
    for mt in spec.mounts:
        dst = q(m + mt["target"])
        if mt["type"] == "tmpfs":
            flags = ",".join(f for bit, f in ((1, "ro"), (2, "nosuid"), (4, "nodev"), (8, "noexec"))
                             if mt["flags"] & bit)
            opts = ",".join(o for o in (flags, mt["data"]) if o)
            out += [f"mkdir -p {dst}", f"mount -t tmpfs -o {q(opts)} tmpfs {dst}" if opts else f"mount -t tmpfs tmpfs {dst}"]
            continue
        out += [f"mkdir -p {dst}", f"mount --rbind {q(mt['source'])} {dst}"]
        if mt["ro"]:
            out.append(f"mount -o remount,bind,ro {dst}")
    if spec.readonly_rootfs:
        out.append(f"mount -o remount,bind,ro {q(m)}")
    return out


def _shim_log_tail(bundle: str) -> str:
    try:
        with open(os.path.join(bundle, SHIM_LOG)) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        return lines[-1] if lines else ""
    except OSError:
        return ""


def exit_status(bundle_dir: str) -> dict | None:
    """{"ExitCode": n, "FinishedAt": iso} once the shim recorded the exit, else None."""
    try:
        with open(os.path.join(bundle_dir, EXIT_FILE)) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_running(handle: Handle) -> bool:
    return pids.is_alive(handle.pid, handle.start_time)


is_alive = pids.is_alive  # (pid, start_time) -> bool, for reconciliation from stored state
poll_exit = exit_status   # the bundle's recorded exit, None while running (or if lost)
release_supervisor = supervised.release  # (run_dir): the daemon is going; it exits if idle
start_supervisor = supervised.start      # (run_dir): the daemon is starting; it stays while the daemon runs


def container_processes(containers_dir: str, run_dir: str | None, shims: dict | None = None,
                        keep: bool = False) -> dict:
    """What runs of the containers under ``containers_dir``, whatever their state
    says: {shim pid: (container id, its children)} for shims of their own (``shims``
    if already read), and {init pid: (container id, [init pid])} for those of the
    run dir's supervisor (``keep``: the daemon stays connected to it)."""
    found = pids.shims_in(containers_dir) if shims is None else shims
    base = os.path.realpath(containers_dir)
    for pid, bundle in (supervised.containers(run_dir, keep) if run_dir else {}).items():
        if os.path.dirname(os.path.realpath(bundle)) == base:
            found[pid] = (os.path.basename(bundle), [pid])
    return found


def _wait_shim(handle: Handle, timeout: float | None) -> bool:
    with _lock:
        proc = _shims.get(handle.shim_pid)
    if proc is not None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        with _lock:
            _shims.pop(handle.shim_pid, None)
        return True
    if handle.shim_start_time is None:
        return True
    return pids.wait_gone(handle.shim_pid, handle.shim_start_time, timeout)


def wait(handle: Handle, timeout: float | None = None) -> int:
    """Block until the container has exited and its status is recorded; the exit code."""
    deadline = None if timeout is None else time.monotonic() + timeout
    left = lambda: None if deadline is None else max(0.0, deadline - time.monotonic())
    if not pids.wait_gone(handle.pid, handle.start_time, left()):
        raise TimeoutError(f"container process {handle.pid} still running")
    if handle.supervised:
        supervised.wait_recorded(os.path.join(handle.bundle_dir, EXIT_FILE), handle.shim_pid,
                                 handle.shim_start_time, left())
    elif not _wait_shim(handle, left()):
        raise TimeoutError(f"shim {handle.shim_pid} still running")
    st = exit_status(handle.bundle_dir)
    if st is None:  # the shim died before it could record the status
        raise KernelError(f"exit status of container process {handle.pid} was lost")
    return st["ExitCode"]


def kill(handle: Handle, sig: int = _signal.SIGKILL) -> bool:
    """Send ``sig`` to the container init; False if it is not running."""
    explain.emit("kill", f"-{_signal.Signals(sig).name[3:]}", str(handle.pid))
    return pids.send_signal(handle.pid, handle.start_time, sig)


def stop(handle: Handle, timeout: float = 10, signum: int = _signal.SIGTERM, on_kill=None) -> int | None:
    """``signum`` (SIGTERM, or the container's --stop-signal), then SIGKILL after
    ``timeout`` s (PID 1 of a pid ns ignores a signal unless it handles it, as in
    Docker); ``on_kill()`` is called just before that SIGKILL. Returns the exit code."""
    if kill(handle, signum) and not pids.wait_gone(handle.pid, handle.start_time, timeout):
        if on_kill is not None:
            on_kill()
        kill(handle, _signal.SIGKILL)
    try:
        return wait(handle, timeout=30)
    except KernelError:
        return None


def cleanup(bundle_dir: str) -> None:
    """Remove the container's writable layer (upper/work/merged).
    The overlay itself lived only in the container's mount namespace, which died
    with its processes; an old-style host mount on merged is detached anyway."""
    merged = os.path.join(bundle_dir, "merged")
    errors = []
    if _is_mountpoint(merged):
        from minidocker.network import namespaces
        try:
            explain.emit("umount", "-l", merged)
            namespaces.umount(merged, namespaces.MNT_DETACH)
        except KernelError as e:
            errors.append(str(e))
    for d in ("merged", "upper", "work"):
        try:
            shutil.rmtree(os.path.join(bundle_dir, d))
        except FileNotFoundError:
            pass
        except OSError as e:
            errors.append(f"remove {d}: {e.strerror}")
    if errors:
        raise KernelError("cleanup of " + bundle_dir + ": " + "; ".join(errors))


def _is_mountpoint(path: str) -> bool:
    """Something is mounted on ``path``: its mount differs from its parent's (by
    mount id; reading all of mountinfo instead costs a line per netns pin)."""
    real = os.path.realpath(path)
    mine = _mount_id(real)
    return mine is not None and mine != _mount_id(os.path.dirname(real))


def _mount_id(path: str) -> str | None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            return next((line.split()[1] for line in f if line.startswith("mnt_id:")), None)
    except OSError:
        return None
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

"""``docker exec``: run a process inside a running container's namespaces.

The launcher (mode "exec") setns()es into ipc, uts, net, pid and mnt of the
container init, chroots to its root, forks (a pid ns applies to children) and
execs. It stays our child and exits with the process's status. With a run dir
(and not MINIDOCKER_SHIM=per-container) the run dir's supervisor forks those
steps instead of a new interpreter; the exit code comes back on a socket.
"""
import marshal
import os
import signal
import socket

from minidocker import explain
from minidocker.errors import InvalidArgument, NotFound
from minidocker.errors import StartError
from minidocker.runtime import cgroups, pids, supervised
from minidocker.runtime.spawn import spawn, stderr_tail, wait_exec_d


def container_env(init_pid: int) -> list[str]:
    """The environment the container was started with (Docker's exec base env)."""
    try:
        with open(f"/proc/{init_pid}/environ", "rb") as f:
            return [e.decode(errors="surrogateescape") for e in f.read().split(b"\0") if e]
    except (FileNotFoundError, ProcessLookupError):
        raise NotFound(f"container process {init_pid} is not running")


def merge_env(base: list[str], extra: list[str]) -> list[str]:
    """``extra`` over ``base`` by variable name, keeping the first position of each
    (Docker's image Env + Config.Env, and a container's env + exec -e)."""
    keys = {e.split("=", 1)[0]: e for e in base}
    for e in extra:
        keys[e.split("=", 1)[0]] = e
    return list(keys.values())


def exec_(init_pid: int, argv: list[str], env: list[str], cwd: str | None = None, tty: bool = False,
          stdio_fds: tuple | None = None, stdin_open: bool = False, on_pty=None, on_start=None,
          user: dict | None = None, run_dir: str | None = None) -> int:
    """Run ``argv`` in the container of ``init_pid``; block until it exits; its exit code.

    stdio_fds: (stdin, stdout, stderr); with tty a (slave,) tuple, or None to
    allocate a pty inside the container: ``on_pty(master_fd)`` is then called
    (from this thread) once the process has started; the caller owns the fd.
    Without tty, None means all stdio on /dev/null (``exec -d``).
    ``on_start(pid)`` is called once the process runs (before ``on_pty``).
    ``user``: the ids to run as (engine/users.py), None for root.
    Raises StartError(126, Docker's "OCI runtime exec failed: ..." text).
    """
    if not argv or not argv[0]:
        raise InvalidArgument("No exec command specified")
    if cwd and not os.path.isabs(cwd):
        raise InvalidArgument(f"the working directory '{cwd}' is invalid, it needs to be an absolute path")
    wait_exec_d(init_pid)  # a container started just now: its command's environment, not our launcher's
    base = container_env(init_pid)
    if user is not None:  # HOME comes from the user's passwd entry (runc's rule)
        base = [e for e in base if not e.startswith("HOME=")]
    spec = {"mode": "exec", "init_pid": init_pid, "argv": list(argv), "env": merge_env(base, env),
            "cwd": cwd or "/", "tty": tty, "stdin_open": stdin_open, "log_path": None,
            "fds": None, "tty_fd": None, "alloc_pty": False, "hostname": None, "user": user,
            "cgroup_procs": cgroups.procs_files_of(init_pid)}
    fds: list[int] = []
    if tty and stdio_fds is None:
        spec["alloc_pty"] = True
    elif tty:
        spec["tty_fd"] = stdio_fds[0]
        fds = [stdio_fds[0]]
    elif stdio_fds is not None:
        if len(stdio_fds) != 3:
            raise InvalidArgument("stdio_fds must be (stdin, stdout, stderr)")
        spec["fds"] = list(stdio_fds)
        spec["stdin_open"] = stdin_open
        fds = list(stdio_fds)
    explain.emit("nsenter", "-t", str(init_pid), "-i", "-u", "-n", "-p", "-m", "-r", "-w", "--", *argv)
    if supervised.enabled(run_dir):
        return _exec_supervised(run_dir, spec, fds, on_pty, on_start)
    rep = spawn(spec, fds, None, new_session=False)
    if rep.error is not None or rep.pid is None:
        tail = stderr_tail(rep)
        rep.proc.wait()
        if rep.pty_master is not None:
            os.close(rep.pty_master)
        code, reason = rep.error or (126, tail or "exec helper did not start")
        raise StartError.for_exec(code, reason)
    try:
        _hand_over(rep, on_start, on_pty)
    except BaseException:
        rep.proc.wait()
        rep.proc.stderr.close()
        raise
    code = rep.proc.wait()
    rep.proc.stderr.close()
    return code


def _hand_over(rep, on_start, on_pty) -> None:
    """Tell the caller the process runs (``on_start``), then give it the pty
    master (``on_pty``, or closed); if the caller fails, the process is killed: it
    must not run on untracked."""
    try:
        if on_start is not None:
            on_start(rep.pid)
        if rep.pty_master is not None:
            if on_pty is None:
                os.close(rep.pty_master)
            else:
                on_pty(rep.pty_master)
    except BaseException:
        pids.send_signal(rep.pid, rep.start_time, signal.SIGKILL)
        raise


def _exec_supervised(run_dir: str, spec: dict, fds: list, on_pty, on_start) -> int:
    """exec_ through the supervisor: its forked helper waits for the process and
    sends {"exit": code} on ``exit_fd`` (EOF without it: the helper was killed)."""
    done, done_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        spec = dict(spec, exit_fd=done_w.fileno())
        try:
            rep, _pid, _start = supervised.spawn(run_dir, spec, fds + [done_w.fileno()])
        finally:
            done_w.close()
        if rep.error is not None or rep.pid is None:
            if rep.pty_master is not None:
                os.close(rep.pty_master)
            code, reason = rep.error or (126, "exec helper did not start")
            raise StartError.for_exec(code, reason)
        _hand_over(rep, on_start, on_pty)
        data = done.recv(64)
        return marshal.loads(data)["exit"] if data else 137
    finally:
        done.close()

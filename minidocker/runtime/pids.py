"""Process identity and waiting on processes that are not our children.

A PID alone can be reused; (pid, starttime from /proc/PID/stat) cannot. Waiting
uses pidfds: poll() on a pidfd reports the exit of any process, child or not,
so a restarted daemon can still wait for containers started by its
predecessor.
"""
import os
import select
import signal

from minidocker.errors import KernelError


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot), None if no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def is_alive(pid: int, starttime: int) -> bool:
    return pid > 0 and start_time(pid) == starttime


def open_pidfd(pid: int, starttime: int) -> int | None:
    """A pidfd for exactly that process, or None if it is gone."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    # the pidfd is pinned to whatever process had the PID when opened: check it
    if start_time(pid) != starttime:
        os.close(fd)
        return None
    return fd


def wait_gone(pid: int, starttime: int, timeout: float | None = None) -> bool:
    """Block until that process has exited (or timeout); True if it is gone."""
    fd = open_pidfd(pid, starttime)
    if fd is None:
        return True
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        return bool(p.poll(None if timeout is None else max(0, int(timeout * 1000))))
    finally:
        os.close(fd)


def send_signal(pid: int, starttime: int, sig: int) -> bool:
    """Signal exactly that process; False if it is already gone."""
    fd = open_pidfd(pid, starttime)
    if fd is None:
        return False
    try:
        signal.pidfd_send_signal(fd, sig)
        return True
    except ProcessLookupError:
        return False
    except OSError as e:
        raise KernelError(f"cannot signal process {pid}: {e.strerror}") from e
    finally:
        os.close(fd)


def shims_in(containers_dir: str) -> dict[int, tuple[str, list[int]]]:
    """Every live shim whose working directory is a bundle under ``containers_dir``
    (the launcher runs there), with its bundle's name and its children's pids:
    what is left of a container whatever its state file says."""
    base = os.path.realpath(containers_dir) + os.sep
    shims, parents = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] in ("Z", "X"):
                continue
            parents[pid] = int(fields[1])
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd.startswith(base) and os.sep not in cwd[len(base):]:
            shims[pid] = (cwd[len(base):], [])
    for pid, ppid in parents.items():
        if ppid in shims:
            shims[ppid][1].append(pid)
    return shims

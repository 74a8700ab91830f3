"""Waiting for file descriptors to become readable, whatever their number.

select.select() refuses descriptors from 1024 on (FD_SETSIZE), and a daemon with a
few hundred containers holds more than that (found by scripts/bench --scale 1000:
"filedescriptor out of range in select()" at the 166th container). poll() has no
such limit; this is select's read half on top of it.
"""
import select

_WANTED = select.POLLIN | select.POLLPRI  # POLLHUP, POLLERR and POLLNVAL come anyway


def readable(items, timeout: float | None = None) -> list:
    """The members of ``items`` (fds, or objects with fileno()) that can be read
    without blocking (data, end of file, or an error to read) within ``timeout``
    seconds; None waits as long as it takes, 0 only looks."""
    poller = select.poll()
    by_fd = {}
    for item in items:
        fd = item if isinstance(item, int) else item.fileno()
        by_fd[fd] = item
        poller.register(fd, _WANTED)
    events = poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999)))
    return [by_fd[fd] for fd, _ in events]

"""--explain: every kernel change is reported as the equivalent shell command.

The code that performs a kernel step calls ``emit()`` with the command a person
would type to do the same by hand. The daemon installs a per-request recorder
(thread-local) and returns the lines to the CLI, which prints them in order.
"""
import contextlib
import shlex
import threading

_local = threading.local()


def emit(*argv: str, stdin: str | None = None) -> None:
    """Record one kernel step as a shell command (argv words, quoted on output)."""
    rec = getattr(_local, "lines", None)
    if rec is None:
        return
    line = " ".join(shlex.quote(str(a)) for a in argv)
    if stdin is not None:
        line += " <<'EOF'\n" + stdin.rstrip("\n") + "\nEOF"
    rec.append(line)


@contextlib.contextmanager
def recording(lines: list | None = None):
    """Collect emitted lines from this thread into ``lines`` (a new list by default)."""
    prev = getattr(_local, "lines", None)
    out = [] if lines is None else lines
    _local.lines = out
    try:
        yield out
    finally:
        _local.lines = prev


def current() -> list | None:
    """The active recorder of this thread, to hand to worker threads."""
    return getattr(_local, "lines", None)


@contextlib.contextmanager
def attached(lines: list | None):
    """Make a worker thread record into another thread's recorder."""
    prev = getattr(_local, "lines", None)
    _local.lines = lines
    try:
        yield
    finally:
        _local.lines = prev

"""A container's output: copied to the caller and the log (foreground `run`), or a
terminal nobody holds drained into the log (`run -dt`); and read back from the log
(`logs`, `--tail`, `--follow`)."""
import os
import threading
import time


def tee_outputs(fds: tuple) -> tuple[tuple, list]:
    """Foreground `run`: the container writes into pipes; each is copied both to the
    caller's stdout/stderr and to the log, so `logs` has it too (as in Docker)."""
    stdin, out, err = fds
    child, tees = [stdin], []
    for target in (out, err):
        r, w = os.pipe()
        child.append(w)
        tees.append((r, os.dup(target)))
    return tuple(child), tees


def close_all(fds: list) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def start_pumps(tees: list, log_path: str) -> list:
    log = open(log_path, "ab", buffering=0)
    lock = threading.Lock()
    left = [len(tees)]

    def pump(r: int, target: int) -> None:
        try:
            while True:
                data = os.read(r, 65536)
                if not data:
                    break
                view = memoryview(data)
                while view:
                    try:
                        view = view[os.write(target, view):]
                    except OSError:  # the caller went away: keep logging
                        break
                with lock:
                    log.write(data)
        finally:
            close_all([r, target])
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    log.close()
    threads = [threading.Thread(target=pump, args=t, name="output-tee", daemon=True) for t in tees]
    for t in threads:
        t.start()
    return threads


def drain_to_log(master: int, log_path: str) -> None:
    """`run -td`: nobody holds the terminal, so its output goes to the log."""
    def pump():
        with open(log_path, "ab", buffering=0) as log:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                log.write(data)
        os.close(master)
    threading.Thread(target=pump, name="pty-log", daemon=True).start()


def read_log(path: str, tail: str | None = "all", follow: bool = False, running=lambda: False,
             poll: float = 0.1):
    """The log's bytes: all of it, or its last ``tail`` lines (a number; anything
    else means all); with ``follow``, then what the container writes until it stops.
    While following it yields b"" every ``poll`` seconds with nothing new: an idle
    tick on which the reader may stop."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:  # never started: an empty log
        return
    with f:
        if tail not in ("all", "", None):
            try:
                n = int(tail)
            except ValueError:
                n = -1
            if n >= 0:
                lines = f.read().splitlines(keepends=True)
                yield b"".join(lines[-n:] if n else [])
        while True:
            data = f.read(65536)
            if data:
                yield data
                continue
            if not follow:
                return
            if not running():
                rest = f.read()
                if rest:
                    yield rest
                return
            time.sleep(poll)
            yield b""

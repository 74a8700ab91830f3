"""Our terminal joined to a container's pseudo-terminal (`run -t`, `exec -t`)."""
import fcntl
import os
import select
import termios
import tty as ttymod


def copy_winsize(fd: int) -> None:
    try:
        ws = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, ws)
    except OSError:
        pass


def relay_pty(master: int, interactive: bool) -> None:
    """Copy our terminal (raw mode) to the container's and back until it closes."""
    old = None
    if interactive and os.isatty(0):
        old = termios.tcgetattr(0)
        ttymod.setraw(0)
    try:
        fds = [master] + ([0] if interactive else [])
        while True:
            r, _, _ = select.select(fds, [], [])
            if master in r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                os.write(1, data)
            if 0 in r:
                data = os.read(0, 65536)
                if not data:
                    fds.remove(0)
                else:
                    os.write(master, data)
    finally:
        if old is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, old)
        os.close(master)

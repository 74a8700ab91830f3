"""Docker's hijacked streams (attach, exec start): the connection is taken over.

The answer is ``101 UPGRADED`` (``200 OK`` to a client that did not ask for an
upgrade), Content-Type ``application/vnd.docker.raw-stream`` whatever the
payload (API 1.41); then output goes out in 8-byte-header frames (stream 1
stdout, 2 stderr) without a terminal, raw with one; whatever the client sends is
stdin. The daemon closes the connection when the process's run ends.
"""
import socket
import threading

from minidocker.engine.outputs import frame

UPGRADED = (b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
PLAIN = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"


def upgrade(out, req) -> None:
    """Write the takeover's head; the connection is not reused afterwards."""
    wants = "upgrade" in req.headers.get("connection", "").lower() or bool(req.headers.get("upgrade"))
    out.sock.sendall(UPGRADED if wants else PLAIN)
    out.status = 101 if wants else 200
    out.keep_alive = False


class SocketSink:
    """A hub subscriber writing to the hijacked connection."""

    def __init__(self, sock: socket.socket, tty: bool, stdout: bool = True, stderr: bool = True):
        self.sock, self.tty = sock, tty
        self.want = {1: stdout, 2: stderr}
        self.lock = threading.Lock()
        self.done = threading.Event()

    def write(self, stream: int, data: bytes) -> bool:
        if self.done.is_set():
            return False
        if not self.want.get(stream, True):
            return True
        try:
            with self.lock:
                self.sock.sendall(data if self.tty else frame(stream, data))
        except OSError:  # the client went away
            self.done.set()
            return False
        return True

    def end(self) -> None:
        """The run ended: close the stream (this also wakes the stdin reader)."""
        self.done.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(sock: socket.socket, hub, sink: SocketSink, stdin: bool) -> None:
    """Copy the client's bytes to the process's stdin (``stdin``) until the
    client closes its side, then wait for the end of the run. As Docker's
    attach: when an attached stdin ends, a StdinOnce process without a terminal
    gets EOF and the output goes on; otherwise this attach's output ends too."""
    while not sink.done.is_set():
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            if stdin and not sink.done.is_set():
                if hub.stdin_once and not hub.tty:
                    hub.client_eof()
                else:
                    sink.end()
            break
        if stdin:
            hub.feed(data)
    sink.done.wait()

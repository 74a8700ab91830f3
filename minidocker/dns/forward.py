"""One forwarded query: tries up to three upstream servers in turn, each with
its own fresh socket (random source port, random query id) and a timeout, on
the server's event loop. Sockets for a container's ``--dns`` servers are
created inside the container's netns; host resolvers are asked from the
daemon's own netns."""
from __future__ import annotations

import errno
import random
import selectors
import socket

from minidocker.dns import packet as wire

MAX_SERVERS = 3
_rng = random.SystemRandom()


class Forward:
    def __init__(self, srv, sb, msg: wire.Message, raw: bytes, tcp: bool, sink,
                 servers: list[tuple[str, bool]]):
        self.srv, self.sb, self.msg, self.raw, self.tcp, self.sink = srv, sb, msg, raw, tcp, sink
        self.servers = servers[:MAX_SERVERS]
        self.idx = 0
        self.sock: socket.socket | None = None
        self.timer = None
        self.upid = 0
        self.last: bytes | None = None  # the reply of the last server asked, if it replied
        self.out = b""
        self.inbuf = bytearray()
        self.done = False

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> None:
        self.srv._inflight += 1
        self.sb.pending.add(self)
        self._next()

    def cancel(self) -> None:
        """Drop without answering (the sandbox or the client went away)."""
        self._end()

    def _end(self) -> None:
        if self.done:
            return
        self.done = True
        self._close_sock()
        self.srv._inflight -= 1
        self.sb.pending.discard(self)

    def _close_sock(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.sock is not None:
            try:
                self.srv.loop.sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()
            self.sock = None

    def _deliver(self, data: bytes) -> None:
        self._end()
        data = wire.with_id(data, self.msg.id)
        if not self.tcp:
            limit = max(512, self.msg.udp_size or 0)
            if len(data) > limit:
                data = wire.truncated_reply(self.msg, wire.header_of(data)[1])
        self.sink.send(data)

    def _fail(self) -> None:
        """No server gave an answer to keep: as Docker 20.10, the last server's
        reply goes back whatever its rcode (SERVFAIL, REFUSED, NXDOMAIN), and if
        the last server did not reply at all, nothing does (the client times out)."""
        if self.last is not None:
            self._deliver(self.last)
            return
        self._end()

    def _no_reply(self) -> None:
        self.last = None
        self._next()

    # -- one server ---------------------------------------------------------
    def _next(self) -> None:
        self._close_sock()
        while self.idx < len(self.servers):
            ip, in_container = self.servers[self.idx]
            self.idx += 1
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET  # servers arrive validated, canonical
            kind = socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM
            try:
                self.sock = self.srv._new_socket(self.sb if in_container else None, fam, kind)
                self.sock.setblocking(False)
                self.upid = _rng.randrange(0x10000)
                payload = wire.with_id(self.raw, self.upid)
                if self.tcp:
                    err = self.sock.connect_ex((ip, self.srv.upstream_port))
                    if err not in (0, errno.EINPROGRESS):
                        raise OSError(err, "connect")
                    self.out = len(payload).to_bytes(2, "big") + payload
                    self.inbuf = bytearray()
                    self.srv.loop.sel.register(self.sock, selectors.EVENT_WRITE, self._on_tcp)
                else:
                    self.sock.connect((ip, self.srv.upstream_port))
                    self.sock.send(payload)
                    self.srv.loop.sel.register(self.sock, selectors.EVENT_READ, self._on_udp)
            except OSError:
                self._close_sock()
                continue
            self.timer = self.srv.loop.call_later(self.srv.upstream_timeout, self._no_reply)
            return
        self._fail()

    def _on_udp(self, mask) -> None:
        for _ in range(16):
            if self.sock is None:
                return
            try:
                data = self.sock.recv(65535)
            except BlockingIOError:
                return
            except OSError:  # ICMP unreachable on the connected socket
                self._no_reply()
                return
            if self._consider(data):
                return

    def _on_tcp(self, mask) -> None:
        try:
            if self.out:
                err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, "connect")
                n = self.sock.send(self.out)
                self.out = self.out[n:]
                if not self.out:
                    self.srv.loop.sel.modify(self.sock, selectors.EVENT_READ, self._on_tcp)
                return
            chunk = self.sock.recv(65537)
            if not chunk:
                raise OSError("upstream closed")
        except BlockingIOError:
            return
        except OSError:
            self._no_reply()
            return
        self.inbuf += chunk
        if len(self.inbuf) >= 2:
            n = int.from_bytes(self.inbuf[:2], "big")
            if len(self.inbuf) >= 2 + n:
                if not self._consider(bytes(self.inbuf[2:2 + n])):
                    self._no_reply()

    def _consider(self, data: bytes) -> bool:
        """Handle an upstream reply; True if this exchange is over."""
        head = wire.header_of(data)
        if head is None or head[0] != self.upid or not head[1] & wire.QR:
            return False
        try:
            reply = wire.parse(data)
        except wire.Malformed:
            self._no_reply()
            return True
        if reply.question.lower() != self.msg.question.lower():
            return False
        rcode = reply.rcode
        if rcode == wire.NOERROR or (rcode == wire.NXDOMAIN and reply.flags & wire.AA):
            self._deliver(data)
        else:  # SERVFAIL, REFUSED, NXDOMAIN without AA...: try the next server, as Docker does
            self.last = data
            self._next()
        return True

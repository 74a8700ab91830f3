"""The embedded server's side of its clients: where an answer goes (a UDP peer or a
TCP connection) and the TCP connection itself, read and written without ever
blocking the loop.

A TCP client that sends queries but does not read its answers gets backpressure,
not service: once OUTBUF_PAUSE bytes of answers wait for it, the connection is no
longer read (its queries cost nothing) until it drains; it is closed when idle.
Complete queries are handled at most a sandbox's per-turn quota at a time
(DNSServer.take_turn); the rest wait for the next turn of the loop.
"""
from __future__ import annotations

import selectors
import time

from minidocker.dns import packet as wire

OUTBUF_PAUSE = 64 * 1024   # answers queued for a client: stop reading it beyond this
OUTBUF_MAX = 256 * 1024    # hard cap (one turn's answers cannot pass it in practice)
READ_CHUNK = 16 * 1024     # bytes read per turn; a query arrives whole over several


class UdpPeer:
    __slots__ = ("sb", "addr")

    def __init__(self, sb, addr):
        self.sb, self.addr = sb, addr

    def send(self, data: bytes) -> None:
        if self.sb.udp.fileno() < 0:
            return
        try:
            self.sb.udp.sendto(data, self.addr)
        except OSError:
            pass  # client gone or buffer full: UDP may drop


class TcpConn:
    def __init__(self, srv, sb, sock):
        self.srv, self.sb, self.sock = srv, sb, sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.closed = False
        self.events = selectors.EVENT_READ
        self.resume_scheduled = False
        self.deadline = time.monotonic() + srv.tcp_first_timeout
        self.timer = srv.loop.call_later(srv.tcp_first_timeout, self._check_deadline)

    def _check_deadline(self) -> None:
        if self.closed:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.close()
        else:
            self.timer = self.srv.loop.call_later(left, self._check_deadline)

    def on_event(self, mask) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush()
        if self.closed or not mask & selectors.EVENT_READ or len(self.outbuf) > OUTBUF_PAUSE:
            return
        if not self._has_message():
            try:
                chunk = self.sock.recv(READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close()
                return
            if not chunk:
                self.close()
                return
            self.inbuf += chunk
        self._work()

    def _has_message(self) -> bool:
        return len(self.inbuf) >= 2 and len(self.inbuf) >= 2 + int.from_bytes(self.inbuf[:2], "big")

    def _work(self) -> None:
        """Answer the complete queries in inbuf, within the sandbox's quota."""
        while len(self.inbuf) >= 2 and not self.closed:
            n = int.from_bytes(self.inbuf[:2], "big")
            if n < wire.HEADER.size:
                self.close()  # not even a header: nothing to answer
                return
            if len(self.inbuf) < 2 + n:
                break
            if len(self.outbuf) > OUTBUF_PAUSE:
                return  # _flush resumes once the client has read
            if not self.srv.take_turn(self.sb):
                self._resume_later()
                return
            data = bytes(self.inbuf[2:2 + n])
            del self.inbuf[:2 + n]
            self.deadline = time.monotonic() + self.srv.tcp_idle_timeout
            self.srv.touch(self)
            self.srv.handle(self.sb, data, True, self)

    def _resume_later(self) -> None:
        if not self.resume_scheduled:
            self.resume_scheduled = True
            self.srv.loop.call_later(0, self._resume)

    def _resume(self) -> None:
        self.resume_scheduled = False
        if not self.closed:
            self._work()

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        self.outbuf += len(data).to_bytes(2, "big") + data
        if len(self.outbuf) > OUTBUF_MAX:
            self.close()
            return
        self._flush()

    def _flush(self) -> None:
        try:
            while self.outbuf:
                n = self.sock.send(self.outbuf)
                del self.outbuf[:n]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.close()
            return
        paused = len(self.outbuf) > OUTBUF_PAUSE
        events = (0 if paused else selectors.EVENT_READ) | (selectors.EVENT_WRITE if self.outbuf else 0)
        if events != self.events:
            self.events = events
            self.srv.loop.sel.modify(self.sock, events, self.on_event)
        if not paused and self._has_message():
            self._resume_later()  # queries read before the pause

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.timer.cancel()
        try:
            self.srv.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()
        self.sb.conns.pop(id(self), None)
        self.srv.forget(self)
        for fwd in [f for f in self.sb.pending if f.sink is self]:
            fwd.cancel()

"""One forwarded query: tries up to three upstream servers in turn, each with
its own fresh socket (random source port, random query id) and a timeout, on
the server's event loop. Sockets for a container's ``--dns`` servers are
created inside the container's netns (UDP ones in batches, by the sandbox's
SocketPool: each is still used for one query only and closed); host resolvers
are asked from the daemon's own netns. All forwards share one timeout, so their
timers are the loop's FIFO queue of that delay, not heap entries."""
from __future__ import annotations

import errno
import socket

from minidocker.dns import packet as wire
from minidocker.dns.poller import EVENT_READ, EVENT_WRITE

MAX_SERVERS = 3


class Forward:
    __slots__ = ("srv", "sb", "msg", "raw", "tcp", "sink", "servers", "idx", "sock", "timer",
                 "upid", "last", "out", "inbuf", "done", "name_lower")

    def __init__(self, srv, sb, msg: wire.Message, raw: bytes, tcp: bool, sink,
                 servers: list[tuple[str, bool]]):
        """``raw`` is the client's query as received (its id is the one answered with;
        ``msg`` may be the parse of an earlier query with the same bytes but the id)."""
        self.srv, self.sb, self.msg, self.raw, self.tcp, self.sink = srv, sb, msg, raw, tcp, sink
        self.servers = servers[:MAX_SERVERS]
        self.idx = 0
        self.sock: socket.socket | None = None
        self.timer: list | None = None
        self.upid = 0
        self.last: bytes | None = None  # the reply of the last server asked, if it replied
        self.out = b""
        self.inbuf = bytearray()
        self.done = False
        self.name_lower = msg.question[:-4].lower()

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
            self.timer[1] = None  # FifoTimers.cancel
            self.timer = None
        sock = self.sock
        if sock is not None:
            self.sock = None
            self.srv.loop.sel.discard(sock.fileno())
            sock.close()

    def _deliver(self, data: bytes, flags: int) -> None:
        self._end()
        data = self.raw[:2] + data[2:]  # the client's id
        if not self.tcp:
            limit = max(512, self.msg.udp_size or 0)
            if len(data) > limit:
                data = self.raw[:2] + wire.truncated_reply(self.msg, flags)[2:]
        self.sink.send(data)

    def _fail(self) -> None:
        """No server gave an answer to keep: as Docker 20.10, the last server's
        reply goes back whatever its rcode (SERVFAIL, REFUSED, NXDOMAIN), and if
        the last server did not reply at all, nothing does (the client times out)."""
        if self.last is not None:
            last = self.last
            self._deliver(last, (last[2] << 8) | last[3])
            return
        self._end()

    def _no_reply(self) -> None:
        self.last = None
        self._next()

    # -- one server ---------------------------------------------------------
    def _next(self) -> None:
        self._close_sock()
        srv = self.srv
        while self.idx < len(self.servers):
            ip, in_container = self.servers[self.idx]
            self.idx += 1
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET  # servers arrive validated, canonical
            try:
                self.upid = upid = next(srv.ids)
                payload = upid.to_bytes(2, "big") + self.raw[2:]
                if self.tcp:
                    self.sock = srv._new_socket(self.sb if in_container else None, fam, socket.SOCK_STREAM)
                    err = self.sock.connect_ex((ip, srv.upstream_port))
                    if err not in (0, errno.EINPROGRESS):
                        raise OSError(err, "connect")
                    self.out = len(payload).to_bytes(2, "big") + payload
                    self.inbuf = bytearray()
                    srv.loop.sel.register(self.sock, EVENT_WRITE, self._on_tcp)
                else:
                    if in_container:
                        self.sock = sock = self.sb.sockets.take(fam)
                    else:
                        self.sock = sock = srv._new_socket(None, fam, socket.SOCK_DGRAM)
                    sock.connect((ip, srv.upstream_port))  # replies from elsewhere never reach it
                    sock.send(payload)
                    srv.loop.sel.add_reader(sock.fileno(), self._on_udp)
            except OSError:
                self._close_sock()
                continue
            self.timer = srv.upstream_timers.add(self._no_reply)
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
                    self.srv.loop.sel.modify(self.sock, EVENT_READ, self._on_tcp)
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
        if len(data) < wire.HEADER.size or (data[0] << 8 | data[1]) != self.upid or not data[2] & 0x80:
            return False  # not a reply to our query (QR clear)
        question = self.msg.question
        if wire.same_question(data, question, self.name_lower):
            # the usual reply: the question as asked at offset 12; only its records are walked
            if data[6] or data[7] or data[8] or data[9] or data[10] or data[11]:  # any records
                an, ns, ar = wire.HEADER.unpack_from(data)[3:]
                try:
                    wire.walk_records(data, wire.HEADER.size + len(question), an, ns, ar)
                except wire.Malformed:
                    self._no_reply()
                    return True
        else:
            try:
                reply = wire.parse(data)
            except wire.Malformed:
                self._no_reply()
                return True
            if reply.question.lower() != question.lower():
                return False
        flags = (data[2] << 8) | data[3]
        rcode = flags & 0xF
        if rcode == wire.NOERROR or (rcode == wire.NXDOMAIN and flags & wire.AA):
            self._deliver(data, flags)
        else:  # SERVFAIL, REFUSED, NXDOMAIN without AA...: try the next server, as Docker does
            self.last = data
            self._next()
        return True

"""The userland proxy for IPv6 clients of a published port.

Docker 20.10 lists an address-less binding twice, on 0.0.0.0 and on ``::``, and its
docker-proxy serves both. minidocker's IPv4 traffic goes by DNAT (see the README,
"Published ports"); nftables cannot translate an IPv6 connection to a container's
IPv4 address, so the ``::`` sockets the daemon holds anyway are served here, as
docker-proxy serves them: each TCP connection is accepted and relayed to the
container's address and port, each UDP client gets a connected socket of its own
(dropped after ``UDP_IDLE`` seconds of silence). The container sees the connection
come from its gateway, as from Docker's proxy.

One thread for all of them (selectors, non-blocking sockets, bounded buffers), made
on first use; registration goes through a queue and a wake-up pipe.
"""
from __future__ import annotations

import errno
import logging
import os
import selectors
import socket
import threading
import time

log = logging.getLogger(__name__)
UDP_IDLE = 90.0  # seconds; docker-proxy's UDPConnTrackTimeout
BUFFER = 256 * 1024  # bytes buffered one way before that side stops being read

_lock = threading.Lock()
_relay: "Relay | None" = None


def relay() -> "Relay":
    global _relay
    with _lock:
        if _relay is None:
            _relay = Relay()
        return _relay


class _Pipe:
    """One accepted TCP connection and its upstream to the container."""

    def __init__(self, listener, client: socket.socket, up: socket.socket):
        self.listener, self.client, self.up = listener, client, up
        self.peer = {client: up, up: client}
        self.pending = {client: b"", up: b""}  # bytes waiting to be written to that end
        self.eof: set = set()  # ends that have sent EOF
        self.connected = False
        self.mask = {client: 0, up: 0}  # what each end is registered for (0: not)


class Relay:
    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.rfd, self.wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.sel.register(self.rfd, selectors.EVENT_READ, ("wake", None))
        self.todo: list = []
        self.pipes: set = set()  # open TCP connections (an end may be unregistered while idle)
        self.udp_clients: dict = {}  # listening socket -> {client addr: (upstream, last seen)}
        threading.Thread(target=self._run, name="port-proxy-v6", daemon=True).start()

    # ---- called from the daemon's threads --------------------------------
    def serve(self, sock: socket.socket, proto: str, target: tuple[str, int]) -> None:
        self._call(("serve", sock, proto, target))

    def stop(self, sock: socket.socket) -> threading.Event:
        done = threading.Event()
        self._call(("stop", sock, done))
        return done

    def _call(self, item) -> None:
        with _lock:
            self.todo.append(item)
        try:
            os.write(self.wfd, b"x")
        except BlockingIOError:
            pass

    # ---- the relay thread ---------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                events = self.sel.select(timeout=10.0)
                for key, mask in events:
                    self._event(key, mask)
                self._expire_udp()
            except Exception:  # noqa: BLE001 - one bad connection must not end the relay
                log.exception("port proxy")

    def _event(self, key, mask) -> None:
        kind, data = key.data
        if kind == "wake":
            self._drain()
        elif kind == "listen":
            self._accept(key.fileobj, data)
        elif kind == "pipe":
            self._pipe_event(key.fileobj, data, mask)
        elif kind == "udp":
            self._udp_from_client(key.fileobj, data)
        elif kind == "udp-up":
            self._udp_from_container(key.fileobj, data)

    def _drain(self) -> None:
        try:
            os.read(self.rfd, 4096)
        except BlockingIOError:
            pass
        with _lock:
            todo, self.todo = self.todo, []
        for item in todo:
            if item[0] == "serve":
                _, sock, proto, target = item
                sock.setblocking(False)
                if proto == "tcp":
                    sock.listen(128)
                    self.sel.register(sock, selectors.EVENT_READ, ("listen", target))
                else:
                    self.udp_clients[sock] = {}
                    self.sel.register(sock, selectors.EVENT_READ, ("udp", target))
            else:
                _, sock, done = item
                self._forget(sock)
                done.set()

    def _forget(self, sock) -> None:
        """Stop serving a listening socket; its open connections are cut, as when
        Docker stops the container's proxy."""
        try:
            kind, target = self.sel.get_key(sock).data
        except (KeyError, ValueError):
            return
        self.sel.unregister(sock)
        for pipe in [p for p in self.pipes if p.listener is sock]:
            self._close_pipe(pipe)
        for up, _ in self.udp_clients.pop(sock, {}).values():
            self.sel.unregister(up)
            up.close()

    # TCP
    def _accept(self, lsock, target) -> None:
        try:
            client, _ = lsock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as ex:
            log.warning("port proxy: accept on %s: %s", lsock.getsockname(), ex)
            return
        client.setblocking(False)
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        up.setblocking(False)
        if up.connect_ex(target) not in (0, errno.EINPROGRESS):
            client.close()
            up.close()
            return
        pipe = _Pipe(lsock, client, up)
        self.pipes.add(pipe)
        self._update(pipe)

    def _update(self, pipe: _Pipe) -> None:
        """Register each end for what it can do now: the upstream for its connect
        first; then each end is read while its peer's buffer has room and written
        while its own has bytes."""
        for end, peer in pipe.peer.items():
            if not pipe.connected:
                mask = selectors.EVENT_WRITE if end is pipe.up else 0
            else:
                mask = 0
                if end not in pipe.eof and len(pipe.pending[peer]) < BUFFER:
                    mask |= selectors.EVENT_READ
                if pipe.pending[end]:
                    mask |= selectors.EVENT_WRITE
            if mask == pipe.mask[end]:
                continue
            if pipe.mask[end] == 0:
                self.sel.register(end, mask, ("pipe", pipe))
            elif mask == 0:
                self.sel.unregister(end)
            else:
                self.sel.modify(end, mask, ("pipe", pipe))
            pipe.mask[end] = mask

    def _pipe_event(self, end, pipe: _Pipe, mask) -> None:
        peer = pipe.peer[end]
        try:
            if not pipe.connected:
                if end.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    raise ConnectionRefusedError
                pipe.connected = True
            else:
                if mask & selectors.EVENT_WRITE and pipe.pending[end]:
                    n = end.send(pipe.pending[end])
                    pipe.pending[end] = pipe.pending[end][n:]
                    if not pipe.pending[end] and peer in pipe.eof:
                        end.shutdown(socket.SHUT_WR)
                if mask & selectors.EVENT_READ:
                    data = end.recv(65536)
                    if data:
                        pipe.pending[peer] += data
                    else:
                        pipe.eof.add(end)
                        if not pipe.pending[peer]:
                            peer.shutdown(socket.SHUT_WR)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._close_pipe(pipe)
            return
        if len(pipe.eof) == 2 and not any(pipe.pending.values()):
            self._close_pipe(pipe)
        else:
            self._update(pipe)

    def _close_pipe(self, pipe: _Pipe) -> None:
        for end in pipe.peer:
            if pipe.mask[end]:
                self.sel.unregister(end)
                pipe.mask[end] = 0
            end.close()
        self.pipes.discard(pipe)

    # UDP
    def _udp_from_client(self, lsock, target) -> None:
        try:
            data, addr = lsock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        clients = self.udp_clients.setdefault(lsock, {})
        entry = clients.get(addr)
        if entry is None:
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.setblocking(False)
            try:
                up.connect(target)
            except OSError:
                up.close()
                return
            self.sel.register(up, selectors.EVENT_READ, ("udp-up", (lsock, addr)))
            entry = (up, 0.0)
        clients[addr] = (entry[0], time.monotonic())
        try:
            entry[0].send(data)
        except OSError:
            pass

    def _udp_from_container(self, up, data) -> None:
        lsock, addr = data
        try:
            payload = up.recv(65535)
            lsock.sendto(payload, addr)
        except OSError:
            return
        clients = self.udp_clients.get(lsock, {})
        if addr in clients:
            clients[addr] = (up, time.monotonic())

    def _expire_udp(self) -> None:
        now = time.monotonic()
        for clients in self.udp_clients.values():
            for addr, (up, seen) in list(clients.items()):
                if now - seen > UDP_IDLE:
                    del clients[addr]
                    self.sel.unregister(up)
                    up.close()

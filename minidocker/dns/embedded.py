"""The embedded DNS server: 127.0.0.11:53 (UDP and TCP) in each attached
sandbox's netns, all served by one event-loop thread.

Listening sockets are created on a thread that entered the sandbox's netns
(they stay bound to it); the loop thread lives in the daemon's own netns. To
forward a query to a container's ``--dns`` server, the loop thread enters the
container's netns just long enough to create the socket (setns is per thread)
and returns at once (UDP sockets are made there in batches: sockpool.py). Queries
a sandbox asked before are remembered, keyed by their bytes but the id, until the
table or the sandbox changes: a known name's encoded answer, or an unknown name's
parse (it is forwarded again without being parsed and looked up). ``detach``
closes every socket of a sandbox, since an open socket would keep its netns alive.
"""
from __future__ import annotations

import functools
import ipaddress
import logging
import os
import socket
import time
from collections import OrderedDict
from typing import Callable

from minidocker.network import namespaces
from minidocker.errors import InvalidArgument, KernelError, NotFound
from minidocker.dns import answer, packet as wire
from minidocker.dns.clients import TcpConn, UdpPeer
from minidocker.dns.forward import MAX_SERVERS, Forward
from minidocker.dns.loop import Loop
from minidocker.dns.poller import EVENT_READ
from minidocker.dns.records import Table
from minidocker.dns.sandbox import Sandbox as _Sandbox
from minidocker.dns.sockpool import Budget, SocketPool

log = logging.getLogger("minidocker.dns")

LISTEN_IP = "127.0.0.11"
TURN_QUOTA = 32       # queries one sandbox gets answered per turn of the loop (UDP and TCP together)
CACHE_MAX = 128       # encoded answers kept per sandbox and transport (then cleared)
FORWARDS_MAX = 128    # parsed queries known to be forwarded, kept per sandbox (then cleared)


def _listeners() -> tuple[socket.socket, socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind((LISTEN_IP, 53))
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((LISTEN_IP, 53))
        tcp.listen(128)
        udp.setblocking(False)
        tcp.setblocking(False)
    except OSError:
        udp.close()
        tcp.close()
        raise
    return udp, tcp


def _loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


def _valid_servers(servers: list[str]) -> list[str]:
    out = []
    for s in servers:
        try:
            out.append(str(ipaddress.ip_address(s)))
        except ValueError:
            raise InvalidArgument(f"{s} is not an ip address") from None
    return out


@functools.lru_cache(maxsize=64)
def _canonical(ips: tuple[str, ...]) -> list[str]:
    """The valid addresses among ``ips``, as canonical text (the host's resolvers are
    re-read per forward, so their parsing is remembered)."""
    out = []
    for ip in ips:
        try:
            out.append(str(ipaddress.ip_address(ip)))
        except ValueError:
            continue
    return out


class DNSServer:
    def __init__(self, table: Table, host_resolvers: Callable[[], list[str]], *,
                 upstream_timeout: float = 4.0, max_inflight: int = 4096,
                 max_inflight_per_sandbox: int = 256,
                 tcp_first_timeout: float = 2.0, tcp_idle_timeout: float = 8.0,
                 max_tcp_per_sandbox: int = 64, max_tcp_total: int = 1024,
                 upstream_port: int = 53):
        self.table = table
        self.host_resolvers = host_resolvers
        self.upstream_timeout = upstream_timeout
        self.max_inflight = max_inflight
        self.max_inflight_per_sandbox = max_inflight_per_sandbox
        self.tcp_first_timeout = tcp_first_timeout
        self.tcp_idle_timeout = tcp_idle_timeout
        self.max_tcp_per_sandbox = max_tcp_per_sandbox
        self.max_tcp_total = max_tcp_total
        self.upstream_port = upstream_port
        self.loop = Loop()
        self.upstream_timers = self.loop.fifo(upstream_timeout)  # every forward's, on this loop
        self._sandboxes: dict[str, _Sandbox] = {}  # (loop thread only)
        # the keys attached, as the callers see them: each attach, update and detach
        # is decided from here without a round trip to the loop (calls reach it in order)
        self._keys: set[str] = set()
        self._conns: OrderedDict[int, TcpConn] = OrderedDict()  # least recently active first
        self._inflight = 0
        self._host_fd = -1
        self.ids = wire.random_ids()  # upstream query ids (loop thread only)
        self._budget = Budget()

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        def setup():
            self._host_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.upstream_timers = self.loop.fifo(self.upstream_timeout)
        self.loop.start(setup)

    def stop(self) -> None:
        self.loop.stop()
        self._keys.clear()
        for key in list(self._sandboxes):
            self._remove(key)
        self.loop.close()
        self.loop = Loop()  # a stopped server can be started again
        if self._host_fd >= 0:
            os.close(self._host_fd)
            self._host_fd = -1

    @property
    def thread_id(self) -> int | None:
        t = self.loop.thread
        return t.native_id if t is not None else None

    # -- sandboxes ------------------------------------------------------------
    def attach(self, key: str, netns_path: str, networks: list[str], dns_servers: list[str],
               internal: bool, ndots_set: bool = False, run_inside=None) -> None:
        """``run_inside``: runs a function inside that namespace (a thread the
        caller has in there already); else a thread enters it for the listeners.
        The listeners are bound here, so a query sent after the return waits in
        their buffers until the loop, told without waiting, reads them."""
        servers = _valid_servers(dns_servers)
        if key in self._keys:  # re-attach: free 127.0.0.11:53 first
            self.loop.call(lambda: self._remove(key))
            self._keys.discard(key)
        try:
            if run_inside is not None:
                udp, tcp = run_inside(_listeners)
            else:
                udp, tcp = namespaces.run_in_netns(netns_path, _listeners)
        except OSError as e:
            raise KernelError(f"cannot listen on {LISTEN_IP}:53 in {netns_path}: {e.strerror or e}") from None
        try:
            ns_fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            udp.close()
            tcp.close()
            raise KernelError(f"cannot open netns {netns_path}: {e.strerror}") from None
        sb = _Sandbox(key, netns_path, ns_fd, udp, tcp, networks, servers, internal)
        sb.ndots_set = ndots_set
        sb.sockets = SocketPool(ns_fd, lambda: self._host_fd, self._budget)

        def add():
            try:
                self._add(sb)
            except BaseException:
                self._keys.discard(key)
                udp.close()
                tcp.close()
                os.close(ns_fd)
                raise
        self._keys.add(key)
        self.loop.post(add)

    def update(self, key: str, networks: list[str], dns_servers: list[str], internal: bool,
               ndots_set: bool = False) -> None:
        servers = _valid_servers(dns_servers)
        if key not in self._keys:
            raise NotFound(f"no DNS resolver attached for {key}")

        def do():
            sb = self._sandboxes.get(key)
            if sb is None:  # detached since
                return
            sb.networks, sb.dns_servers, sb.internal = list(networks), servers, internal
            sb.ndots_set = ndots_set
            sb.cache_version = -1
            sb.upstreams = None
        self.loop.post(do)

    def detach(self, key: str) -> None:
        """Waits: the listeners are closed on return (a new attach binds them again)."""
        if key in self._keys:
            self._keys.discard(key)
            self.loop.call(lambda: self._remove(key))

    def is_attached(self, key: str) -> bool:
        return key in self._keys

    def attached(self) -> list[str]:
        """The keys the loop serves (after every attach and detach before the call)."""
        return self.loop.call(lambda: list(self._sandboxes))

    def _add(self, sb: _Sandbox) -> None:
        if sb.key in self._sandboxes:
            self._remove(sb.key)
        self._sandboxes[sb.key] = sb
        self.loop.sel.register(sb.udp, EVENT_READ, lambda m, sb=sb: self._on_udp(sb))
        self.loop.sel.register(sb.tcp, EVENT_READ, lambda m, sb=sb: self._on_accept(sb))

    def _remove(self, key: str) -> None:
        sb = self._sandboxes.pop(key, None)
        if sb is None:
            return
        for fwd in list(sb.pending):
            fwd.cancel()
        for conn in list(sb.conns.values()):
            conn.close()
        for s in (sb.udp, sb.tcp):
            try:
                self.loop.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        sb.sockets.close()
        os.close(sb.ns_fd)

    # -- sockets ------------------------------------------------------------------
    def _new_socket(self, sb: _Sandbox | None, family: int, kind: int) -> socket.socket:
        """A non-blocking socket in ``sb``'s netns (None: the daemon's). Loop thread only."""
        kind |= socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
        if sb is None:
            return socket.socket(family, kind)
        namespaces.setns(sb.ns_fd, namespaces.CLONE_NEWNET)
        try:
            return socket.socket(family, kind)
        finally:
            namespaces.setns(self._host_fd, namespaces.CLONE_NEWNET)

    # -- fairness: each sandbox gets TURN_QUOTA queries per turn of the loop ----------
    def take_turn(self, sb: _Sandbox) -> bool:
        """Count one query against ``sb``'s quota for this turn; False once it is spent
        (the query waits: in the kernel's socket buffer, or in the connection's inbuf)."""
        tick = self.loop.tick
        if sb.turn != tick:
            sb.turn, sb.spent = tick, 0
        if sb.spent >= TURN_QUOTA:
            return False
        sb.spent += 1
        return True

    def _on_udp(self, sb: _Sandbox) -> None:
        udp = sb.udp
        table = self.table
        while self.take_turn(sb):
            try:
                data, addr = udp.recvfrom(65535)
            except OSError:  # BlockingIOError: drained
                return
            if sb.cache_version != table.version:
                self._clear_cache(sb)
            key = data[2:]
            hit = sb.cache[0].get(key)
            if hit is not None:  # the fast path: a known name asked before
                try:
                    udp.sendto(data[:2] + hit, addr)
                except OSError:
                    pass
                continue
            msg = sb.forwards.get(key)
            if msg is not None:  # an unknown name asked before: forward it again
                self._forward(sb, msg, data, False, UdpPeer(sb, addr))
                continue
            self.handle(sb, data, False, UdpPeer(sb, addr))
            if sb.key not in self._sandboxes:
                return

    def _on_accept(self, sb: _Sandbox) -> None:
        for _ in range(64):
            try:
                sock, _addr = sb.tcp.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # EMFILE and friends: shed load, pause briefly
                log.warning("dns accept failed: %s", e)
                if not self._evict(sb, force=True):
                    self._pause_listen(sb)
                return
            sock.setblocking(False)
            if len(sb.conns) >= self.max_tcp_per_sandbox:
                self._evict(sb)
            elif len(self._conns) >= self.max_tcp_total:
                self._evict(None)
            conn = TcpConn(self, sb, sock)
            sb.conns[id(conn)] = conn
            self._conns[id(conn)] = conn
            self.loop.sel.register(sock, EVENT_READ, conn.on_event)

    def _evict(self, sb: _Sandbox | None, force: bool = False) -> bool:
        """Close the least recently active connection of ``sb``, or (None, or
        ``force``) of the sandbox that holds the most: one sandbox's connections
        never push out another's while it holds more."""
        if sb is None or force:
            sb = max(self._sandboxes.values(), key=lambda s: len(s.conns), default=None)
            if sb is None:
                return False
        for conn in sb.conns.values():
            conn.close()
            return True
        return False

    def _pause_listen(self, sb: _Sandbox) -> None:
        if sb.listen_paused:
            return
        sb.listen_paused = True
        self.loop.sel.unregister(sb.tcp)

        def resume():
            if self._sandboxes.get(sb.key) is sb:
                sb.listen_paused = False
                self.loop.sel.register(sb.tcp, EVENT_READ, lambda m: self._on_accept(sb))
        self.loop.call_later(0.2, resume)

    def touch(self, conn: TcpConn) -> None:
        conn.sb.conns.move_to_end(id(conn))
        self._conns.move_to_end(id(conn))

    def forget(self, conn: TcpConn) -> None:
        self._conns.pop(id(conn), None)

    # -- queries -----------------------------------------------------------------
    def _clear_cache(self, sb: _Sandbox) -> None:
        sb.cache[0].clear()
        sb.cache[1].clear()
        sb.forwards.clear()
        sb.cache_version = self.table.version

    def handle(self, sb: _Sandbox, data: bytes, tcp: bool, sink) -> None:
        cache = sb.cache[tcp]
        if sb.cache_version != self.table.version:
            self._clear_cache(sb)
        key = data[2:]
        hit = cache.get(key)
        if hit is not None:
            sink.send(data[:2] + hit)
            return
        msg = sb.forwards.get(key)
        if msg is not None:
            self._forward(sb, msg, data, tcp, sink)
            return
        res = answer.parse_or_reject(data)
        if res is None:
            return
        if isinstance(res, bytes):
            sink.send(res)
            return
        version = sb.cache_version
        out, stable = answer.respond(self.table, sb.networks, sb.internal, res, tcp, ndots_set=sb.ndots_set)
        if out is answer.FORWARD:
            if version == self.table.version:  # the same bytes are forwarded until a change
                if len(sb.forwards) >= FORWARDS_MAX:
                    sb.forwards.clear()
                sb.forwards[key] = res
            self._forward(sb, res, data, tcp, sink)
            return
        if stable and version == self.table.version:
            if len(cache) >= CACHE_MAX:
                cache.clear()
            cache[key] = out[2:]
        sink.send(out)

    def _upstreams(self, sb: _Sandbox) -> list[tuple[str, bool]]:
        """Docker 20.10 forwards from the container's namespace, so a sandbox only
        on ``--internal`` networks reaches its ``--dns`` servers only if they are
        on those networks; the host's loopback resolvers it asks from the host's
        namespace, internal or not (measured: an internal container gets the answer
        of a resolver on the host's 127.0.0.53), its other ones from the container's."""
        if sb.dns_servers:
            if sb.upstreams is None:
                sb.upstreams = [(ip, True) for ip in sb.dns_servers if ip != LISTEN_IP][:MAX_SERVERS]
            return sb.upstreams
        elif sb.internal:
            found = [(ip, not _loopback(ip)) for ip in self._host_upstreams()]
        else:
            found = [(ip, False) for ip in self._host_upstreams()]
        return found[:MAX_SERVERS]

    def _host_upstreams(self) -> list[str]:
        """The host's resolvers, as addresses."""
        try:
            hosts = list(self.host_resolvers())
        except Exception:
            log.exception("reading host resolvers failed")
            return []
        return _canonical(tuple(hosts))

    def _forward(self, sb: _Sandbox, msg: wire.Message, raw: bytes, tcp: bool, sink) -> None:
        """Beyond the sandbox's budget of forwards in flight (or the server's), the
        query gets no answer at all, as from Docker 20.10 past its limit of
        concurrent queries: the client times out and retries, never REFUSED."""
        if len(sb.pending) >= self.max_inflight_per_sandbox or self._inflight >= self.max_inflight:
            sb.dropped += 1
            if sb.dropped & (sb.dropped - 1) == 0:  # 1, 2, 4, 8...: a flood logs a few lines
                log.warning("dns: more than %d queries in flight from %s: %d dropped",
                            len(sb.pending), sb.key[:12], sb.dropped)
            return
        Forward(self, sb, msg, raw, tcp, sink, self._upstreams(sb)).start()

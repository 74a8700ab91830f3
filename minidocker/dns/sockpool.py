"""Fresh UDP sockets in a sandbox's netns, made in batches for the loop thread.

Forwarding a query to a container's ``--dns`` server needs a socket in the
container's netns, and setns is per thread: entering the netns and coming back
for every query cost more than the query. A SocketPool enters once per batch.
Each socket is still fresh (never bound nor connected before it is taken), used
for one query and closed: the kernel picks its random source port at connect.

The pool adapts: a batch doubles (up to BATCH_MAX) while the pool keeps running
dry within REFILL_WINDOW seconds, and falls back to BATCH_MIN after a quiet
spell. All pools of a server share a Budget, so idle sockets stay bounded
however many sandboxes forwarded once. ``close`` closes the sockets not taken
(an open socket keeps its netns alive).
"""
from __future__ import annotations

import socket
import time

from minidocker.network import namespaces

BATCH_MIN = 4
BATCH_MAX = 64
REFILL_WINDOW = 1.0      # seconds: a refill this soon after the last one doubles the batch
_FLAGS = socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC


class Budget:
    """Sockets held by all pools together (not counting the ones taken)."""
    __slots__ = ("held", "cap")

    def __init__(self, cap: int = 2048):
        self.held, self.cap = 0, cap


class SocketPool:
    __slots__ = ("ns_fd", "host_fd", "budget", "free", "batch", "refilled", "made")

    def __init__(self, ns_fd: int, host_fd_of, budget: Budget):
        """``ns_fd``: the sandbox's netns; ``host_fd_of()``: the loop thread's own
        netns, to return to (read when a batch is made)."""
        self.ns_fd, self.host_fd, self.budget = ns_fd, host_fd_of, budget
        self.free: dict[int, list[socket.socket]] = {}  # family -> sockets
        self.batch = BATCH_MIN
        self.refilled = -1e9
        self.made = 0  # sockets created so far (tests and stats)

    def take(self, family: int) -> socket.socket:
        """A fresh non-blocking UDP socket of ``family`` in the sandbox's netns;
        OSError if none can be made (EMFILE, an IPv6-less netns...)."""
        free = self.free.get(family)
        if not free:
            free = self._refill(family)
        self.budget.held -= 1
        return free.pop()

    def _refill(self, family: int) -> list[socket.socket]:
        now = time.monotonic()
        if now - self.refilled < REFILL_WINDOW:
            self.batch = min(BATCH_MAX, self.batch * 2)
        else:
            self.batch = BATCH_MIN
        self.refilled = now
        budget = self.budget
        n = max(1, min(self.batch, budget.cap - budget.held))
        made: list[socket.socket] = []
        namespaces.setns(self.ns_fd, namespaces.CLONE_NEWNET)
        try:
            for _ in range(n):
                try:
                    made.append(socket.socket(family, socket.SOCK_DGRAM | _FLAGS))
                except OSError:
                    if not made:
                        raise
                    break
        finally:
            namespaces.setns(self.host_fd(), namespaces.CLONE_NEWNET)
        self.made += len(made)
        budget.held += len(made)
        self.free[family] = made
        return made

    def __len__(self) -> int:
        return sum(len(v) for v in self.free.values())

    def close(self) -> None:
        for socks in self.free.values():
            self.budget.held -= len(socks)
            for s in socks:
                s.close()
        self.free.clear()

"""A small single-threaded event loop: a thin epoll (poller.py), timers, and calls
posted from other threads. Handlers run on the loop thread only.

Two kinds of timers: ``call_later`` (a heap, any delay) and ``fifo(delay)``, a
queue of timers that all share one delay, so they expire in the order they were
set: a deque swept every turn, no heap work (one per forwarded query)."""
from __future__ import annotations

import heapq
import itertools
import logging
import select
import socket
import threading
import time
from collections import deque

from minidocker.dns.poller import EVENT_READ, Poller, to_mask

EPOLLIN = select.EPOLLIN

log = logging.getLogger("minidocker.dns")


def _run_posted(fn) -> None:
    try:
        fn()
    except Exception:
        log.exception("dns call failed")


class Timer:
    __slots__ = ("deadline", "fn", "cancelled")

    def __init__(self, deadline: float, fn):
        self.deadline, self.fn, self.cancelled = deadline, fn, False

    def cancel(self) -> None:
        self.cancelled = True


class FifoTimers:
    """Timers of one fixed delay. ``add`` returns the entry [deadline, fn];
    ``cancel(entry)`` (or entry[1] = None) disarms it."""
    __slots__ = ("delay", "q")

    def __init__(self, delay: float):
        self.delay = delay
        self.q: deque = deque()

    def add(self, fn) -> list:
        e = [time.monotonic() + self.delay, fn]
        self.q.append(e)
        return e

    @staticmethod
    def cancel(entry: list) -> None:
        entry[1] = None

    def next_deadline(self) -> float | None:
        q = self.q
        while q and q[0][1] is None:  # cancelled: most are, as answers arrive in order
            q.popleft()
        return q[0][0] if q else None

    def expire(self, now: float) -> None:
        q = self.q
        while q and q[0][0] <= now:
            e = q.popleft()
            fn = e[1]
            if fn is not None:
                e[1] = None
                try:
                    fn()
                except Exception:
                    log.exception("dns timer failed")

    def __len__(self) -> int:
        return sum(1 for e in self.q if e[1] is not None)


class Loop:
    def __init__(self) -> None:
        self.sel = Poller()
        self._timers: list = []
        self._fifos: dict[float, FifoTimers] = {}
        self._seq = itertools.count()
        self._calls: deque = deque()
        self._rwake, self._wwake = socket.socketpair()
        self._rwake.setblocking(False)
        self._wwake.setblocking(False)
        self.sel.register(self._rwake, EVENT_READ, self._drain_wake)
        self.thread: threading.Thread | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self.tick = 0  # turns of the loop so far (handlers share work per turn by it)

    # -- timers -----------------------------------------------------------
    def call_later(self, delay: float, fn) -> Timer:
        t = Timer(time.monotonic() + delay, fn)
        heapq.heappush(self._timers, (t.deadline, next(self._seq), t))
        return t

    def fifo(self, delay: float) -> FifoTimers:
        """The timers of this ``delay`` (created on first use)."""
        f = self._fifos.get(delay)
        if f is None:  # a new dict: _run may be iterating over the old one
            f = FifoTimers(delay)
            self._fifos = {**self._fifos, delay: f}
        return f

    # -- cross-thread calls -----------------------------------------------
    def on_loop(self) -> bool:
        return threading.current_thread() is self.thread

    def _running(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and not self._stopping

    def call(self, fn):
        """Run ``fn`` on the loop thread (or inline if the loop is not running)."""
        with self._lock:
            if not self._running() or self.on_loop():
                return fn()
            done = threading.Event()
            box: list = [None, None]
            self._calls.append((fn, box, done))
        self._wake()
        done.wait()
        if box[1] is not None:
            raise box[1]
        return box[0]

    def post(self, fn) -> None:
        """Run ``fn`` on the loop thread without waiting for it (inline if the loop
        is not running), after every call and post before it; its failure is logged."""
        with self._lock:
            queued = self._running() and not self.on_loop()
            if queued:
                self._calls.append((fn, None, None))
        if queued:
            self._wake()
        else:
            _run_posted(fn)

    def _wake(self) -> None:
        try:
            self._wwake.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already pending

    def _drain_wake(self, mask) -> None:
        try:
            while self._rwake.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _run_calls(self) -> None:
        while self._calls:
            fn, box, done = self._calls.popleft()
            if done is None:  # posted: nobody waits for it
                _run_posted(fn)
                continue
            try:
                box[0] = fn()
            except BaseException as e:  # handed back to the caller
                box[1] = e
            done.set()

    # -- lifecycle ----------------------------------------------------------
    def start(self, setup=None, name: str = "minidocker-dns") -> None:
        ready = threading.Event()
        err: list = []

        def main():
            try:
                if setup:
                    setup()
            except BaseException as e:
                err.append(e)
                ready.set()
                return
            ready.set()
            self._run()

        self._stopping = False
        self.thread = threading.Thread(target=main, name=name, daemon=True)
        self.thread.start()
        ready.wait()
        if err:
            self.thread.join()
            self.thread = None
            raise err[0]

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._wake()
        if self.thread is not None and not self.on_loop():
            self.thread.join()
        self._run_calls()  # anything posted while stopping runs inline

    def close(self) -> None:
        self.sel.close()
        self._rwake.close()
        self._wwake.close()

    def _run(self) -> None:
        handlers = self.sel.handlers
        poll = self.sel.poll
        monotonic = time.monotonic
        while not self._stopping:
            self.tick += 1
            deadline = None
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)
            if self._timers:
                deadline = self._timers[0][0]
            for f in self._fifos.values():
                d = f.next_deadline()
                if d is not None and (deadline is None or d < deadline):
                    deadline = d
            if self._calls:
                timeout = 0.0
            elif deadline is None:
                timeout = None
            else:
                timeout = max(0.0, deadline - monotonic())
            for fd, ev in poll(timeout):
                cb = handlers.get(fd)
                if cb is None:  # unregistered by an earlier handler of this batch
                    continue
                try:
                    cb(EVENT_READ if ev == EPOLLIN else to_mask(ev))
                except Exception:
                    log.exception("dns handler failed")
            now = monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, _, t = heapq.heappop(self._timers)
                if not t.cancelled:
                    t.cancelled = True
                    try:
                        t.fn()
                    except Exception:
                        log.exception("dns timer failed")
            for f in self._fifos.values():
                f.expire(now)
            self._run_calls()

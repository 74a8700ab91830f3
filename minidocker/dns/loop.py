"""A small single-threaded event loop: a selector, timers, and calls posted
from other threads. Handlers run on the loop thread only."""
from __future__ import annotations

import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from collections import deque

log = logging.getLogger("minidocker.dns")


class Timer:
    __slots__ = ("deadline", "fn", "cancelled")

    def __init__(self, deadline: float, fn):
        self.deadline, self.fn, self.cancelled = deadline, fn, False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self._timers: list = []
        self._seq = itertools.count()
        self._calls: deque = deque()
        self._rwake, self._wwake = socket.socketpair()
        self._rwake.setblocking(False)
        self._wwake.setblocking(False)
        self.sel.register(self._rwake, selectors.EVENT_READ, self._drain_wake)
        self.thread: threading.Thread | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self.tick = 0  # turns of the loop so far (handlers share work per turn by it)

    # -- timers -----------------------------------------------------------
    def call_later(self, delay: float, fn) -> Timer:
        t = Timer(time.monotonic() + delay, fn)
        heapq.heappush(self._timers, (t.deadline, next(self._seq), t))
        return t

    # -- cross-thread calls -----------------------------------------------
    def on_loop(self) -> bool:
        return threading.current_thread() is self.thread

    def call(self, fn):
        """Run ``fn`` on the loop thread (or inline if the loop is not running)."""
        with self._lock:
            running = self.thread is not None and self.thread.is_alive() and not self._stopping
            if not running or self.on_loop():
                return fn()
            done = threading.Event()
            box: list = [None, None]
            self._calls.append((fn, box, done))
        self._wake()
        done.wait()
        if box[1] is not None:
            raise box[1]
        return box[0]

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
        while not self._stopping:
            self.tick += 1
            timeout = None
            now = time.monotonic()
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - now)
            if self._calls:
                timeout = 0.0
            for key, mask in self.sel.select(timeout):
                try:
                    key.data(mask)
                except Exception:
                    log.exception("dns handler failed")
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, _, t = heapq.heappop(self._timers)
                if not t.cancelled:
                    t.cancelled = True
                    try:
                        t.fn()
                    except Exception:
                        log.exception("dns timer failed")
            self._run_calls()

"""The threads that serve the API's connections, kept for the next connection
when done: `docker run -d` makes its requests on new connections, and handing a
connection to a thread that waits for one costs less than starting a thread."""
import queue
import threading

IDLE = 8  # threads kept waiting, at most (the rest end when their connection does)
IDLE_SECONDS = 2.0  # and for so long: a daemon nobody talks to holds no extra thread


class Workers:
    def __init__(self, serve, idle: int = IDLE, idle_seconds: float = IDLE_SECONDS):
        self._serve = serve  # serve(conn): one connection, to its end
        self._max_idle = idle
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting on (or about to wait on) _conns
        self._conns: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False

    def submit(self, conn) -> None:
        """Serve ``conn`` on a waiting thread, else on a new one (RuntimeError:
        no thread can start)."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._conns.put(conn)
                return
        threading.Thread(target=self._run, args=(conn,), name="api-conn", daemon=True).start()

    def _run(self, conn) -> None:
        while conn is not None:
            self._serve(conn)
            with self._lock:
                if self._closed or self._idle >= self._max_idle:
                    return
                self._idle += 1
            conn = self._next()

    def _next(self):
        """The next connection for this thread; None: it ends (closed, or idle too long)."""
        try:
            return self._conns.get(timeout=self._idle_seconds)
        except queue.Empty:
            with self._lock:  # one handed over meanwhile is served: submit counted on a taker
                try:
                    return self._conns.get_nowait()
                except queue.Empty:
                    self._idle -= 1
                    return None

    def close(self) -> None:
        """The waiting threads end; busy ones end with their connection."""
        with self._lock:
            self._closed = True
            n, self._idle = self._idle, 0
        for _ in range(n):
            self._conns.put(None)

"""minidockerd: the daemon process, a thin HTTP shell over the Engine.

Listens on the unix socket; each connection is served on its own thread, its
requests in turn (HTTP/1.1 keep-alive unless the client says close), each
handed to the router. The Engine serialises state changes with its lock. Logs go
through `logging` to stderr, with one line per request at debug level (--debug).
"""
import argparse
import errno
import fcntl
import gc
import logging
import os
import resource
import signal
import socket
import sys
import threading
import time

from minidocker.api import framing, routes_containers, routes_exec, routes_images, routes_networks, routes_stats, routes_system
from minidocker.api.router import Router
from minidocker.api.workers import Workers
from minidocker.api import profiling, routes_archive, routes_swarm, routes_volumes

log = logging.getLogger("minidockerd")

ROUTER = Router(routes_containers.routes, routes_exec.routes, routes_networks.routes, routes_images.routes, routes_system.routes,
                routes_volumes.routes, routes_archive.routes, routes_swarm.routes,
                routes_stats.routes)


DEFAULT_LIMITS = framing.Limits(idle=120.0, head=10.0, body=30.0)
MAX_CONNECTIONS = 512  # the docker CLI holds one per attach, `logs -f`, `events` stream


def serve_connection(engine, conn: socket.socket, router: Router = ROUTER,
                     limits: framing.Limits | None = None) -> None:
    reader = framing.Reader(conn, limits)
    try:
        while True:
            try:
                req = framing.read_request(reader)
            except OSError:  # the client went away, or was too slow (handled below)
                raise
            except Exception as ex:  # noqa: BLE001 - a malformed request: answer it, keep serving others
                log.debug("bad request: %s", ex)
                status = getattr(ex, "status", 400)
                framing.ResponseWriter(conn).send_json(status, {"message": f"bad request: {ex}"})
                return
            if req is None:  # the client closed between requests
                return
            out = framing.ResponseWriter(conn, req)
            t0 = time.monotonic()
            try:
                if profiling.enabled():
                    profiling.run(req.method, req.target, lambda: router.dispatch(engine, req, out))
                else:
                    router.dispatch(engine, req, out)
            finally:
                framing.close_fds(req.fds)
                log.debug("%s %s %s %.1fms", req.method, req.target, out.status,
                          (time.monotonic() - t0) * 1000)
            if not out.keep_alive:
                return
            if not req.body_started and req.headers.get("expect", "").lower() == "100-continue":
                return  # answered without the body it offered: close rather than ask for it now (as Go)
            try:
                req.drain()  # a body the handler did not read: the next request starts after it
            except (framing.BadRequest, framing.BodyTooLarge) as ex:
                log.debug("connection closed: %s", ex)
                return
    except TimeoutError as ex:  # a half-sent request: its thread is not held for ever
        log.debug("connection closed: %s", ex or "the client sent nothing in time")
    except OSError as ex:  # ConnectionError, BrokenPipeError: the client went away
        log.debug("connection ended: %s", ex)
    except Exception:  # noqa: BLE001 - one connection's failure must not stop the daemon
        log.exception("serving a connection failed")
    finally:
        conn.close()


# accept() errors that say nothing about the listening socket: try again at once
_ACCEPT_AGAIN = {errno.ECONNABORTED, errno.EINTR, errno.EPROTO, errno.EAGAIN}
# out of something (fds, memory): wait a little for it to come back, as Go's server does
_ACCEPT_BACKOFF = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def raise_fd_limit() -> tuple[int, int]:
    """The soft RLIMIT_NOFILE raised to the hard one (as Go's runtime does for
    dockerd): every container costs the daemon a few fds. Returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (OSError, ValueError) as ex:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, ex)
    return soft, hard


class Server:
    def __init__(self, engine, socket_path: str, max_connections: int = MAX_CONNECTIONS,
                 limits: framing.Limits | None = None):
        self.engine = engine
        self.path = socket_path
        self.max_connections = max_connections
        self.limits = limits or DEFAULT_LIMITS
        self.slots = threading.BoundedSemaphore(max_connections)
        self._refused_logged = 0.0
        try:
            os.unlink(socket_path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o117)  # the socket is born 0660: root's only, no window
        try:
            self.sock.bind(socket_path)
        finally:
            os.umask(old)
        self.sock.listen(128)
        self.stopping = False
        self.workers = Workers(self._serve)

    def serve_forever(self) -> None:
        backoff = 0.0
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError as ex:
                if self.stopping:
                    return
                if ex.errno in _ACCEPT_AGAIN:
                    continue
                if ex.errno not in _ACCEPT_BACKOFF:
                    raise
                backoff = min(max(backoff * 2, 0.005), 1.0)
                log.warning("accept failed (%s), retrying in %.0fms", ex.strerror or ex, backoff * 1000)
                time.sleep(backoff)
                continue
            backoff = 0.0
            if not self.slots.acquire(blocking=False):
                self._refuse(conn)
                continue
            try:
                self.workers.submit(conn)
            except RuntimeError as ex:  # can't start new thread
                self.slots.release()
                log.warning("cannot serve a connection: %s", ex)
                conn.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            serve_connection(self.engine, conn, limits=self.limits)
        finally:
            self.slots.release()

    def _refuse(self, conn: socket.socket) -> None:
        """Beyond the cap: a 503 that names the limit, and the connection closed."""
        now = time.monotonic()
        if now - self._refused_logged > 1.0:
            self._refused_logged = now
            log.warning("refusing connections: %d are open, the limit (--max-connections)", self.max_connections)
        try:
            conn.settimeout(0.2)
            framing.ResponseWriter(conn).send_json(503, {
                "message": f"too many connections: the daemon serves at most {self.max_connections} at once"})
        except OSError as ex:
            log.debug("refused connection: %s", ex)
        finally:
            conn.close()

    def shutdown(self) -> None:
        self.stopping = True
        self.workers.close()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError as ex:  # not connected: accept() still returns on close
            log.debug("socket shutdown: %s", ex)
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def setup_logging(debug: bool) -> None:
    """Timestamps and levels on stderr (the log file when the CLI started us);
    minidocker's own loggers at debug with --debug, other libraries' at warning."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s",
                                           "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("minidocker", "minidockerd"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.INFO)


def default_root() -> str:
    return os.environ.get("MINIDOCKER_ROOT", "/var/lib/minidocker")


def default_run() -> str:
    return os.environ.get("MINIDOCKER_RUN", "/run/minidocker")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="minidockerd", description="the minidocker daemon")
    ap.add_argument("--root", default=default_root(), help="state root (default $MINIDOCKER_ROOT or %(default)s)")
    ap.add_argument("--run", dest="run_dir", default=default_run(),
                    help="runtime dir: socket, netns pins (default $MINIDOCKER_RUN or %(default)s)")
    ap.add_argument("--debug", action="store_true", help="log at debug level, with one line per request")
    ap.add_argument("--max-connections", type=int,
                    default=int(os.environ.get("MINIDOCKER_MAX_CONNECTIONS", MAX_CONNECTIONS)),
                    help="connections served at once; more get 503 "
                         "(default $MINIDOCKER_MAX_CONNECTIONS or %(default)s)")
    ap.add_argument("--request-timeout", type=float,
                    default=float(os.environ.get("MINIDOCKER_REQUEST_TIMEOUT", DEFAULT_LIMITS.head)),
                    help="seconds for a request's head once it began, and between pieces of a body "
                         "(x3); idle connections get x12 (default $MINIDOCKER_REQUEST_TIMEOUT or %(default)s)")
    args = ap.parse_args(argv)
    setup_logging(args.debug)
    if os.geteuid() != 0:
        log.error("must run as root")
        return 1
    soft, hard = raise_fd_limit()
    log.debug("open-files limit %d (hard %d)", soft, hard)
    from minidocker.engine.core import Engine
    os.umask(0o022)  # containers' files and layers get the usual modes
    os.makedirs(args.run_dir, exist_ok=True)
    os.chmod(args.run_dir, 0o711)
    os.makedirs(args.root, exist_ok=True)
    for where in (args.run_dir, args.root):  # one daemon per runtime dir and per state root
        lock = os.open(os.path.join(where, "minidockerd.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.error("another daemon is already running on %s", where)
            return 1
    try:
        engine = Engine(args.root, args.run_dir,
                        host_resolv_conf=os.environ.get("MINIDOCKER_HOST_RESOLV_CONF", "/etc/resolv.conf"))
    except Exception:  # noqa: BLE001 - say why, in the log, and exit
        log.exception("could not start the engine")
        return 1
    t = args.request_timeout
    server = Server(engine, os.path.join(args.run_dir, "minidocker.sock"), max_connections=args.max_connections,
                    limits=framing.Limits(idle=t * 12, head=t, body=t * 3))
    engine.watch_firewall()
    engine.start_supervisor()
    # what the daemon holds for good (modules, the engine): out of the collector's
    # full passes, which otherwise walk it all again, at 1000 containers every few
    # dozen starts (20-100 ms each)
    gc.freeze()
    with open(os.path.join(args.run_dir, "minidockerd.pid"), "w") as f:
        f.write(str(os.getpid()))

    def stop(*_):
        server.shutdown()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving on %s (root %s)", server.path, args.root)
    try:
        server.serve_forever()
    finally:
        engine.close()
        try:
            os.unlink(os.path.join(args.run_dir, "minidockerd.pid"))
        except FileNotFoundError:
            pass
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

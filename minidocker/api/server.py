"""minidockerd: the daemon process, a thin HTTP shell over the Engine.

Listens on the unix socket; each connection is served on its own thread, its
requests in turn (HTTP/1.1 keep-alive unless the client says close), each
handed to the router. The Engine serialises state changes with its lock. Logs go
through `logging` to stderr, with one line per request at debug level (--debug).
"""
import argparse
import fcntl
import logging
import os
import signal
import socket
import sys
import threading
import time

from minidocker.api import framing, routes_containers, routes_exec, routes_images, routes_networks, routes_stats, routes_system
from minidocker.api.router import Router

log = logging.getLogger("minidockerd")

ROUTER = Router(routes_containers.routes, routes_exec.routes, routes_networks.routes, routes_images.routes, routes_system.routes,
                routes_stats.routes)


def serve_connection(engine, conn: socket.socket, router: Router = ROUTER) -> None:
    reader = framing.Reader(conn)
    try:
        while True:
            try:
                req = framing.read_request(reader)
            except OSError:  # the client went away (handled below)
                raise
            except Exception as ex:  # noqa: BLE001 - a malformed request: answer it, keep serving others
                log.debug("bad request: %s", ex)
                framing.ResponseWriter(conn).send_json(400, {"message": f"bad request: {ex}"})
                return
            if req is None:  # the client closed between requests
                return
            out = framing.ResponseWriter(conn, req)
            t0 = time.monotonic()
            try:
                router.dispatch(engine, req, out)
            finally:
                framing.close_fds(req.fds)
                log.debug("%s %s %s %.1fms", req.method, req.target, out.status,
                          (time.monotonic() - t0) * 1000)
            if not out.keep_alive:
                return
            if not req.body_started and req.headers.get("expect", "").lower() == "100-continue":
                return  # answered without the body it offered: close rather than ask for it now (as Go)
            req.drain()  # a body the handler did not read: the next request starts after it
    except OSError as ex:  # ConnectionError, BrokenPipeError: the client went away
        log.debug("connection ended: %s", ex)
    except Exception:  # noqa: BLE001 - one connection's failure must not stop the daemon
        log.exception("serving a connection failed")
    finally:
        conn.close()


class Server:
    def __init__(self, engine, socket_path: str):
        self.engine = engine
        self.path = socket_path
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

    def serve_forever(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                if self.stopping:
                    return
                raise
            threading.Thread(target=serve_connection, args=(self.engine, conn), daemon=True).start()

    def shutdown(self) -> None:
        self.stopping = True
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
    args = ap.parse_args(argv)
    setup_logging(args.debug)
    if os.geteuid() != 0:
        log.error("must run as root")
        return 1
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
    server = Server(engine, os.path.join(args.run_dir, "minidocker.sock"))
    engine.watch_firewall()
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

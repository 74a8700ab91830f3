"""minidockerd: a thin HTTP shell over the Engine, on a unix socket.

Paths and JSON follow the Docker Engine API where it has them. Each connection is
served on its own thread; the Engine serialises state changes with its lock.
A request with header ``X-Explain: 1`` gets the kernel steps it caused back in
the ``X-Explain`` response header (a JSON list of shell commands).
"""
import argparse
import json
import fcntl
import os
import re
import select
import signal
import socket
import sys
import threading
import traceback
from urllib.parse import unquote

from minidocker import explain
from minidocker.engine import images, views
from minidocker.api import framing as wire
from minidocker.errors import Exhausted, InvalidArgument, MinidockerError

ROUTES = []


def route(method, pattern):
    def deco(fn):
        ROUTES.append((method, re.compile("^" + pattern + "$"), fn))
        return fn
    return deco


RAW = object()  # a handler that wrote its whole response itself returns this


class Stream:
    """A handler result that writes its own body (logs -f)."""

    def __init__(self, gen):
        self.gen = gen


# ---- networks ---------------------------------------------------------------------

def _net_filters(req) -> dict:
    raw = req.arg("filters")
    return json.loads(raw) if raw else {}


def network_matches(n, filters: dict) -> bool:
    """Docker's `network ls --filter` semantics; values of one key are OR-ed."""
    for key, values in filters.items():
        vals = list(values.keys()) if isinstance(values, dict) else list(values)
        if key == "name" and not any(v in n.name for v in vals):
            return False
        if key == "id" and not any(n.id.startswith(v) for v in vals):
            return False
        if key == "driver" and n.driver not in vals:
            return False
        if key == "type":
            for v in vals:
                if v not in ("builtin", "custom"):
                    raise InvalidArgument(f"invalid filter: 'type'='{v}'")
            if not any((v == "builtin") == n.builtin for v in vals):
                return False
        if key == "label":
            def ok(v):
                k, eq, want = v.partition("=")
                return k in n.labels and (not eq or n.labels[k] == want)
            if not any(ok(v) for v in vals):
                return False
        if key not in ("name", "id", "driver", "type", "label", "scope", "dangling"):
            raise InvalidArgument(f"Invalid filter '{key}'")
    return True


@route("GET", r"/networks")
def networks_list(e, req):
    filters = _net_filters(req)
    with e.lock:
        nets = [n for n in e.networks.values() if network_matches(n, filters)]
        order = {"bridge": 0, "host": 1, "none": 2}
        nets.sort(key=lambda n: (order.get(n.name, 3) if n.builtin else 3, n.name))
        out = []
        for n in nets:
            d = views.network_inspect(n, list(e.containers.values()))
            d["_row"] = views.network_row(n)
            out.append(d)
        return 200, out


@route("GET", r"/networks/(?P<ref>[^/]+)")
def networks_inspect(e, req, ref):
    with e.lock:
        return 200, views.network_inspect(e.find_network(ref), list(e.containers.values()))


@route("POST", r"/networks/create")
def networks_create(e, req):
    b = req.json()
    if b.get("EnableIPv6"):
        raise Exhausted("could not find an available, non-overlapping IPv6 address pool among the "
                        "defaults to assign to the network")
    cfg = (b.get("IPAM") or {}).get("Config") or [{}]
    if len(cfg) > 1:
        raise InvalidArgument("multiple subnets are not supported")
    c0 = cfg[0]
    n = e.net.create(b.get("Name", ""), driver=b.get("Driver") or "bridge", subnet=c0.get("Subnet", ""),
                     gateway=c0.get("Gateway", ""), ip_range=c0.get("IPRange", ""),
                     aux=c0.get("AuxiliaryAddresses") or {}, internal=bool(b.get("Internal")),
                     labels=b.get("Labels") or {}, options=b.get("Options") or {})
    return 201, {"Id": n.id, "Warning": ""}


@route("DELETE", r"/networks/(?P<ref>[^/]+)")
def networks_remove(e, req, ref):
    e.net.remove(ref)
    return 204, None


@route("POST", r"/networks/prune")
def networks_prune(e, req):
    return 200, {"NetworksDeleted": e.net.prune()}


@route("POST", r"/networks/(?P<ref>[^/]+)/connect")
def networks_connect(e, req, ref):
    b = req.json()
    epc = b.get("EndpointConfig") or {}
    ip = (epc.get("IPAMConfig") or {}).get("IPv4Address", "")
    e.net.connect(ref, b.get("Container", ""), ip=ip, aliases=epc.get("Aliases") or [])
    return 200, None


@route("POST", r"/networks/(?P<ref>[^/]+)/disconnect")
def networks_disconnect(e, req, ref):
    b = req.json()
    e.net.disconnect(ref, b.get("Container", ""), force=bool(b.get("Force")))
    return 200, None


@route("POST", r"/minidocker/check")
def networks_check(e, req):
    from minidocker.engine import inspection
    b = req.json()
    return 200, inspection.check(e, b.get("Networks") or [], timeout=float(b.get("Timeout") or 0.5))


@route("GET", r"/minidocker/graph")
def networks_graph(e, req):
    from minidocker.engine import inspection
    return 200, inspection.graph(e, req.arg("format", "text"))


# ---- containers ---------------------------------------------------------------------

@route("GET", r"/containers/json")
def containers_list(e, req):
    filters = _net_filters(req)
    with e.lock:
        cs = sorted(e.containers.values(), key=lambda c: c.created, reverse=True)
        show_all = req.flag("all") or "status" in filters
        return 200, [views.ps_row(c, networks=e.networks) for c in cs
                     if (show_all or c.status == "running") and container_matches(c, filters, e.networks)]


def container_matches(c, filters: dict, networks: dict) -> bool:
    """`ps --filter` for name, id, status and network; values of one key are OR-ed."""
    for key, values in filters.items():
        vals = list(values.keys()) if isinstance(values, dict) else list(values)
        if key == "name":
            ok = any(v.lstrip("/") in c.name for v in vals)
        elif key == "id":
            ok = any(c.id.startswith(v) for v in vals)
        elif key == "status":
            for v in vals:
                if v not in ("created", "restarting", "running", "removing", "paused", "exited", "dead"):
                    raise InvalidArgument(f"Unrecognised filter value for status: {v}")
            ok = c.status in vals
        elif key == "network":
            names = {networks[n].name for n in c.endpoints if n in networks} | {c.network_mode}
            ids = {n for n in c.endpoints}
            ok = any(v in names or any(i.startswith(v) for i in ids) for v in vals)
        else:
            raise InvalidArgument(f"Invalid filter '{key}'")
        if not ok:
            return False
    return True


@route("POST", r"/containers/create")
def containers_create(e, req):
    b = req.json()
    b["Name"] = req.arg("name", "") or b.get("Name", "")
    c = e.ctr.create(b)
    return 201, {"Id": c.id, "Warnings": []}


@route("POST", r"/containers/(?P<ref>[^/]+)/start")
def containers_start(e, req, ref):
    if req.flag("pty"):
        # run -it: the pty is opened inside the container; its master goes to the CLI
        master = e.ctr.start_with_pty(ref)
        try:
            wire.send_with_fds(req.conn, wire.response_head(200, {}, 0), [master])
        finally:
            os.close(master)
        return 200, RAW
    e.ctr.start(ref, stdio_fds=tuple(req.fds[:3]) or None)
    return 204, None


@route("POST", r"/containers/(?P<ref>[^/]+)/wait")
def containers_wait(e, req, ref):
    return 200, {"StatusCode": e.ctr.wait(ref)}


@route("POST", r"/containers/(?P<ref>[^/]+)/stop")
def containers_stop(e, req, ref):
    t = req.arg("t")
    e.ctr.stop(ref, int(t) if t not in (None, "") else None)
    return 204, None


@route("POST", r"/containers/(?P<ref>[^/]+)/restart")
def containers_restart(e, req, ref):
    t = req.arg("t")
    e.ctr.stop(ref, int(t) if t not in (None, "") else None)
    e.ctr.start(ref)
    return 204, None


@route("POST", r"/containers/(?P<ref>[^/]+)/kill")
def containers_kill(e, req, ref):
    e.ctr.kill(ref, req.arg("signal", "KILL"))
    return 204, None


@route("DELETE", r"/containers/(?P<ref>[^/]+)")
def containers_remove(e, req, ref):
    e.ctr.remove(ref, force=req.flag("force"))
    return 204, None


@route("GET", r"/containers/(?P<ref>[^/]+)/json")
def containers_inspect(e, req, ref):
    with e.lock:
        c = e.find_container(ref)
        return 200, e.inspect_container(c)


@route("POST", r"/containers/(?P<ref>[^/]+)/exec")
def containers_exec(e, req, ref):
    b = req.json()
    fds = tuple(req.fds[:3]) or None
    if b.get("Detach"):
        e.ctr.exec_detached(ref, b.get("Cmd") or [], b.get("Env") or [], b.get("WorkingDir") or "")
        return 200, {"ExitCode": 0}
    sent = []

    def on_pty(master):
        # exec -it: hand the pty master over now, the exit code follows as the body
        try:
            wire.send_with_fds(req.conn, wire.response_head(200, {"Content-Type": "application/json"}), [master])
            sent.append(True)
        finally:
            os.close(master)
    code = e.ctr.exec(ref, b.get("Cmd") or [], b.get("Env") or [], b.get("WorkingDir") or "",
                      bool(b.get("Tty")), fds, on_pty=on_pty if (b.get("Tty") and not fds) else None)
    if sent:
        req.conn.sendall(json.dumps({"ExitCode": code}).encode())
        return 200, RAW
    return 200, {"ExitCode": code}


@route("GET", r"/containers/(?P<ref>[^/]+)/logs")
def containers_logs(e, req, ref):
    with e.lock:
        c = e.find_container(ref)
        path = os.path.join(e.store.bundle(c.id), "container.log")
        cid = c.id
    follow = req.flag("follow")

    def gen():
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            return
        with f:
            tail = req.arg("tail", "all")
            if tail not in ("all", "", None):
                try:
                    n = int(tail)
                except ValueError:
                    n = -1
                if n >= 0:
                    lines = f.read().splitlines(keepends=True)
                    yield b"".join(lines[-n:] if n else [])
            while True:
                data = f.read(65536)
                if data:
                    yield data
                    continue
                if not follow:
                    return
                c2 = e.containers.get(cid)
                if c2 is None or c2.status != "running":
                    rest = f.read()
                    if rest:
                        yield rest
                    return
                if _peer_gone(req.conn, 0.1):  # the client hung up (Ctrl-C)
                    return
    return 200, Stream(gen())


def _peer_gone(conn: socket.socket, timeout: float) -> bool:
    """Wait up to ``timeout``; True when the client closed its end."""
    r, _, _ = select.select([conn], [], [], timeout)
    if not r:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


# ---- images -----------------------------------------------------------------------

@route("POST", r"/images/create")
def images_import(e, req):
    if not req.fds:
        raise InvalidArgument("import needs the archive's file descriptor")
    repo = req.arg("repo", "")
    env, cmd = images.parse_changes(json.loads(req.arg("changes") or "[]"))
    with os.fdopen(os.dup(req.fds[0]), "rb") as f:
        meta = e.images.import_tar(repo, f, env=env, cmd=cmd)
    return 200, {"Id": meta["Id"]}


@route("GET", r"/images/json")
def images_list(e, req):
    return 200, e.images.list()


@route("GET", r"/_ping")
def ping(e, req):
    return 200, "OK"


# ---- server -------------------------------------------------------------------------

def handle_connection(engine, conn: socket.socket) -> None:
    req = None
    head_sent = False
    try:
        req = wire.read_request(conn)
        req.conn = conn
        lines: list = []
        status, result, extra = 404, {"message": "page not found"}, {}
        for method, rx, fn in ROUTES:
            m = rx.match(req.path)
            if m and method == req.method:
                with explain.recording(lines):
                    try:
                        args = {k: unquote(v) for k, v in m.groupdict().items()}
                        status, result = fn(engine, req, **args)
                    except MinidockerError as ex:
                        status, result = ex.status, {"message": ex.message}
                        if getattr(ex, "client_side", False):
                            result["ClientSide"] = True
                        if getattr(ex, "code", None) is not None:
                            result["ExitCode"] = ex.code
                    except Exception as ex:  # noqa: BLE001 - report, keep serving
                        traceback.print_exc()
                        status, result = 500, {"message": f"{type(ex).__name__}: {ex}"}
                break
        if req.headers.get("x-explain") == "1":
            extra["X-Explain"] = json.dumps(lines)
        if result is RAW:
            pass
        elif isinstance(result, Stream):
            conn.sendall(wire.response_head(status, extra))
            head_sent = True
            for chunk in result.gen:
                conn.sendall(chunk)
        else:
            body = b"" if result is None else json.dumps(result).encode()
            conn.sendall(wire.response_head(status, {"Content-Type": "application/json", **extra}, len(body)) + body)
    except (ConnectionError, BrokenPipeError):
        pass
    except Exception as ex:  # noqa: BLE001 - a malformed request: answer, keep serving
        if head_sent:  # a response is under way: just end it
            traceback.print_exc()
            return
        try:
            body = json.dumps({"message": f"bad request: {ex}"}).encode()
            conn.sendall(wire.response_head(400, {"Content-Type": "application/json"}, len(body)) + body)
        except OSError:
            pass
    finally:
        if req is not None:
            for fd in req.fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
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
            threading.Thread(target=handle_connection, args=(self.engine, conn), daemon=True).start()

    def shutdown(self) -> None:
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def default_root() -> str:
    return os.environ.get("MINIDOCKER_ROOT", "/var/lib/minidocker")


def default_run() -> str:
    return os.environ.get("MINIDOCKER_RUN", "/run/minidocker")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="minidockerd", description="the minidocker daemon")
    ap.add_argument("--root", default=default_root())
    ap.add_argument("--run", dest="run_dir", default=default_run())
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("minidockerd: must run as root", file=sys.stderr)
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
            print(f"minidockerd: another daemon is already running on {where}", file=sys.stderr)
            return 1
    engine = Engine(args.root, args.run_dir,
                    host_resolv_conf=os.environ.get("MINIDOCKER_HOST_RESOLV_CONF", "/etc/resolv.conf"))
    server = Server(engine, os.path.join(args.run_dir, "minidocker.sock"))
    engine.watch_firewall()
    with open(os.path.join(args.run_dir, "minidockerd.pid"), "w") as f:
        f.write(str(os.getpid()))

    def stop(*_):
        server.shutdown()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"minidockerd: serving on {server.path} (root {args.root})", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        engine.close()
        try:
            os.unlink(os.path.join(args.run_dir, "minidockerd.pid"))
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

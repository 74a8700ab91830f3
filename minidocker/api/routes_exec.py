"""Exec routes: Docker's `POST /containers/{id}/exec` (an instance, 201 {"Id"}),
`POST /exec/{id}/start` (hijacked like attach, or detached), `GET /exec/{id}/json`,
`POST /exec/{id}/resize`; and the minidocker CLI's one-request exec
(`POST /containers/{id}/exec?run=1`: its own stdio passed along, or a terminal's
master handed back, the exit code in the answer)."""
import json
import os

from minidocker.api import hijack
from minidocker.api.router import Routes, Takeover
from minidocker.errors import InvalidArgument

routes = Routes()


@routes("POST", r"/containers/(?P<ref>[^/]+)/exec")
def containers_exec(e, req, ref):
    b = req.json()
    if req.flag("run"):
        return _run_here(e, req, ref, b)
    return 201, {"Id": e.ctr.execs.create(ref, b)}


@routes("POST", r"/exec/(?P<eid>[^/]+)/start")
def exec_start(e, req, eid):
    b = req.json() or {}
    if not isinstance(b, dict):
        raise InvalidArgument("exec start configuration must be a JSON object")
    inst = e.ctr.execs.check_start(eid)
    if b.get("Detach"):
        e.ctr.execs.start(inst)
        return 200, None

    def run(out):
        hijack.upgrade(out, req)
        sink = hijack.SocketSink(out.sock, inst.tty, inst.stdout or True, inst.stderr or True)
        hub = e.ctr.execs.start(inst, sink)
        try:
            hijack.serve(out.sock, hub, sink, inst.stdin)
        finally:
            hub.unsubscribe(sink)
    return 101, Takeover(run)


@routes("GET", r"/exec/(?P<eid>[^/]+)/json")
def exec_inspect(e, req, eid):
    return 200, e.ctr.execs.inspect(eid)


@routes("POST", r"/exec/(?P<eid>[^/]+)/resize")
def exec_resize(e, req, eid):
    try:
        h, w = int(req.arg("h") or 0), int(req.arg("w") or 0)
    except ValueError:
        raise InvalidArgument("invalid terminal size") from None
    e.ctr.execs.resize(eid, h, w)
    return 200, None


def _run_here(e, req, ref, b):
    """The minidocker CLI's exec: one request, the exit code in the answer."""
    argv, env, cwd, tty = b.get("Cmd") or [], b.get("Env") or [], b.get("WorkingDir") or "", bool(b.get("Tty"))
    fds = tuple(req.fds[:3]) or None
    if b.get("Detach"):
        e.ctr.exec_detached(ref, argv, env, cwd)
        return 200, {"ExitCode": 0}
    if fds or not tty:  # the process writes to the CLI's own stdio (or a terminal it passed)
        return 200, {"ExitCode": e.ctr.exec(ref, argv, env, cwd, tty, fds)}

    def run(out):  # exec -it: the pty master goes back as soon as it exists, the exit code follows
        def on_pty(master):
            try:
                out.start(200, {"Content-Type": "application/json"}, fds=[master], chunked=False)
            finally:
                os.close(master)  # the CLI has its own copy now
        code = e.ctr.exec(ref, argv, env, cwd, True, None, on_pty=on_pty)
        if out.started:
            out.write(json.dumps({"ExitCode": code}).encode())
        else:  # it failed before a terminal existed
            out.send_json(200, {"ExitCode": code})
    return 200, Takeover(run)

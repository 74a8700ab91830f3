"""Exec routes: Docker's `POST /containers/{id}/exec` (an instance, 201 {"Id"}),
`POST /exec/{id}/start` (hijacked like attach, or detached), `GET /exec/{id}/json`,
`POST /exec/{id}/resize`. The minidocker CLI uses the same create and start, with
its fast path on start: its own stdio passed along with the request (SCM_RIGHTS),
or (`?pty=1`) the terminal's master handed back; the exit code in the answer."""
import json
import os

from minidocker.api import hijack
from minidocker.api.container_bodies import EXEC, EXEC_START
from minidocker.api.router import Routes, Takeover, check_json
from minidocker.api.schema import decode
from minidocker.errors import InvalidArgument

routes = Routes()


@routes("POST", r"/containers/(?P<ref>[^/]+)/exec")
def containers_exec(e, req, ref):
    check_json(req)
    decode(req.body, EXEC)
    return 201, {"Id": e.ctr.execs.create(ref, req.json())}


@routes("POST", r"/exec/(?P<eid>[^/]+)/start")
def exec_start(e, req, eid):
    b = decode(req.body, EXEC_START) if req.body.strip() else {}
    inst = e.ctr.execs.check_start(eid)
    if b.get("Detach"):
        e.ctr.execs.start_detached(inst)
        return 200, None
    if req.fds:  # minidocker's fast path: the process writes to the client's own stdio
        return 200, {"ExitCode": e.ctr.execs.run_instance(inst, tuple(req.fds[:3]))}
    if inst.tty and req.flag("pty"):  # minidocker's exec -it: the terminal's master goes back
        return 200, Takeover(lambda out: _hand_back_pty(e, inst, out))

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


def _hand_back_pty(e, inst, out) -> None:
    """The pty master goes back as soon as it exists; the exit code follows."""
    def on_pty(master):
        try:
            out.start(200, {"Content-Type": "application/json"}, fds=[master], chunked=False)
        finally:
            os.close(master)  # the client has its own copy now
    code = e.ctr.execs.run_instance(inst, None, on_pty=on_pty)
    if out.started:
        out.write(json.dumps({"ExitCode": code}).encode())
    else:  # it failed before a terminal existed
        out.send_json(200, {"ExitCode": code})

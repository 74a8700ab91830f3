"""Container routes (Docker's /containers). Each parses the request, makes one
Engine call, and answers in Docker's shapes; fds that came with the request (the
CLI's stdio) are handed on, a pty master goes back with the answer's head."""
import json
import os

from minidocker.engine import queries
from minidocker.api.router import PassFds, Routes, Stream, Takeover, json_query

routes = Routes()


def _timeout(req) -> int | None:
    t = req.arg("t")
    return int(t) if t not in (None, "") else None


@routes("GET", r"/containers/json")
def containers_list(e, req):
    return 200, queries.containers(e, show_all=req.flag("all"), filters=json_query(req, "filters"),
                                   size=req.flag("size"))


@routes("POST", r"/containers/create")
def containers_create(e, req):
    b = req.json()
    b["Name"] = req.arg("name", "") or b.get("Name", "")
    c = e.ctr.create(b)
    return 201, {"Id": c.id, "Warnings": []}


@routes("GET", r"/containers/(?P<ref>[^/]+)/json")
def containers_inspect(e, req, ref):
    return 200, queries.container(e, ref)


@routes("POST", r"/containers/(?P<ref>[^/]+)/start")
def containers_start(e, req, ref):
    if req.flag("pty"):  # run -it: the pty is opened inside the container; its master goes to the CLI
        return 200, PassFds([e.ctr.start_with_pty(ref)])
    e.ctr.start(ref, stdio_fds=tuple(req.fds[:3]) or None)
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/wait")
def containers_wait(e, req, ref):
    return 200, {"StatusCode": e.ctr.wait(ref)}


@routes("POST", r"/containers/(?P<ref>[^/]+)/stop")
def containers_stop(e, req, ref):
    e.ctr.stop(ref, _timeout(req))
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/restart")
def containers_restart(e, req, ref):
    e.ctr.restart(ref, _timeout(req))
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/kill")
def containers_kill(e, req, ref):
    e.ctr.kill(ref, req.arg("signal", "KILL"))
    return 204, None


@routes("DELETE", r"/containers/(?P<ref>[^/]+)")
def containers_remove(e, req, ref):
    e.ctr.remove(ref, force=req.flag("force"))
    return 204, None


@routes("POST", r"/containers/(?P<ref>[^/]+)/exec")
def containers_exec(e, req, ref):
    b = req.json()
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


@routes("GET", r"/containers/(?P<ref>[^/]+)/logs")
def containers_logs(e, req, ref):
    return 200, Stream(queries.logs(e, ref, follow=req.flag("follow"), tail=req.arg("tail", "all")))

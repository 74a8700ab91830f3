"""Image routes: import (`POST /images/create?fromSrc=`) and list."""
import json
import os

from minidocker.engine import images
from minidocker.api.router import Routes
from minidocker.errors import InvalidArgument

routes = Routes()


@routes("POST", r"/images/create")
def images_import(e, req):
    """`import`: the archive comes as a file descriptor (fd passing), not a body."""
    if not req.fds:
        raise InvalidArgument("import needs the archive's file descriptor")
    env, cmd = images.parse_changes(json.loads(req.arg("changes") or "[]"))
    with os.fdopen(os.dup(req.fds[0]), "rb") as f:
        meta = e.images.import_tar(req.arg("repo", ""), f, env=env, cmd=cmd)
    return 200, {"Id": meta["Id"]}


@routes("GET", r"/images/json")
def images_list(e, req):
    return 200, e.images.list()

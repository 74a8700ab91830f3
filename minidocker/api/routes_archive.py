"""A container's filesystem (Docker's routes): `/archive` (GET a tar of a path,
HEAD its stat, PUT a tar into a directory), `/changes`, `/export`, `/commit`,
and `/containers/prune`."""
import base64
import json
import os

from minidocker.api.router import Raw, Routes, Stream, json_query
from minidocker.api.framing import PiecesReader
from minidocker.engine import archive, commit as commits, container_prune
from minidocker.errors import InvalidArgument

routes = Routes()
CHUNK = 65536


def _stat_header(info: dict) -> dict:
    data = json.dumps(info, separators=(",", ":")).encode()
    return {"X-Docker-Container-Path-Stat": base64.b64encode(data).decode()}


def _pieces(f):
    try:
        while True:
            data = f.read(CHUNK)
            if not data:
                return
            yield data
    finally:
        f.close()


@routes("HEAD", r"/containers/(?P<ref>[^/]+)/archive")
def archive_head(e, req, ref):
    return 200, Raw(b"", _stat_header(archive.stat_path(e, ref, req.arg("path", ""))))


@routes("GET", r"/containers/(?P<ref>[^/]+)/archive")
def archive_get(e, req, ref):
    info, f = archive.get_archive(e, ref, req.arg("path", ""))
    return 200, Stream(_pieces(f), {"Content-Type": "application/x-tar", **_stat_header(info)})


@routes("PUT", r"/containers/(?P<ref>[^/]+)/archive")
def archive_put(e, req, ref):
    no_overwrite = req.flag("noOverwriteDirNonDir")
    if req.fds:  # the minidocker CLI passes the archive itself
        with os.fdopen(os.dup(req.fds[0]), "rb") as f:
            archive.put_archive(e, ref, req.arg("path", ""), f, no_overwrite)
    else:
        archive.put_archive(e, ref, req.arg("path", ""), PiecesReader(req.body_pieces()), no_overwrite)
    return 200, None


@routes("GET", r"/containers/(?P<ref>[^/]+)/changes")
def container_changes(e, req, ref):
    return 200, archive.changes_of(e, ref) or None


@routes("GET", r"/containers/(?P<ref>[^/]+)/export")
def container_export(e, req, ref):
    return 200, Stream(_pieces(archive.export(e, ref)), {"Content-Type": "application/x-tar"})


@routes("POST", r"/commit")
def commit(e, req):
    ref = req.arg("container", "")
    if not ref:
        raise InvalidArgument("No such container: ")
    return 201, commits.commit(e, ref, req.arg("repo", "") or "", req.arg("tag", "") or "",
                               req.arg("comment", "") or "", req.arg("author", "") or "")


@routes("POST", r"/containers/prune")
def containers_prune(e, req):
    return 200, container_prune.prune(e, json_query(req, "filters"))

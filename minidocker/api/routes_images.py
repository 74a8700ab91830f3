"""Image routes: list, inspect, and `POST /images/create`: import (`fromSrc=-`, the
archive as the request body, chunked as `docker import -` sends it, or as a file
descriptor from the minidocker CLI) and pull (`fromImage=`: there is no registry
here, so the answer is Docker's for an image it cannot pull)."""
import json
import os

from minidocker.engine import image_verbs, images
from minidocker.api.router import Raw, Routes, json_query
from minidocker.api.framing import PiecesReader
from minidocker.errors import InvalidArgument, MinidockerError, NotFound

routes = Routes()


def _changes(req) -> list[str]:
    """`changes` repeated once per `--change` (the docker CLI), or one JSON list."""
    values = [v for v in req.query.get("changes", []) if v]
    if len(values) == 1 and values[0].startswith("["):
        try:
            return list(json.loads(values[0]))
        except ValueError:
            pass
    return values


def _name(repo: str, tag: str) -> str:
    return f"{repo}:{tag}" if repo and tag else repo


@routes("POST", r"/images/create")
def images_create(e, req):
    image, src = req.arg("fromImage", ""), req.arg("fromSrc", "")
    if image:
        repo = image.split("@")[0]
        last = repo.rsplit("/", 1)[-1]
        repo = repo.rsplit(":", 1)[0] if ":" in last else repo
        raise NotFound(f"pull access denied for {repo}, repository does not exist or may require "
                       f"'docker login': denied: requested access to the resource is denied")
    if src != "-":
        raise MinidockerError(f"cannot import from {src or 'nowhere'}: minidocker imports from the request "
                              f"body only (fromSrc=-), with no registry or download")
    env, cmd = images.parse_changes(_changes(req))
    name = _name(req.arg("repo", ""), req.arg("tag", ""))
    if not name:
        raise InvalidArgument("an imported image needs a name (repo=NAME[:TAG])")
    comment = req.arg("message", "") or "Imported from -"
    if req.fds:  # the minidocker CLI passes the archive itself
        with os.fdopen(os.dup(req.fds[0]), "rb") as f:
            meta = e.images.import_tar(name, f, env=env, cmd=cmd, comment=comment)
    else:
        meta = e.images.import_tar(name, PiecesReader(req.body_pieces()), env=env, cmd=cmd, comment=comment)
    # Docker's progress stream: one JSON message, \r\n-terminated
    return 200, Raw((json.dumps({"status": meta["Id"]}, separators=(",", ":")) + "\r\n").encode(),
                    {"Content-Type": "application/json"})


@routes("GET", r"/images/json")
def images_list(e, req):
    return 200, image_verbs.images(e, json_query(req, "filters"))


@routes("GET", r"/images/(?P<ref>.+)/json")
def images_inspect(e, req, ref):
    return 200, image_verbs.image(e, ref)


@routes("DELETE", r"/images/(?P<ref>.+)")
def images_remove(e, req, ref):
    return 200, image_verbs.remove(e, ref, force=req.flag("force"))


@routes("POST", r"/images/(?P<ref>.+)/tag")
def images_tag(e, req, ref):
    repo = req.arg("repo", "")
    if not repo:
        raise InvalidArgument("repository name must have at least one component")
    e.images.tag(ref, _name(repo, req.arg("tag", "")))
    return 201, None


@routes("GET", r"/images/(?P<ref>.+)/history")
def images_history(e, req, ref):
    return 200, image_verbs.history(e, ref)


@routes("POST", r"/images/prune")
def images_prune(e, req):
    """Every image here has a name (untagging the last one removes it): nothing dangles."""
    image_verbs.check_prune_filters(json_query(req, "filters"))
    return 200, {"ImagesDeleted": None, "SpaceReclaimed": 0}

"""Images through the API: the list and inspect answers (image_views.py shapes), and
`docker rmi` (DELETE /images/{name}): untag, and remove the image once no tag and no
container holds it, with Docker 20.10's conflicts (daemon/images/image_delete.go).

A layer a container was made from is never deleted here (it is that container's
overlay lower layer): with ``force`` the tag goes and the image stays, untagged.
"""
import hashlib
import os

from minidocker.engine import image_views, system
from minidocker.engine.images import normalize
from minidocker.errors import Conflict, InvalidArgument, NotFound


def _users(e, image_id: str) -> tuple[list, list]:
    """(running, other) containers made from the image."""
    cs = [c for c in e.containers.values() if c.image_id == image_id]
    return [c for c in cs if c.status == "running"], [c for c in cs if c.status != "running"]


def remove(e, ref: str, force: bool = False) -> list[dict]:
    """Docker's answer: [{"Untagged": name}..., {"Deleted": id}]."""
    with e.lock:
        img = e.images.get(ref)
        image_id = img["Id"]
        short = image_id.split(":")[-1][:12]
        tags = e.images.tags_of(image_id)
        running, stopped = _users(e, image_id)
        by_name = ref.strip() and any(t == normalize(ref) for t in tags)
        out = []
        if by_name:
            name = normalize(ref)
            if len(tags) > 1:  # other names keep the image
                e.images.untag(name)
                return [{"Untagged": name}]
            if not force and (running or stopped):
                c = (running or stopped)[0]
                raise Conflict(f'conflict: unable to remove repository reference "{ref}" (must force) - '
                               f"container {c.id[:12]} is using its referenced image {short}")
            e.images.untag(name)
            out.append({"Untagged": name})
        else:
            if e.images.children(image_id):
                raise Conflict(f"conflict: unable to delete {short} (cannot be forced) - image has dependent "
                               f"child images")
            if len(tags) > 1 and not force:
                raise Conflict(f"conflict: unable to delete {short} (must be forced) - image is referenced "
                               f"in multiple repositories")
            if running:
                raise Conflict(f"conflict: unable to delete {short} (cannot be forced) - image is being used "
                               f"by running container {running[0].id[:12]}")
            if stopped and not force:
                raise Conflict(f"conflict: unable to delete {short} (must be forced) - image is being used "
                               f"by stopped container {stopped[0].id[:12]}")
            for t in tags:
                e.images.untag(t)
                out.append({"Untagged": t})
        if not running and not stopped and not e.images.children(image_id):
            e.images.delete(image_id)
            out += [{"Deleted": image_id}, {"Deleted": _layer_chain_id(img)}]
            out += _collect_parents(e, img.get("Parent") or "")
        return out


def _layer_chain_id(img: dict) -> str:
    """The id Docker prints for the image's own layer when it goes with it: the
    layer's chain id (sha256 of the chain below it, a space, its diff id)."""
    diffs = list(img.get("DiffIDs") or ([img["DiffID"]] if img.get("DiffID") else []))
    if not diffs:
        return "sha256:" + hashlib.sha256(img["Id"].encode()).hexdigest()
    chain = diffs[0]
    for d in diffs[1:]:
        chain = "sha256:" + hashlib.sha256(f"{chain} {d}".encode()).hexdigest()
    return chain


def _collect_parents(e, parent_id: str) -> list[dict]:
    """Layer garbage collection: an untagged parent that no container and no
    other image uses any more goes with its last child, as Docker's."""
    out = []
    while parent_id:
        try:
            p = e.images.get_by_id(parent_id)
        except NotFound:
            break
        running, stopped = _users(e, parent_id)
        if e.images.tags_of(parent_id) or running or stopped or e.images.children(parent_id):
            break
        e.images.delete(parent_id)
        out += [{"Deleted": parent_id}, {"Deleted": _layer_chain_id(p)}]
        parent_id = p.get("Parent") or ""
    return out


def images(e, filters: dict | None = None) -> list[dict]:
    """`GET /images/json`: one entry per image, newest first."""
    return image_views.listing(e.images.list(), filters or {}, e.images.get)


def image(e, ref: str) -> dict:
    """`GET /images/{name}/json` (by name[:tag], id or id prefix)."""
    try:
        m = e.images.get(ref)
    except NotFound as ex:
        raise NotFound(f"no such image: {ref}: {ex.message}") from None
    machine = os.uname().machine
    return image_views.inspect(m, image_views.tags_of(e.images.list(), m["Id"]),
                               system.GO_ARCH.get(machine, machine))


def history(e, ref: str) -> list[dict]:
    """`GET /images/{name}/history`: an imported image is one layer."""
    got = image(e, ref)
    return [{"Id": got["Id"], "Created": image_views.summary({**got, "RepoTags": []})["Created"],
             "CreatedBy": "", "Tags": got["RepoTags"] or None, "Size": got["Size"], "Comment": got["Comment"]}]


def check_prune_filters(filters: dict) -> None:
    for key in filters:
        if key not in ("dangling", "label", "label!", "until"):
            raise InvalidArgument(f"Invalid filter '{key}'")

"""Read-only answers of the Engine API: inspect of one network or container, the
lists (`GET /networks`, `GET /containers/json` with Docker's ContainerSummary
entries) filtered as Docker filters them, and a container's logs. The CLI
formats its `ps` and `network ls` rows from the lists."""
import os
import time

from minidocker.engine import filters as flt
from minidocker.engine import outputs, views
from minidocker.engine.images import disk_usage
from minidocker.errors import NotFound

BUILTIN_ORDER = {"bridge": 0, "host": 1, "none": 2}


def network(e, ref: str) -> dict:
    with e.lock:
        return views.network_inspect(e.find_network(ref), list(e.containers.values()))


def network_ids_named(e, name: str) -> list[str]:
    """The ids of the networks called ``name`` (a second one warns, as Docker)."""
    with e.lock:
        return [n.id for n in e.networks.values() if n.name == name]


def container(e, ref: str) -> dict:
    with e.lock:
        return e.inspect_container(e.find_container(ref))


def networks(e, filters: dict | None = None) -> list[dict]:
    """Docker's network list: the inspect shape, without the Containers map
    (Docker fills it only in inspect)."""
    f = flt.network_filters(filters)
    with e.lock:
        used = e.net.in_use()
        nets = [n for n in e.networks.values() if flt.network_matches(n, f, used)]
        nets.sort(key=lambda n: (BUILTIN_ORDER.get(n.name, 3) if n.builtin else 3, n.name))
        return [views.network_inspect(n, []) for n in nets]


def containers(e, show_all: bool = False, filters: dict | None = None, size: bool = False) -> list[dict]:
    """Newest first; running ones only unless ``show_all`` (or a status filter)
    asks for every one; ``size`` adds SizeRw and SizeRootFs as `ps --size` wants."""
    f = flt.container_filters(filters)
    show_all = show_all or "status" in f
    now = time.time()
    with e.lock:
        cs = sorted(e.containers.values(), key=lambda c: c.created, reverse=True)
        before = [_filter_container(e, v).id for v in f.get("before", [])][-1:]
        since = [_filter_container(e, v).id for v in f.get("since", [])][-1:]
        image_ids = set()
        for ref in f.get("ancestor", []):
            try:
                image_ids.add(e.images.get(ref)["Id"])
            except NotFound:
                pass  # Docker logs it and matches nothing for it
        if image_ids:  # and the images made on top of them (Docker follows the parent chain)
            todo = list(image_ids)
            while todo:
                for child in e.images.children(todo.pop()):
                    if child not in image_ids:
                        image_ids.add(child)
                        todo.append(child)
        out = []
        for c in cs:  # moby's reducePsContainer: before skips down to its container, since stops there
            if before:
                if c.id == before[0]:
                    before = []
                continue
            if since and c.id == since[0]:
                break
            if (show_all or c.status in ("running", "restarting")) and flt.container_matches(c, f, e.networks, image_ids):
                out.append(views.container_summary(c, e.networks, now, _sizes(e, c) if size else None))
        return out


def _filter_container(e, ref: str):
    try:
        return e.find_container(ref)
    except NotFound:
        raise NotFound(f"no such container {ref}") from None


def _sizes(e, c) -> tuple[int, int]:
    """The writable layer's size, and that plus the image's."""
    rw = disk_usage(os.path.join(e.store.bundle(c.id), "upper"))
    try:
        image = e.images.get_by_id(c.image_id).get("Size", 0)
    except NotFound:
        image = 0
    return rw, rw + image


def logs(e, ref: str, follow: bool = False, tail: str | None = "all", since: float = 0, until: float = 0):
    """Whether the container has a terminal, and its log's records (outputs.read_records):
    ``(stream, time, bytes)``, with None as an idle tick while ``follow`` waits."""
    with e.lock:
        c = e.find_container(ref)
        path = os.path.join(e.store.bundle(c.id), "container.log")
        cid, tty = c.id, c.tty

    def running() -> bool:
        now = e.containers.get(cid)
        return now is not None and now.status == "running"
    return tty, outputs.read_records(path, tail, follow, running, since=since, until=until)

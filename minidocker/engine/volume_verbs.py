"""Volumes and a container's mounts: the /volumes verbs, the mounts a create asks
for (volumes made on demand, bind sources checked), what start hands the launcher,
and the anonymous volumes `rm -v` and `--rm` remove."""
import logging
import os

from minidocker.engine import mounts as mountspec
from minidocker.engine import volumes as vol
from minidocker.errors import InvalidArgument, NotFound

log = logging.getLogger(__name__)


def users(e, name: str) -> list[str]:
    return [c.id for c in e.containers.values()
            if any(p["Type"] == "volume" and p["Name"] == name for p in (getattr(c, "mounts", None) or []))]


def listing(e, filters: dict | None = None) -> dict:
    with e.lock:
        out = [e.volumes.view(m) for m in e.volumes.list()
               if vol.matches(m, filters or {}, bool(users(e, m["Name"])))]
    return {"Volumes": out, "Warnings": None}


def inspect(e, name: str) -> dict:
    return e.volumes.view(e.volumes.get(name))


def create(e, body: dict) -> dict:
    if not isinstance(body, dict):
        body = {}
    labels = body.get("Labels")
    meta, created = e.volumes.create(body.get("Name") or "", body.get("Driver") or "local",
                                     labels if labels is not None else {}, body.get("DriverOpts") or {})
    if created:
        e.events.emit("volume", "create", meta["Name"], {"driver": "local"})
    return e.volumes.view(meta)


def remove(e, name: str, force: bool = False) -> None:
    with e.lock:
        existed = e.volumes.exists(name)
        e.volumes.remove(name, users(e, name), force=force)
    if existed:
        e.events.emit("volume", "destroy", name, {"driver": "local"})


def prune(e, filters: dict | None = None) -> dict:
    filters = dict(filters or {})
    for key in filters:
        if key not in ("label", "label!"):
            raise InvalidArgument(f"Invalid filter '{key}'")
    gone, space = [], 0
    with e.lock:
        for m in e.volumes.list():
            if users(e, m["Name"]) or not vol.matches(m, filters, False):
                continue
            size = e.volumes.size(m["Name"])
            try:
                e.volumes.remove(m["Name"], [])
            except Exception as ex:  # noqa: BLE001 - prune goes on past one
                log.warning("pruning volume %s: %s", m["Name"], ex)
                continue
            gone.append(m["Name"])
            space += size
            e.events.emit("volume", "destroy", m["Name"], {"driver": "local"})
    return {"VolumesDeleted": gone or None, "SpaceReclaimed": space}


# ---- a container's mounts ---------------------------------------------------------

def parse(cfg: dict) -> list[dict]:
    """The create body's mounts, checked (no I/O)."""
    return mountspec.parse_all(cfg.get("Binds"), cfg.get("Mounts"), cfg.get("Tmpfs"), cfg.get("Volumes"))


def prepare(e, points: list[dict]) -> list:
    """Make what the mounts need: bind sources checked (a `-v` one is created, as
    Docker does), volumes created on demand. Returns undo steps for the new volumes."""
    for p in points:
        if p["Type"] == "bind" and not os.path.exists(p["Source"]) and not p["CreateMissing"]:
            raise InvalidArgument(f'invalid mount config for type "bind": bind source path does not exist: '
                                  f'{p["Source"]}')
    undo = []
    try:
        for p in points:
            if p["Type"] == "bind" and not os.path.exists(p["Source"]):
                os.makedirs(p["Source"], 0o755, exist_ok=True)
            elif p["Type"] == "volume":
                meta, created = e.volumes.create(p["Name"], labels=p.get("Labels"), anonymous=not p["Name"])
                p["Name"], p["Source"] = meta["Name"], e.volumes.path(meta["Name"])
                if created:
                    undo.append(lambda n=meta["Name"]: e.volumes.remove(n, [], force=True))
                    e.events.emit("volume", "create", meta["Name"], {"driver": "local"})
    except BaseException:
        for step in reversed(undo):
            step()
        raise
    return undo


def launch_mounts(e, c, image_rootfs) -> list[dict]:
    """What the launcher mounts (ordered parents first), after Docker's copy-up of
    the image's files into an empty volume."""
    out = []
    for p in sorted(getattr(c, "mounts", None) or [], key=lambda p: p["Destination"].count("/")):
        if p["Type"] == "volume":
            if not e.volumes.exists(p["Name"]):  # removed behind our back: made again, empty
                e.volumes.create(p["Name"], anonymous=True)
            if not p.get("NoCopy"):
                layers = image_rootfs if isinstance(image_rootfs, list) else [image_rootfs]
                src = next((d for d in (os.path.join(layer, p["Destination"].lstrip("/")) for layer in layers)
                            if os.path.lexists(d)), "")
                try:
                    e.volumes.copy_up(p["Name"], src)
                except OSError as ex:
                    log.warning("volume %s: copying the image's files in: %s", p["Name"], ex)
            source = e.volumes.path(p["Name"])
        else:
            source = p["Source"]
        out.append({"type": p["Type"], "source": source, "target": p["Destination"], "ro": not p["RW"],
                    "flags": int(p.get("Flags") or 0), "data": p.get("Data") or ""})
    return out


def remove_anonymous(e, c) -> None:
    """`rm -v`, `--rm`: the container's anonymous volumes go (named ones stay)."""
    for p in getattr(c, "mounts", None) or []:
        if p["Type"] != "volume" or not _anonymous(e, p["Name"]) or users(e, p["Name"]):
            continue
        try:
            e.volumes.remove(p["Name"], [])
            e.events.emit("volume", "destroy", p["Name"], {"driver": "local"})
        except NotFound:
            pass
        except Exception as ex:  # noqa: BLE001
            log.warning("removing volume %s: %s", p["Name"], ex)


def _anonymous(e, name: str) -> bool:
    try:
        return bool(e.volumes.get(name).get("Anonymous"))
    except NotFound:
        return False


def remove_container(e, ref: str, force: bool = False, volumes: bool = False):
    """`DELETE /containers/{id}?v=1`: remove it, then its anonymous volumes."""
    c = e.ctr.remove(ref, force=force)
    if volumes:
        with e.lock:
            remove_anonymous(e, c)
    return c

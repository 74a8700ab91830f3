"""`docker container prune` (POST /containers/prune): every stopped container the
filters (until, label, label!) select is removed; the space their writable layers
held is reported."""
import os
import time

from minidocker.engine import filters as flt
from minidocker.engine.images import disk_usage


def prune(e, filters: dict | None = None) -> dict:
    keep = flt.prune_filters(filters, time.time())
    gone, space = [], 0
    with e.lock:
        for c in sorted(e.containers.values(), key=lambda c: c.created):
            if c.status == "running" or keep(c):
                continue
            size = disk_usage(os.path.join(e.store.bundle(c.id), "upper"))
            try:
                e.ctr.remove(c.id)
            except Exception:  # noqa: BLE001 - Docker's prune skips what it cannot remove
                continue
            gone.append(c.id)
            space += size
        e.events.emit("container", "prune", "", {"reclaimed": str(space)})
    return {"ContainersDeleted": gone or None, "SpaceReclaimed": space}

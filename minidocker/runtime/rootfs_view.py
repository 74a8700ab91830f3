"""A container's root filesystem as the daemon sees it, for `cp`, `export`:

- running: ``/proc/PID/root`` (its own mount namespace: overlay, volumes, tmpfs);
- stopped: its overlay mounted for the time of the call on the bundle's ``merged``
  dir, with its binds and volumes bound in (as Docker mounts a stopped
  container's rootfs for `docker cp`), everything unmounted afterwards.

``in_root`` resolves a path as the container would (symlinks never lead out).
"""
import contextlib
import os

from minidocker.network import namespaces

BIND, REC, REMOUNT, RDONLY, PRIVATE, DETACH = 4096, 16384, 32, 1, 1 << 18, 2


def in_root(root: str, path: str, follow_last: bool = True) -> str:
    """``path`` under ``root``, its symlinks resolved inside ``root`` (an absolute or
    '..' link stays under it), as moby's securejoin; the last component is
    followed only with ``follow_last``."""
    parts = [p for p in path.split("/") if p]
    done: list = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        cand = root + "/" + "/".join(done + [part])
        if (parts or follow_last) and os.path.islink(cand):
            hops += 1
            if hops > 40:
                raise OSError(40, "too many levels of symbolic links", path)
            link = os.readlink(cand)
            if link.startswith("/"):
                done = []
            parts = [p for p in link.split("/") if p] + parts
            continue
        done.append(part)
    return root.rstrip("/") + "/" + "/".join(done) if done else root


@contextlib.contextmanager
def stopped_root(lowers: list, upper: str, work: str, merged: str, binds: list):
    """Mount the overlay on ``merged`` (and ``binds``: [(source, target, ro)])
    for the time of the block."""
    for d in (upper, work, merged):
        if not os.path.isdir(d):
            os.makedirs(d)
            os.chmod(d, 0o755)  # as process.start makes them: the container's / gets the upper's mode
    data = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}"
    namespaces.mount("overlay", merged, "overlay", 0, data)
    done = [merged]
    try:
        for source, target, ro in binds:
            dst = in_root(merged, target)
            if os.path.isdir(source):
                os.makedirs(dst, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if not os.path.lexists(dst):
                    open(dst, "a").close()
            namespaces.mount(source, dst, None, BIND | REC)
            done.append(dst)
            if ro:
                namespaces.mount(None, dst, None, BIND | REMOUNT | RDONLY)
        yield merged
    finally:
        for path in reversed(done):
            namespaces.umount(path, DETACH)


def running_root(pid: int) -> str:
    return f"/proc/{pid}/root"

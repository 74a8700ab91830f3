"""pause/unpause: the container's cgroup frozen with the freezer (v1
freezer.state, v2 cgroup.freeze). The container stays "running" with
State.Paused; signals sent to a paused container are delivered once it is
thawed, as Docker's kill does (it resumes the container after the signal)."""
from minidocker.engine.events import container_attributes
from minidocker.errors import Conflict, KernelError
from minidocker.runtime import process


def _cgroup(e, c):
    cg = e.cgroups
    if cg is None or not cg.exists(c.id):
        raise KernelError(f"container {c.id[:12]} has no cgroup: the freezer is not available")
    return cg


def pause(e, ref: str):
    with e.lock:
        c = e.find_container(ref)
        if c.status != "running":
            raise Conflict(f"Container {c.id} is not running")
        if c.paused:
            raise Conflict(f"Container {c.id} is already paused")
        _cgroup(e, c).freeze(c.id, True)
        c.paused = True
        e.store.save_container(c)
        e.events.emit("container", "pause", c.id, container_attributes(c))
        return c


def unpause(e, ref: str):
    with e.lock:
        c = e.find_container(ref)
        if not c.paused or c.status != "running":  # a stopped one too: Docker's answer
            raise Conflict(f"Container {c.id} is not paused")
        _thaw(e, c)
        return c


def _thaw(e, c) -> None:
    _cgroup(e, c).freeze(c.id, False)
    c.paused = False
    e.store.save_container(c)
    e.events.emit("container", "unpause", c.id, container_attributes(c))


def signal(e, c, signum: int) -> bool:
    """Send ``signum`` to the container's init; a paused container is thawed
    after it (its processes then get it). The caller holds the lock."""
    sent = process.kill(process.Handle.from_dict(c.handle), signum)
    if c.paused:
        _thaw(e, c)
    return sent

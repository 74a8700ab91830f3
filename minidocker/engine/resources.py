"""Resource limits: HostConfig's Memory/CPU/pids fields checked with Docker
20.10's words, kept on the container, applied to its cgroup at start and by
`update`; the cgroup is made before the process starts and removed after it.

The kernel side (which files, v1 or v2) is runtime/cgroups.py.
"""
import logging
import os
from dataclasses import asdict

from minidocker.errors import Conflict, InvalidArgument, KernelError
from minidocker.runtime import cgroups

log = logging.getLogger(__name__)

MIN_MEMORY = 6 * 1024 * 1024
FIELDS = ("Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuPeriod", "CpuQuota",
          "PidsLimit")
MAX_SHARES = 262144


def backend(parent: str | None = None):
    """The host's cgroup backend under ``parent`` ($MINIDOCKER_CGROUP_PARENT,
    default "minidocker"); None on a host without cgroups."""
    return cgroups.detect(parent or os.environ.get("MINIDOCKER_CGROUP_PARENT") or "minidocker")


def _int(hc: dict, key: str) -> int:
    v = hc.get(key)
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0


def host_cpus() -> int:
    return os.cpu_count() or 1


def check(res: dict, update: bool = False) -> None:
    """Docker 20.10's verifyPlatformContainerResources, in its order."""
    mem, swap, resv = res.get("Memory", 0), res.get("MemorySwap", 0), res.get("MemoryReservation", 0)
    if mem != 0 and mem < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if mem > 0 and swap > 0 and swap < mem:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    if mem == 0 and swap > 0 and not update:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    if resv > 0 and mem > 0 and mem < resv:
        raise InvalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage")
    if resv != 0 and resv < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    nano, period, quota = res.get("NanoCpus", 0), res.get("CpuPeriod", 0), res.get("CpuQuota", 0)
    if nano > 0 and period > 0:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano > 0 and quota > 0:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    n = host_cpus()
    if nano < 0 or nano > n * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {n:.2f}, as there are only {n} CPUs available")
    if period != 0 and (period < 1000 or period > 1000000):
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if quota > 0 and quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")


def from_create(hc: dict) -> dict:
    """The resource fields of a create's HostConfig, checked and adapted as
    Docker's create does (swap twice the memory when unset; shares clamped)."""
    res = {k: _int(hc, k) for k in FIELDS}
    check(res)
    if res["Memory"] > 0 and res["MemorySwap"] == 0:
        res["MemorySwap"] = res["Memory"] * 2
    if res["CpuShares"] < 0:
        res["CpuShares"] = 2
    elif res["CpuShares"] > MAX_SHARES:
        res["CpuShares"] = MAX_SHARES
    if res["PidsLimit"] < 0:
        res["PidsLimit"] = 0
    return res


def merged_update(cid: str, current: dict, body: dict) -> dict:
    """`POST /containers/{id}/update`: the new resources (not yet applied), or
    Docker's error (its "Cannot update container ID: " prefix for conflicts)."""
    new = {k: _int(body, k) for k in FIELDS}
    check(new, update=True)
    out = dict(current)
    if new["Memory"]:
        if new["Memory"] > out.get("MemorySwap", 0) and new["MemorySwap"] == 0:
            raise Conflict(f"Cannot update container {cid}: Memory limit should be smaller than already set "
                           "memoryswap limit, update the memoryswap at the same time")
        out["Memory"] = new["Memory"]
    for k in FIELDS[1:]:
        if new[k]:
            out[k] = new[k]
    if new["NanoCpus"]:
        out["CpuPeriod"] = out["CpuQuota"] = 0
    if new["CpuPeriod"] or new["CpuQuota"]:
        out["NanoCpus"] = 0
    if out.get("PidsLimit", 0) < 0:
        out["PidsLimit"] = 0
    return out


def limits(res: dict) -> cgroups.Limits:
    return cgroups.Limits.from_host_config(res or {})


def host_config_view(res: dict) -> dict:
    """The HostConfig keys as inspect shows them (PidsLimit null when unset)."""
    out = {k: (res or {}).get(k, 0) for k in FIELDS}
    out["PidsLimit"] = out["PidsLimit"] or None
    return out


# ---- kernel -------------------------------------------------------------------
def create_cgroup(e, c) -> list[str]:
    """Make the container's cgroup with its limits; the files its process
    writes itself into (launcher.py). [] without cgroup support."""
    cg = e.cgroups
    if cg is None:
        return []
    if cg.exists(c.id):  # a leftover of a run a crash cut short
        cg.remove(c.id)
    cg.create(c.id, limits(c.resources))
    return cg.procs_files(c.id)


def remove_cgroup(e, cid: str) -> None:
    cg = e.cgroups
    if cg is not None and cg.exists(cid):
        cg.remove(cid)


def oom_killed(e, cid: str) -> bool:
    cg = e.cgroups
    return bool(cg is not None and cg.exists(cid) and cg.oom_kills(cid) > 0)


def apply_update(e, c, res: dict) -> None:
    cg = e.cgroups
    if cg is None or c.status != "running" or not cg.exists(c.id):
        return
    try:  # the whole new state: a limit lifted (-1) is written as unlimited
        cg.apply(c.id, limits(res))
    except KernelError as ex:
        raise Conflict(f"Cannot update container {c.id}: {ex.message}") from None


def sweep(e) -> None:
    """Cgroups under our parent that no running container owns (a crash left
    them): removed, with the parent when nothing is left."""
    cg = e.cgroups
    if cg is None:
        return
    live = {c.id for c in e.containers.values() if c.status == "running"}
    for cid in cg.children():
        if cid not in live:
            try:
                cg.remove(cid)
            except KernelError as ex:
                log.warning("leftover cgroup %s: %s", cid[:12], ex.message)


def describe(res: dict) -> dict:
    return asdict(limits(res))


def update(e, ref: str, body: dict) -> list:
    """`POST /containers/{id}/update`: resources and restart policy, checked,
    applied to the running container's cgroup, then kept. Docker's warnings."""
    from minidocker.engine import restart_policy
    if not isinstance(body, dict):
        raise InvalidArgument("update configuration must be a JSON object")
    with e.lock:
        c = e.find_container(ref)
        policy = body.get("RestartPolicy")
        if isinstance(policy, dict) and (policy.get("Name") or ""):
            restart_policy.check(policy, False)
            if c.auto_remove and policy.get("Name") != "no":
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled for the container")
        new = merged_update(c.id, c.resources, body)
        apply_update(e, c, new)
        c.resources = new
        if isinstance(policy, dict) and (policy.get("Name") or ""):
            c.restart_policy = restart_policy.normal(policy)
        e.store.save_container(c)
        from minidocker.engine.events import container_attributes
        e.events.emit("container", "update", c.id, container_attributes(c))
        return []

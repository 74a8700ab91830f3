"""After a daemon (re)start: make the state and the kernel agree again.

Containers whose process still runs are adopted (watcher, resolver); those whose
process died are finalized (namespace, veths, DNS names and addresses released). Then what a crash
left without an owner is swept: netns pins, what the drivers plumbed for our own
stopped endpoints (host-side veths), bundles with no state file.
"""
import logging
import os
import shutil

from minidocker.engine import port_binding, resources
from minidocker.network import netns
from minidocker.network.drivers import registry as drivers
from minidocker.runtime import process

log = logging.getLogger(__name__)


def reconcile(verbs) -> None:
    """After a daemon (re)start: adopt live containers, release dead ones, then
    sweep what a crash may have left."""
    e = verbs.e
    for c in list(e.containers.values()):
        if c.status != "running":
            continue
        handle = process.Handle.from_dict(c.handle)
        if process.is_running(handle):
            try:
                verbs.sandbox.refresh_names(c)
            except Exception:  # noqa: BLE001 - the container runs on without its resolver
                log.exception("container %s: could not restore its names and resolver", c.id[:12])
            verbs.hub(c).reopen()  # its output FIFOs are still there: copy them again
            verbs._watch(c.id, handle)
            if c.active_ports:
                e.port_holders[c.id] = port_binding.reserve(c.active_ports)
        else:
            status = process.exit_status(e.store.bundle(c.id)) or {}
            verbs.finalize(c.id, int(status.get("ExitCode", 137)))
    sweep_orphans(e)
    resources.sweep(e)  # cgroups of no running container
    verbs.restarts.at_daemon_start()  # restart policies, as Docker's restore

def sweep_orphans(e) -> None:
    """Kernel objects and files a crash left without an owner: netns pins and
    host-side veths of no running container, bundles with no state file."""
    root = os.path.join(e.root, "containers")
    # a bundle whose state could not be read may belong to a live container:
    # then nothing is judged an orphan by absence (its pin would look like one)
    unreadable = [cid for cid in os.listdir(root) if cid not in e.containers and
                  any(f.startswith("config.json") for f in _listdir(os.path.join(root, cid)))]
    live = [c for c in e.containers.values() if c.status == "running"]
    pins = {os.path.basename(c.netns) for c in live if c.netns}
    steps = []
    if not unreadable:
        steps += [lambda p=path: netns.delete(p) for path in netns.pins(e.netns_dir)
                  if os.path.basename(path) not in pins]
        steps += [lambda d=cid: shutil.rmtree(os.path.join(root, d), ignore_errors=True)
                  for cid in os.listdir(root) if cid not in e.containers]
    # only our own endpoints (a stopped container's, saved by a start that a crash
    # cut short): another minidockerd (other state root) may share this network
    # namespace, and its links are not ours to judge
    stopped = [(e.networks[ep.network_id], ep) for c in e.containers.values() if c.status != "running"
               for ep in c.eps() if ep.network_id in e.networks and ep.host_veth]
    steps += [lambda net=net, ep=ep: drivers.lookup(net.driver).leave(net, ep) for net, ep in stopped]
    for step in steps:  # one stubborn leftover must not keep the daemon from starting
        try:
            step()
        except Exception:  # noqa: BLE001
            log.exception("sweeping a leftover failed")
    for c in e.containers.values():  # a stopped container holds no address (older state did)
        if c.status != "running" and any(ep.ip for ep in c.eps()):
            e.net.release_addresses(c)
            try:
                e.store.save_container(c)
            except Exception:  # noqa: BLE001
                log.exception("container %s: saving its released addresses", c.id[:12])


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []

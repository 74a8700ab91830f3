"""After a daemon (re)start: make the state and the kernel agree again.

Containers whose process still runs are adopted (watcher, resolver); those whose
process died are finalized (namespace, veths, DNS released). Then what a crash
left without an owner is swept: netns pins, host-side veths of our own stopped
endpoints, bundles with no state file.
"""
import logging
import os
import shutil

from minidocker.network import namespaces, netlink
from minidocker.engine.models import Endpoint
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
            verbs._watch(c.id, handle)
        else:
            status = process.exit_status(e.store.bundle(c.id)) or {}
            verbs.finalize(c.id, int(status.get("ExitCode", 137)))
    sweep_orphans(e)

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
        steps += [lambda n=name: namespaces.delete_netns(os.path.join(e.netns_dir, n))
                  for name in os.listdir(e.netns_dir) if name not in pins]
        steps += [lambda d=cid: shutil.rmtree(os.path.join(root, d), ignore_errors=True)
                  for cid in os.listdir(root) if cid not in e.containers]
    # only veths of our own endpoints: another minidockerd (other state root)
    # may share this network namespace, and its links are not ours to judge
    dead = {Endpoint.from_dict(d).host_veth for c in e.containers.values() if c.status != "running"
            for d in c.endpoints.values()}
    steps += [lambda n=name: netlink.delete_link(n) for name in set(netlink.host_link_names()) & dead]
    for step in steps:  # one stubborn leftover must not keep the daemon from starting
        try:
            step()
        except Exception:  # noqa: BLE001
            log.exception("sweeping a leftover failed")


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []

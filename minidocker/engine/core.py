"""The Engine: all state and every decision. A plain library object.

The daemon is a thin HTTP shell over it; tests construct it in-process. One lock
guards the state: every verb validates first, then applies kernel steps with an
undo stack, then saves. Network verbs live in network_verbs.py, container verbs
in container_verbs.py, the per-container namespace plumbing in sandbox.py, and
the Docker-shaped JSON views in views.py. The kernel is reached only through the
network drivers (looked up by name) and network/netns.py.
"""
import ipaddress
import logging
import os
import threading
import time

from minidocker.network import netns
from minidocker.network.drivers import registry as drivers
from minidocker.dns.records import Table
from minidocker.dns.resolvconf import host_resolvers_from
from minidocker.dns.embedded import DNSServer
from minidocker.errors import InvalidArgument, KernelError, NotFound
from minidocker.firewall import drift, libnft, nft
from minidocker.engine.images import Images
from minidocker.engine.volumes import Volumes
from minidocker.engine import port_binding
from minidocker.engine.models import Container, Network
from minidocker.engine.store import Store
from minidocker.engine.events import Events
from minidocker.runtime import process

DEFAULT_BRIDGE = "minidocker0"

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, root: str, run_dir: str, host_resolv_conf: str = "/etc/resolv.conf",
                 dns_timeout: float | None = None, cgroup_parent: str | None = None):
        self.root = root
        self.run_dir = run_dir
        try:  # before any container's descriptors: libnftables select()s on its socket (fd < 1024)
            libnft.open_context()
        except KernelError as ex:
            log.warning("nftables: %s", ex)
        self.netns_dir = os.path.join(run_dir, "netns")
        self.host_resolv_conf = host_resolv_conf
        self.store = Store(root)
        self.events = Events()
        self.images = Images(root, self.events)
        self.volumes = Volumes(root)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.networks: dict[str, Network] = {n.id: n for n in self.store.load_networks()}
        self.containers: dict[str, Container] = {c.id: c for c in self.store.load_containers()}
        self.watchers: dict[str, threading.Thread] = {}
        self.port_holders: dict = {}  # container id -> port_binding.Holder (its host ports' sockets)
        self.port_last: dict = {}  # (proto, host ip) -> the last ephemeral port given (Docker's allocator)
        self.closed = False
        from minidocker.engine import resources
        self.cgroups = resources.backend(cgroup_parent)  # runtime/cgroups.py: V1, V2 or None
        os.makedirs(run_dir, exist_ok=True)
        from minidocker.engine import container_verbs as containers, network_verbs as networks  # verbs, bound below
        self.net = networks.NetworkVerbs(self)
        self.ctr = containers.ContainerVerbs(self)
        self.dns_table = Table()
        self.dns = DNSServer(self.dns_table, self.host_resolvers,
                             **({"upstream_timeout": dns_timeout} if dns_timeout else {}))
        netns.prepare_pin_dir(self.netns_dir)
        try:
            self.dns.start()
            with self.lock:
                self.net.ensure_builtin()
                self.net.forget_pending()
                for n in self.networks.values():  # after a reboot the bridges are gone
                    if not n.builtin:
                        drivers.lookup(n.driver).create(n, adopt=True)
                self.ctr.reconcile()
                self.sync_firewall()
        except BaseException:
            self.dns.stop()
            if not any(c.status == "running" for c in self.containers.values()):
                try:  # nothing lives in a pin yet: leave no mount behind
                    netns.release_pin_dir(self.netns_dir)
                except KernelError as ex:
                    log.debug("netns dir left mounted: %s", ex.message)
            raise

    # ---- lookups ---------------------------------------------------------
    def host_resolvers(self) -> list[str]:
        """The host's resolvers; asked by the DNS server per forwarded query, so the
        file is re-read only when it changed (a stat instead of a read and a parse)."""
        try:
            st = os.stat(self.host_resolv_conf)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            cached = getattr(self, "_host_resolvers", None)
            if cached is not None and cached[0] == stamp:
                return list(cached[1])
            with open(self.host_resolv_conf) as f:
                found = host_resolvers_from(f.read())
            self._host_resolvers = (stamp, found)
            return list(found)
        except OSError:
            return []

    def host_resolv_text(self) -> str:
        try:
            with open(self.host_resolv_conf) as f:
                return f.read()
        except OSError:
            return ""

    def find_network(self, ref: str) -> Network:
        """By full name, full id, or unique id prefix (as Docker resolves)."""
        named = [n for n in self.networks.values() if n.name == ref]
        if len(named) > 1:  # `CheckDuplicate: false` made a second one
            raise InvalidArgument(f"network {ref} is ambiguous ({len(named)} matches found based on name)")
        if named:
            return named[0]
        if ref in self.networks:
            return self.networks[ref]
        hits = [n for n in self.networks.values() if ref and n.id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        raise NotFound(f"network {ref} not found")

    def find_container(self, ref: str) -> Container:
        ref = ref.lstrip("/")
        for c in self.containers.values():
            if c.name == ref:
                return c
        if ref in self.containers:
            return self.containers[ref]
        hits = [c for c in self.containers.values() if ref and c.id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        raise NotFound(f"No such container: {ref}")

    def inspect_container(self, c: Container) -> dict:
        from minidocker.engine import views
        try:
            rootfs = self.images.get_by_id(c.image_id)["Rootfs"]
        except NotFound:
            rootfs = ""
        return views.container_inspect(c, self.networks, c.image_id, self.store.bundle(c.id), rootfs)

    def default_bridge(self) -> Network:
        return next(n for n in self.networks.values() if n.builtin and n.name == "bridge")

    def used_subnets(self) -> list[ipaddress.IPv4Network]:
        return [ipaddress.ip_network(n.network) for n in self.networks.values() if n.network]

    def foreign_routes(self) -> list[ipaddress.IPv4Network]:
        """Host routes that are not our own bridges' (those are 'used' already)."""
        ours = {n.bridge for n in self.networks.values() if n.bridge}
        return [dst for dst, dev in netns.host_routes() if dev not in ours and dst.prefixlen > 0]

    # ---- derived kernel state ----------------------------------------------
    def sync_firewall(self) -> None:
        """Re-render the whole nftables table from state and swap it in atomically."""
        rules = [nft.NetworkRules(id=n.id, bridge=n.bridge, subnet=n.network, internal=n.internal,
                                  icc=n.icc, masquerade=n.masquerade)
                 for n in self.networks.values() if drivers.lookup(n.driver).firewalled]
        ports = []
        for c in self.containers.values():
            if c.status != "running" or not c.active_ports:
                continue
            eps = c.eps()
            if not eps:
                continue
            ep = eps[0]
            net = self.networks.get(ep.network_id)
            for cport, proto, hip, hport in port_binding.items(c.active_ports):
                if not port_binding.is_ipv4(hip):
                    continue  # "::": held (as Docker lists it), not DNAT'd to an IPv4 container
                ports.append(nft.DnatRule(proto=proto, host_ip=hip, host_port=int(hport), container_ip=ep.ip,
                                          container_port=cport, bridge=net.bridge if net else ""))
        forward = any(not r.internal for r in rules)
        self.fw_applied = (None, forward, -1)  # being applied: a look meanwhile waits for the lock
        nft.apply(rules, ports)
        generation = drift.generation()
        # the fingerprint of what was applied is read back later (_applied_fingerprint), off
        # the request's path, unless the generation cannot be known: then at once
        fp = drift.fingerprint(nft.TABLE) if generation is None else None
        self.fw_applied = (fp, forward, generation)

    def _applied_fingerprint(self) -> str | None:
        """The fingerprint of our table as it was applied; read back the first time
        it is asked for after an apply (the watcher asks at once: the apply's own
        change event wakes it). None when nothing was applied, or when another
        nftables transaction came in between (what we applied is not known then)."""
        fp, forward, generation = getattr(self, "fw_applied", (None, False, None))
        if fp is not None or generation is None:
            return fp
        with self.lock:  # not while a verb applies
            fp, forward, generation = self.fw_applied
            if fp is not None or generation is None:
                return fp
            before = drift.generation()
            now = drift.fingerprint(nft.TABLE)
            if before == generation == drift.generation():
                self.fw_applied = (now, forward, None)
                return now
            return None

    def firewall_drift(self) -> str:
        """What someone else changed in our firewall ("" when nothing): our table
        gone or its rules changed (flushed, deleted, added), ip_forward turned off,
        or Docker (re)started and its DOCKER-USER chain lacks the accepts we put there."""
        from minidocker.firewall import coexist
        generation = drift.generation()
        fp = self._applied_fingerprint()
        _, forward, unread = getattr(self, "fw_applied", (None, False, None))
        if generation is not None and generation == getattr(self, "fw_clean", None) and fp is not None:
            # no nftables transaction since everything was last found in order: only
            # ip_forward (a sysctl: no event, no generation) can have changed
            return "net.ipv4.ip_forward turned off" if forward and drift.ip_forward_off() else ""
        now = drift.fingerprint(nft.TABLE)
        if now is None:
            return f"table {nft.TABLE} deleted"
        if fp is None and unread is not None:
            return f"nftables changed before table {nft.TABLE} was read back"
        if fp is not None and now != fp:
            return f"rules of table {nft.TABLE} changed"
        if forward and drift.ip_forward_off():
            return "net.ipv4.ip_forward turned off"
        bridges = [n.bridge for n in self.networks.values() if drivers.lookup(n.driver).firewalled]
        p = coexist.plan(bridges)
        if p.rules and len(p.deletes) != len(p.rules):
            return "our accepts missing from Docker's DOCKER-USER chain"
        if generation is not None and generation == drift.generation():
            self.fw_clean = generation  # all in order as of this generation
        return ""

    def firewall_drifted(self) -> bool:
        return bool(self.firewall_drift())

    def repair_firewall(self) -> str:
        """Restore the firewall if it drifted (one transaction); what was found, or "".
        A first look without the lock (verbs are not held up every half second),
        a second one with it before acting."""
        if self.closed or not self.firewall_drift():
            return ""
        with self.lock:
            if self.closed:
                return ""
            found = self.firewall_drift()
            if found:
                self.sync_firewall()
                log.warning("firewall drift: %s; restored table %s", found, nft.TABLE)
            return found

    def start_supervisor(self) -> threading.Thread:
        """The daemon's start: the container supervisor is started (or found) now,
        on a thread of its own, so the first `run` does not wait for it and its
        memory is the daemon's fixed cost (containerd's place beside dockerd)."""
        def start():
            try:
                process.start_supervisor(self.run_dir)
            except KernelError as ex:  # the first start tries again, and says so
                log.warning("container supervisor: %s", ex.message)
        t = threading.Thread(target=start, name="supervisor-start", daemon=True)
        t.start()
        return t

    def watch_firewall(self, interval: float = 0.5) -> threading.Thread:
        """Repair the firewall when it drifted (the daemon runs this): at once on an
        nftables change event, and every ``interval`` for what sends none
        (ip_forward) or when events cannot be had."""
        try:
            monitor = drift.Monitor()
        except OSError as ex:
            log.warning("no nftables change events (%s): checking the firewall every %ss", ex, interval)
            monitor = None

        def loop():
            try:
                while not self.closed:
                    if monitor is None:
                        time.sleep(interval)
                    else:
                        monitor.wait(interval)
                    try:
                        self.repair_firewall()
                    except Exception as ex:  # noqa: BLE001 - keep watching; the next round retries
                        log.warning("re-applying the firewall failed (retrying in %ss): %s", interval, ex)
            finally:
                if monitor is not None:
                    monitor.close()
        t = threading.Thread(target=loop, name="firewall-watch", daemon=True)
        t.start()
        return t

    # ---- shutdown ------------------------------------------------------------
    def close(self, teardown: bool = False) -> None:
        """Stop serving. With ``teardown`` (tests, `minidocker system reset`), remove
        every container and network and the firewall table, leaving the host clean."""
        with self.lock:
            self.closed = True  # watchers of this engine stop acting on exits...
            self.ctr.health.close()
            self.ctr.tearing_down = teardown  # ...unless we are removing everything
            if teardown:
                for c in list(self.containers.values()):
                    self.ctr.remove(c.id, force=True)
                for n in list(self.networks.values()):
                    if not n.builtin:
                        self.net.remove(n.id)
                self.net.delete_builtin_bridge()
                nft.remove()
                if self.cgroups is not None:
                    try:
                        self.cgroups.remove_parent()
                    except KernelError as ex:
                        log.warning("cgroup parent left: %s", ex.message)
        if not teardown:
            self.ctr.detacher.detach()
            for hub in list(self.ctr.hubs.values()):
                hub.join_copiers()
        self.dns.stop()
        self.ctr.sandbox.close()
        process.release_supervisor(self.run_dir)  # it stays while containers run
        if teardown:
            try:
                netns.release_pin_dir(self.netns_dir)
            except KernelError as ex:  # not mounted
                log.debug("netns dir: %s", ex.message)


def teardown_host(run_dir: str, bridge: str = DEFAULT_BRIDGE) -> None:
    """Remove what a stopped daemon leaves on purpose (as dockerd leaves docker0):
    the default bridge, the firewall table, the netns pin directory and the cgroup
    parent (when no container's cgroup is left in it)."""
    default = Network(id="", name="bridge", driver="bridge", created="", builtin=True, bridge=bridge)
    drivers.lookup(default.driver).delete(default)
    nft.remove()
    from minidocker.engine import resources
    groups = resources.backend()
    if groups is not None:
        try:
            groups.remove_parent()
        except KernelError as ex:  # a container still holds one
            log.debug("cgroup parent kept: %s", ex.message)
    try:
        netns.release_pin_dir(os.path.join(run_dir, "netns"))
    except KernelError as ex:  # not mounted
        log.debug("netns dir: %s", ex.message)

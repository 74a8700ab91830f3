"""A container's network namespace (libnetwork's Sandbox): set up before the
process starts, torn down when it exits, changed by connect/disconnect.

Also keeps the names the embedded DNS answers and the container's /etc/hosts and
/etc/resolv.conf in step with its endpoints.
"""
import contextlib
import logging
import os

from minidocker import faults
from minidocker.engine import etcfiles
from minidocker.network import netns
from minidocker.network.drivers import registry as drivers
from minidocker.errors import Conflict, TeardownError
from minidocker.ids import new_id
from minidocker.engine.models import Container, Endpoint, Network

log = logging.getLogger(__name__)


class Sandboxes:
    def __init__(self, engine):
        self.e = engine
        self._warm: netns.Warm | None = None  # namespaces made ahead (from the first start on)

    def close(self) -> None:
        """End the namespaces made ahead (the engine is stopping)."""
        if self._warm is not None:
            self._warm.close()
            self._warm = None

    def pin_path(self, c: Container) -> str:
        """Named after the sandbox, as Docker's /var/run/docker/netns/<sandbox id[:12]>."""
        return os.path.join(self.e.netns_dir, c.sandbox_id[:12])

    def netns_of(self, c: Container) -> str | None:
        """The namespace the container's processes live in (None: the host's)."""
        if c.network_mode == "host":
            return None
        if c.network_mode.startswith("container:"):
            other = self.e.containers.get(c.network_mode.split(":", 1)[1])
            if other is None or other.status != "running":
                raise Conflict(f"cannot join network of a non running container: {c.network_mode.split(':', 1)[1]}")
            return self.netns_of(other)
        return c.netns or self.pin_path(c)

    # ---- lifecycle -----------------------------------------------------------
    def begin(self, c: Container) -> "Setup":
        """A sandbox in two halves, so that a start can have the container's process
        made while the second is plumbed: here, the namespace made and pinned and
        the /etc files written (what the process needs: it enters the one and
        binds the others); ``finish`` on the result joins the networks and the
        resolver. ``abort`` on it undoes either half."""
        if c.network_mode.startswith("container:"):
            shared = self.netns_of(c)
            c.sandbox_id = self.e.containers[c.network_mode.split(":", 1)[1]].sandbox_id  # one sandbox, shared
            return Setup(self, c, shared, None)
        c.sandbox_id = new_id()
        if c.network_mode == "host":
            self.write_etc(c)  # the host's hosts file and resolver, as the container sees them
            return Setup(self, c, None, None)
        path = self.pin_path(c)
        if self._warm is None:
            self._warm = netns.Warm()
        # one thread and one netlink socket in the new namespace for the whole setup
        made = netns.Made(path, self._warm)
        try:
            c.netns = path
            faults.point("sandbox.netns")
            self.write_etc(c, fresh=True, embedded=bool(self.user_networks(c)))
        except BaseException:
            c.netns = ""
            made.discard()
            raise
        return Setup(self, c, path, made)

    def _plumb(self, c: Container, ns) -> None:
        """The second half: every endpoint joined, the names and the resolver; a
        failure undoes what it did (the namespace is the caller's to remove)."""
        with contextlib.ExitStack() as undo:
            for i, ep in enumerate(c.eps()):
                net = self.e.networks[ep.network_id]
                driver = drivers.lookup(net.driver)
                driver.join(net, ep, ns, default_route=(i == 0), hairpin=publishes(c))
                undo.callback(driver.leave, net, ep)
            undo.callback(self._forget_names, c)
            # the resolver's sockets: made by ns's thread; the /etc files: written by begin
            self.refresh_names(c, fresh=True, run_inside=ns.run, files=False)
            faults.point("sandbox.dns")
            undo.pop_all()
        for ep in c.eps():
            self.announce("connect", c, self.e.networks[ep.network_id])

    def announce(self, action: str, c: Container, net: Network) -> None:
        """A network event: the container joined (``connect``) or left (``disconnect``) ``net``."""
        self.e.events.emit("network", action, net.id, {"container": c.id, "name": net.name, "type": net.driver})

    def _forget_names(self, c: Container) -> None:
        self.e.dns.detach(c.id)
        for ep in c.eps():
            self.e.dns_table.remove_endpoint(ep.network_id, c.id)

    def teardown(self, c: Container, later: list | None = None) -> None:
        """Keeps going past failures; at the end raises a TeardownError that
        carries (and names) every one of them. ``later``: as a driver's leave
        (the links' deletes may still run on return; see finish)."""
        errors = []
        pending = [] if later is None else later
        for step in [lambda: self.e.dns.detach(c.id)] + \
                    [lambda ep=ep: self._leave(c, ep, pending) for ep in c.eps()] + \
                    [lambda ep=ep: self.e.dns_table.remove_endpoint(ep.network_id, c.id) for ep in c.eps()]:
            try:
                step()
            except Exception as ex:  # noqa: BLE001 - collect and go on
                errors.append(ex)
        if c.netns:
            try:
                netns.delete(c.netns)
            except Exception as ex:  # noqa: BLE001
                errors.append(ex)
            c.netns = ""
        if later is None:
            errors += finish_errors(pending)
        if errors:
            raise TeardownError(errors)

    def _leave(self, c: Container, ep: Endpoint, later: list | None = None) -> None:
        net = self.e.networks[ep.network_id]
        drivers.lookup(net.driver).leave(net, ep, later)
        self.announce("disconnect", c, net)

    def join(self, c: Container, net: Network, ep: Endpoint, default_route: bool) -> None:
        with netns.entered(c.netns) as ns:
            drivers.lookup(net.driver).join(net, ep, ns, default_route, hairpin=publishes(c))
        self.announce("connect", c, net)

    def leave(self, c: Container, net: Network, ep: Endpoint, later: list | None = None) -> None:
        drivers.lookup(net.driver).leave(net, ep, later)
        self.e.dns_table.remove_endpoint(net.id, c.id)
        self.announce("disconnect", c, net)

    # ---- names -----------------------------------------------------------------
    def user_networks(self, c: Container) -> list[Network]:
        return [self.e.networks[ep.network_id] for ep in c.eps()
                if not self.e.networks[ep.network_id].builtin]

    def refresh_names(self, c: Container, fresh: bool = False, run_inside=None, files: bool = True) -> None:
        """Register the container's names with the DNS, (de)attach the resolver to
        its namespace, and bring its /etc/resolv.conf and /etc/hosts in step.

        ``fresh`` (sandbox setup): the files are rendered from scratch. Otherwise
        (connect, disconnect, daemon restart) they are edited as Docker edits them:
        the embedded resolver, once set up, stays until the sandbox goes, and so
        does ``nameserver 127.0.0.11``. ``run_inside``: runs a function in the
        container's namespace (the sandbox's thread), for a resolver attached now.
        ``files=False``: the files are left as they are (a new sandbox's, written
        by ``begin`` from the same state)."""
        e = self.e
        users = self.user_networks(c)
        for ep in c.eps():
            net = e.networks[ep.network_id]
            if net.builtin:
                continue
            names = [c.id[:12], c.hostname] + [a for a in ep.aliases if a != c.id[:12]]
            e.dns_table.set_endpoint(net.id, net.name, c.id, c.name, ep.ip, names)
        embedded = bool(users) or (not fresh and self._embedded_now(c))
        if c.netns and embedded:
            ids = [n.id for n in users]
            internal = bool(users) and all(n.internal for n in users)
            ndots = any(o.startswith("ndots:") for o in c.dns_options)
            if not fresh and e.dns.is_attached(c.id):  # (a new sandbox's: attach, which replaces any)
                e.dns.update(c.id, ids, c.dns, internal, ndots_set=ndots)
            else:
                e.dns.attach(c.id, c.netns, ids, c.dns, internal, ndots_set=ndots, run_inside=run_inside)
        elif e.dns.is_attached(c.id):
            e.dns.detach(c.id)
        if files:
            self.write_etc(c, fresh=fresh, embedded=embedded)

    def _embedded_now(self, c: Container) -> bool:
        if self.e.dns.is_attached(c.id):
            return True
        path = os.path.join(self.e.store.bundle(c.id), "resolv.conf")
        return etcfiles.uses_embedded_dns(etcfiles.read_host_file(path, ""))

    def write_etc(self, c: Container, fresh: bool = True, embedded: bool | None = None) -> None:
        """Write the container's hostname, hosts and resolv.conf in its bundle."""
        bundle = self.e.store.bundle(c.id)
        os.makedirs(bundle, exist_ok=True)
        if c.network_mode.startswith("container:"):
            return  # shares the files of the container it joined (runtime binds them)
        hosts_path = os.path.join(bundle, "hosts")
        addrs = [ep.ip for ep in c.eps()]
        extra = etcfiles.resolve_host_gateway(c.extra_hosts, self.e.default_bridge().gateway)
        if c.network_mode == "host":
            hosts = etcfiles.host_mode_hosts(etcfiles.read_host_file("/etc/hosts"), extra)
            resolv = self.e.host_resolv_text()
            if c.dns or c.dns_search or c.dns_options:
                resolv = etcfiles.default_resolv_conf(resolv, c.dns, c.dns_search, c.dns_options)
        else:
            if fresh or not os.path.exists(hosts_path):
                hosts = etcfiles.container_hosts(c.hostname, addrs, extra)
            else:
                hosts = etcfiles.sync_hosts(etcfiles.read_host_file(hosts_path), c.hostname, addrs, extra)
            if embedded is None:
                embedded = bool(self.user_networks(c))
            render = etcfiles.embedded_resolv_conf if embedded else etcfiles.default_resolv_conf
            resolv = render(self.e.host_resolv_text(), c.dns, c.dns_search, c.dns_options)
        etcfiles.write_in_place(hosts_path, hosts)
        etcfiles.write_in_place(os.path.join(bundle, "resolv.conf"), resolv)
        etcfiles.write_in_place(os.path.join(bundle, "hostname"), c.hostname + "\n")


class Setup:
    """A sandbox begun (Sandboxes.begin): ``path`` is its namespace (None: the
    host's); ``finish`` plumbs the rest, ``abort`` undoes what was done."""

    def __init__(self, owner: Sandboxes, c: Container, path: str | None, made):
        self.owner, self.c, self.path = owner, c, path
        self._made = made  # netns.Made while the namespace is ours to plumb
        self._finished = made is None

    def finish(self) -> None:
        if self._finished:
            return
        try:
            self.owner._plumb(self.c, self._made.handle)
        except BaseException:
            self.abort()
            raise
        made, self._made = self._made, None
        made.close()
        self._finished = True

    def abort(self) -> None:
        """Quietly: the failure that led here is the one to report."""
        try:
            if self._made is not None:
                made, self._made = self._made, None
                self.c.netns = ""
                made.discard()
            elif self._finished:
                self.owner.teardown(self.c)
        except Exception as ex:  # noqa: BLE001
            log.warning("container %s: rolling back its sandbox: %s", self.c.id[:12], ex)


def finish_errors(later: list) -> list[Exception]:
    """Wait for every kernel step left running (``later``: a driver's leave or
    delete); their errors."""
    errors = []
    while later:
        try:
            later.pop(0).wait()
        except Exception as ex:  # noqa: BLE001 - collected
            errors.append(ex)
    return errors


def finish(later: list) -> None:
    """Wait for every kernel step left running; raise what failed."""
    errors = finish_errors(later)
    if errors:
        raise TeardownError(errors)


def publishes(c: Container) -> bool:
    """Does it publish ports (then its bridge ports get hairpin mode)?"""
    return bool(c.port_bindings) or (c.publish_all and bool(c.exposed_ports))

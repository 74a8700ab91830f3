"""Network verbs: create, remove, prune, connect, disconnect (libnetwork's Network).

Validate everything first, then apply kernel steps under an undo stack, then save.
"""
import logging
import contextlib
import ipaddress

from minidocker import faults
from minidocker.network import ipam
from minidocker import validation
from minidocker.network.drivers import registry as drivers
from minidocker.ids import new_id as e_new_id, now as e_now
from minidocker.errors import Conflict, Forbidden, InvalidArgument, MinidockerError, NotFound
from minidocker.engine.held_addresses import HeldAddresses
from minidocker.engine.models import Container, Endpoint, Network
from minidocker.engine.sandbox import finish as finish_later

log = logging.getLogger(__name__)


OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQ = "com.docker.network.bridge.enable_ip_masquerade"
OPT_MTU = "com.docker.network.driver.mtu"
# Docker's predefined networks beside the default "bridge": (name, driver)
PREDEFINED = (("host", "host"), ("none", "null"))


def _bool_opt(value: str, key: str) -> bool:
    v = str(value).lower()
    if v in ("1", "t", "true"):
        return True
    if v in ("0", "f", "false"):
        return False
    raise InvalidArgument(f'failed to parse {key} value: {value} '
                          f'(strconv.ParseBool: parsing "{value}": invalid syntax)')


class NetworkVerbs:
    def __init__(self, engine):
        self.e = engine
        self.held = HeldAddresses(lambda: engine.containers.values())  # (held_addresses.py)

    # ---- built-in networks ---------------------------------------------------
    def ensure_builtin(self) -> None:
        e = self.e
        have = {n.name for n in e.networks.values() if n.builtin}
        if "bridge" not in have:
            pool, cursor = ipam.choose_pool([], e.foreign_routes(), None)
            gw = str(pool.network_address + 1)
            n = Network(id=e_new_id(), name="bridge", driver="bridge", created=e_now(), builtin=True,
                        bridge="minidocker0", subnet=str(pool), network=str(pool), gateway=gw,
                        ipam_config={"Subnet": str(pool)}, ipam_options=None,
                        options={"com.docker.network.bridge.default_bridge": "true",
                                 OPT_ICC: "true", OPT_MASQ: "true",
                                 "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                                 OPT_BRIDGE_NAME: "minidocker0", OPT_MTU: "1500"})
            e.store.put("pool_cursor", cursor)
            self._save(n)
        for name, driver_name in PREDEFINED:
            if name not in have:
                self._save(Network(id=e_new_id(), name=name, driver=driver_name, created=e_now(),
                                   builtin=True, ipam_options=None))
        self._elect_default_subnet(e.default_bridge())
        default = e.default_bridge()
        drivers.lookup(default.driver).create(default, adopt=True)

    def _elect_default_subnet(self, n: Network) -> None:
        """As dockerd at every start: if the bridge already exists, keep its subnet
        and report its address as the Gateway; otherwise take the first default pool
        that no route and no other network uses (Docker may have taken 172.17 since)
        and show the Subnet only."""
        e = self.e
        in_use = any(c.status == "running" and n.id in c.endpoints for c in e.containers.values())
        if drivers.lookup(n.driver).exists(n) or in_use:
            # (a running container still has its address: keep the subnet and
            # rebuild the bridge on it rather than move anyone)
            n.ipam_config = {"Subnet": n.subnet, "Gateway": n.gateway}
        else:
            others = [ipaddress.ip_network(o.network) for o in e.networks.values()
                      if o.network and o.id != n.id]
            pool, _ = ipam.choose_pool(others, e.foreign_routes(), None)
            if str(pool) != n.network:
                self._readdress(n, pool)
            n.ipam_config = {"Subnet": n.subnet}
        self._save(n)

    def _readdress(self, n: Network, pool) -> None:
        """Move the default bridge to another subnet (no running container is on
        it; stopped ones hold no address and get one from the new subnet at start)."""
        n.subnet = n.network = str(pool)
        n.gateway = str(pool.network_address + 1)

    def delete_builtin_bridge(self) -> None:
        default = self.e.default_bridge()
        drivers.lookup(default.driver).delete(default)

    def _save(self, n: Network) -> None:
        self.e.networks[n.id] = n
        self.e.store.save_network(n)

    # ---- create ----------------------------------------------------------------
    def create(self, name: str, driver: str = "bridge", subnet: str = "", gateway: str = "",
               ip_range: str = "", aux: dict | None = None, internal: bool = False,
               labels: dict | None = None, options: dict | None = None,
               check_duplicate: bool = True, attachable: bool = False,
               ipam_options: dict | None = None) -> Network:
        e = self.e
        aux = aux or {}
        options = dict(options or {})
        driver = driver or "bridge"
        with e.lock:
            validation.validate_network_name(name)
            if any(n.name == name and n.builtin for n in e.networks.values()):
                raise Forbidden(f"operation is not permitted on predefined {name} network")
            same = [n for n in e.networks.values() if n.name == name]
            if same and check_duplicate:
                raise Conflict(f"network with name {name} already exists")
            drv = drivers.lookup(driver)  # Docker's error for an unknown or unavailable one
            if drv.single_instance:
                raise Conflict(f'only one instance of "{driver}" network is allowed')
            icc = _bool_opt(options[OPT_ICC], OPT_ICC) if OPT_ICC in options else True
            masq = _bool_opt(options[OPT_MASQ], OPT_MASQ) if OPT_MASQ in options else True
            mtu = 1500
            if OPT_MTU in options:
                try:
                    mtu = int(options[OPT_MTU])
                except ValueError:
                    raise InvalidArgument(f"failed to parse {OPT_MTU} value: {options[OPT_MTU]} "
                                          f'(strconv.Atoi: parsing "{options[OPT_MTU]}": invalid syntax)')
                if not 68 <= mtu <= 65535:
                    raise InvalidArgument(f"invalid MTU value {mtu}")
            net_id = e_new_id()
            br = options.get(OPT_BRIDGE_NAME) or f"mdbr-{net_id[:10]}"
            if len(br) > 15:
                raise InvalidArgument(f"bridge name {br} is longer than 15 characters")
            if any(n.bridge == br for n in e.networks.values()):
                raise Conflict(f"bridge name {br} is already in use by another network")
            cfg = ipam.validate_config(subnet or None, gateway or None, ip_range or None, aux,
                                       e.used_subnets())
            cursor = None
            if cfg is None:
                pool, cursor = ipam.choose_pool(e.used_subnets(), e.foreign_routes(),
                                                e.store.get("pool_cursor"))
                cfg = ipam.auto_config(pool)
            n = Network(id=net_id, name=name, driver=driver, created=e_now(), bridge=br,
                        subnet=cfg["config"]["Subnet"], network=str(cfg["subnet"]),
                        gateway=str(cfg["gateway"]), ip_range=str(cfg["ip_range"] or ""),
                        aux={k: str(v) for k, v in cfg["aux"].items()}, ipam_config=cfg["config"],
                        user_subnet=bool(subnet),
                        internal=internal, icc=icc, masquerade=masq, mtu=mtu, attachable=attachable,
                        labels=dict(labels or {}), options=options,
                        ipam_options=dict(ipam_options) if ipam_options is not None else None)
            faults.point("network.ipam")
            with contextlib.ExitStack() as undo:
                n.pending = True  # written ahead: a crash from here on leaves a record to undo
                e.store.save_network(n, durable=False)
                undo.callback(e.store.delete_network, n.id)
                drv.create(n)
                undo.callback(drv.delete, n)
                undo.callback(e.sync_firewall)  # (undone last but one: without the network)
                e.networks[n.id] = n
                undo.callback(e.networks.pop, n.id, None)
                e.sync_firewall()
                faults.point("network.rules")
                n.pending = False
                e.store.save_network(n)
                faults.point("network.state")
                undo.pop_all()
            if cursor is not None:
                e.store.put("pool_cursor", cursor, durable=False)  # (store.py: not worth an fsync)
            e.events.emit("network", "create", n.id, {"name": n.name, "type": n.driver})
            return n

    def forget_pending(self) -> None:
        """At start: a network whose create a crash cut short is undone (its bridge,
        if made, and its record)."""
        for n in [n for n in self.e.networks.values() if n.pending]:
            log.warning("network %s: removing what an interrupted create left", n.name)
            try:
                drv = drivers.lookup(n.driver)
                if drv.exists(n):
                    drv.delete(n)
            except Exception:  # noqa: BLE001 - the record goes anyway; the sweep may retry
                log.exception("network %s: removing its bridge", n.name)
            self.e.networks.pop(n.id, None)
            self.e.store.delete_network(n.id)

    # ---- remove ----------------------------------------------------------------
    def remove(self, ref: str) -> Network:
        e = self.e
        with e.lock:
            n = e.find_network(ref)
            if n.builtin:
                raise Forbidden(f"{n.name} is a pre-defined network and cannot be removed")
            if any(n.id in c.endpoints and c.status == "running" for c in e.containers.values()):
                raise Forbidden(
                    f"error while removing network: network {n.name} id {n.id} has active endpoints")
            for c in e.containers.values():  # stopped ones keep it in their config, as Docker's
                if n.id in c.endpoints and c.endpoints[n.id].get("network_name") != n.name:
                    c.endpoints[n.id]["network_name"] = n.name
                    e.store.save_container(c)
            del e.networks[n.id]
            self.held.forget(n.id)
            later: list = []  # the bridge's delete (~35 ms of RCU barriers): the firewall is re-rendered meanwhile
            try:
                try:
                    drivers.lookup(n.driver).delete(n, later)
                finally:
                    e.sync_firewall()
            finally:
                finish_later(later)
                e.store.delete_network(n.id)
                e.dns_table.remove_network(n.id)
                e.events.emit("network", "destroy", n.id, {"name": n.name, "type": n.driver})
            return n

    def in_use(self) -> set:
        """Ids of the networks with active endpoints (running containers)."""
        return {nid for c in self.e.containers.values() if c.status == "running" for nid in c.endpoints}

    def prune(self, keep=lambda n: False) -> list[str]:
        """Remove every user network no running container uses, except those ``keep(n)``
        (the filters of `network prune`); their names, sorted."""
        e = self.e
        with e.lock:
            used = self.in_use()
            gone = []
            for n in sorted(e.networks.values(), key=lambda n: n.name):
                if not n.builtin and n.id not in used and not keep(n):
                    self.remove(n.id)
                    gone.append(n.name)
            e.events.emit("network", "prune", "", {"reclaimed": "0"})
            return gone

    # ---- endpoints -----------------------------------------------------------
    def endpoint_config(self, net: Network, c: Container, ip: str, aliases: list, ifname: str) -> Endpoint:
        """A container's endpoint as configured (create, connect of a stopped
        container): no address yet; Docker checks the address at start."""
        if not drivers.lookup(net.driver).has_addresses:
            raise InvalidArgument(f"network {net.name} has no addresses to allocate")
        if aliases and net.builtin:
            raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")
        if ip:
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                raise InvalidArgument(f"invalid IPv4 address: {ip}")
        return Endpoint(id="", network_id=net.id, ip="", prefixlen=0, gateway="", mac="", ifname=ifname,
                        aliases=list(aliases or []), static_ip=ip or "", network_name=net.name)

    def allocate_endpoint(self, net: Network, c: Container, ip: str, aliases: list, ifname: str) -> Endpoint:
        """A configured endpoint with its address (connect of a running container)."""
        ep = self.endpoint_config(net, c, ip, aliases, ifname)
        self._address(net, c, ep)
        return ep

    def _address(self, net: Network, c: Container, ep: Endpoint) -> None:
        """Give ``ep`` an address on ``net``: its --ip, else the lowest free one."""
        if ep.static_ip and net.builtin:
            raise InvalidArgument("user specified IP address is supported on user defined networks only")
        subnet = ipaddress.ip_network(net.network)
        addr = ipam.allocate(subnet, ipaddress.ip_address(net.gateway),
                             ipaddress.ip_network(net.ip_range) if net.ip_range else None,
                             self.held.taken(net), ipaddress.IPv4Address(ep.static_ip) if ep.static_ip else None,
                             net.user_subnet, network=f"{net.name} ({net.id})")
        self.held.give_back(net.id, ep.ip, c.id)  # (one it held before, if any)
        self.held.take(net.id, int(addr), c.id)
        ep.id = e_new_id()
        ep.ip, ep.prefixlen, ep.gateway = str(addr), subnet.prefixlen, net.gateway
        ep.mac = ep.static_mac or ipam.mac_for(addr)
        ep.host_veth = f"mdv{ep.id[:7]}"
        ep.network_name = net.name
        if not net.builtin and c.id[:12] not in ep.aliases:
            ep.aliases = list(ep.aliases) + [c.id[:12]]

    def attach_addresses(self, c: Container) -> None:
        """At start: an address for each of the container's endpoints, in order
        (all or none: on a failure the ones given are released again)."""
        done = []
        try:
            for nid, epd in c.endpoints.items():
                ep = Endpoint.from_dict(epd)
                net = self.e.networks.get(nid)
                if net is None:  # removed while the container was stopped (Docker's words)
                    raise NotFound(f"network {nid if ep.joined else (ep.network_name or nid)} not found")
                self._address(net, c, ep)
                c.endpoints[nid] = ep.to_dict()
                done.append(nid)
        except BaseException:
            self.release_addresses(c, only=done)
            raise

    def release_addresses(self, c: Container, only: list | None = None) -> None:
        """At stop (or a failed start): the endpoints give their addresses back
        and keep their configuration."""
        for nid in list(c.endpoints) if only is None else only:
            ep = Endpoint.from_dict(c.endpoints[nid])
            if only is None and ep.ip:
                ep.joined = True
            self.held.give_back(nid, ep.ip, c.id)
            ep.id, ep.ip, ep.prefixlen, ep.gateway, ep.mac, ep.host_veth = "", "", 0, "", "", ""
            if nid in self.e.networks:
                ep.network_name = self.e.networks[nid].name
            c.endpoints[nid] = ep.to_dict()

    def connect(self, net_ref: str, ctr_ref: str, ip: str = "", aliases: list | None = None) -> None:
        e = self.e
        with e.lock:
            c = e.find_container(ctr_ref)  # Docker names a missing container first
            net = e.find_network(net_ref)
            _check_connect(e, c, net, ip, aliases)
            if c.network_mode == "none" and net.builtin and net.name == "none":  # back on the network it left
                c.mode_network = "connected"
                e.store.save_container(c)
                return
            ifname = f"eth{_next_ifindex(c)}"
            ep = self.endpoint_config(net, c, ip, list(aliases or []), ifname)
            with contextlib.ExitStack() as undo:
                if c.status == "running":
                    self._address(net, c, ep)
                    undo.callback(self.held.give_back, net.id, ep.ip, c.id)  # (undone last: in memory only)
                    faults.point("connect.ipam")
                elif not net.builtin:
                    ep.aliases = list(aliases or []) + [c.id[:12]]
                undo.callback(e.store.save_container, c)  # the state as it was
                if c.status == "running":
                    undo.callback(e.ctr.sandbox.refresh_names, c)  # (after the endpoint is gone)
                c.endpoints[net.id] = ep.to_dict()
                undo.callback(c.endpoints.pop, net.id, None)
                if c.status == "running":
                    e.ctr.sandbox.join(c, net, ep, default_route=False)
                    undo.callback(e.ctr.sandbox.leave, c, net, ep)
                    e.ctr.sandbox.refresh_names(c)
                    faults.point("connect.dns")
                e.store.save_container(c)
                faults.point("connect.state")
                undo.pop_all()

    def disconnect(self, net_ref: str, ctr_ref: str, force: bool = False) -> None:
        e = self.e
        with e.lock:
            try:
                net = e.find_network(net_ref)
            except NotFound:
                if self._forget_removed(net_ref, ctr_ref):
                    return
                raise
            try:
                c = e.find_container(ctr_ref)
            except NotFound:
                if force:
                    raise NotFound(f"endpoint {ctr_ref} not found")
                raise
            if c.network_mode == "host" and not drivers.lookup(net.driver).own_netns:
                raise InvalidArgument(HOST_CONFLICT)
            if c.network_mode == "none" and net.builtin and net.name == "none" and c.mode_network != "left":
                c.mode_network = "left"  # Docker lets it leave: no endpoint, its own namespace stays
                e.store.save_container(c)
                return
            if net.id not in c.endpoints:
                raise MinidockerError(f"container {c.id} is not connected to network {net.name}")  # 500, as Docker
            ep = Endpoint.from_dict(c.endpoints[net.id])
            later: list = []  # the link's delete: the rest runs meanwhile, answered after it
            try:
                if c.status == "running":
                    e.ctr.sandbox.leave(c, net, ep, later)
                del c.endpoints[net.id]
                self.held.give_back(net.id, ep.ip, c.id)
                if c.status == "running":
                    e.ctr.sandbox.refresh_names(c)
                e.store.save_container(c)
            finally:
                finish_later(later)

    def _forget_removed(self, net_ref: str, ctr_ref: str) -> bool:
        """Docker lets a stopped container leave a network removed since."""
        try:
            c = self.e.find_container(ctr_ref)
        except NotFound:
            return False
        nid = _stale(c, net_ref) if c.status != "running" else None
        if nid is None or nid in self.e.networks:
            return False
        del c.endpoints[nid]
        self.e.store.save_container(c)
        return True


def _stale(c: Container, net_ref: str) -> str | None:
    """The id of ``c``'s endpoint on a network removed since, named by ``net_ref``."""
    for nid, epd in c.endpoints.items():
        if net_ref and (epd.get("network_name") == net_ref or nid.startswith(net_ref)):
            return nid
    return None


HOST_CONFLICT = "container cannot be disconnected from host network or connected to host network"
SHARED_CONFLICT = ("container sharing network namespace with another container or host cannot be connected "
                   "to any other network")
NONE_CONFLICT = "container cannot be connected to multiple networks with one of the networks in private (none) mode"


def _check_connect(e, c: Container, net: Network, ip: str, aliases) -> None:
    """Docker 20.10's checks of `network connect`, in its order (connectToNetwork,
    updateNetworkConfig, updateNetworkSettings, then CreateEndpoint)."""
    if c.network_mode.startswith("container:"):
        raise InvalidArgument(SHARED_CONFLICT)
    if net.builtin:
        if ip:
            raise InvalidArgument("user specified IP address is supported on user defined networks only")
        if aliases:
            raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")
    is_host = lambda n: not drivers.lookup(n.driver).own_netns  # noqa: E731
    if c.network_mode != "host" and is_host(net):
        raise InvalidArgument(HOST_CONFLICT)
    current = [e.networks[nid] for nid in c.endpoints if nid in e.networks]
    if c.network_mode == "host" or (c.network_mode == "none" and c.mode_network != "left"):
        # no endpoint of ours: the builtin network itself
        current += [n for n in e.networks.values() if n.builtin and n.name == c.network_mode]
    for other in current:
        if other.id == net.id:
            raise Forbidden(f"endpoint with name {c.name} already exists in network {net.name}")
        if is_host(other) or is_host(net):
            raise InvalidArgument(SHARED_CONFLICT)
        if other.name == "none" or net.name == "none":
            raise InvalidArgument(NONE_CONFLICT)
    if net.id in c.endpoints:
        raise Forbidden(f"endpoint with name {c.name} already exists in network {net.name}")


def _next_ifindex(c: Container) -> int:
    used = {Endpoint.from_dict(d).ifname for d in c.endpoints.values()}
    i = 0
    while f"eth{i}" in used:
        i += 1
    return i


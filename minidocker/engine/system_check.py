"""`minidocker system check`: what the kernel holds against what the state says,
and the repair of each difference.

Compared: each network's bridge (present, up, its gateway address, the route to
its subnet), each running container's namespace pin, its veth (present, on its
bridge, up), the address and default route inside it, veths on our bridges that
no endpoint owns, pins no container owns, the DNS names registered, and the
firewall (firewall_drift: our table's rules, ip_forward, Docker's DOCKER-USER).

Each finding is one dict: Kind (link, address, route, namespace, dns, rules),
Object, Problem, Repaired, Error (why a repair failed or cannot be done).
Repairs: a bridge is made again (driver.create, adopt); an endpoint with any
difference is plugged again (leave + join, same address and MAC); strays are
deleted; names are registered again; the firewall is re-applied in one
transaction. A missing namespace pin cannot be rebuilt (the container's
processes live in the namespace): it is reported, for a restart.
"""
import logging
import os

from minidocker.engine.sandbox import publishes
from minidocker.network import netns
from minidocker.network.drivers import registry as drivers

log = logging.getLogger(__name__)


class _Findings(list):
    def __init__(self, repair: bool):
        super().__init__()
        self.repair = repair

    def add(self, kind: str, obj: str, problem: str, fix=None, cannot: str = "") -> None:
        item = {"Kind": kind, "Object": obj, "Problem": problem, "Repaired": False, "Error": cannot}
        self.append(item)
        if self.repair and fix is not None and not cannot:
            try:
                fix()
                item["Repaired"] = True
                log.warning("system check: %s %s: %s (repaired)", kind, obj, problem)
            except Exception as ex:  # noqa: BLE001 - report it, go on with the others
                item["Error"] = getattr(ex, "message", None) or str(ex) or type(ex).__name__


def check(e, repair: bool = True) -> list[dict]:
    """Every difference between state and kernel (repaired unless ``repair`` is False)."""
    found = _Findings(repair)
    with e.lock:
        _bridges(e, found)
        host, _ = netns.links_view(None)
        owned = set()
        for c in list(e.containers.values()):
            if c.status == "running" and c.netns and not c.network_mode.startswith("container:"):
                _container(e, c, host, found, owned)
        _strays(e, host, owned, found)
        _names(e, found)
        drift = e.firewall_drift()
        if drift:
            found.add("rules", "table inet minidocker", drift, fix=e.sync_firewall)
    return list(found)


def _bridges(e, found: _Findings) -> None:
    host, _ = netns.links_view(None)
    routes = {(str(dst), dev) for dst, dev in netns.host_routes()}
    for n in list(e.networks.values()):
        driver = drivers.lookup(n.driver)
        if not n.bridge or not driver.has_addresses:
            continue
        link = host.get(n.bridge)
        gw = f"{n.gateway}/{n.network.split('/')[1]}" if n.gateway and n.network else ""

        def remake(n=n, driver=driver):
            driver.create(n, adopt=True)
        if link is None:
            found.add("link", n.bridge, f"bridge of network {n.name} missing", fix=remake)
            continue
        if not link["up"]:
            found.add("link", n.bridge, f"bridge of network {n.name} down", fix=remake)
        if gw and gw not in link["addrs"]:
            found.add("address", n.bridge, f"gateway address {gw} of network {n.name} missing", fix=remake)
        elif n.network and link["up"] and (n.network, n.bridge) not in routes:
            found.add("route", n.network, f"route to network {n.name} through {n.bridge} missing",
                      cannot="re-create the network's bridge (remove and create the network)")


def _container(e, c, host: dict, found: _Findings, owned: set) -> None:
    if not os.path.exists(c.netns):
        found.add("namespace", c.netns, f"namespace of running container {c.name} missing",
                  cannot="restart the container")
        return
    inside, default = netns.links_view(c.netns)
    for i, ep in enumerate(c.eps()):
        net = e.networks.get(ep.network_id)
        if net is None or not net.bridge or not ep.host_veth:
            continue
        owned.add(ep.host_veth)
        problems = []
        hv = host.get(ep.host_veth)
        if hv is None:
            problems.append(("link", ep.host_veth, f"veth of {c.name} on {net.name} missing"))
        else:
            if hv["master"] != net.bridge:
                problems.append(("link", ep.host_veth, f"veth of {c.name} not on bridge {net.bridge}"))
            if not hv["up"]:
                problems.append(("link", ep.host_veth, f"veth of {c.name} on {net.name} down"))
        link = inside.get(ep.ifname)
        cidr = f"{ep.ip}/{ep.prefixlen}"
        if link is None:
            problems.append(("link", f"{c.name}:{ep.ifname}", f"interface of {c.name} on {net.name} missing"))
        elif cidr not in link["addrs"]:
            problems.append(("address", f"{c.name}:{ep.ifname}", f"address {cidr} of {c.name} missing"))
        if i == 0 and ep.gateway and link is not None and default != ep.gateway:
            problems.append(("route", f"{c.name}:default", f"default route of {c.name} via {ep.gateway} missing"))
        if not problems:
            continue

        def replug(c=c, net=net, ep=ep, first=(i == 0)):
            driver = drivers.lookup(net.driver)
            driver.leave(net, ep)
            with netns.entered(c.netns) as ns:
                driver.join(net, ep, ns, default_route=first, hairpin=publishes(c))
        kind, obj, _ = problems[0]  # one re-plug mends them all: one finding
        found.add(kind, obj, "; ".join(p for _, _, p in problems), fix=replug)


def _strays(e, host: dict, owned: set, found: _Findings) -> None:
    bridges = {n.bridge for n in e.networks.values() if n.bridge}
    for name, link in host.items():
        if link["master"] in bridges and name not in owned and name.startswith("mdv"):
            found.add("link", name, f"veth on bridge {link['master']} that no container owns",
                      fix=lambda name=name: netns.delete_host_link(name))
    pins = {c.netns for c in e.containers.values() if c.netns}
    for path in netns.pins(e.netns_dir):
        if path not in pins:
            found.add("namespace", path, "namespace pin that no container owns",
                      fix=lambda path=path: netns.delete(path))


def _names(e, found: _Findings) -> None:
    have = e.dns_table.endpoints()
    want: dict = {}
    for c in list(e.containers.values()):
        if c.status != "running":
            continue
        for ep in c.eps():
            net = e.networks.get(ep.network_id)
            if net is not None and not net.builtin and ep.ip:
                want.setdefault(net.id, {})[c.id] = (c, net, ep.ip)
    for nid, cs in want.items():
        for cid, (c, net, ip) in cs.items():
            if have.get(nid, {}).get(cid) != (c.name, ip):
                found.add("dns", f"{c.name}.{net.name}", f"name {c.name} -> {ip} on {net.name} not registered",
                          fix=lambda c=c: e.ctr.sandbox.refresh_names(c))
    for nid, cs in have.items():
        for cid, (name, ip) in cs.items():
            if cid not in want.get(nid, {}):
                found.add("dns", name, f"name {name} -> {ip} registered for no running container",
                          fix=lambda nid=nid, cid=cid: e.dns_table.remove_endpoint(nid, cid))

"""Making the network visible: `network check` and `network graph` over the
engine's live state (the probing and drawing live in check.py, probe.py, graph.py)."""
from minidocker.engine import views
from minidocker.engine.models import Endpoint


def _targets(e, only: set[str]):
    from minidocker.observe.check import Address, Target
    targets = []
    for c in e.containers.values():
        if c.status != "running":
            continue
        eps = []
        for epd in c.endpoints.values():
            ep = Endpoint.from_dict(epd)
            n = e.networks.get(ep.network_id)
            if n is not None:
                eps.append(Address(network=n.name, ip=ep.ip, internal=n.internal, icc=n.icc))
        if c.network_mode.startswith("container:"):
            other = e.containers.get(c.network_mode.split(":", 1)[1])
            targets.append(Target(name=c.name, netns=None, joined_to=other.name if other else None))
            continue
        if c.network_mode == "host":
            targets.append(Target(name=c.name, netns=None, host=True))
            continue
        targets.append(Target(name=c.name, netns=c.netns or None, endpoints=eps))
    if only:
        names = {t.name for t in targets if any(ep.network in only for ep in t.endpoints)}
        joined = {t.name for t in targets if t.joined_to in names}
        targets = [t for t in targets if t.name in names | joined]
    return targets


def check(e, networks: list[str], timeout: float = 0.5) -> dict:
    from minidocker.observe import check as chk
    with e.lock:
        for ref in networks:
            e.find_network(ref)  # NotFound with Docker's message
        only = {e.find_network(r).name for r in networks}
        targets = _targets(e, only)
    result = chk.run_check(targets, timeout=timeout)
    return {"text": chk.format_matrix(result), "json": chk.to_json(result),
            "violations": len(result.violations)}


def snapshot(e) -> tuple[list[dict], list[dict]]:
    """inspect-shaped networks and containers, plus the keys graph.py draws with."""
    with e.lock:
        cs = list(e.containers.values())
        nets = [views.network_inspect(n, cs) for n in e.networks.values()]
        for d, n in zip(nets, e.networks.values()):
            if n.bridge:
                d["Options"] = dict(d["Options"], **{"com.docker.network.bridge.name": n.bridge})
            if not n.icc:
                d["Options"]["com.docker.network.bridge.enable_icc"] = "false"
        ctrs = []
        for c in cs:
            d = e.inspect_container(c)
            for epd in c.endpoints.values():
                ep = Endpoint.from_dict(epd)
                n = e.networks.get(ep.network_id)
                if n is not None and n.name in d["NetworkSettings"]["Networks"]:
                    d["NetworkSettings"]["Networks"][n.name]["minidocker.HostVeth"] = ep.host_veth
                    d["NetworkSettings"]["Networks"][n.name]["minidocker.Interface"] = ep.ifname
            ctrs.append(d)
        return nets, ctrs


def graph(e, fmt: str) -> dict:
    from minidocker.observe import graph as gr
    nets, ctrs = snapshot(e)
    if fmt == "svg":
        return {"data": gr.render_svg(gr.render(nets, ctrs, "dot")).decode()}
    return {"data": gr.render(nets, ctrs, fmt)}

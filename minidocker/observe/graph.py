"""`network graph`: the host's network topology as text, Graphviz dot, Mermaid or SVG.

Pure rendering from inspect-shaped data (``docker network inspect`` and
``docker inspect`` JSON, see shared/reference/docker-20.10-inspect.md). Keys
used, beyond Docker's own:

- network ``Options["com.docker.network.bridge.name"]``: the Linux bridge
  (Docker sets it on the default network; minidocker on every bridge network);
  ``Options["com.docker.network.bridge.enable_icc"] == "false"``: ICC off.
- container ``NetworkSettings.Networks[NET]["minidocker.HostVeth"]``: host end of
  the veth pair, and ``["minidocker.Interface"]``: the name inside (eth0, eth1...).
  Without them the host end shows as "veth?" and interfaces are numbered eth0..
  in the order of ``Networks``.
- container ``HostConfig.NetworkMode``: ``host``, ``none``, ``container:ID|NAME``,
  or a network name (``default`` = ``bridge``).

Isolation: any two bridge networks are isolated from each other (Docker's
isolation chains); an ``Internal`` network is also cut off from the outside.
"""
from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass, field

from minidocker.errors import InvalidArgument, MinidockerError

FORMATS = ("text", "dot", "mermaid")


@dataclass
class _Iface:
    name: str
    network: str
    ip: str          # with prefix length, e.g. 172.17.0.2/16
    mac: str
    veth: str


@dataclass
class _Ctr:
    name: str
    id: str
    mode: str        # bridge | host | none | joined
    running: bool
    ifaces: list[_Iface] = field(default_factory=list)
    joined_to: str | None = None   # container name


@dataclass
class _Net:
    name: str
    bridge: str
    subnets: list[tuple[str, str]]  # (subnet, gateway)
    internal: bool
    icc: bool


@dataclass
class _Model:
    nets: list[_Net]
    ctrs: list[_Ctr]

    def on(self, net: str) -> list[tuple[_Ctr, _Iface]]:
        return [(c, i) for c in self.ctrs for i in c.ifaces if i.network == net]

    def isolated_pairs(self) -> list[tuple[str, str]]:
        """Every two networks (all bridge networks: the model holds no other kind)."""
        names = [n.name for n in self.nets]
        return [(a, b) for k, a in enumerate(names) for b in names[k + 1:]]


# -------------------------------------------------------------------- model

def _model(networks: list[dict], containers: list[dict]) -> _Model:
    nets = []
    for n in networks:
        if n.get("Driver", "bridge") not in ("bridge",):
            continue  # host / null: shown through the containers using them
        opts = n.get("Options") or {}
        cfgs = ((n.get("IPAM") or {}).get("Config") or [])
        subnets = [(c.get("Subnet", ""), c.get("Gateway") or _first_host(c.get("Subnet", "")))
                   for c in cfgs]
        nets.append(_Net(n["Name"], opts.get("com.docker.network.bridge.name", "?"), subnets,
                         bool(n.get("Internal")),
                         opts.get("com.docker.network.bridge.enable_icc", "true") != "false"))
    by_id = {}
    ctrs = []
    for c in containers:
        name = (c.get("Name") or c.get("Id", "?")[:12]).lstrip("/")
        mode = ((c.get("HostConfig") or {}).get("NetworkMode") or "default")
        running = bool((c.get("State") or {}).get("Running", True))
        ctr = _Ctr(name, c.get("Id", ""), "bridge", running)
        if mode == "host":
            ctr.mode = "host"
        elif mode == "none":
            ctr.mode = "none"
        elif mode.startswith("container:"):
            ctr.mode, ctr.joined_to = "joined", mode.split(":", 1)[1]
        nets_of = ((c.get("NetworkSettings") or {}).get("Networks") or {})
        if ctr.mode == "bridge":
            for k, (net, ep) in enumerate(nets_of.items()):
                ip = ep.get("IPAddress") or ""
                if ip and ep.get("IPPrefixLen"):
                    ip = f"{ip}/{ep['IPPrefixLen']}"
                ctr.ifaces.append(_Iface(ep.get("minidocker.Interface") or f"eth{k}", net, ip,
                                         ep.get("MacAddress") or "", ep.get("minidocker.HostVeth") or "veth?"))
        ctrs.append(ctr)
        by_id[ctr.id] = ctr
        by_id[ctr.name] = ctr
    # containers a network lists that the caller did not pass: still draw them
    known = {c.name for c in ctrs}
    for n in networks:
        for cid, ep in (n.get("Containers") or {}).items():
            name = (ep.get("Name") or cid[:12]).lstrip("/")
            if name in known or n.get("Driver", "bridge") != "bridge":
                continue
            ctr = next((c for c in ctrs if c.name == name and c.id == cid), None)
            if ctr is None:
                ctr = _Ctr(name, cid, "bridge", True)
                ctrs.append(ctr)
                by_id[cid] = ctr
            ctr.ifaces.append(_Iface(f"eth{len(ctr.ifaces)}", n["Name"], ep.get("IPv4Address", ""),
                                     ep.get("MacAddress", ""), "veth?"))
    for c in ctrs:  # container:ID -> name (full id, short id, or name)
        if c.joined_to:
            ref = c.joined_to
            hit = by_id.get(ref) or next((x for x in ctrs if x.id.startswith(ref) and len(ref) >= 4), None)
            c.joined_to = hit.name if hit else ref
    return _Model(nets, ctrs)


def _first_host(subnet: str) -> str:
    try:
        return str(next(ipaddress.ip_network(subnet, strict=False).hosts()))
    except (ValueError, StopIteration):
        return ""


def _root(m: _Model, c: _Ctr) -> _Ctr:
    seen = {c.name}
    by_name = {x.name: x for x in m.ctrs}
    while c.joined_to in by_name and c.joined_to not in seen:
        c = by_name[c.joined_to]
        seen.add(c.name)
    return c


def _sharers(m: _Model, c: _Ctr) -> list[_Ctr]:
    return [x for x in m.ctrs if x is not c and x.mode == "joined" and _root(m, x) is c]


def _net_desc(n: _Net) -> str:
    parts = [f"{s} gateway {g}" if g else s for s, g in n.subnets]
    flags = (["internal"] if n.internal else []) + ([] if n.icc else ["icc off"])
    return ", ".join(parts + flags)


def _state(c: _Ctr) -> str:
    return "" if c.running else " (not running)"


# --------------------------------------------------------------------- text

def _text(m: _Model) -> str:
    out = ["host"]
    groups: list[tuple[str, list[str]]] = []
    for n in m.nets:
        kids = []
        for c, i in m.on(n.name):
            also = _sharers(m, c)
            tail = f"  [shared with {', '.join(x.name for x in also)}]" if also else ""
            kids.append(f"{i.veth} <-veth-> {c.name}:{i.name}  {i.ip}  {i.mac}{_state(c)}{tail}")
        groups.append((f"bridge {n.bridge}  network {n.name}  ({_net_desc(n)})",
                       kids or ["(no containers)"]))
    hosts = [c.name + _state(c) for c in m.ctrs if c.mode == "host"]
    if hosts:
        groups.append(("host network stack (shares the host's interfaces)", hosts))
    nones = [c.name + _state(c) for c in m.ctrs if c.mode == "none"]
    if nones:
        groups.append(("none (loopback only)", nones))
    loose = [c.name + _state(c) for c in m.ctrs if c.mode == "bridge" and not c.ifaces]
    if loose:
        groups.append(("not attached to any network", loose))
    joined = [f"{c.name} shares the network namespace of {c.joined_to}{_state(c)}"
              for c in m.ctrs if c.mode == "joined"]
    if joined:
        groups.append(("joined containers (--network=container:)", joined))
    for k, (head, kids) in enumerate(groups):
        last = k == len(groups) - 1
        out.append(("└── " if last else "├── ") + head)
        for j, kid in enumerate(kids):
            out.append(("    " if last else "│   ") + ("└── " if j == len(kids) - 1 else "├── ") + kid)
    iso = [f"  {a} <-/-> {b}" for a, b in m.isolated_pairs()]
    iso += [f"  {n.name} is internal: no traffic to or from outside this network" for n in m.nets if n.internal]
    iso += [f"  {n.name} has icc off: its containers cannot talk to each other"
            for n in m.nets if not n.icc]
    if iso:
        out += ["", "isolation:"] + iso
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------- dot

def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot(m: _Model) -> str:
    L = ["graph minidocker {", "  rankdir=LR;", '  graph [fontname="Helvetica" fontsize=10 compound=true];',
         '  node [fontname="Helvetica" fontsize=10];', '  edge [fontname="Helvetica" fontsize=9];',
         '  "host" [shape=box3d label="host"];']
    cnode = lambda c: _q("ctr:" + c.name)  # noqa: E731

    def ctr_label(c):
        return "\n".join([c.name + _state(c)] + [f"{i.name} {i.ip}\n{i.mac}" for i in c.ifaces])

    for n in m.nets:
        b = _q("br:" + n.name)
        L.append(f"  subgraph {_q('cluster_net_' + n.name)} {{")
        L.append(f"    label={_q('network ' + n.name)}; style=rounded;")
        L.append(f"    {b} [shape=box style=filled fillcolor=lightblue label={_q(n.bridge + chr(10) + _net_desc(n))}];")
        L.append("  }")
        L.append(f"  \"host\" -- {b}" + (' [style=dotted label="internal"];' if n.internal else ";"))
    drawn = set()
    # containers: a namespace shared by joined containers is one cluster
    for c in m.ctrs:
        if c.mode == "joined" or c.name in drawn:
            continue
        sharers = _sharers(m, c)
        if sharers:
            L.append(f"  subgraph {_q('cluster_ns_' + c.name)} {{")
            L.append(f"    label={_q('shared netns of ' + c.name)}; style=dashed;")
        elif c.mode == "host":
            L.append(f"  subgraph {_q('cluster_host_' + c.name)} {{ label=\"host netns\"; style=dashed;")
        elif c.mode == "none":
            L.append(f"  subgraph {_q('cluster_none_' + c.name)} {{ label=\"none: lo only\"; style=dashed;")
        else:
            L.append("  {")
        for x in [c, *sharers]:
            L.append(f"    {cnode(x)} [shape=box label={_q(ctr_label(x))}];")
            drawn.add(x.name)
        L.append("  }")
        for x in sharers:
            L.append(f"  {cnode(x)} -- {cnode(c)} [style=dashed label=\"joined\"];")
        if c.mode == "host":
            L.append(f"  \"host\" -- {cnode(c)} [style=bold label=\"host stack\"];")
        for i in c.ifaces:
            v = _q(f"veth:{c.name}:{i.name}")
            L.append(f"    {v} [shape=cds style=filled fillcolor=lightyellow label={_q(i.veth)}];")
            L.append(f"  {_q('br:' + i.network)} -- {v};")
            L.append(f"  {v} -- {cnode(c)} [label={_q(i.name)}];")
    for c in m.ctrs:  # joined to something not in the input
        if c.mode == "joined" and c.name not in drawn:
            L.append(f"  {cnode(c)} [shape=box label={_q(ctr_label(c))}];")
            L.append(f"  {cnode(c)} -- {_q('ctr:' + c.joined_to)} [style=dashed label=\"joined\"];")
    for a, b in m.isolated_pairs():
        L.append(f"  {_q('br:' + a)} -- {_q('br:' + b)} [style=dashed color=red fontcolor=red "
                 f"label=\"isolated\" constraint=false];")
    L.append("}")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------ mermaid

def _ml(s: str) -> str:
    return '"' + s.replace('"', "#quot;").replace("\n", "<br/>") + '"'


def _mermaid(m: _Model) -> str:
    L = ["flowchart LR", '  host[("host")]']
    ids: dict[str, str] = {}

    def cid(name):
        return ids.setdefault("c:" + name, f"c{len(ids)}")

    def bid(name):
        return ids.setdefault("b:" + name, f"b{len(ids)}")

    for n in m.nets:
        L.append(f"  subgraph {bid(n.name)}_net[{_ml('network ' + n.name)}]")
        L.append(f"    {bid(n.name)}[{_ml(n.bridge + chr(10) + _net_desc(n))}]")
        L.append("  end")
        L.append(f"  host {'-. internal .-' if n.internal else '---'} {bid(n.name)}")
    for c in m.ctrs:
        label = "\n".join([c.name + _state(c)] + [f"{i.name} {i.ip}\n{i.mac}" for i in c.ifaces])
        L.append(f"  {cid(c.name)}[{_ml(label)}]")
        for i in c.ifaces:
            L.append(f"  {bid(i.network)} ---|{_ml(i.veth + ' ⇄ ' + i.name)}| {cid(c.name)}")
        if c.mode == "host":
            L.append(f"  host ---|host stack| {cid(c.name)}")
        elif c.mode == "none":
            L.append(f"  {cid(c.name)}:::none")
        elif c.mode == "joined":
            L.append(f"  {cid(c.name)} -. shares netns .- {cid(c.joined_to)}")
    for a, b in m.isolated_pairs():
        L.append(f"  {bid(a)} -. isolated .- {bid(b)}")
    L.append("  classDef none stroke-dasharray: 5 5")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------- public

def render(networks: list[dict], containers: list[dict], fmt: str = "text") -> str:
    """The topology in ``fmt`` ("text", "dot" or "mermaid")."""
    if fmt not in FORMATS:
        raise InvalidArgument(f"invalid graph format {fmt!r}: use text, dot, svg or mermaid")
    m = _model(networks, containers)
    return {"text": _text, "dot": _dot, "mermaid": _mermaid}[fmt](m)


def render_svg(dot_text: str) -> bytes:
    """SVG from dot source, through Graphviz's ``dot -Tsvg``."""
    try:
        r = subprocess.run(["dot", "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=60)
    except FileNotFoundError:
        raise MinidockerError("graphviz is not installed: the 'dot' command was not found") from None
    except subprocess.TimeoutExpired:
        raise MinidockerError("graphviz 'dot' took too long") from None
    if r.returncode != 0:
        raise MinidockerError(f"graphviz 'dot' failed: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout

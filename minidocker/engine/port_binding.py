"""Host ports for a starting container, in Docker's PortBindings shape end to end:
``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`` as asked, the same shape
with every HostPort chosen while it runs (``Container.active_ports``); the
firewall gets DNAT rules (container address included) made from it."""
from minidocker.errors import Conflict

EPHEMERAL_FIRST = 32768


def items(bindings: dict):
    """(container port, proto, host ip, host port) of each binding."""
    for key, binds in (bindings or {}).items():
        port, _, proto = key.partition("/")
        for b in binds or []:
            yield int(port), proto or "tcp", b.get("HostIp") or "", str(b.get("HostPort") or "")


def only_internal(c, networks: dict) -> bool:
    """Every network of ``c`` is internal: Docker publishes nothing (no gateway
    endpoint) and shows no ports at all."""
    nets = [networks.get(nid) for nid in c.endpoints]
    return bool(nets) and all(n is not None and n.internal for n in nets)


def bind(c, others) -> dict:
    """At start, as Docker: refuse a host port a running container holds; give a
    binding without a host port the first free port of the ephemeral range; a
    host range ("8080-8081") takes its first port."""
    held = {(proto, ip, hp) for o in others if o.status == "running" and o.id != c.id
            for _, proto, ip, hp in items(o.active_ports)}

    def taken(proto: str, ip: str, port: str) -> bool:
        # a wildcard address overlaps every address; two specific ones only themselves
        return any(hp == port and hproto == proto and (not ip or not hip or ip == hip)
                   for hproto, hip, hp in held)
    out: dict = {}
    for port, proto, ip, hp in items(c.port_bindings):
        hp = hp.split("-")[0]
        if not hp or hp == "0":
            n = EPHEMERAL_FIRST
            while taken(proto, ip, str(n)):
                n += 1
            hp = str(n)
        elif taken(proto, ip, hp):
            ep = next(iter(c.endpoints.values()), {}).get("id", "")
            raise Conflict(f"driver failed programming external connectivity on endpoint {c.name} ({ep}): "
                           f"Bind for {ip or '0.0.0.0'}:{hp} failed: port is already allocated")
        held.add((proto, ip, hp))
        out.setdefault(f"{port}/{proto}", []).append({"HostIp": ip, "HostPort": hp})
    return out

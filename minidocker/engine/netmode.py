"""A container's network mode and endpoint, settled when Docker settles them.

Docker checks the create body's networking syntax at create (`invalid IPv4
address`, the container-mode conflicts) but applies it at start: a network or a
container to join that does not exist (yet), a joined container that is not
running, an address outside the subnet or in use, --ip or aliases where they are
not supported, an exhausted pool are all start errors. `POST /containers/create`
answers 201 and `start` fails (`docker run` prints the error without its usage
hint; `docker create` succeeds and leaves the container `Created`).

minidocker allocates the endpoint at create when it can; a request that cannot
be settled then is kept in ``Container.pending_network`` and tried again at
start, where its error is raised (so a network created in between is used).
"""
import ipaddress

from minidocker.errors import Conflict, Exhausted, InvalidArgument, NotFound
from minidocker.network.drivers import registry as drivers

# what Docker reports only at start
AT_START = (NotFound, Conflict, Exhausted, InvalidArgument)


def request(cfg: dict) -> dict:
    """The create body's networking (create_spec.parse keys), checked as Docker
    checks it at create."""
    mode, ip = cfg["NetworkMode"], cfg.get("IP") or ""
    if ip:
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise InvalidArgument(f"invalid IPv4 address: {ip}") from None
    if mode == "host" and cfg.get("MacAddress"):
        raise InvalidArgument("conflicting options: mac-address and the network mode")
    if cfg.get("MacAddress"):
        _mac(cfg["MacAddress"])
    return {"NetworkMode": mode, "IP": ip, "Aliases": list(cfg.get("Aliases") or []),
            "MacAddress": cfg.get("MacAddress") or ""}


def place(e, c, req: dict) -> None:
    """At create: settle ``req`` now, or keep it for start when Docker would
    only find out there."""
    try:
        settle(e, c, req)
    except AT_START:
        c.network_mode = req["NetworkMode"]
        c.endpoints.clear()
        c.pending_network = dict(req)


def settle_pending(e, c) -> None:
    """At start: settle what create could not (raises its error)."""
    if c.pending_network:
        settle(e, c, c.pending_network)
        c.pending_network = {}


def settle(e, c, req: dict) -> None:
    """The mode, and for a network with addresses its endpoint (allocated)."""
    mode, ip, aliases = req["NetworkMode"], req.get("IP") or "", list(req.get("Aliases") or [])
    if mode.startswith("container:"):
        other = e.find_container(mode.split(":", 1)[1])
        if other.status != "running":
            raise Conflict(f"cannot join network of a non running container: {other.id}")
        c.network_mode = f"container:{other.id}"
        c.hostname = other.hostname
        return
    if mode in ("host", "none"):
        _builtin_checks(ip, aliases)
        c.network_mode = mode
        return
    net = e.default_bridge() if mode in ("default", "bridge") else e.find_network(mode)
    driver = drivers.lookup(net.driver)
    if not driver.own_netns or not driver.has_addresses:  # host or none, by name or id
        _builtin_checks(ip, aliases)
        c.network_mode = "host" if not driver.own_netns else "none"
        return
    if mode == "default":  # Docker 20.10 drops these without a --network
        aliases, ip = [], ""
    ep = e.net.allocate_endpoint(net, c, ip, aliases, "eth0")
    if req.get("MacAddress"):
        ep.mac = _mac(req["MacAddress"])
    if not net.builtin:
        ep.aliases = aliases + [c.id[:12]]
    c.network_mode = "default" if mode == "default" else net.name
    c.endpoints[net.id] = ep.to_dict()


def _builtin_checks(ip: str, aliases: list) -> None:
    if ip:
        raise InvalidArgument("user specified IP address is supported on user defined networks only")
    if aliases:
        raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")


def _mac(text: str) -> str:
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(ch in "0123456789abcdefABCDEF" for ch in p) for p in parts):
        raise InvalidArgument(f"{text} is not a valid mac address")
    return text.lower()

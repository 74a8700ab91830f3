"""Host ports for a starting container, in Docker's PortBindings shape end to end:
``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`` as asked, the same shape
with every binding as Docker 20.10 lists it while it runs (``Container.active_ports``:
"0.0.0.0" and "::" for an address-less binding, each HostPort chosen, in
Docker's order); the firewall gets DNAT rules (container address included) made
from the IPv4 ones; the "::" ones are served by port_proxy, as docker-proxy.

Every host port is held by a socket of the daemon's, bound as docker-proxy binds
it (IPv4 traffic never reaches it: DNAT takes it first). A port a host process or
another address's binding holds is refused with docker-proxy's words; one a
running container holds on the same address, with the port allocator's.
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import socket

from minidocker.errors import Conflict

log = logging.getLogger(__name__)
_ATTEMPTS = 10  # Docker's maxAllocatePortAttempts for a port it chooses itself


def items(bindings: dict):
    """(container port, proto, host ip, host port) of each binding."""
    for key, binds in (bindings or {}).items():
        port, _, proto = key.partition("/")
        for b in binds or []:
            yield int(port), proto or "tcp", b.get("HostIp") or "", str(b.get("HostPort") or "")


def ephemeral_range() -> tuple[int, int]:
    """Docker's dynamic port range: the kernel's ip_local_port_range (49153-65535
    when it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 49153, 65535


def _ordered(c) -> list[tuple[str, dict]]:
    """The requested bindings, plus an ephemeral one for each exposed port without
    one under -P, in the order Docker's nat.SortPortMap leaves them for one port:
    tcp bindings reversed, the others by host port, highest first."""
    out = []
    keys = list(c.port_bindings)
    if c.publish_all:
        keys += [k for k in c.exposed_ports if not c.port_bindings.get(k)]
    for key in keys:
        binds = list(c.port_bindings.get(key) or []) or [{"HostIp": "", "HostPort": ""}]
        if key.endswith("/tcp"):
            binds.reverse()
        else:
            binds.sort(key=lambda b: -_first(b.get("HostPort") or ""))
        out += [(key, b) for b in binds]
    return out


def _first(hp: str) -> int:
    try:
        return int(hp.split("-")[0] or 0)
    except ValueError:
        return 0


class Holder:
    """The sockets that hold one container's host ports."""

    def __init__(self):
        self.socks: list[socket.socket] = []
        self.bound: dict = {}  # (proto, ip, port) -> its socket
        self.served: list[socket.socket] = []  # the ones port_proxy serves

    def hold(self, proto: str, ip: str, port: int) -> None:
        """Bind as docker-proxy does; OSError(EADDRINUSE...) when taken."""
        v6 = ":" in ip
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        if proto == "sctp":
            kind = socket.SOCK_SEQPACKET
        try:
            s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, kind,
                              socket.IPPROTO_SCTP if proto == "sctp" else 0)
        except OSError as ex:
            if proto == "sctp" and ex.errno in (errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT):
                return  # no SCTP in this kernel: nothing could take the port either
            raise
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if v6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((ip, port))
            if proto == "tcp" and not v6:
                s.listen(1)  # as docker-proxy: a host process cannot take it either
        except OSError:
            s.close()
            raise
        self.socks.append(s)
        self.bound[(proto, ip, port)] = s

    def serve_ipv6(self, active_ports: dict, container_ip: str) -> None:
        """Relay the IPv6 clients of the "::" bindings to the container's IPv4
        address, as docker-proxy does (IPv4 goes by DNAT)."""
        from minidocker.engine import port_proxy
        if not container_ip:
            return
        for cport, proto, ip, hp in items(active_ports):
            s = self.bound.get((proto, ip, int(hp)))
            if s is None or ":" not in ip or proto not in ("tcp", "udp"):
                continue
            port_proxy.relay().serve(s, proto, (container_ip, cport))
            self.served.append(s)

    def close(self) -> None:
        if self.served:
            from minidocker.engine import port_proxy
            waits = [port_proxy.relay().stop(s) for s in self.served]
            for w in waits:
                w.wait(2.0)  # unregistered before the socket is closed
            self.served = []
        for s in self.socks:
            s.close()
        self.socks = []
        self.bound = {}


def ipv6_available() -> bool:
    """Can this host bind IPv6 (Docker then lists a `::` binding beside 0.0.0.0)?"""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def only_internal(c, networks: dict) -> bool:
    """Every network of ``c`` is internal: Docker publishes nothing (no gateway
    endpoint) and shows no ports at all."""
    nets = [networks.get(nid) for nid in c.endpoints]
    return bool(nets) and all(n is not None and n.internal for n in nets)


def bind(c, others, last: dict) -> tuple[dict, Holder]:
    """At start, as Docker: each binding on its address ("" is 0.0.0.0 and, when
    the host has IPv6, "::" beside it); a port a running container holds on the
    same address is "already allocated"; one the kernel refuses is docker-proxy's
    "listen tcp4 ...: bind: address already in use"; a binding without a host port
    takes the next free port of the ephemeral range after the last one given on
    that address (``last``, the daemon's allocator state); a host range takes its
    first free port. Returns active_ports and the sockets holding them."""
    if c.network_mode in ("host", "none") or c.network_mode.startswith("container:"):
        return {}, Holder()  # nothing to publish: Docker discards them
    wanted = _ordered(c)
    if not wanted:  # (the common case: no look at the other containers' ports)
        return {}, Holder()
    held = {(proto, ip, hp) for o in others if o.status == "running" and o.id != c.id
            for _, proto, ip, hp in items(o.active_ports)}
    lo, hi = ephemeral_range()
    v6 = None
    holder = Holder()
    out: dict = {}

    def fail(msg: str):
        holder.close()
        ep = next(iter(c.endpoints.values()), {}).get("id", "")
        raise Conflict(f"driver failed programming external connectivity on endpoint {c.name} ({ep}): {msg}")

    def take(proto: str, ip: str, hp: str) -> str:
        if not hp or hp == "0":  # the allocator's next free port, up to 10 tries at the kernel
            n, tries = last.get((proto, ip), lo - 1), 0
            for _ in range(hi - lo + 1):
                n = n + 1 if n < hi else lo
                if (proto, ip, str(n)) in held:
                    continue
                last[(proto, ip)] = n
                try:
                    holder.hold(proto, ip, n)
                    return str(n)
                except OSError as ex:
                    tries += 1
                    if tries >= _ATTEMPTS:
                        fail(_listen_error(proto, ip, n, ex))
            fail(f"Bind for {ip}:0 failed: port is already allocated")
        first, _, end = hp.partition("-")
        ports = range(int(first), int(end or first) + 1)
        for n in ports:
            if (proto, ip, str(n)) in held:
                if len(ports) == 1:
                    fail(f"Bind for {ip}:{n} failed: port is already allocated")
                continue
            try:
                holder.hold(proto, ip, n)
                return str(n)
            except OSError as ex:
                if n == ports[-1]:
                    fail(_listen_error(proto, ip, n, ex))
        fail(f"Bind for {ip}:{hp} failed: port is already allocated")

    for key, b in wanted:
        proto = key.partition("/")[2] or "tcp"
        ip, hp = b.get("HostIp") or "", str(b.get("HostPort") or "")
        addrs = [ip]
        if not ip:
            if v6 is None:
                v6 = ipv6_available()
            addrs = ["0.0.0.0"] + (["::"] if v6 else [])
        for addr in addrs:
            port = take(proto, addr, hp)
            held.add((proto, addr, port))
            out.setdefault(key, []).append({"HostIp": addr, "HostPort": port})
    return out, holder


def _listen_error(proto: str, ip: str, port: int, ex: OSError) -> str:
    fam = "6" if ":" in ip else "4"
    host = f"[{ip}]" if ":" in ip else ip
    why = "address already in use" if ex.errno == errno.EADDRINUSE else \
        "cannot assign requested address" if ex.errno == errno.EADDRNOTAVAIL else (ex.strerror or str(ex)).lower()
    return f"Error starting userland proxy: listen {proto}{fam} {host}:{port}: bind: {why}"


def reserve(active_ports: dict) -> Holder:
    """After a daemon restart: hold a running container's ports again (best effort)."""
    holder = Holder()
    for _, proto, ip, hp in items(active_ports):
        try:
            holder.hold(proto, ip or "0.0.0.0", int(hp))
        except OSError as ex:
            log.warning("could not hold %s port %s:%s again: %s", proto, ip, hp, ex)
    return holder


def is_ipv4(ip: str) -> bool:
    try:
        ipaddress.IPv4Address(ip or "0.0.0.0")
        return True
    except ValueError:
        return False

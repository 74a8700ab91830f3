"""Pure name table of the embedded DNS server: which names each network answers.

A container sees only the names of the networks it is attached to (the
``networks`` argument of ``lookup``/``reverse``, in the sandbox's order; as in
Docker, the first network that knows a name answers). Names are matched
case-insensitively, a trailing dot is ignored, and ``X.NETWORK`` is looked up as
``X`` on NETWORK only, where NETWORK must be spelt exactly as the network's name
(Docker 20.10 compares it with ``==``: ``c1.SELF_NET`` is not ``c1.self_net``).
No I/O here; the server and the engine wrap it.
"""
from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field


__all__ = ["Table", "normalize"]


def normalize(name: str) -> str:
    """Lower-case, without a trailing dot (DNS names compare case-insensitively)."""
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") else name


@dataclass
class _Entry:
    """What one container registered on one network: the names it answers to
    there and its address (the DNS's own record, not engine.models.Endpoint)."""
    container_name: str
    ip: str
    names: frozenset[str]


@dataclass
class _Network:
    name: str
    endpoints: dict[str, _Entry] = field(default_factory=dict)  # container_id -> its entry
    index: dict[str, list[str]] = field(default_factory=dict)  # name -> [ip, ...]
    by_ip: dict[str, str] = field(default_factory=dict)  # ip -> container name

    def reindex(self) -> None:
        index: dict[str, list[str]] = {}
        by_ip: dict[str, str] = {}
        for ep in self.endpoints.values():
            for n in ep.names:
                ips = index.setdefault(n, [])
                if ep.ip not in ips:
                    ips.append(ep.ip)
            by_ip.setdefault(ep.ip, ep.container_name)
        self.index, self.by_ip = index, by_ip


class Table:
    """Thread-safe name table keyed by network id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nets: dict[str, _Network] = {}
        self.version = 0  # bumped on every change: answers cached under an older one are stale

    def set_endpoint(self, network_id: str, network_name: str, container_id: str,
                     container_name: str, ip: str, names: list[str]) -> None:
        cname = container_name.lstrip("/")
        if not cname:
            raise ValueError("container name must not be empty")
        addr = str(ipaddress.ip_address(ip))  # validates, canonical text
        all_names = {normalize(cname)} | {normalize(n) for n in names if normalize(n)}
        with self._lock:
            net = self._nets.get(network_id)
            if net is None:
                net = self._nets[network_id] = _Network(name=network_name)
            net.name = network_name
            net.endpoints[container_id] = _Entry(cname, addr, frozenset(all_names))
            net.reindex()
            self.version += 1

    def remove_endpoint(self, network_id: str, container_id: str) -> None:
        with self._lock:
            net = self._nets.get(network_id)
            if net is None or net.endpoints.pop(container_id, None) is None:
                return
            if net.endpoints:
                net.reindex()
            else:
                del self._nets[network_id]
            self.version += 1

    def endpoints(self) -> dict[str, dict[str, tuple[str, str]]]:
        """network id -> {container id: (container name, address)}: what is registered."""
        with self._lock:
            return {nid: {cid: (e.container_name, e.ip) for cid, e in net.endpoints.items()}
                    for nid, net in self._nets.items()}

    def remove_network(self, network_id: str) -> None:
        with self._lock:
            self._nets.pop(network_id, None)
            self.version += 1

    def lookup(self, networks: list[str], qname: str) -> list[str] | None:
        """Addresses of ``qname`` seen from a sandbox on ``networks``; None if unknown."""
        q = normalize(qname)
        if not q:
            return None
        raw = qname.strip()
        raw = raw[:-1] if raw.endswith(".") else raw
        with self._lock:
            for nid in networks:
                net = self._nets.get(nid)
                if net is None:
                    continue
                suffix = "." + net.name  # the network's name compares exactly, as in Docker
                if raw.endswith(suffix):
                    ips = net.index.get(q[: -len(suffix)])
                    if ips:
                        return list(ips)
                ips = net.index.get(q)
                if ips:
                    return list(ips)
        return None

    def reverse(self, networks: list[str], ip: str) -> str | None:
        """``NAME.NETWORK`` of the container owning ``ip`` on one of ``networks``."""
        try:
            addr = str(ipaddress.ip_address(ip))
        except ValueError:
            return None
        with self._lock:
            for nid in networks:
                net = self._nets.get(nid)
                if net is not None and addr in net.by_ip:
                    return f"{net.by_ip[addr]}.{net.name}"
        return None

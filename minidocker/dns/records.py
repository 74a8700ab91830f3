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
    """One network's names. ``index`` and ``by_ip`` answer the queries; they are
    kept in step entry by entry (a change costs what the names it touches hold,
    not what the network holds): the addresses of a name in the order its
    containers registered, and an address's first registered container."""
    name: str
    endpoints: dict[str, _Entry] = field(default_factory=dict)  # container_id -> its entry
    index: dict[str, list[str]] = field(default_factory=dict)  # name -> [ip, ...]
    by_ip: dict[str, str] = field(default_factory=dict)  # ip -> container name
    _order: dict[str, int] = field(default_factory=dict)  # container_id -> when it registered
    _next: int = 0
    _names: dict[str, dict[str, None]] = field(default_factory=dict)  # name -> its container ids, in order
    _ips: dict[str, dict[str, None]] = field(default_factory=dict)  # ip -> its container ids, in order

    def put(self, cid: str, entry: _Entry) -> None:
        """Register (or replace: it keeps its place) ``cid``'s entry."""
        old = self.endpoints.get(cid)
        if old is None:
            self._order[cid] = self._next
            self._next += 1
        else:
            self._drop(cid, old, keep_names=entry.names, keep_ip=entry.ip)
        self.endpoints[cid] = entry
        for n in entry.names:
            self._hold(self._names, n, cid)
        self._hold(self._ips, entry.ip, cid)
        names = entry.names | (old.names if old is not None else frozenset())
        self._refresh(names, {entry.ip} | ({old.ip} if old is not None else set()))

    def remove(self, cid: str) -> bool:
        old = self.endpoints.pop(cid, None)
        if old is None:
            return False
        self._drop(cid, old)
        del self._order[cid]
        self._refresh(old.names, {old.ip})
        return True

    def _drop(self, cid: str, old: _Entry, keep_names=frozenset(), keep_ip: str | None = None) -> None:
        for n in old.names - keep_names:
            self._names[n].pop(cid, None)
        if old.ip != keep_ip:
            self._ips[old.ip].pop(cid, None)

    def _hold(self, holders: dict, key: str, cid: str) -> None:
        ids = holders.setdefault(key, {})
        if cid in ids:
            return
        later = bool(ids) and self._order[next(reversed(ids))] > self._order[cid]
        ids[cid] = None
        if later:  # an older one took up this name or address: back in registration order
            holders[key] = dict.fromkeys(sorted(ids, key=self._order.__getitem__))

    def _refresh(self, names, ips) -> None:
        for n in names:
            ids = self._names.get(n)
            if not ids:
                self._names.pop(n, None)
                self.index.pop(n, None)
                continue
            self.index[n] = list(dict.fromkeys(self.endpoints[c].ip for c in ids))
        for ip in ips:
            ids = self._ips.get(ip)
            if not ids:
                self._ips.pop(ip, None)
                self.by_ip.pop(ip, None)
                continue
            self.by_ip[ip] = self.endpoints[next(iter(ids))].container_name

    def reindex(self) -> None:
        """Everything again from ``endpoints`` (what the kept indexes must equal)."""
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
            net.put(container_id, _Entry(cname, addr, frozenset(all_names)))
            self.version += 1

    def remove_endpoint(self, network_id: str, container_id: str) -> None:
        with self._lock:
            net = self._nets.get(network_id)
            if net is None or not net.remove(container_id):
                return
            if not net.endpoints:
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

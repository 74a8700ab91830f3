"""minidocker's firewall: one nftables table, ``inet minidocker``, owned and re-rendered.

``render()`` is a pure function from a description of the daemon's networks and
published ports to an nft script. ``apply()`` runs that script through
libnftables as ONE transaction that creates-then-deletes-then-recreates the
table, so the kernel never sees a half-updated rule set and removing a network
is just a re-render without it.

Policy (as Docker 20.10):
  * traffic between two different minidocker networks is dropped both ways;
  * within a network it passes, unless icc is off (then dropped: bridged frames
    reach the forward hook through br_netfilter, see ``sysctl.ensure_bridge_nf``);
  * internal networks: nothing in or out except within their own bridge;
  * other networks: egress allowed (and masqueraded when ``masquerade``),
    replies come back, unsolicited inbound is dropped except published ports;
  * published ports: DNAT in prerouting (from outside and from containers:
    hairpin) and in output (from the host itself, loopback excepted), plus a
    masquerade of DNAT'd traffic that re-enters its own bridge so replies
    come back through the host.

Beside Docker, ``coexist`` adds the few accept rules Docker's FORWARD chain
needs (in DOCKER-USER), in the same transaction.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import threading
from dataclasses import dataclass

from minidocker import explain
from minidocker.errors import InvalidArgument, KernelError
from minidocker.firewall import coexist, libnft

TABLE_FAMILY = "inet"
TABLE_NAME = "minidocker"
TABLE = f"{TABLE_FAMILY} {TABLE_NAME}"
log = logging.getLogger(__name__)
_apply_lock = threading.Lock()  # one read-plan-write cycle at a time

_IFNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,15}$")
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_PROTOS = ("tcp", "udp", "sctp")


@dataclass
class NetworkRules:
    id: str
    bridge: str
    subnet: str  # CIDR as a network, e.g. 172.20.0.0/16
    internal: bool = False
    icc: bool = True
    masquerade: bool = True


@dataclass
class DnatRule:
    """One published port as the firewall sees it: a DNAT to a container address."""
    proto: str  # "tcp" / "udp"
    host_ip: str  # "" (or 0.0.0.0) = every local address
    host_port: int
    container_ip: str
    container_port: int
    bridge: str


# ---------------------------------------------------------------- validation

def _check_ifname(name: str) -> str:
    if not isinstance(name, str) or not _IFNAME.match(name):
        raise InvalidArgument(f"invalid bridge name {name!r}")
    return name


def _check_net(n: NetworkRules) -> ipaddress.IPv4Network:
    _check_ifname(n.bridge)
    if not isinstance(n.id, str) or not _ID.match(n.id):
        raise InvalidArgument(f"invalid network id {n.id!r}")
    try:
        net = ipaddress.ip_network(n.subnet, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid subnet {n.subnet!r} for network {n.id}") from None
    if net.version != 4:
        raise InvalidArgument(f"only IPv4 subnets are supported, got {n.subnet}")
    return net


def _check_port(p: DnatRule) -> None:
    if p.proto not in _PROTOS:
        raise InvalidArgument(f"invalid proto '{p.proto}'")
    _check_ifname(p.bridge)
    for port in (p.host_port, p.container_port):
        if not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidArgument(f"invalid port {port!r}")
    try:
        ipaddress.IPv4Address(p.container_ip)
        if p.host_ip not in ("", "0.0.0.0"):
            ipaddress.IPv4Address(p.host_ip)
    except ValueError as e:
        raise InvalidArgument(f"invalid address in port mapping: {e}") from None


def _q(name: str) -> str:
    return f'"{name}"'


def _set(names: list[str]) -> str:
    return "{ " + ", ".join(_q(n) for n in names) + " }"


# ---------------------------------------------------------------- rendering

def render_table(networks: list[NetworkRules], ports: list[DnatRule]) -> str:
    """The ``table inet minidocker { ... }`` block for this state."""
    subnets = {n.bridge: _check_net(n) for n in networks}
    if len(subnets) != len(networks):
        raise InvalidArgument("two networks share one bridge")
    for p in ports:
        _check_port(p)
    networks = sorted(networks, key=lambda n: n.bridge)
    by_bridge = {n.bridge: n for n in networks}
    # Docker ignores published ports on internal networks (nothing gets in).
    live_ports = [p for p in ports if p.bridge in by_bridge and not by_bridge[p.bridge].internal]
    live_ports.sort(key=lambda p: (p.bridge, p.proto, p.host_ip, p.host_port))

    fwd: list[str] = []
    # published ports first: reached through the host's address (hairpin) they pass
    # even between networks and into an icc=false one, as through Docker's proxy
    for p in live_ports:
        fwd.append(f"oifname {_q(p.bridge)} ip daddr {p.container_ip} {p.proto} dport {p.container_port}"
                   f" ct status dnat accept")
    if live_ports:
        fwd.append("ct status dnat ct direction reply accept")
    for n in networks:
        fwd.append(f"iifname {_q(n.bridge)} oifname {_q(n.bridge)} {'accept' if n.icc else 'drop'}"
                   f" comment \"{'icc' if n.icc else 'no icc'} {n.id[:12]}\"")
    if len(networks) > 1:
        allb = _set([n.bridge for n in networks])
        fwd.append(f"iifname {allb} oifname {allb} drop comment \"isolation between networks\"")
    for n in networks:
        if n.internal:
            fwd.append(f"iifname {_q(n.bridge)} drop comment \"internal {n.id[:12]}\"")
            fwd.append(f"oifname {_q(n.bridge)} drop comment \"internal {n.id[:12]}\"")
    for p in live_ports:
        fwd.append(f"oifname {_q(p.bridge)} ip daddr {p.container_ip} {p.proto} dport {p.container_port} accept")
    for n in networks:
        if n.internal:
            continue
        b = _q(n.bridge)
        fwd.append(f"oifname {b} ct state established,related accept")
        fwd.append(f"oifname {b} drop comment \"no unsolicited inbound {n.id[:12]}\"")
        fwd.append(f"iifname {b} accept comment \"egress {n.id[:12]}\"")

    pre: list[str] = []
    out: list[str] = []
    post: list[str] = []
    for p in live_ports:
        to = f"dnat ip to {p.container_ip}:{p.container_port}"
        if p.host_ip in ("", "0.0.0.0"):
            pre.append(f"fib daddr type local {p.proto} dport {p.host_port} {to}")
            out.append(f"fib daddr type local {p.proto} dport {p.host_port} {to}")
        else:
            # a loopback binding answers the host only: no prerouting rule for it
            if not ipaddress.IPv4Address(p.host_ip).is_loopback:
                pre.append(f"ip daddr {p.host_ip} {p.proto} dport {p.host_port} {to}")
            out.append(f"ip daddr {p.host_ip} {p.proto} dport {p.host_port} {to}")
    localnet = sorted({p.bridge for p in live_ports})
    guard = [f"iifname {_set(localnet)} ip daddr 127.0.0.0/8 drop comment \"no loopback from containers\""] \
        if localnet else []
    for n in networks:
        if n.internal:
            continue
        if n.masquerade:
            post.append(f"oifname != {_q(n.bridge)} ip saddr {subnets[n.bridge]} masquerade")
        if any(p.bridge == n.bridge for p in live_ports):
            post.append(f"oifname {_q(n.bridge)} ip saddr {subnets[n.bridge]} ct status dnat masquerade"
                        f" comment \"hairpin\"")
            post.append(f"oifname {_q(n.bridge)} ip saddr 127.0.0.0/8 ct status dnat masquerade"
                        f" comment \"from the host's loopback\"")

    def chain(name: str, head: str, rules: list[str]) -> list[str]:
        return [f"\tchain {name} {{", f"\t\t{head}", *(f"\t\t{r}" for r in rules), "\t}"]

    lines = [f"table {TABLE} {{"]
    lines += chain("forward", "type filter hook forward priority filter; policy accept;", fwd)
    if guard:  # only while a bridge takes loopback traffic (route_localnet)
        lines += chain("guard", "type filter hook prerouting priority -150; policy accept;", guard)
    lines += chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;", pre)
    lines += chain("output", "type nat hook output priority -100; policy accept;", out)
    lines += chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;", post)
    lines.append("}")
    return "\n".join(lines) + "\n"


def localnet_bridges(networks: list[NetworkRules], ports: list[DnatRule]) -> list[str]:
    """Bridges that take DNAT'd traffic from the host's loopback (route_localnet)."""
    live = {n.bridge for n in networks if not n.internal}
    return sorted({p.bridge for p in ports if p.bridge in live})


def render(networks: list[NetworkRules], ports: list[DnatRule]) -> str:
    """The whole replace-the-table transaction as one nft script."""
    return (f"add table {TABLE}\n"
            f"delete table {TABLE}\n"
            + render_table(networks, ports))


# ---------------------------------------------------------------- kernel

def apply(networks: list[NetworkRules], ports: list[DnatRule]) -> None:
    """Replace the table (and our rules beside Docker's) in one transaction.

    Raises InvalidArgument for a bad description (nothing touched) and
    KernelError with nft's message when the kernel refuses (nothing changed).
    """
    from minidocker.network import sysctl

    script = render(networks, ports)
    if any(not n.icc for n in networks):
        sysctl.ensure_bridge_nf_call_iptables()
    if any(not n.internal for n in networks):
        sysctl.ensure_ip_forward()
    for bridge in localnet_bridges(networks, ports):
        sysctl.ensure_route_localnet(bridge)
    bridges = [n.bridge for n in sorted(networks, key=lambda n: n.bridge)]
    _run_with_coexist(script, bridges)


def remove() -> None:
    """Delete the table if present, and our rules in Docker's chains."""
    script = f"add table {TABLE}\ndelete table {TABLE}\n"
    if libnft.list_json(f"table {TABLE}") is None:
        script = ""
    _run_with_coexist(script, [])


def _run_with_coexist(script: str, bridges: list[str]) -> None:
    with _apply_lock:
        _run_locked(script, bridges)


def _run_locked(script: str, bridges: list[str]) -> None:
    # Docker may edit its chains between our read and our write (stale rule
    # handles): read and try once more before giving up.
    for attempt in (1, 2):
        plan = coexist.plan(bridges)
        full = plan.delete_script() + script + plan.insert_script()
        if not full:
            return
        try:
            libnft.run(full)
        except KernelError as ex:
            if attempt == 2:
                raise
            log.debug("nftables refused the table (Docker's chains moved?), trying again: %s", ex.message)
            continue
        explain.emit("nft", "-f", "-", stdin=full)
        return

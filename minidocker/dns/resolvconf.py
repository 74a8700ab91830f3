"""Pure helpers over resolv.conf text (no I/O)."""
from __future__ import annotations

import ipaddress

# What Docker writes when filtering leaves a container with no nameserver.
DEFAULT_IPV4 = ["8.8.8.8", "8.8.4.4"]
DEFAULT_IPV6 = ["2001:4860:4860::8888", "2001:4860:4860::8844"]


def _nameserver(line: str) -> str | None:
    """The address of a ``nameserver`` line (zone id dropped), else None."""
    parts = line.split("#", 1)[0].split(";", 1)[0].split()
    if len(parts) < 2 or parts[0] != "nameserver":
        return None
    try:
        return str(ipaddress.ip_address(parts[1].split("%", 1)[0]))
    except ValueError:
        return None


def host_resolvers_from(resolv_conf_text: str) -> list[str]:
    """Nameserver addresses of a resolv.conf, in order, loopback ones included."""
    out: list[str] = []
    for line in resolv_conf_text.splitlines():
        ns = _nameserver(line)
        if ns is not None and ns not in out:
            out.append(ns)
    return out


def strip_loopback(text: str, ipv6: bool = False, add_defaults: bool = True) -> str:
    """resolv.conf for a default-bridge container, as Docker derives it from the
    host's: loopback nameservers removed (unreachable from a container), IPv6 ones
    removed unless ``ipv6``; if none remain, Docker's public defaults are added."""
    kept: list[str] = []
    left = 0
    for line in text.splitlines():
        ns = _nameserver(line)
        if ns is not None:
            ip = ipaddress.ip_address(ns)
            if ip.is_loopback or (ip.version == 6 and not ipv6):
                continue
            left += 1
        kept.append(line)
    if left == 0 and add_defaults:
        defaults = DEFAULT_IPV4 + (DEFAULT_IPV6 if ipv6 else [])
        while kept and not kept[-1].strip():
            kept.pop()
        kept.extend(f"nameserver {d}" for d in defaults)
    return "\n".join(kept) + "\n"

"""resolv.conf text, pure (no I/O): parse, render, and filter the host's file for a
container, as libnetwork's resolvconf package does. The embedded DNS reads the
host's resolvers with it; engine/etcfiles.py decides what each container gets.
"""
from __future__ import annotations

import ipaddress

# What Docker writes when filtering leaves a container with no nameserver.
DEFAULT_DNS = ("8.8.8.8", "8.8.4.4")
DEFAULT_DNS6 = ("2001:4860:4860::8888", "2001:4860:4860::8844")


def _words(line: str) -> list[str]:
    return line.split("#", 1)[0].split(";", 1)[0].split()


def _nameserver(line: str):
    """The address of a ``nameserver`` line (zone id dropped), else None."""
    w = _words(line)
    if len(w) < 2 or w[0] != "nameserver":
        return None
    try:
        return ipaddress.ip_address(w[1].split("%", 1)[0])
    except ValueError:
        return None


def parse_resolv_conf(text: str) -> dict:
    """nameservers, search domains and options of a resolv.conf, as libnetwork's
    GetNameservers/GetSearchDomains/GetOptions read them (the last search and the
    last options line win)."""
    ns, search, opts = [], [], []
    for line in text.splitlines():
        w = _words(line)
        if not w:
            continue
        if w[0] == "nameserver" and len(w) > 1:
            ns.append(w[1])
        elif w[0] == "search":
            search = w[1:]
        elif w[0] == "options":
            opts = w[1:]
    return {"nameservers": ns, "search": search, "options": opts}


def render_resolv_conf(nameservers, search=(), options=()) -> str:
    """search, nameserver lines, options (libnetwork's resolvconf.Build)."""
    out = []
    search = [s for s in search if s]
    if search and " ".join(search).strip(" ") != ".":
        out.append("search " + " ".join(search))
    out += [f"nameserver {ns}" for ns in nameservers]
    if options:
        out.append("options " + " ".join(options))
    return "".join(line + "\n" for line in out)


def filter_host_resolv_conf(text: str, ipv6: bool = False) -> str:
    """The host's resolv.conf as a default-bridge container sees it (libnetwork's
    FilterResolvDNS): loopback nameservers (unreachable from the container's
    namespace) and, unless ``ipv6``, IPv6 ones removed together with the blank
    lines after them; Google's servers appended if none is left."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines():
        ip = _nameserver(line)
        if ip is not None and (ip.is_loopback or (ip.version == 6 and not ipv6)):
            dropping = True
            continue
        if dropping and not line.strip():
            continue
        dropping = False
        kept.append(line)
    out = "".join(line + "\n" for line in kept)
    if not parse_resolv_conf(out)["nameservers"]:
        dns = DEFAULT_DNS + (DEFAULT_DNS6 if ipv6 else ())
        out += "\n" + "\n".join(f"nameserver {ns}" for ns in dns)
    return out


def host_resolvers_from(resolv_conf_text: str) -> list[str]:
    """Nameserver addresses of a resolv.conf, in order, without repeats, loopback
    ones included (the embedded DNS forwards to them from the host's namespace)."""
    out: list[str] = []
    for line in resolv_conf_text.splitlines():
        ip = _nameserver(line)
        if ip is not None and str(ip) not in out:
            out.append(str(ip))
    return out

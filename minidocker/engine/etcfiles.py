"""A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, as Docker 20.10
writes them.

Pure rendering plus an in-place writer: the files live in the container's bundle
dir and are bind-mounted into the container, so they are rewritten in place (same
inode) and a change (``network connect``/``disconnect``) shows inside at once.

What Docker does, and so we do:
- /etc/hosts: the localhost/ip6 lines, the ``--add-host`` entries, then one line
  ``IP\\tHOSTNAME`` per endpoint. ``network connect`` appends a line for the new
  address; ``network disconnect`` deletes every line that ends in the hostname
  (libnetwork deletes by name, so the other endpoints' lines go too).
- /etc/resolv.conf on the default bridge: the host's file with loopback (and, on
  IPv4-only networks, IPv6) nameservers removed, Google's servers if none is left;
  with ``--dns``/``--dns-search``/``--dns-option`` it is rebuilt as
  ``search``/``nameserver``/``options`` lines, each taken from the flag if given,
  else from the host's file.
- On user-defined networks (the embedded DNS): ``nameserver 127.0.0.11``, the
  search domains and options of what the default bridge would have had, plus
  ``ndots:0`` unless an ``ndots`` option is already there. The resolver stays
  once it is set up: disconnecting the last user network leaves the file alone.
"""
from __future__ import annotations

import ipaddress
import os

from minidocker import explain
from minidocker.dns.resolvconf import (DEFAULT_DNS, filter_host_resolv_conf, parse_resolv_conf,
                                       render_resolv_conf)

EMBEDDED_DNS = "127.0.0.11"
DEFAULT_HOSTS = (
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
)
HOSTS_HEADER = "".join(f"{ip}\t{names}\n" for ip, names in DEFAULT_HOSTS)


# ---- /etc/hosts ---------------------------------------------------------------
def host_names(hostname: str, domainname: str = "") -> str:
    """The names of a container's own record: ``fqdn short`` when dotted (as Docker)."""
    fqdn = f"{hostname}.{domainname}" if domainname else hostname
    short = fqdn.split(".", 1)[0]
    return f"{fqdn} {short}" if "." in fqdn else fqdn


def parse_extra_hosts(extra_hosts) -> list[tuple[str, str]]:
    """``--add-host`` entries ("name:ip", the ip may hold colons) as (name, ip)."""
    out = []
    for entry in extra_hosts:
        if isinstance(entry, (tuple, list)):
            out.append((entry[0], entry[1]))
        else:
            name, _, ip = entry.partition(":")
            out.append((name, ip))
    return out


def resolve_host_gateway(extra_hosts, gateway: str) -> list[tuple[str, str]]:
    """``--add-host`` entries as (name, ip) with ``host-gateway`` replaced by
    ``gateway`` (Docker 20.10: the default bridge's gateway address)."""
    return [(name, gateway if ip == "host-gateway" else ip) for name, ip in parse_extra_hosts(extra_hosts)]


def host_mode_hosts(host_text: str, extra_hosts=()) -> str:
    """/etc/hosts with ``--network host`` (or none sharing): the host's own file,
    or, when ``--add-host`` is given, Docker's defaults and those entries (no own
    record, as libnetwork builds it for a sandbox without endpoints)."""
    if not extra_hosts:
        return host_text
    return render_hosts([(ip, name) for name, ip in parse_extra_hosts(extra_hosts)])


def render_hosts(entries=(), defaults: bool = True) -> str:
    """``IP\\tNAMES`` lines: the localhost/ip6 defaults, then ``entries`` in order."""
    lines = list(DEFAULT_HOSTS if defaults else ()) + list(entries)
    return "".join(f"{ip}\t{names}\n" for ip, names in lines)


def container_hosts(hostname: str, addresses=(), extra_hosts=(), domainname: str = "") -> str:
    """/etc/hosts of a container: ``--add-host`` entries (as "name:ip" or (name, ip))
    first, then one line per address of its own endpoints."""
    names = host_names(hostname, domainname)
    extra = [(ip, name) for name, ip in parse_extra_hosts(extra_hosts)]
    return render_hosts(extra + [(ip, names) for ip in addresses])


def sync_hosts(text: str, hostname: str, addresses, extra_hosts=(), domainname: str = "") -> str:
    """Bring a running container's /etc/hosts in step with its endpoints the way
    Docker edits it: lines for new addresses are appended (connect); if a line is
    for an address no longer held (disconnect), every line ending in the hostname
    is deleted, as libnetwork's etchosts.Delete does."""
    names = host_names(hostname, domainname)
    extra = {f"{ip}\t{name}" for name, ip in parse_extra_hosts(extra_hosts)}
    lines = text.splitlines()
    own = [ln.split("\t", 1)[0] for ln in lines if ln.endswith("\t" + names) and ln not in extra]
    addresses = list(addresses)
    if any(ip not in addresses for ip in own):
        kept = [ln for ln in lines if not ln.endswith("\t" + names)]
        return "".join(ln + "\n" for ln in kept)
    added = [f"{ip}\t{names}" for ip in addresses if ip not in own]
    if not added:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(ln + "\n" for ln in added)


# ---- /etc/resolv.conf -------------------------------------------------------------
def _usable(servers) -> list[str]:
    out = []
    for s in servers:
        try:
            if not ipaddress.ip_address(s.split("%", 1)[0]).is_loopback:
                out.append(s)
        except ValueError:
            continue
    return out


def default_resolv_conf(host_text: str, dns=(), search=(), options=(), ipv6: bool = False) -> str:
    """resolv.conf of a container that does not use the embedded DNS."""
    if not (dns or search or options):
        return filter_host_resolv_conf(host_text, ipv6)
    host = parse_resolv_conf(host_text)
    # Docker takes the host's servers unfiltered here; a loopback server cannot be
    # reached from the container's namespace, so we drop it like the plain path does.
    servers = list(dns) or _usable(host["nameservers"]) or list(DEFAULT_DNS)
    return render_resolv_conf(servers, list(search) or host["search"], list(options) or host["options"])


def _has_ndots(options) -> bool:
    for o in options:
        if o.startswith("ndots:"):
            try:
                return int(o.split(":", 1)[1]) >= 0
            except ValueError:
                return False
    return False


def embedded_resolv_conf(host_text: str, dns=(), search=(), options=()) -> str:
    """User-defined networks (libnetwork's rebuildDNS over what the default bridge
    would have): 127.0.0.11 (+ IPv6 servers, which the embedded DNS does not
    forward to), that file's search domains and options, ``ndots:0`` unless an
    ``ndots`` option is set."""
    base = parse_resolv_conf(default_resolv_conf(host_text, dns, search, options))
    v6 = [ns for ns in _usable(list(dns) or parse_resolv_conf(host_text)["nameservers"]) if ":" in ns]
    opts = list(base["options"])
    if not _has_ndots(opts):
        opts.append("ndots:0")
    return render_resolv_conf([EMBEDDED_DNS] + v6, base["search"], opts)


def uses_embedded_dns(resolv_text: str) -> bool:
    return EMBEDDED_DNS in parse_resolv_conf(resolv_text)["nameservers"]


# ---- files ---------------------------------------------------------------------
def read_host_file(path: str, default: str = HOSTS_HEADER) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def write_in_place(path: str, text: str) -> None:
    """Rewrite ``path`` keeping its inode (bind mounts of it see the new content)."""
    data = text.encode()
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return  # already so: nothing to write, nothing to explain
    except FileNotFoundError:
        pass
    explain.emit("sh", "-c", f"cat > {path}", stdin=text)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the daemon's umask: Docker's mode
        view = memoryview(data)
        off = 0
        while off < len(data):
            off += os.pwrite(fd, view[off:], off)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def write_etc_files(bundle: str, hostname: str, hosts_entries, resolv_conf_text: str,
                    domainname: str = "") -> dict:
    """Write <bundle>/{hostname,hosts,resolv.conf}. ``hosts_entries`` are
    (ip, names) lines after the defaults, or (ip, None) for the container's own
    record (names from the hostname). Returns {name: path}."""
    entries = [(ip, names if names else host_names(hostname, domainname)) for ip, names in hosts_entries]
    files = {
        "hostname": hostname + "\n",
        "hosts": render_hosts(entries),
        "resolv.conf": resolv_conf_text,
    }
    out = {}
    for name, text in files.items():
        path = os.path.join(bundle, name)
        write_in_place(path, text)
        out[name] = path
    return out

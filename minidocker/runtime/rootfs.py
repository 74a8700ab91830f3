"""A container's /etc/hostname, /etc/hosts and /etc/resolv.conf.

The files live in the bundle dir and are bind-mounted into the container, so
they are rewritten *in place* (same inode): a rewrite by the engine, e.g. on
``network connect``, is seen inside at once. Rendering is pure and follows
Docker 20.10's layout byte for byte.
"""
import os
import re

from .. import explain

DEFAULT_HOSTS = (
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
)
DEFAULT_DNS = ("8.8.8.8", "8.8.4.4")
_LOCAL_NS = re.compile(r"^\s*nameserver\s+(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)\s*$")


def host_names(hostname: str, domainname: str = "") -> str:
    """The names of a container's own record: ``fqdn short`` when dotted (as Docker)."""
    fqdn = f"{hostname}.{domainname}" if domainname else hostname
    short = fqdn.split(".", 1)[0]
    return f"{fqdn} {short}" if "." in fqdn else fqdn


def render_hosts(entries=(), defaults: bool = True) -> str:
    """Docker's /etc/hosts: the localhost/ip6 lines, then ``IP\\tNAMES`` per entry
    in the given order (--add-host entries first, then one line per endpoint)."""
    lines = [f"{ip}\t{names}" for ip, names in (DEFAULT_HOSTS if defaults else ())]
    lines += [f"{ip}\t{names}" for ip, names in entries]
    return "".join(line + "\n" for line in lines)


def container_hosts(hostname: str, addresses=(), extra_hosts=(), domainname: str = "") -> str:
    """/etc/hosts of a container: extra_hosts are (name, ip) from --add-host,
    addresses its own IPs, one per network endpoint."""
    names = host_names(hostname, domainname)
    return render_hosts([(ip, name) for name, ip in extra_hosts] + [(ip, names) for ip in addresses])


def render_resolv_conf(nameservers, search=(), options=()) -> str:
    """search, nameserver lines, options (the order of libnetwork's resolvconf.Build)."""
    out = []
    search = [s for s in search if s]
    if search and " ".join(search).strip(" ") != ".":
        out.append("search " + " ".join(search))
    out += [f"nameserver {ns}" for ns in nameservers]
    if options:
        out.append("options " + " ".join(options))
    return "".join(line + "\n" for line in out)


def parse_resolv_conf(text: str) -> dict:
    """nameservers, search domains and options of a resolv.conf (last search wins)."""
    ns, search, opts = [], [], []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            ns.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            opts += words[1:]
    return {"nameservers": ns, "search": search, "options": opts}


def filter_host_resolv_conf(text: str) -> str:
    """The host's resolv.conf as a default-bridge container sees it: localhost
    nameservers dropped; Google's servers if none is left (as Docker)."""
    kept = [line for line in text.splitlines() if not _LOCAL_NS.match(line)]
    out = "".join(line + "\n" for line in kept)
    if not parse_resolv_conf(out)["nameservers"]:
        out += "\n" + "\n".join(f"nameserver {ns}" for ns in DEFAULT_DNS)
    return out


def embedded_dns_resolv_conf(host_text: str = "") -> str:
    """User-defined networks: 127.0.0.11 + ndots:0, keeping the host's search domains
    and options."""
    host = parse_resolv_conf(host_text)
    opts = [o for o in host["options"] if not o.startswith("ndots:")] + ["ndots:0"]
    return render_resolv_conf(["127.0.0.11"], host["search"], opts)


def write_in_place(path: str, text: str) -> None:
    """Rewrite ``path`` keeping its inode (bind mounts of it see the new content)."""
    data = text.encode()
    explain.emit("sh", "-c", f"cat > {path}", stdin=text)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
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
    record (names from the hostname). Returns {name: path} for ContainerSpec."""
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

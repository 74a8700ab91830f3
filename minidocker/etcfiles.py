"""The container's /etc/hosts, /etc/resolv.conf and /etc/hostname, as Docker writes them.

Pure rendering plus an in-place writer: the files are bind-mounted into the
container, so they are rewritten in place (same inode) and a change shows inside.
"""
import ipaddress
import os

HOSTS_HEADER = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def render_hosts(addresses: list[tuple[str, str]], extra_hosts: list[str]) -> str:
    """``addresses``: (ip, hostname) of the container's own endpoints;
    ``extra_hosts``: --add-host entries as "name:ip"."""
    out = HOSTS_HEADER
    for entry in extra_hosts:
        name, ip = entry.split(":", 1)
        out += f"{ip}\t{name}\n"
    for ip, name in addresses:
        out += f"{ip}\t{name}\n"
    return out


def _tail(search: list[str], options: list[str]) -> str:
    out = ""
    if search:
        out += "search " + " ".join(search) + "\n"
    if options:
        out += "options " + " ".join(options) + "\n"
    return out


def render_resolv_embedded(search: list[str], options: list[str]) -> str:
    """User-defined networks: the embedded DNS at 127.0.0.11."""
    opts = ["ndots:0"] + [o for o in options if not o.startswith("ndots:")]
    if any(o.startswith("ndots:") for o in options):
        opts = list(options)
    return "nameserver 127.0.0.11\n" + _tail(search, opts)


def _is_loopback(server: str) -> bool:
    try:
        return ipaddress.ip_address(server.split("%")[0]).is_loopback
    except ValueError:
        return False


def render_resolv_host(host_text: str, dns: list[str], search: list[str], options: list[str]) -> str:
    """Default bridge: the host's resolv.conf without loopback servers (they can't be
    reached from the container's namespace), or the --dns/--dns-search/--dns-option given."""
    servers, h_search, h_opts = [], [], []
    for line in host_text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith(("#", ";")):
            continue
        if parts[0] == "nameserver" and len(parts) > 1 and not _is_loopback(parts[1]):
            servers.append(parts[1])
        elif parts[0] in ("search", "domain"):
            h_search = parts[1:]
        elif parts[0] == "options":
            h_opts += parts[1:]
    if dns:
        servers = list(dns)
    if not servers:
        servers = ["8.8.8.8", "8.8.4.4"]  # Docker's fallback when none is usable
    out = "".join(f"nameserver {s}\n" for s in servers)
    return out + _tail(search or h_search, options or h_opts)


def read_host_file(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return HOSTS_HEADER


def write_in_place(path: str, text: str) -> None:
    """Rewrite keeping the inode (bind mounts point at the inode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        data = text.encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)

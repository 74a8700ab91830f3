"""The rows of `ps` and `network ls`, made from the Engine API's list answers
(ContainerSummary, the network list) on the client side, as the docker CLI's
formatter makes them: the fields `--format` offers, truncated unless --no-trunc.
"""
import time
from datetime import datetime

from minidocker.ids import human_duration

PS_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
PS_HEADERS = {".ID": "CONTAINER ID", ".Image": "IMAGE", ".Command": "COMMAND", ".RunningFor": "CREATED",
              ".Status": "STATUS", ".Ports": "PORTS", ".Names": "NAMES", ".State": "STATE",
              ".CreatedAt": "CREATED AT", ".Networks": "NETWORKS", ".Labels": "LABELS", ".Size": "SIZE",
              ".Mounts": "MOUNTS"}

LS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
LS_HEADERS = {".ID": "NETWORK ID", ".Name": "NAME", ".Driver": "DRIVER", ".Scope": "SCOPE",
              ".IPv6": "IPV6", ".Internal": "INTERNAL", ".Labels": "LABELS", ".CreatedAt": "CREATED AT"}


# ---- ps -------------------------------------------------------------------------------

def ellipsis(text: str, width: int) -> str:
    """Docker's formatter.Ellipsis: cut to ``width`` characters, the last one "…"."""
    return text if len(text) <= width else text[:width - 1] + "…"


def ports_text(ports: list) -> str:
    """The PORTS column as the docker CLI's DisplayablePorts writes it: ports sorted
    by (container port, address, host port, proto); unpublished ones and those
    published on the same port number grouped into ranges ("7000-7001/tcp",
    "0.0.0.0:8000-8001->8000-8001/tcp") first, then each other mapping
    ("0.0.0.0:18080->80/tcp, :::18080->80/tcp")."""
    ports = sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP") or "",
                                         p.get("PublicPort") or 0, p.get("Type") or ""))
    groups: dict = {}  # key -> [first, last], in the order the keys appeared
    result: list[str] = []
    mappings: list[str] = []
    for p in ports:
        cur, key = p.get("PrivatePort", 0), p.get("Type") or ""
        if p.get("IP"):
            if (p.get("PublicPort") or 0) != cur:
                mappings.append(f"{p['IP']}:{p.get('PublicPort') or 0}->{cur}/{key}")
                continue
            key = f"{p['IP']}/{key}"
        g = groups.get(key)
        if g is None:
            groups[key] = [cur, cur]
        elif cur == g[1] + 1:
            g[1] = cur
        else:
            result.append(_port_group(key, *g))
            groups[key] = [cur, cur]
    result += [_port_group(k, *g) for k, g in groups.items()]
    return ", ".join(result + mappings)


def _port_group(key: str, first: int, last: int) -> str:
    ip, _, proto = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{ip}:{group}->{group}"
    return f"{group}/{proto}"


def go_time(unix: int) -> str:
    """Go's time.Unix(s, 0).String(): local time, "2006-01-02 15:04:05 -0700 MST"."""
    t = datetime.fromtimestamp(unix).astimezone()
    return t.strftime("%Y-%m-%d %H:%M:%S %z ") + (t.tzname() or "")


def human_size(size: float) -> str:
    """Docker's units.HumanSizeWithPrecision(size, 3): decimal units, "12.3kB"."""
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.3g}{units[i]}"


def size_text(c: dict) -> str:
    rw, root = c.get("SizeRw", 0) or 0, c.get("SizeRootFs", 0) or 0
    return f"{human_size(rw)} (virtual {human_size(root)})" if root > 0 else human_size(rw)


def labels_text(labels: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def ps_row(c: dict, now: float | None = None, trunc: bool = True) -> dict:
    """The `ps --format` fields of one ContainerSummary."""
    now = time.time() if now is None else now
    command = c.get("Command") or ""
    names = [n[1:] if n.startswith("/") else n for n in c.get("Names") or []]
    return {
        "ID": c["Id"][:12] if trunc else c["Id"],
        "Image": c.get("Image", ""),
        "Command": '"' + (ellipsis(command, 20) if trunc else command) + '"',
        "CreatedAt": go_time(c["Created"]),
        "RunningFor": human_duration(now - c["Created"]) + " ago",
        "Status": c.get("Status", ""),
        "Ports": ports_text(c.get("Ports") or []),
        "Names": ",".join(n for n in names if not trunc or "/" not in n),
        "State": c.get("State", ""),
        "Networks": ",".join(sorted((c.get("NetworkSettings") or {}).get("Networks") or {})),
        "Labels": labels_text(c.get("Labels")),
        "Mounts": ",".join(m.get("Name") or m.get("Source", "") for m in c.get("Mounts") or []),
        "Size": size_text(c),
    }


# ---- network ls -------------------------------------------------------------------------

def network_row(n: dict, trunc: bool = True) -> dict:
    """The `network ls --format` fields of one network of the list."""
    return {"ID": n["Id"][:12] if trunc else n["Id"], "Name": n["Name"], "Driver": n["Driver"],
            "Scope": n["Scope"], "IPv6": str(bool(n.get("EnableIPv6"))).lower(),
            "Internal": str(bool(n.get("Internal"))).lower(), "CreatedAt": n["Created"],
            "Labels": labels_text(n.get("Labels"))}

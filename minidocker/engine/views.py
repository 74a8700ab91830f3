"""Docker-shaped JSON views of networks and containers (pure: state in, dicts out):
inspect, and the list entries (ContainerSummary) the CLI formats its rows from.

Shapes follow Docker 20.10 (shared/reference/docker-20.10-inspect.md).
"""
import functools
import os
import time

from minidocker.engine import health, port_binding
from minidocker.engine.resources import host_config_view
from minidocker.engine.models import Container, Endpoint, Network
from minidocker.ids import human_duration, parse_time

ZERO_TIME = "0001-01-01T00:00:00Z"


def network_inspect(n: Network, containers: list[Container]) -> dict:
    config = []
    if n.driver == "bridge":
        config.append(dict(n.ipam_config) or {"Subnet": n.subnet, "Gateway": n.gateway})
    attached = {}
    for c in containers:
        if c.status != "running":
            continue
        if n.driver == "bridge" and n.id in c.endpoints:
            ep = Endpoint.from_dict(c.endpoints[n.id])
            attached[c.id] = {"Name": c.name, "EndpointID": ep.id, "MacAddress": ep.mac,
                              "IPv4Address": f"{ep.ip}/{ep.prefixlen}", "IPv6Address": ""}
        elif (n.driver == "host" and c.network_mode == "host") or \
                (n.driver == "null" and c.network_mode == "none" and c.mode_network != "left"):
            attached[c.id] = {"Name": c.name, "EndpointID": c.sandbox_id or c.id, "MacAddress": "",
                              "IPv4Address": "", "IPv6Address": ""}
    return {
        "Name": n.name, "Id": n.id, "Created": n.created, "Scope": "local", "Driver": n.driver,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": n.ipam_options, "Config": config},
        "Internal": n.internal, "Attachable": n.attachable, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
        "Containers": attached, "Options": dict(n.options), "Labels": dict(sorted(n.labels.items())),
    }


def _endpoint_settings(n: Network, ep: Endpoint, running: bool) -> dict:
    return {
        "IPAMConfig": ({"IPv4Address": ep.static_ip} if ep.static_ip else ({} if not n.builtin else None)),
        "Links": None,
        "Aliases": (list(ep.aliases) or (None if not ep.joined and not running else [])
                    if not n.builtin else None),
        "NetworkID": n.id if running or ep.joined else "",
        "EndpointID": ep.id if running else "",
        "Gateway": ep.gateway if running else "",
        "IPAddress": ep.ip if running else "",
        "IPPrefixLen": ep.prefixlen if running else 0,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "MacAddress": ep.mac if running else "",
        "DriverOpts": None if n.builtin else {},
    }


def _networks(c: Container, networks: dict, running: bool) -> tuple[dict, dict]:
    """NetworkSettings.Networks (name -> EndpointSettings), and the default
    bridge's endpoint that inspect also shows at the top of NetworkSettings."""
    nets = {}
    primary = {"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": ""}
    for nid, epd in c.endpoints.items():
        ep = Endpoint.from_dict(epd)
        n = networks.get(nid)
        if n is None:  # removed while the container was stopped: Docker still shows it
            if running or not ep.network_name:
                continue
            n = Network(id=nid, name=ep.network_name, driver="bridge", created="")
        nets[n.name] = _endpoint_settings(n, ep, running)
        if n.builtin and running:
            primary = {"EndpointID": ep.id, "Gateway": ep.gateway, "IPAddress": ep.ip,
                       "IPPrefixLen": ep.prefixlen, "MacAddress": ep.mac}
    pending = c.pending_network.get("NetworkMode", "") if c.pending_network else ""
    if pending and pending not in ("host", "none", "default") and not pending.startswith("container:"):
        ip, aliases = c.pending_network.get("IP"), c.pending_network.get("Aliases")
        nets[pending] = {"IPAMConfig": {"IPv4Address": ip} if ip else None, "Links": None,
                         "Aliases": list(aliases) if aliases else None, "NetworkID": "", "EndpointID": "",
                         "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                         "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "",
                         "DriverOpts": None}  # a network only start settles, as Docker shows it till then
    if c.network_mode in ("host", "none") and c.mode_network != "left":
        n = next((x for x in networks.values() if x.builtin and x.name == c.network_mode), None)
        if n is not None:
            again = c.mode_network == "connected"  # as `network connect` configures an endpoint
            nets[n.name] = {"IPAMConfig": {} if again else None, "Links": None, "Aliases": [] if again else None,
                            "NetworkID": n.id, "EndpointID": c.sandbox_id if running else "", "Gateway": "",
                            "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
                            "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DriverOpts": {} if again else None}
    return nets, primary


def etc_paths(c: Container, bundle: str) -> dict:
    """ResolvConfPath, HostnamePath and HostsPath as Docker 20.10 shows them: empty
    until the first start writes the files; for --network container:X, X's files
    (which the container binds)."""
    if c.started_at in ("", ZERO_TIME):
        return {"ResolvConfPath": "", "HostnamePath": "", "HostsPath": ""}
    bundle = os.path.join(os.path.dirname(bundle), c.etc_owner())
    return {"ResolvConfPath": os.path.join(bundle, "resolv.conf"), "HostnamePath": os.path.join(bundle, "hostname"),
            "HostsPath": os.path.join(bundle, "hosts")}


def container_inspect(c: Container, networks: dict, image_id: str, bundle: str,
                      image_rootfs: str = "") -> dict:
    running = c.status == "running"
    nets, primary = _networks(c, networks, running)
    status = shown_status(c)
    return {
        "Id": c.id, "Created": c.created, "Path": c.argv[0] if c.argv else "", "Args": c.argv[1:],
        "State": {"Status": status, "Running": running or status == "restarting", "Paused": status == "paused",
                  "Restarting": status == "restarting",
                  "OOMKilled": c.oom_killed, "Dead": False, "Pid": c.pid if running else 0,
                  "ExitCode": c.exit_code, "Error": c.error, "StartedAt": c.started_at,
                  "FinishedAt": c.finished_at, **({"Health": c.health} if c.health else {})},
        "Image": image_id,
        **etc_paths(c, bundle),
        "LogPath": os.path.join(bundle, "container.log"),
        "Name": "/" + c.name, "RestartCount": c.restart_count, "Driver": "overlay", "Platform": "linux",
        "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": list(c.exec_ids) or None,
        "HostConfig": _host_config(c),
        "GraphDriver": {
            "Data": {"LowerDir": image_rootfs, "MergedDir": os.path.join(bundle, "merged"),
                     "UpperDir": os.path.join(bundle, "upper"), "WorkDir": os.path.join(bundle, "work")},
            "Name": "overlay"},
        "Mounts": mount_views(c),
        "Config": {
            "Hostname": c.hostname, "Domainname": "", "User": c.user, "AttachStdin": c.attach[0],
            "AttachStdout": c.attach[1], "AttachStderr": c.attach[2],
            **({"ExposedPorts": go_map(c.exposed_ports)} if c.exposed_ports else {}),
            "Tty": c.tty, "OpenStdin": c.open_stdin,
            "StdinOnce": c.stdin_once, "Env": list(c.env), "Cmd": list(c.cmd) if c.cmd else None,
            **({"Healthcheck": dict(c.healthcheck)} if c.healthcheck is not None else {}), "Image": c.image,
            "Volumes": c.config_volumes or None, "WorkingDir": c.workdir, "Entrypoint": list(c.entrypoint) if c.entrypoint else None,
            "OnBuild": None, "Labels": dict(c.labels), **_stop_settings(c),
            **({"MacAddress": c.mac_address} if c.mac_address else {}),
        },
        "NetworkSettings": {
            "Bridge": "", "SandboxID": c.sandbox_id if running else "", "HairpinMode": False,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": _ports_view(c) if running and not port_binding.only_internal(c, networks) else {},
            "SandboxKey": (c.netns if running and c.netns else ""),
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": primary["EndpointID"], "Gateway": primary["Gateway"],
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "IPAddress": primary["IPAddress"], "IPPrefixLen": primary["IPPrefixLen"],
            "IPv6Gateway": "", "MacAddress": primary["MacAddress"],
            "Networks": nets,
        },
    }


# Docker 20.10's HostConfig, in its order; minidocker honours the network, DNS,
# port and removal settings, the rest are Docker's defaults for a plain `run`.
MASKED_PATHS = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def mount_views(c: Container) -> list:
    """Mounts as inspect and the container list show them (--tmpfs ones are not)."""
    from minidocker.engine.mounts import inspect_view
    return [v for v in (inspect_view(p) for p in c.mounts or []) if v is not None]


def _host_config(c: Container) -> dict:
    return {
        "Binds": c.binds, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}},
        "NetworkMode": c.network_mode, "PortBindings": go_map({k: [dict(b) for b in v] for k, v in c.port_bindings.items()}),
        "RestartPolicy": dict(c.restart_policy), "AutoRemove": c.auto_remove,
        "VolumeDriver": "", "VolumesFrom": None, "CapAdd": None, "CapDrop": None, "CgroupnsMode": "host",
        "Dns": list(c.dns), "DnsOptions": list(c.dns_options), "DnsSearch": list(c.dns_search),
        "ExtraHosts": list(c.extra_hosts) or None, "GroupAdd": None, "IpcMode": "private", "Cgroup": "",
        "Links": None, "OomScoreAdj": 0, "PidMode": "", "Privileged": False, "PublishAllPorts": c.publish_all,
        "ReadonlyRootfs": c.readonly_rootfs, "SecurityOpt": None, **({"Tmpfs": dict(c.tmpfs)} if c.tmpfs else {}),
        "UTSMode": "", "UsernsMode": "", "ShmSize": 67108864,
        "Runtime": "minidocker", "ConsoleSize": [0, 0], "Isolation": "", "CpuShares": 0, "Memory": 0,
        "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": None,
        "BlkioDeviceWriteBps": None, "BlkioDeviceReadIOps": None, "BlkioDeviceWriteIOps": None, "CpuPeriod": 0,
        "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
        "Devices": [], "DeviceCgroupRules": None, "DeviceRequests": None, "KernelMemory": 0,
        "KernelMemoryTCP": 0, "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": None,
        "OomKillDisable": False, "PidsLimit": None, "Ulimits": None, "CpuCount": 0, "CpuPercent": 0,
        "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        **({"Mounts": [dict(m) for m in c.host_mounts]} if c.host_mounts else {}), "MaskedPaths": list(MASKED_PATHS),
        "ReadonlyPaths": list(READONLY_PATHS), **({"Init": c.init} if c.init is not None else {}),
        **host_config_view(c.resources),
    }


def _stop_settings(c: Container) -> dict:
    return {k: v for k, v in (("StopSignal", c.stop_signal), ("StopTimeout", c.stop_timeout)) if v not in ("", None)}


def _ports_view(c: Container) -> dict:
    """NetworkSettings.Ports while it runs: every exposed port, with its host
    bindings (or null); {} otherwise, as Docker."""
    if c.status != "running":
        return {}
    out: dict = {k: None for k in c.exposed_ports}
    for cport, proto, hip, hport in port_binding.items(c.active_ports):
        out.setdefault(f"{cport}/{proto}", None)
        out[f"{cport}/{proto}"] = (out[f"{cport}/{proto}"] or []) + [{"HostIp": hip or "0.0.0.0", "HostPort": hport}]
    return go_map(out)


def go_map(d: dict) -> dict:
    """A Go map as encoding/json writes it: keys in byte order ("7000/tcp" before "80/tcp")."""
    return {k: d[k] for k in sorted(d)}


def _summary_ports(c: Container) -> list:
    """ContainerSummary.Ports: each host binding, then each exposed port without one."""
    out = [{"IP": hip or "0.0.0.0", "PrivatePort": cport, "PublicPort": int(hport), "Type": proto}
           for cport, proto, hip, hport in port_binding.items(c.active_ports)]
    for key in c.exposed_ports:
        if not c.active_ports.get(key):
            port, _, proto = key.partition("/")
            out.append({"PrivatePort": int(port), "Type": proto or "tcp"})
    return out


# ---- container list (ContainerSummary) --------------------------------------------

def shown_status(c: Container) -> str:
    """State.Status: a frozen running container is "paused"."""
    return "paused" if c.status == "running" and c.paused else c.status


@functools.lru_cache(maxsize=4096)
def _shell_word(arg: str) -> str:
    """Docker's ps shows each argument shell-quoted when it needs it (cached: `ps`
    quotes every argument of every container, and most are the same few words)."""
    if arg and all(ch.isalnum() or ch in "@%+=:,./-_" for ch in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def status_text(c: Container, now: float) -> str:
    """The daemon's human state: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created"."""
    if c.status == "running":
        return "Up " + human_duration(now - parse_time(c.started_at)) + (" (Paused)" if c.paused else health.ps_suffix(c))
    if c.status == "restarting":
        return f"Restarting ({c.exit_code}) {human_duration(now - parse_time(c.finished_at))} ago"
    if c.status == "exited":
        return f"Exited ({c.exit_code}) {human_duration(now - parse_time(c.finished_at))} ago"
    return "Created"


def container_summary(c: Container, networks: dict, now: float | None = None,
                      sizes: tuple[int, int] | None = None) -> dict:
    """One entry of `GET /containers/json` (Docker's ContainerSummary); ``sizes``
    (writable layer, whole root filesystem) when the client asked for them."""
    now = time.time() if now is None else now
    running = c.status == "running"
    out = {
        "Id": c.id, "Names": ["/" + c.name], "Image": c.image, "ImageID": c.image_id,
        "Command": " ".join(_shell_word(a) for a in c.argv), "Created": int(parse_time(c.created)),
        "Ports": _summary_ports(c) if running else [],
        "Labels": dict(c.labels), "State": shown_status(c), "Status": status_text(c, now),
        "HostConfig": {"NetworkMode": c.network_mode},
        "NetworkSettings": {"Networks": _networks(c, networks, running)[0]},
        "Mounts": mount_views(c),
    }
    if sizes is not None:
        out["SizeRw"], out["SizeRootFs"] = sizes
    return out

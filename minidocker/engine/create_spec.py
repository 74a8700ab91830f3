"""`POST /containers/create`: Docker's body (Config at the top level, HostConfig,
NetworkingConfig) checked as Docker's JSON decoder checks it, and read into
what create needs.

Types are checked the way Go's encoding/json reports them (status 500, e.g.
``json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image
of type string``); unknown keys are ignored. Cmd and Entrypoint are Docker's
strslice: a list of strings, or one string that becomes a one-element list.
"""
from minidocker.engine import health_config
from minidocker.errors import DecodeError, InvalidArgument
from minidocker.validation import go_json_kind

_GO = {str: "string", bool: "bool", list: "[]string", dict: "map[string]struct {}", int: "int"}

CONFIG = {"Hostname": str, "Domainname": str, "User": str, "AttachStdin": bool, "AttachStdout": bool,
          "AttachStderr": bool, "Tty": bool, "OpenStdin": bool, "StdinOnce": bool, "Env": list,
          "Cmd": "strslice", "Entrypoint": "strslice", "Image": str, "WorkingDir": str, "Labels": dict,
          "ExposedPorts": dict, "MacAddress": str, "NetworkDisabled": bool, "StopSignal": str,
          "Volumes": dict, "StopTimeout": int}
HOST = {"NetworkMode": str, "PortBindings": dict, "PublishAllPorts": bool, "Dns": list, "DnsSearch": list,
        "DnsOptions": list, "ExtraHosts": list, "AutoRemove": bool, "RestartPolicy": dict, "Binds": list,
        "Tmpfs": dict, "ReadonlyRootfs": bool, "Init": bool,
        "Memory": int, "MemorySwap": int, "MemoryReservation": int, "NanoCpus": int, "CpuShares": int,
        "CpuPeriod": int, "CpuQuota": int, "PidsLimit": int}


def _check(where: str, body: dict, schema: dict) -> None:
    for key, want in schema.items():
        v = body.get(key)
        if v is None:
            continue
        if want == "strslice":
            if isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                continue
            bad = v if not isinstance(v, list) else next(x for x in v if not isinstance(x, str))
            raise DecodeError(f"json: cannot unmarshal {go_json_kind(bad)} into Go value of type string")
        ok = isinstance(v, want) and not (want is not bool and isinstance(v, bool))
        if ok and want is list:
            ok = all(isinstance(x, str) for x in v)
            if not ok:
                bad = next(x for x in v if not isinstance(x, str))
                raise DecodeError(f"json: cannot unmarshal {go_json_kind(bad)} into Go struct field "
                                  f"{where}.{key} of type string")
        if not ok:
            raise DecodeError(f"json: cannot unmarshal {go_json_kind(v)} into Go struct field "
                              f"{where}.{key} of type {_GO[want]}")


def _strslice(v) -> list | None:
    if v is None:
        return None
    return [v] if isinstance(v, str) else list(v)


def parse(body, name: str = "") -> dict:
    """Docker's create body -> the settings create() applies (keys below)."""
    if not isinstance(body, dict) or not body:
        raise InvalidArgument("Config cannot be empty in order to create a container")
    host = body.get("HostConfig") or {}
    if not isinstance(host, dict):
        raise DecodeError(f"json: cannot unmarshal {go_json_kind(host)} into Go struct field "
                          "ContainerConfigWrapper.HostConfig of type container.HostConfig")
    _check("ContainerConfigWrapper", body, CONFIG)
    _check("ContainerConfigWrapper.HostConfig", host, HOST)
    net_cfg = body.get("NetworkingConfig") or {}
    eps = net_cfg.get("EndpointsConfig") if isinstance(net_cfg, dict) else None
    mode = host.get("NetworkMode") or "default"
    endpoint = {}
    if isinstance(eps, dict):  # docker-py 7 sends {"<net>": null} beside it: ignored, as Docker does
        endpoint = eps.get(mode) or (next(iter(eps.values()), None) if len(eps) == 1 else None) or {}
    ipam = endpoint.get("IPAMConfig") or {} if isinstance(endpoint, dict) else {}
    bindings = {}
    for key, binds in (host.get("PortBindings") or {}).items():
        bindings[_port_key(key)] = [{"HostIp": (b or {}).get("HostIp") or "",
                                     "HostPort": str((b or {}).get("HostPort") or "")} for b in (binds or [{}])]
    exposed = {_port_key(k): {} for k in (body.get("ExposedPorts") or {})}
    for key in bindings:
        exposed.setdefault(key, {})
    # -P (PublishAllPorts) stays a flag: HostConfig.PortBindings shows what was asked
    return {
        "Name": name, "Image": body.get("Image") or "",
        "Cmd": _strslice(body.get("Cmd")), "Entrypoint": _strslice(body.get("Entrypoint")),
        "Env": list(body.get("Env") or []), "WorkingDir": body.get("WorkingDir") or "",
        "Hostname": body.get("Hostname") or None, "Domainname": body.get("Domainname") or "",
        "User": body.get("User") or "",
        "Tty": bool(body.get("Tty")), "OpenStdin": bool(body.get("OpenStdin")),
        "StdinOnce": bool(body.get("StdinOnce")),
        "Attach": [bool(body.get(k)) for k in ("AttachStdin", "AttachStdout", "AttachStderr")],
        "Labels": dict(body.get("Labels") or {}), "ExposedPorts": exposed,
        "MacAddress": body.get("MacAddress") or "", "StopSignal": body.get("StopSignal") or "",
        "NetworkMode": mode, "PortBindings": bindings, "PublishAllPorts": bool(host.get("PublishAllPorts")),
        "Dns": list(host.get("Dns") or []), "DnsSearch": list(host.get("DnsSearch") or []),
        "DnsOptions": list(host.get("DnsOptions") or []), "ExtraHosts": list(host.get("ExtraHosts") or []),
        "AutoRemove": bool(host.get("AutoRemove")),
        "RestartPolicy": host.get("RestartPolicy") or {"Name": "no", "MaximumRetryCount": 0},
        "Binds": host.get("Binds"),
        "Mounts": _mounts(host.get("Mounts")), "Tmpfs": host.get("Tmpfs") or None,
        "ReadonlyRootfs": bool(host.get("ReadonlyRootfs")), "Volumes": body.get("Volumes") or None,
        "IP": ipam.get("IPv4Address") or "" if isinstance(ipam, dict) else "",
        "Aliases": list(endpoint.get("Aliases") or []) if isinstance(endpoint, dict) else [],
        # verbs (issue 11): health checks, stop signal/timeout, --init
        "Healthcheck": health_config.check(body.get("Healthcheck")),
        "StopTimeout": body.get("StopTimeout"), "Init": host.get("Init"),
    }


def _mounts(v) -> list | None:
    if v is None:
        return None
    if not isinstance(v, list) or not all(isinstance(m, dict) for m in v):
        raise DecodeError(f"json: cannot unmarshal {go_json_kind(v)} into Go struct field "
                          "ContainerConfigWrapper.HostConfig.Mounts of type []mount.Mount")
    return v or None


def _port_key(key: str) -> str:
    """"80" -> "80/tcp", as nat.NewPort."""
    key = str(key)
    port, _, proto = key.partition("/")
    if not port.isdigit():
        raise InvalidArgument(f"invalid port specification: \"{key}\"")
    return f"{int(port)}/{(proto or 'tcp').lower()}"


def flat(**kw) -> dict:
    """Docker's body from flat settings (the engine's own callers and tests):
    Config keys as they are; HostConfig and endpoint keys moved in place."""
    body = {k: v for k, v in kw.items() if k in CONFIG}
    host = {k: v for k, v in kw.items() if k in HOST}
    if host:
        body["HostConfig"] = host
    if kw.get("IP") or kw.get("Aliases"):
        ep = {"Aliases": list(kw.get("Aliases") or [])}
        if kw.get("IP"):
            ep["IPAMConfig"] = {"IPv4Address": kw["IP"]}
        body["NetworkingConfig"] = {"EndpointsConfig": {host.get("NetworkMode") or "default": ep}}
    return body

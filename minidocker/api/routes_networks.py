"""Network routes (Docker's /networks), and minidocker's own `network check` and
`network graph` under the /minidocker prefix. Each parses (bodies as dockerd's Go
structs, see schema.py), makes one Engine call, and answers in Docker's shapes."""
import time

from minidocker.engine import filters as flt
from minidocker.engine import inspection, queries
from minidocker.api.router import Routes, check_json, json_query
from minidocker.api.schema import ListOf, MapOf, Struct, decode
from minidocker.errors import Exhausted, InvalidArgument, NotFound

routes = Routes()

STRINGS = MapOf("string")
IPAM_CONFIG = Struct("IPAMConfig", "network.IPAMConfig", {
    "Subnet": "string", "IPRange": "string", "Gateway": "string", "AuxiliaryAddresses": STRINGS})
IPAM = Struct("IPAM", "*network.IPAM", {"Driver": "string", "Options": STRINGS, "Config": ListOf(IPAM_CONFIG)})
CREATE = Struct("NetworkCreateRequest", "types.NetworkCreateRequest", {
    "Name": "string", "CheckDuplicate": "bool", "Driver": "string", "Scope": "string", "EnableIPv6": "bool",
    "IPAM": IPAM, "Internal": "bool", "Attachable": "bool", "Ingress": "bool", "ConfigOnly": "bool",
    "ConfigFrom": Struct("ConfigReference", "*network.ConfigReference", {"Network": "string"}),
    "Options": STRINGS, "Labels": STRINGS})
ENDPOINT = Struct("EndpointSettings", "*network.EndpointSettings", {
    "IPAMConfig": Struct("EndpointIPAMConfig", "*network.EndpointIPAMConfig", {
        "IPv4Address": "string", "IPv6Address": "string", "LinkLocalIPs": ListOf("string")}),
    "Links": ListOf("string"), "Aliases": ListOf("string"), "NetworkID": "string", "EndpointID": "string",
    "Gateway": "string", "IPAddress": "string", "IPPrefixLen": "int", "IPv6Gateway": "string",
    "GlobalIPv6Address": "string", "GlobalIPv6PrefixLen": "int", "MacAddress": "string",
    "DriverOpts": STRINGS})
CONNECT = Struct("NetworkConnect", "types.NetworkConnect", {"Container": "string", "EndpointConfig": ENDPOINT})
DISCONNECT = Struct("NetworkDisconnect", "types.NetworkDisconnect", {"Container": "string", "Force": "bool"})
CHECK = Struct("Check", "minidocker.Check", {"Networks": ListOf("string"), "Timeout": "float64"})


def _body(req, schema: Struct) -> dict:
    check_json(req)
    return decode(req.body, schema)


@routes("GET", r"/networks")
def networks_list(e, req):
    return 200, queries.networks(e, json_query(req, "filters"))


@routes("GET", r"/networks/(?P<ref>[^/]+)")
def networks_inspect(e, req, ref):
    """``verbose`` changes nothing for local networks; another ``scope`` finds none."""
    if req.arg("scope", "") not in ("", "local"):
        raise NotFound(f"network {ref} not found")
    return 200, queries.network(e, ref)


@routes("POST", r"/networks/create")
def networks_create(e, req):
    b = _body(req, CREATE)
    if b.get("EnableIPv6"):
        raise Exhausted("could not find an available, non-overlapping IPv6 address pool among the "
                        "defaults to assign to the network")
    ipam = b.get("IPAM") or {}
    if (ipam.get("Driver") or "default") != "default":
        raise NotFound(f'plugin "{ipam["Driver"]}" not found')
    cfg = [c or {} for c in ipam.get("Config") or []] or [{}]
    if len(cfg) > 1:
        raise InvalidArgument("multiple subnets are not supported")
    c0 = cfg[0]
    name = b.get("Name") or ""
    check = b.get("CheckDuplicate") is True
    same = queries.network_ids_named(e, name)
    n = e.net.create(name, driver=b.get("Driver") or "bridge", subnet=c0.get("Subnet") or "",
                     gateway=c0.get("Gateway") or "", ip_range=c0.get("IPRange") or "",
                     aux=c0.get("AuxiliaryAddresses") or {}, internal=bool(b.get("Internal")),
                     labels=b.get("Labels") or {}, options=b.get("Options") or {}, check_duplicate=check,
                     attachable=bool(b.get("Attachable")), ipam_options=ipam.get("Options"))
    warning = f"Network with name {name} (id : {same[0]}) already exists" if same and not check else ""
    return 201, {"Id": n.id, "Warning": warning}


@routes("DELETE", r"/networks/(?P<ref>[^/]+)")
def networks_remove(e, req, ref):
    e.net.remove(ref)
    return 204, None


@routes("POST", r"/networks/prune")
def networks_prune(e, req):
    keep = flt.prune_filters(json_query(req, "filters"), time.time())
    return 200, {"NetworksDeleted": e.net.prune(keep) or None}


@routes("POST", r"/networks/(?P<ref>[^/]+)/connect")
def networks_connect(e, req, ref):
    b = _body(req, CONNECT)
    epc = b.get("EndpointConfig") or {}
    ip = (epc.get("IPAMConfig") or {}).get("IPv4Address") or ""
    e.net.connect(ref, b.get("Container") or "", ip=ip, aliases=epc.get("Aliases") or [])
    return 200, None


@routes("POST", r"/networks/(?P<ref>[^/]+)/disconnect")
def networks_disconnect(e, req, ref):
    b = _body(req, DISCONNECT)
    e.net.disconnect(ref, b.get("Container") or "", force=bool(b.get("Force")))
    return 200, None


# ---- minidocker's own -----------------------------------------------------------------

@routes("POST", r"/minidocker/check")
def networks_check(e, req):
    b = decode(req.body, CHECK) if req.body.strip() else {}
    return 200, inspection.check(e, b.get("Networks") or [], timeout=float(b.get("Timeout") or 0.5))


@routes("GET", r"/minidocker/graph")
def networks_graph(e, req):
    return 200, inspection.graph(e, req.arg("format", "text"))

"""Network routes (Docker's /networks), and minidocker's own `network check` and
`network graph` under the /minidocker prefix. Each parses, makes one Engine call,
and answers in Docker's shapes."""
from minidocker.engine import inspection, queries
from minidocker.api.router import Routes, json_query
from minidocker.errors import Exhausted, InvalidArgument

routes = Routes()


@routes("GET", r"/networks")
def networks_list(e, req):
    return 200, queries.networks(e, json_query(req, "filters"))


@routes("GET", r"/networks/(?P<ref>[^/]+)")
def networks_inspect(e, req, ref):
    return 200, queries.network(e, ref)


@routes("POST", r"/networks/create")
def networks_create(e, req):
    b = req.json()
    if b.get("EnableIPv6"):
        raise Exhausted("could not find an available, non-overlapping IPv6 address pool among the "
                        "defaults to assign to the network")
    cfg = (b.get("IPAM") or {}).get("Config") or [{}]
    if len(cfg) > 1:
        raise InvalidArgument("multiple subnets are not supported")
    c0 = cfg[0]
    n = e.net.create(b.get("Name", ""), driver=b.get("Driver") or "bridge", subnet=c0.get("Subnet", ""),
                     gateway=c0.get("Gateway", ""), ip_range=c0.get("IPRange", ""),
                     aux=c0.get("AuxiliaryAddresses") or {}, internal=bool(b.get("Internal")),
                     labels=b.get("Labels") or {}, options=b.get("Options") or {})
    return 201, {"Id": n.id, "Warning": ""}


@routes("DELETE", r"/networks/(?P<ref>[^/]+)")
def networks_remove(e, req, ref):
    e.net.remove(ref)
    return 204, None


@routes("POST", r"/networks/prune")
def networks_prune(e, req):
    return 200, {"NetworksDeleted": e.net.prune()}


@routes("POST", r"/networks/(?P<ref>[^/]+)/connect")
def networks_connect(e, req, ref):
    b = req.json()
    epc = b.get("EndpointConfig") or {}
    ip = (epc.get("IPAMConfig") or {}).get("IPv4Address", "")
    e.net.connect(ref, b.get("Container", ""), ip=ip, aliases=epc.get("Aliases") or [])
    return 200, None


@routes("POST", r"/networks/(?P<ref>[^/]+)/disconnect")
def networks_disconnect(e, req, ref):
    b = req.json()
    e.net.disconnect(ref, b.get("Container", ""), force=bool(b.get("Force")))
    return 200, None


# ---- minidocker's own -----------------------------------------------------------------

@routes("POST", r"/minidocker/check")
def networks_check(e, req):
    b = req.json()
    return 200, inspection.check(e, b.get("Networks") or [], timeout=float(b.get("Timeout") or 0.5))


@routes("GET", r"/minidocker/graph")
def networks_graph(e, req):
    return 200, inspection.graph(e, req.arg("format", "text"))

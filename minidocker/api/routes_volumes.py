"""Volume routes (Docker's /volumes): list with filters, create, inspect, remove, prune."""
from minidocker.api.router import Routes, check_json, json_query
from minidocker.engine import volume_verbs

routes = Routes()


@routes("GET", r"/volumes")
def volumes_list(e, req):
    return 200, volume_verbs.listing(e, json_query(req, "filters"))


@routes("POST", r"/volumes/create")
def volumes_create(e, req):
    check_json(req)
    return 201, volume_verbs.create(e, req.json() or {})


@routes("POST", r"/volumes/prune")
def volumes_prune(e, req):
    return 200, volume_verbs.prune(e, json_query(req, "filters"))


@routes("GET", r"/volumes/(?P<name>[^/]+)")
def volumes_inspect(e, req, name):
    return 200, volume_verbs.inspect(e, name)


@routes("DELETE", r"/volumes/(?P<name>[^/]+)")
def volumes_remove(e, req, name):
    volume_verbs.remove(e, name, force=req.flag("force"))
    return 204, None

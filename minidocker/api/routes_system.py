"""The daemon itself: `_ping` (every docker CLI command starts with `HEAD /_ping`),
`version` (docker-py and compose negotiate the API version with it), `info`."""
from minidocker.api.router import Raw, Routes
from minidocker.engine import system
from minidocker.errors import NotFound

routes = Routes()

PING_HEADERS = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
                "Content-Type": "text/plain; charset=utf-8"}


@routes("GET", r"/_ping")
def ping(e, req):
    return 200, Raw(b"OK", PING_HEADERS)


@routes("HEAD", r"/_ping")
def ping_head(e, req):
    return 200, Raw(b"", PING_HEADERS)


@routes("GET", r"/version")
def version(e, req):
    return 200, system.version()


@routes("GET", r"/info")
def info(e, req):
    return 200, system.info(e, e.events.listeners)


# ---- objects minidocker has none of (the docker CLI's `inspect` asks for each) ------

@routes("GET", r"/volumes")
def volumes_list(e, req):
    return 200, {"Volumes": [], "Warnings": None}


@routes("GET", r"/volumes/(?P<name>[^/]+)")
def volumes_inspect(e, req, name):
    raise NotFound(f"get {name}: no such volume")


@routes("GET", r"/plugins")
def plugins_list(e, req):
    return 200, []


@routes("GET", r"/plugins/(?P<name>.+)/json")
def plugins_inspect(e, req, name):
    raise NotFound(f'plugin "{name}" not found')

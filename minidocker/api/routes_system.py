"""The daemon itself: `_ping` (Docker's clients also ask `version` and `info`)."""
from minidocker.api.router import Routes

routes = Routes()


@routes("GET", r"/_ping")
def ping(e, req):
    return 200, "OK"

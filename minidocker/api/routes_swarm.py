"""Swarm-mode endpoints, answered as a Docker node that is in no swarm answers
them (503, moby's errNoSwarm / errSwarmNotManager texts): clients that probe them
(docker-py's tests, compose, `docker info`-driven tools) carry on."""
from minidocker.api.router import Routes
from minidocker.errors import MinidockerError

NOT_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect '
               'this node to swarm and try again.')
NOT_IN_SWARM = "This node is not part of a swarm"


class SwarmUnavailable(MinidockerError):
    status = 503

routes = Routes()

_RESOURCES = r"/(?:swarm|swarm/unlockkey|services|services/[^/]+|services/[^/]+/logs|nodes|nodes/[^/]+|tasks|tasks/[^/]+|tasks/[^/]+/logs|secrets|secrets/[^/]+|configs|configs/[^/]+)"
_WRITES = r"/(?:swarm/update|services/create|services/[^/]+/update|nodes/[^/]+/update|secrets/create|secrets/[^/]+/update|configs/create|configs/[^/]+/update)"


def _not_manager(e, req):
    raise SwarmUnavailable(NOT_MANAGER)


def _not_in_swarm(e, req):
    raise SwarmUnavailable(NOT_IN_SWARM)


def _no_swarm_mode(e, req):
    raise SwarmUnavailable("minidocker does not run swarm mode: it cannot init or join a swarm")


routes("GET", _RESOURCES)(_not_manager)
routes("DELETE", r"/(?:services|nodes|secrets|configs)/[^/]+")(_not_manager)
routes("POST", _WRITES)(_not_manager)
routes("POST", r"/swarm/(?:leave|unlock)")(_not_in_swarm)
routes("POST", r"/swarm/(?:init|join)")(_no_swarm_mode)

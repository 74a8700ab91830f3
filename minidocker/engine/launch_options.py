"""What a container's start adds to its process spec for issue 11's verbs: the
user it runs as (Config.User, resolved from its own /etc/passwd and /etc/group)
and, with --init (HostConfig.Init), the static init that becomes its PID 1."""
import os
import shutil

from minidocker.engine import users
from minidocker.errors import StartError

# a static init, as Debian's tini package installs it (Docker's docker-init is tini)
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/docker-init")
INIT_IN_CONTAINER = "/sbin/docker-init"


def init_binary() -> str:
    path = os.environ.get("MINIDOCKER_INIT")
    for cand in ([path] if path else []) + list(INIT_CANDIDATES):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.realpath(cand)
    found = shutil.which("docker-init")
    if found:
        return os.path.realpath(found)
    raise StartError(125, 'exec: "docker-init": executable file not found in $PATH')


def for_run(c, bundle: str, image_rootfs: str) -> dict:
    """ContainerSpec keys: user, init, and the argv with the init in front."""
    out = {"user": users.run_credentials(c.user, os.path.join(bundle, "upper"), image_rootfs, c.env)}
    if c.init:
        out["init"] = init_binary()
        out["argv"] = [INIT_IN_CONTAINER, "--", *c.argv]
    return out

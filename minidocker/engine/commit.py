"""`docker commit` (POST /commit): a new image from a container, its writable
layer copied on top of the image's layers, its config (env, command, entrypoint,
working dir, labels, exposed ports) as the image's; `-m` and `-a` kept."""
from minidocker.engine.images import normalize
from minidocker.errors import InvalidArgument


def commit(e, ref: str, repo: str = "", tag: str = "", comment: str = "", author: str = "") -> dict:
    name = ""
    if repo:
        name = normalize(f"{repo}:{tag}" if tag else repo)
    elif tag:
        raise InvalidArgument("repository name must have at least one component")
    with e.lock:
        c = e.find_container(ref)
        parent = e.images.get_by_id(c.image_id)
        config = {"Env": list(c.env), "Cmd": list(c.cmd) if c.cmd else None,
                  "Entrypoint": list(c.entrypoint) if c.entrypoint else None, "WorkingDir": c.workdir,
                  "Labels": dict(c.labels), "ExposedPorts": dict(c.exposed_ports or {}),
                  "Hostname": c.hostname, "Image": c.image}
        meta = e.images.commit(parent, e.store.bundle(c.id) + "/upper", config, name, comment, author, c.id)
    return {"Id": meta["Id"]}

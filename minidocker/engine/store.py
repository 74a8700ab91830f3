"""JSON state under the state root, written atomically (tmp + os.replace).

    ROOT/networks/<id>.json
    ROOT/containers/<id>/config.json   (plus the container's bundle: etc files, log, overlay dirs)
    ROOT/images/<name>/rootfs/ and image.json
    ROOT/ipam.json                     (default-pool cursor)
"""
import json
import logging
import os
import threading

from minidocker.engine.models import Container, Network

log = logging.getLogger(__name__)


def write_json(path: str, data) -> None:
    """Write-to-temp, fsync, rename: a crash leaves the old or the new file, never half."""
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str, default=None):
    """A missing file is ``default``; a corrupt one is set aside (``.corrupt``) and
    reported, so one bad file cannot keep the daemon from starting."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default
    except (json.JSONDecodeError, UnicodeDecodeError) as ex:
        log.warning("ignoring corrupt state file %s: %s", path, ex)
        try:
            os.replace(path, path + ".corrupt")
        except OSError as ex2:
            log.warning("could not set %s aside: %s", path, ex2)
        return default


class Store:
    def __init__(self, root: str):
        self.root = root
        for sub in ("networks", "containers", "images"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)

    # networks
    def save_network(self, n: Network) -> None:
        write_json(os.path.join(self.root, "networks", f"{n.id}.json"), n.to_dict())

    def delete_network(self, net_id: str) -> None:
        try:
            os.unlink(os.path.join(self.root, "networks", f"{net_id}.json"))
        except FileNotFoundError:
            pass

    def load_networks(self) -> list[Network]:
        d = os.path.join(self.root, "networks")
        out = []
        for f in sorted(os.listdir(d)):
            data = read_json(os.path.join(d, f)) if f.endswith(".json") else None
            if data:
                out.append(Network.from_dict(data))
        return out

    # containers
    def bundle(self, cid: str) -> str:
        return os.path.join(self.root, "containers", cid)

    def save_container(self, c: Container) -> None:
        os.makedirs(self.bundle(c.id), exist_ok=True)
        write_json(os.path.join(self.bundle(c.id), "config.json"), c.to_dict())

    def load_containers(self) -> list[Container]:
        d = os.path.join(self.root, "containers")
        out = []
        for cid in sorted(os.listdir(d)):
            data = read_json(os.path.join(d, cid, "config.json"))
            if data:
                out.append(Container.from_dict(data))
        return out

    # misc
    def get(self, key: str, default=None):
        return read_json(os.path.join(self.root, "ipam.json"), {}).get(key, default)

    def put(self, key: str, value) -> None:
        path = os.path.join(self.root, "ipam.json")
        data = read_json(path, {})
        data[key] = value
        write_json(path, data)

    # images
    def image_dir(self, name: str) -> str:
        return os.path.join(self.root, "images", name.replace("/", "_"))

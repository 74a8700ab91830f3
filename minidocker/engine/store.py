"""JSON state under the state root, written atomically (tmp + os.replace).

    ROOT/networks/<id>.json
    ROOT/containers/<id>/config.json   (plus the container's bundle: etc files, log, overlay dirs;
                                        containers/ is a top directory for ext4: top_dir.py)
    ROOT/containers/<id>/ahead.json    (its latest write-ahead record: see below)
    ROOT/images/<name>/rootfs/ and image.json
    ROOT/ipam.json                     (default-pool cursor)

Durability. Every write is atomic (temp file + rename): a daemon that dies
mid-write leaves the old file or the new one, never half of one. Most writes
are also fsynced, so that they survive a power loss: a created container's
config, its final state after it ran or stopped, networks, images, volumes.

Write-ahead records are not fsynced (``durable=False``). They exist only so that
a restarted daemon can undo kernel state that a crashed one left behind (the
addresses and sandbox a start is about to plumb, the process handle recorded
before the process runs, the bridge a network create is about to make). Kernel state does not survive a reboot, so after a
power loss there is nothing for such a record to undo; and when only the
daemon's process dies, the kernel keeps its page cache, so the restarted daemon
reads the record all the same. The next durable write of the same file (the
final state of the start) fsyncs it along with everything written before.

A container's write-ahead records go to ``ahead.json`` in its bundle, rewritten
in place (one write of under a page; padded with spaces over a longer record,
then cut), not to a temporary file renamed over config.json: such a rename makes
ext4 start writing the new file out (auto_da_alloc), and on a file system
without a journal every new inode is looked for past the inodes deleted in the
last minute or more: both costs grow with the rate of starts (scripts/bench
--scale). Every save of a container carries a counter (``Saved``); loading takes
the record with the higher one, so a later durable save wins over an earlier
record and a record over the durable state it was written after. A record that
cannot be read is set aside and the durable state stands.
The default pool's cursor is not fsynced either: it only spreads automatic
subnets over the pools (Docker keeps it in memory only), and a subnet is
checked against those in use whatever it says.
"""
import json
import logging
import os
import threading

from minidocker.engine import top_dir
from minidocker.engine.models import Container, Network, shallow

log = logging.getLogger(__name__)


def write_json(path: str, data, durable: bool = True) -> None:
    """Write-to-temp, fsync, rename: a crash leaves the old or the new file, never half.
    ``durable=False`` skips the fsync (a write-ahead record: see the module's note).
    Compact JSON, as Docker's own state files are: json.dumps without an indent is
    its C encoder, which also holds the GIL until the text is made, so ``data``
    may share values (models.shallow) that other threads change under the lock."""
    text = json.dumps(data)
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "w") as f:
        f.write(text)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def write_over(path: str, data) -> None:
    """Rewrite ``path`` in place (same inode, no fsync): one write of the new
    record padded with spaces over what is left of a longer old one (valid JSON
    at every moment but mid-write), then cut to length. For write-ahead records."""
    text = json.dumps(data).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        pad = os.fstat(fd).st_size - len(text)
        body = text + b" " * pad if pad > 0 else text
        if os.pwrite(fd, body, 0) != len(body):
            raise OSError(f"short write to {path}")
        if pad > 0:
            os.ftruncate(fd, len(text))
    finally:
        os.close(fd)


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
        self._saved: dict[str, int] = {}  # container id -> the counter of its last save
        for sub in ("networks", "containers", "images"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        top_dir.mark(os.path.join(root, "containers"))  # bundles spread over block groups (top_dir.py)

    # networks
    def save_network(self, n: Network, durable: bool = True) -> None:
        """``durable=False`` for a write-ahead record only (see the module's note)."""
        write_json(os.path.join(self.root, "networks", f"{n.id}.json"), shallow(n), durable)

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

    def save_container(self, c: Container, durable: bool = True) -> None:
        """``durable=False`` for a write-ahead record only (see the module's note)."""
        bundle = self.bundle(c.id)
        data = shallow(c)
        data["Saved"] = self._saved[c.id] = self._saved.get(c.id, 0) + 1
        if durable:
            os.makedirs(bundle, exist_ok=True)
            write_json(os.path.join(bundle, "config.json"), data)
        else:  # the bundle exists: a container is created durably first
            write_over(os.path.join(bundle, "ahead.json"), data)

    def delete_container(self, cid: str) -> None:
        """Its state gone (the bundle's other files are the caller's)."""
        self._saved.pop(cid, None)
        try:
            os.unlink(os.path.join(self.bundle(cid), "config.json"))
        except FileNotFoundError:
            pass

    def load_containers(self) -> list[Container]:
        d = os.path.join(self.root, "containers")
        out = []
        for cid in sorted(os.listdir(d)):
            data = read_json(os.path.join(d, cid, "config.json"))
            if not data:
                continue
            ahead = read_json(os.path.join(d, cid, "ahead.json"))
            if isinstance(ahead, dict) and ahead.get("Saved", 0) > data.get("Saved", 0):
                data = ahead  # written after the durable state: the latest word
            self._saved[cid] = data.get("Saved", 0)
            out.append(Container.from_dict(data))
        return out

    # misc
    def get(self, key: str, default=None):
        return read_json(os.path.join(self.root, "ipam.json"), {}).get(key, default)

    def put(self, key: str, value, durable: bool = True) -> None:
        path = os.path.join(self.root, "ipam.json")
        data = read_json(path, {})
        data[key] = value
        write_json(path, data, durable)

    # images
    def image_dir(self, name: str) -> str:
        return os.path.join(self.root, "images", name.replace("/", "_"))

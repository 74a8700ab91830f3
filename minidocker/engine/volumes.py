"""Named volumes with the `local` driver, stored as Docker stores them:

    ROOT/volumes/<name>/_data         what containers mount
    ROOT/volumes/<name>/volume.json   {"Name", "CreatedAt", "Labels", "Options", "Anonymous"}

A volume is "in use" while any container (running or not) names it in its mounts.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time

from minidocker.engine.images import disk_usage
from minidocker.engine.store import read_json, write_json
from minidocker.errors import Conflict, InvalidArgument, NotFound
from minidocker.ids import new_id

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def _created_at() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Volumes:
    def __init__(self, root: str):
        self.dir = os.path.join(root, "volumes")
        os.makedirs(self.dir, exist_ok=True)
        self.lock = threading.Lock()
        for d in os.listdir(self.dir):  # a create or remove a crash cut short
            if d.startswith((".create-", ".delete-")):
                shutil.rmtree(os.path.join(self.dir, d), ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name, "_data")

    def _meta(self, name: str) -> dict | None:
        if not name or "/" in name or name.startswith("."):
            return None
        return read_json(os.path.join(self.dir, name, "volume.json"))

    def view(self, meta: dict) -> dict:
        """Docker's volume shape (GET /volumes/{name})."""
        return {"CreatedAt": meta["CreatedAt"], "Driver": "local", "Labels": meta.get("Labels"),
                "Mountpoint": self.path(meta["Name"]), "Name": meta["Name"], "Options": meta.get("Options"),
                "Scope": "local"}

    def exists(self, name: str) -> bool:
        return self._meta(name) is not None

    def get(self, name: str) -> dict:
        meta = self._meta(name)
        if meta is None:
            raise NotFound(f"get {name}: no such volume")
        return meta

    def list(self) -> list[dict]:
        out = []
        for d in sorted(os.listdir(self.dir)):
            meta = None if d.startswith(".") else self._meta(d)
            if meta:
                out.append(meta)
        return out

    def create(self, name: str = "", driver: str = "local", labels=None, options=None,
               anonymous: bool = False) -> tuple[dict, bool]:
        """(meta, created): an existing volume of that name is returned as it is."""
        driver = driver or "local"
        name = name or new_id()
        if len(name) == 1:
            raise InvalidArgument(f"create {name}: volume name is too short, names should be at least two "
                                  f"alphanumeric characters")
        if not _NAME.match(name):
            raise InvalidArgument(f'create {name}: "{name}" includes invalid characters for a local volume name, '
                                  f'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                                  f'directory, use absolute path')
        if driver != "local":
            raise NotFound(f'create {name}: error looking up volume plugin {driver}: plugin "{driver}" not found')
        if options:
            raise InvalidArgument(f"create {name}: minidocker's local driver takes no options")
        with self.lock:
            meta = self._meta(name)
            if meta is not None:
                return meta, False
            tmp = os.path.join(self.dir, f".create-{name}")
            os.makedirs(os.path.join(tmp, "_data"), mode=0o755, exist_ok=True)
            os.chmod(os.path.join(tmp, "_data"), 0o755)
            meta = {"Name": name, "CreatedAt": _created_at(), "Labels": labels, "Options": options,
                    "Anonymous": anonymous}
            write_json(os.path.join(tmp, "volume.json"), meta)
            os.rename(tmp, os.path.join(self.dir, name))
        return meta, True

    def remove(self, name: str, users: list[str], force: bool = False) -> None:
        """``users``: ids of the containers that mount it (Docker refuses while any do)."""
        meta = self._meta(name)
        if meta is None:
            if force:
                return
            raise NotFound(f"get {name}: no such volume")
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        with self.lock:
            gone = os.path.join(self.dir, f".delete-{name}")
            os.rename(os.path.join(self.dir, name), gone)
            shutil.rmtree(gone, ignore_errors=True)

    def size(self, name: str) -> int:
        return disk_usage(self.path(name))

    def copy_up(self, name: str, src: str) -> None:
        """Docker's copy of the image's files at the mount point into an empty volume."""
        dest = self.path(name)
        if not os.path.isdir(src) or os.path.islink(src) or os.listdir(dest):
            return
        shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
        st = os.stat(src)
        os.chmod(dest, st.st_mode & 0o7777)
        os.chown(dest, st.st_uid, st.st_gid)


def matches(meta: dict, filters: dict, in_use: bool) -> bool:
    """`volume ls --filter` (dangling, name, label, driver) and prune's label filters."""
    def values(key):
        v = filters.get(key) or []
        return list(v) if isinstance(v, list) else [k for k, on in v.items() if on]

    for key in filters:
        if key not in ("dangling", "name", "label", "label!", "driver"):
            raise InvalidArgument(f"Invalid filter '{key}'")
    for v in values("dangling"):
        if v.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"Invalid filter 'dangling={v}'")
        if (v.lower() in ("true", "1")) == in_use:
            return False
    names = values("name")
    if names and not any(n in meta["Name"] for n in names):
        return False
    drivers = values("driver")
    if drivers and "local" not in drivers:
        return False
    labels = meta.get("Labels") or {}

    def has(spec):
        k, eq, v = spec.partition("=")
        return k in labels and (not eq or labels[k] == v)
    if not all(has(s) for s in values("label")):
        return False
    if any(has(s) for s in values("label!")):
        return False
    return True

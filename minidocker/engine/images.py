"""Images: root filesystems imported from tarballs (`docker export` output works).

    ROOT/images/<name_tag>/rootfs/   the extracted tree (the overlay's lower layer)
    ROOT/images/<name_tag>/image.json {"Id", "RepoTags", "Created", "Env", "Cmd", "Size"}
"""
from __future__ import annotations

import hashlib
import json
import shlex
import os
import shutil
import tarfile
import tempfile
import threading
from urllib.parse import quote

from minidocker.errors import InvalidArgument, NotFound
from minidocker.ids import now
from minidocker.engine.store import read_json, write_json

DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def parse_changes(changes: list[str]) -> tuple[list | None, list | None]:
    """`import --change`: the ENV and CMD instructions Docker applies to an import."""
    env: list | None = None
    cmd: list | None = None
    for change in changes:
        word, _, rest = change.strip().partition(" ")
        rest = rest.strip()
        if word.upper() == "ENV":
            if "=" not in rest:
                k, _, v = rest.partition(" ")
                rest = f"{k}={v.strip()}"
            env = (env or []) + [item for item in shlex.split(rest)]
        elif word.upper() == "CMD":
            try:
                parsed = json.loads(rest)
                cmd = parsed if isinstance(parsed, list) else ["/bin/sh", "-c", rest]
            except ValueError:
                cmd = ["/bin/sh", "-c", rest]
        else:
            raise InvalidArgument(f"{word} is not a valid change command")
    return env, cmd


def normalize(ref: str) -> str:
    ref = ref.strip()
    if not ref:
        raise InvalidArgument("invalid reference format")
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


class Images:
    """Layers are stored by digest; a name (tag) points at one. Re-importing a
    name moves the tag and leaves the old rootfs to the containers made from it."""

    def __init__(self, root: str, events=None):
        self.events = events  # engine.events: an `image import` event per import
        self.dir = os.path.join(root, "images")
        self.layers = os.path.join(self.dir, "layers")
        self.tags = os.path.join(self.dir, "tags")
        os.makedirs(self.layers, exist_ok=True)
        os.makedirs(self.tags, exist_ok=True)
        self._lock = threading.Lock()
        for d in os.listdir(self.layers):  # imports or deletes a crash interrupted (one daemon per root)
            if d.startswith((".import-", ".delete-")):
                shutil.rmtree(os.path.join(self.layers, d), ignore_errors=True)

    def _tag_path(self, ref: str) -> str:
        return os.path.join(self.tags, quote(normalize(ref), safe="") + ".json")

    def _meta(self, image_id: str) -> dict | None:
        hexid = image_id.split(":")[-1]
        if not hexid.isalnum():
            return None
        meta = read_json(os.path.join(self.layers, hexid, "image.json"))
        if meta is not None:
            meta["Rootfs"] = os.path.join(self.layers, hexid, "rootfs")
            # the overlay's lower layers, top first: a committed image's own layer over its parent's
            meta["Lowers"] = [os.path.join(self.layers, h, "rootfs") for h in meta.get("Layers") or [hexid]]
        return meta

    def all_images(self) -> list[dict]:
        """Every stored image, tagged or not."""
        return [m for m in (self._meta(h) for h in sorted(os.listdir(self.layers)) if not h.startswith("."))
                if m is not None]

    def children(self, image_id: str) -> list[str]:
        """Ids of the images made (committed) on top of ``image_id``."""
        return [m["Id"] for m in self.all_images() if m.get("Parent") == image_id]

    def commit(self, parent: dict, upper: str, config: dict, ref: str = "", comment: str = "",
               author: str = "", container_id: str = "") -> dict:
        """A new image: ``parent``'s layers with a copy of ``upper`` (a container's
        writable layer, engine/layers.py) on top; ``ref`` names it when given."""
        from minidocker.engine.layers import copy_layer
        tmp = tempfile.mkdtemp(dir=self.layers, prefix=".import-")
        try:
            copy_layer(upper, os.path.join(tmp, "rootfs"), parent["Lowers"])
            created = now()
            body = {"Parent": parent["Id"], "Created": created, "Container": container_id, "Comment": comment,
                    "Author": author, **config}
            hexid = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            parent_layers = parent.get("Layers") or [parent["Id"].split(":")[-1]]
            size = disk_usage(os.path.join(tmp, "rootfs"))
            meta = {"Id": "sha256:" + hexid, **body, "Size": parent.get("Size", 0) + size, "LayerSize": size,
                    "Layers": [hexid] + list(parent_layers),
                    "DiffIDs": list(parent.get("DiffIDs") or ([parent["DiffID"]] if parent.get("DiffID") else []))
                    + ["sha256:" + hashlib.sha256(hexid.encode()).hexdigest()]}
            write_json(os.path.join(tmp, "image.json"), meta)
            with self._lock:
                os.rename(tmp, os.path.join(self.layers, hexid))
                if ref:
                    write_json(self._tag_path(ref), {"Name": normalize(ref), "Id": meta["Id"]})
            if self.events is not None:
                self.events.emit("image", "commit", meta["Id"], {"name": normalize(ref) if ref else ""})
            return self._meta(meta["Id"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def get(self, ref: str) -> dict:
        """By name[:tag], full id, or unique id prefix."""
        tag = read_json(self._tag_path(ref)) if ref.strip() else None
        if tag is None and ref.strip():  # a tag file named by an older layout
            name = normalize(ref)
            tag = next((t for t in map(read_json, self._tag_files()) if t and t.get("Name") == name), None)
        meta = self._meta(tag["Id"]) if tag else None
        if meta is None:
            want = ref.split(":")[-1] if ref.startswith("sha256:") else ref
            hits = [m for m in self.list() if want and m["Id"].split(":")[-1].startswith(want)]
            if len({m["Id"] for m in hits}) != 1:
                raise NotFound(f"No such image: {normalize(ref) if ref.strip() else ref}")
            meta = self._meta(hits[0]["Id"])
        return meta

    def get_by_id(self, image_id: str) -> dict:
        meta = self._meta(image_id)
        if meta is None:
            raise NotFound(f"No such image: {image_id}")
        return meta

    def _tag_files(self) -> list[str]:
        return [os.path.join(self.tags, f) for f in sorted(os.listdir(self.tags)) if f.endswith(".json")]

    def list(self) -> list[dict]:
        out = []
        for f in self._tag_files():
            tag = read_json(f)
            meta = self._meta(tag["Id"]) if tag else None
            if meta:
                meta["RepoTags"] = [tag["Name"]]
                out.append(meta)
        return out

    def tags_of(self, image_id: str) -> list[str]:
        return [t["Name"] for t in map(read_json, self._tag_files()) if t and t.get("Id") == image_id]

    def tag(self, ref: str, name: str) -> str:
        """Point ``name`` (repo[:tag]) at the image ``ref`` names; the normalised name."""
        image_id = self.get(ref)["Id"]
        name = normalize(name)
        with self._lock:
            write_json(self._tag_path(name), {"Name": name, "Id": image_id})
        if self.events is not None:
            self.events.emit("image", "tag", image_id, {"name": name})
        return name

    def untag(self, name: str) -> None:
        """Drop the tag ``name`` (the layer stays until ``delete``)."""
        path = self._tag_path(name)
        for f in [path] + self._tag_files():  # (a tag file named by an older layout)
            t = read_json(f)
            if t and t.get("Name") == normalize(name):
                os.unlink(f)
                break
        if self.events is not None:
            self.events.emit("image", "untag", name, {"name": normalize(name)})

    def delete(self, image_id: str) -> None:
        """Remove an image's layer (no tag and no container may use it any more)."""
        hexid = image_id.split(":")[-1]
        if not hexid.isalnum():
            raise NotFound(f"No such image: {image_id}")
        with self._lock:
            gone = os.path.join(self.layers, f".delete-{hexid}")
            os.rename(os.path.join(self.layers, hexid), gone)
            shutil.rmtree(gone, ignore_errors=True)
        if self.events is not None:
            self.events.emit("image", "delete", image_id, {"name": image_id})

    def import_tar(self, ref: str, fileobj, env: list | None = None, cmd: list | None = None,
                   comment: str = "Imported from -") -> dict:
        """Extract a rootfs tarball (a stream) into a new layer and point ``ref`` at it."""
        name = normalize(ref)
        tmp = tempfile.mkdtemp(dir=self.layers, prefix=".import-")
        digest = hashlib.sha256()
        try:
            rootfs = os.path.join(tmp, "rootfs")
            os.makedirs(rootfs)
            try:
                with tarfile.open(fileobj=_HashingReader(fileobj, digest), mode="r|*") as tar:
                    for member in tar:
                        _check_member(member, rootfs)
                        tar.extract(member, rootfs, **_EXTRACT_ARGS)
            except tarfile.TarError as ex:
                raise InvalidArgument(f"Error processing tar file: {ex}")
            for sub in ("proc", "sys", "dev", "etc", "tmp"):
                if not os.path.lexists(os.path.join(rootfs, sub)):
                    os.makedirs(os.path.join(rootfs, sub))
            config = {"Env": env or DEFAULT_ENV, "Cmd": cmd}  # no CMD unless --change gives one
            # the id covers the files and the config, as a Docker image id does
            hexid = hashlib.sha256(digest.hexdigest().encode() + json.dumps(config).encode()).hexdigest()
            meta = {"Id": "sha256:" + hexid, "Created": now(), **config, "Size": disk_usage(rootfs),
                    "DiffID": "sha256:" + digest.hexdigest(), "Comment": comment}
            write_json(os.path.join(tmp, "image.json"), meta)
            with self._lock:
                dest = os.path.join(self.layers, hexid)
                if not os.path.exists(dest):
                    os.rename(tmp, dest)
                write_json(self._tag_path(name), {"Name": name, "Id": meta["Id"]})
            meta["RepoTags"] = [name]
            if self.events is not None:
                self.events.emit("image", "import", meta["Id"], {"name": name})
            return meta
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# Extraction filters arrived in Python 3.11.4; Debian 12 ships 3.11.2. The members
# are checked by _check_member first, so "fully trusted" (the old behaviour) is right.
_EXTRACT_ARGS = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}


def _inside(root: str, path: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


def _check_member(member: tarfile.TarInfo, rootfs: str) -> None:
    """Refuse archive entries that would write outside the new root filesystem:
    absolute or '..' names, a path through a symlink that leads out, hard links
    to outside. Absolute symlinks themselves are fine (docker export has them):
    they are only ever followed inside the container."""
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    name = "" if name == "." else name
    parts = name.split("/")
    if member.name.startswith("/") or ".." in parts:
        raise InvalidArgument(f"invalid path in archive: {member.name}")
    target = os.path.join(rootfs, name)
    if not _inside(rootfs, os.path.dirname(target) or rootfs):
        raise InvalidArgument(f"invalid path in archive: {member.name} leads outside the image")
    if os.path.islink(target) and not member.issym():
        os.unlink(target)  # never write through an earlier symlink
    if member.islnk():
        link = member.linkname
        if link.startswith("/") or ".." in link.split("/") or \
                not _inside(rootfs, os.path.join(rootfs, link)):
            raise InvalidArgument(f"invalid hard link in archive: {member.name} -> {link}")


class _HashingReader:
    def __init__(self, f, digest):
        self.f, self.digest = f, digest

    def read(self, n=-1):
        data = self.f.read(n)
        self.digest.update(data)
        return data


def disk_usage(path: str) -> int:
    """Bytes in the files under ``path`` (a layer, a container's writable layer)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total

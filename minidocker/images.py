"""Images: root filesystems imported from tarballs (`docker export` output works).

    ROOT/images/<name_tag>/rootfs/   the extracted tree (the overlay's lower layer)
    ROOT/images/<name_tag>/image.json {"Id", "RepoTags", "Created", "Env", "Cmd", "Size"}
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile

from .errors import InvalidArgument, NotFound
from .ids import now
from .store import read_json, write_json

DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def normalize(ref: str) -> str:
    ref = ref.strip()
    if not ref:
        raise InvalidArgument("invalid reference format")
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


class Images:
    def __init__(self, root: str):
        self.dir = os.path.join(root, "images")
        os.makedirs(self.dir, exist_ok=True)

    def _path(self, ref: str) -> str:
        return os.path.join(self.dir, normalize(ref).replace("/", "_").replace(":", "@"))

    def get(self, ref: str) -> dict:
        meta = read_json(os.path.join(self._path(ref), "image.json"))
        if meta is None:
            hits = [m for m in self.list() if m["Id"].split(":")[-1].startswith(ref) or m["Id"] == ref]
            if len(hits) == 1:
                meta = hits[0]
            else:
                raise NotFound(f"No such image: {normalize(ref)}")
        meta["Rootfs"] = os.path.join(self.dir, meta["Dir"], "rootfs")
        return meta

    def list(self) -> list[dict]:
        out = []
        for d in sorted(os.listdir(self.dir)):
            meta = read_json(os.path.join(self.dir, d, "image.json"))
            if meta:
                out.append(meta)
        return out

    def import_tar(self, ref: str, fileobj, env: list | None = None, cmd: list | None = None) -> dict:
        """Extract a rootfs tarball (stream) into a new image, replacing any of that name."""
        name = normalize(ref)
        dest = self._path(name)
        tmp = tempfile.mkdtemp(dir=self.dir, prefix=".import-")
        digest = hashlib.sha256()
        try:
            reader = _HashingReader(fileobj, digest)
            with tarfile.open(fileobj=reader, mode="r|*") as tar:
                for member in tar:
                    if member.name.startswith("/") or ".." in member.name.split("/"):
                        raise InvalidArgument(f"invalid path in archive: {member.name}")
                    tar.extract(member, os.path.join(tmp, "rootfs"), filter="fully_trusted")
            os.makedirs(os.path.join(tmp, "rootfs"), exist_ok=True)
            for sub in ("proc", "sys", "dev", "etc", "tmp"):
                os.makedirs(os.path.join(tmp, "rootfs", sub), exist_ok=True)
            meta = {"Id": "sha256:" + digest.hexdigest(), "RepoTags": [name], "Created": now(),
                    "Env": env or DEFAULT_ENV, "Cmd": cmd or ["sh"], "Dir": os.path.basename(dest),
                    "Size": _du(os.path.join(tmp, "rootfs"))}
            write_json(os.path.join(tmp, "image.json"), meta)
            if os.path.exists(dest):
                shutil.rmtree(dest)
            os.rename(tmp, dest)
            return meta
        except tarfile.TarError as ex:
            raise InvalidArgument(f"Error processing tar file: {ex}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class _HashingReader:
    def __init__(self, f, digest):
        self.f, self.digest = f, digest

    def read(self, n=-1):
        data = self.f.read(n)
        self.digest.update(data)
        return data


def _du(path: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total

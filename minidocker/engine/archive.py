"""`docker cp` and `docker export` on the daemon's side (Docker's
/containers/{id}/archive GET/HEAD/PUT and /export): a path's stat, a tar of it,
a tar extracted into a directory, the whole filesystem; on a running container
(through its own mount namespace) or a stopped one (its overlay mounted for the
time of the call, see runtime/rootfs_view.py)."""
import contextlib
import datetime
import io
import os
import shutil
import stat as st
import tarfile
import tempfile

from minidocker.errors import InvalidArgument, MinidockerError, NotFound
from minidocker.runtime import rootfs_view

# Go's os.FileMode type bits
_GO_DIR, _GO_SYMLINK, _GO_DEVICE, _GO_PIPE, _GO_SOCKET = 1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24
_GO_SETUID, _GO_SETGID, _GO_CHARDEV, _GO_STICKY = 1 << 23, 1 << 22, 1 << 21, 1 << 20


class ArchiveError(MinidockerError):
    status = 500


def go_mode(mode: int) -> int:
    out = mode & 0o777
    if st.S_ISDIR(mode):
        out |= _GO_DIR
    elif st.S_ISLNK(mode):
        out |= _GO_SYMLINK
    elif st.S_ISBLK(mode):
        out |= _GO_DEVICE
    elif st.S_ISCHR(mode):
        out |= _GO_DEVICE | _GO_CHARDEV
    elif st.S_ISFIFO(mode):
        out |= _GO_PIPE
    elif st.S_ISSOCK(mode):
        out |= _GO_SOCKET
    if mode & st.S_ISUID:
        out |= _GO_SETUID
    if mode & st.S_ISGID:
        out |= _GO_SETGID
    if mode & st.S_ISVTX:
        out |= _GO_STICKY
    return out


def go_time(ns: int) -> str:
    """RFC 3339 with nanoseconds, trailing zeros dropped (Go's RFC3339Nano)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    frac_text = f"{frac:09d}".rstrip("0")
    return base + (f".{frac_text}" if frac_text else "") + "Z"


def lowers_of(img: dict) -> list:
    return list(img.get("Lowers") or [img["Rootfs"]])


@contextlib.contextmanager
def container_root(e, c):
    """The container's root as a host path, for the time of the block."""
    if c.status == "running" and c.pid:
        yield rootfs_view.running_root(c.pid)
        return
    img = e.images.get_by_id(c.image_id)
    bundle = e.store.bundle(c.id)
    binds = [(e.volumes.path(p["Name"]) if p["Type"] == "volume" else p["Source"], p["Destination"], not p["RW"])
             for p in sorted(c.mounts or [], key=lambda p: p["Destination"].count("/"))
             if p["Type"] in ("bind", "volume") and (p["Type"] == "bind" or e.volumes.exists(p["Name"]))]
    with rootfs_view.stopped_root(lowers_of(img), os.path.join(bundle, "upper"), os.path.join(bundle, "work"),
                                  os.path.join(bundle, "merged"), binds) as root:
        yield root


def _resolve(root: str, path: str, follow_last: bool = False) -> str:
    return rootfs_view.in_root(root, path, follow_last=follow_last)


def _stat(root: str, path: str, ref: str) -> tuple[str, dict]:
    if not path:
        raise InvalidArgument("bad parameter: pathcannot be empty")
    host = _resolve(root, path)
    try:
        s = os.lstat(host + ("/" if path.endswith("/") else ""))
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {ref}") from None
    except NotADirectoryError:
        raise ArchiveError(f"lstat {host}/: not a directory") from None
    base = path.rstrip("/").rsplit("/", 1)[-1] if path.rstrip("/") else "/"
    if path.endswith("/.") or path == ".":
        base = "."
    link = os.readlink(host) if st.S_ISLNK(s.st_mode) else ""
    return host, {"name": base, "size": s.st_size, "mode": go_mode(s.st_mode), "mtime": go_time(s.st_mtime_ns),
                  "linkTarget": link}


def stat_path(e, ref: str, path: str) -> dict:
    """`HEAD /containers/{id}/archive`: Docker's X-Docker-Container-Path-Stat."""
    with e.lock:
        c = e.find_container(ref)
        with container_root(e, c) as root:
            return _stat(root, path, ref)[1]


def get_archive(e, ref: str, path: str):
    """(stat, a tar of the path in a spooled file): the top entry is named as the
    path's last part ("." for a path ending in /.)."""
    with e.lock:
        c = e.find_container(ref)
        with container_root(e, c) as root:
            host, info = _stat(root, path, ref)
            out = tempfile.TemporaryFile()
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.add(host, arcname=info["name"] if info["name"] != "/" else ".", recursive=True)
    out.seek(0)
    return info, out


def put_archive(e, ref: str, path: str, fileobj, no_overwrite_dir_non_dir: bool = False) -> None:
    """`PUT /containers/{id}/archive`: extract a tar into the directory ``path``."""
    if not path:
        raise InvalidArgument("bad parameter: pathcannot be empty")
    with e.lock:
        c = e.find_container(ref)
        with container_root(e, c) as root:
            dest = _resolve(root, path, follow_last=True)
            if not os.path.lexists(dest):
                raise NotFound(f"Could not find the file {path} in container {ref}")
            if not os.path.isdir(dest):
                raise ArchiveError("extraction point is not a directory")
            rel = dest[len(root):] or "/"
            try:
                _extract(root, rel, fileobj, no_overwrite_dir_non_dir)
            except tarfile.TarError as ex:
                raise InvalidArgument(f"Error processing tar file: {ex}") from None


def _extract(root: str, rel: str, fileobj, no_overwrite: bool) -> None:
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for m in tar:
            name = m.name.lstrip("/")
            while name.startswith("./"):
                name = name[2:]
            if name in ("", "."):
                continue
            parent = _resolve(root, rel + "/" + os.path.dirname(name), follow_last=True)
            target = parent + "/" + os.path.basename(name)
            if os.path.lexists(target):
                is_dir = os.path.isdir(target) and not os.path.islink(target)
                if no_overwrite and is_dir and not m.isdir():
                    raise ArchiveError(f"cannot overwrite directory \"{rel.rstrip('/')}/{name}\" with "
                                       f"non-directory")
                if no_overwrite and not is_dir and m.isdir():
                    raise ArchiveError(f"cannot overwrite non-directory \"{rel.rstrip('/')}/{name}\" with "
                                       f"directory")
                if not (is_dir and m.isdir()):
                    if is_dir:
                        shutil.rmtree(target)
                    else:
                        os.unlink(target)
            os.makedirs(parent, exist_ok=True)
            if m.islnk():
                m._link_target = _resolve(root, rel + "/" + m.linkname.lstrip("/"), follow_last=False)
            tar._extract_member(m, target)


def export(e, ref: str):
    """`GET /containers/{id}/export`: the container's root filesystem as a tar
    (its own layer over the image's; volumes and the kernel's mounts left out,
    their mount points kept)."""
    with e.lock:
        c = e.find_container(ref)
        out = tempfile.TemporaryFile()
        if c.status == "running" and c.pid:
            view = contextlib.nullcontext(rootfs_view.running_root(c.pid))
        else:
            img = e.images.get_by_id(c.image_id)
            bundle = e.store.bundle(c.id)
            view = rootfs_view.stopped_root(lowers_of(img), os.path.join(bundle, "upper"),
                                            os.path.join(bundle, "work"), os.path.join(bundle, "merged"), [])
        with view as root, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add_tree(tar, root)
    out.seek(0)
    return out


def _add_tree(tar: tarfile.TarFile, root: str) -> None:
    """One filesystem's tree (as `tar --one-file-system`), mount points kept empty."""
    dev = os.stat(root).st_dev  # (through /proc/PID/root's link)
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            names = sorted(os.listdir(os.path.join(root, rel) if rel else root))
        except OSError:
            continue
        for name in names:
            sub = f"{rel}/{name}" if rel else name
            full = os.path.join(root, sub)
            try:
                info = tar.gettarinfo(full, arcname=sub)
            except OSError:
                continue
            s = os.lstat(full)
            if s.st_dev != dev and not st.S_ISLNK(s.st_mode):
                if info.isreg():
                    info.size = 0
                    tar.addfile(info, io.BytesIO(b""))
                else:
                    tar.addfile(info)
                continue
            if info.isreg():
                with open(full, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
            if info.isdir():
                stack.append(sub)


def changes_of(e, ref: str) -> list:
    """`GET /containers/{id}/changes` (engine/changes.py)."""
    from minidocker.engine.changes import changes
    with e.lock:
        c = e.find_container(ref)
        lowers = lowers_of(e.images.get_by_id(c.image_id))
        upper = os.path.join(e.store.bundle(c.id), "upper")
    return changes(upper, lowers)

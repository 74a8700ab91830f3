"""`docker diff` (GET /containers/{id}/changes) from the overlay's upper layer,
as moby's archive.OverlayChanges reads it: a file or directory not in the image
is added (Kind 1), a file over one of the image's is changed (Kind 0), a whiteout
(a 0/0 character device) is a deletion (Kind 2), and the directory holding an
added or deleted entry is changed, once. The /etc files the runtime binds in
(hostname, hosts, resolv.conf: Docker keeps them in its init layer) are left out.
"""
import os
import stat as st

MODIFIED, ADDED, DELETED = 0, 1, 2
RUNTIME_FILES = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}
OPAQUE = "trusted.overlay.opaque"


def is_whiteout(s: os.stat_result) -> bool:
    return st.S_ISCHR(s.st_mode) and s.st_rdev == 0


def is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def in_lowers(lowers: list, rel: str) -> bool:
    """Whether the image (its layers, top first) has ``rel``."""
    parts = rel.strip("/").split("/")
    for lower in lowers:
        path = os.path.join(lower, *parts)
        try:
            s = os.lstat(path)
        except OSError:
            # an opaque directory above hides the rest of the stack
            if any(is_opaque(os.path.join(lower, *parts[:i])) for i in range(1, len(parts))):
                return False
            continue
        return not is_whiteout(s)
    return False


def changes(upper: str, lowers: list) -> list[dict]:
    out: list = []
    changed_dirs: set = set()

    def record(rel: str, kind: int, is_dir: bool) -> None:
        if kind in (ADDED, DELETED):
            parent = os.path.dirname(rel)
            if parent != "/" and parent not in changed_dirs:
                out.append({"Path": parent, "Kind": MODIFIED})
                changed_dirs.add(parent)
        out.append({"Path": rel, "Kind": kind})
        if is_dir and kind != DELETED:
            changed_dirs.add(rel)

    def walk(rel_dir: str) -> None:
        host_dir = os.path.join(upper, rel_dir.lstrip("/"))
        try:
            names = sorted(os.listdir(host_dir))
        except OSError:
            return
        for name in names:
            rel = f"{rel_dir.rstrip('/')}/{name}"
            path = os.path.join(host_dir, name)
            s = os.lstat(path)
            is_dir = st.S_ISDIR(s.st_mode)
            if is_whiteout(s):
                if in_lowers(lowers, rel):
                    record(rel, DELETED, False)
                continue
            if rel in RUNTIME_FILES and not in_lowers(lowers, rel) and s.st_size == 0:
                continue
            if not in_lowers(lowers, rel):
                record(rel, ADDED, is_dir)
            elif not is_dir:
                record(rel, MODIFIED, False)
            elif is_opaque(path) and rel not in changed_dirs:
                record(rel, MODIFIED, True)
                _opaque_deletions(rel, path, lowers, record)
            if is_dir:
                walk(rel)
    walk("/")
    return out


def _opaque_deletions(rel: str, path: str, lowers: list, record) -> None:
    """What an opaque directory hides of the image's directory: deleted."""
    seen = set(os.listdir(path))
    for lower in lowers:
        try:
            names = sorted(os.listdir(os.path.join(lower, rel.lstrip("/"))))
        except OSError:
            continue
        for name in names:
            if name not in seen:
                seen.add(name)
                record(f"{rel}/{name}", DELETED, False)
        break

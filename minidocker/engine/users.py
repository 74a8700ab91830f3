"""`run -u` / `exec -u` (Config.User): USER[:GROUP] resolved as runc resolves it,
from the container's own /etc/passwd and /etc/group (a name must be there; a
number needs no entry), into the ids the process gets: uid, gid, the
supplementary groups, and HOME.

``resolve`` is pure (the files' text in, a Credentials out); ``files_of_rootfs``
and ``files_of_process`` read the files of a container that is not running yet
(its writable layer over the image) or of a running one (/proc/PID/root).
"""
import os
from dataclasses import dataclass, field

from minidocker.errors import MinidockerError, StartError


@dataclass
class Credentials:
    uid: int = 0
    gid: int = 0
    groups: list = field(default_factory=list)
    home: str = "/"

    def to_spec(self) -> dict:
        return {"uid": self.uid, "gid": self.gid, "groups": list(self.groups), "home": self.home}


class UserError(MinidockerError):
    """Docker's "unable to find user x: no matching entries in passwd file"."""


def _entries(text: str | None, width: int) -> list[list[str]]:
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) < width:
            parts += [""] * (width - len(parts))
        out.append(parts)
    return out


def _int(text: str) -> int | None:
    try:
        n = int(text, 10)
    except ValueError:
        return None
    return n if n >= 0 else None


def resolve(user: str, passwd: str | None, group: str | None) -> Credentials:
    """USER, USER:GROUP, UID, UID:GID (names or numbers) -> Credentials.
    Without a group: the user's primary group and every group listing it."""
    name, has_group, grp = (user or "").partition(":")
    users = _entries(passwd, 7)
    groups = _entries(group, 4)
    uid_num = _int(name) if name else 0
    entry = None
    for u in users:
        if (name and u[0] == name) or (uid_num is not None and _int(u[2]) == uid_num):
            entry = u
            break
    if entry is None and uid_num is None:
        raise UserError(f"unable to find user {name}: no matching entries in passwd file")
    cred = Credentials()
    if entry is not None:
        cred.uid = _int(entry[2]) or 0
        cred.gid = _int(entry[3]) or 0
        cred.home = entry[5] or "/"
    else:
        cred.uid = uid_num
    if has_group and grp:
        gid_num = _int(grp)
        hit = next((g for g in groups if g[0] == grp or (gid_num is not None and _int(g[2]) == gid_num)), None)
        if hit is None and gid_num is None:
            raise UserError(f"unable to find group {grp}: no matching entries in group file")
        cred.gid = _int(hit[2]) if hit is not None and _int(hit[2]) is not None else gid_num
        cred.groups = [cred.gid]
        return cred
    login = entry[0] if entry is not None else None
    extra = [_int(g[2]) for g in groups if login and login in g[3].split(",") and _int(g[2]) is not None]
    cred.groups = [cred.gid] + [g for g in extra if g != cred.gid]
    return cred


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return None


def files_of_rootfs(upper: str, lower: str) -> tuple[str | None, str | None]:
    """/etc/passwd and /etc/group of a container that has not started: its
    writable layer's copy if it has one, else the image's."""
    def one(name):
        text = _read(os.path.join(upper, "etc", name))
        return text if text is not None else _read(os.path.join(lower, "etc", name))
    return one("passwd"), one("group")


def files_of_process(pid: int) -> tuple[str | None, str | None]:
    """/etc/passwd and /etc/group as the running container sees them."""
    root = f"/proc/{pid}/root/etc"
    return _read(os.path.join(root, "passwd")), _read(os.path.join(root, "group"))


def credentials(user: str, init_pid: int, env) -> dict | None:
    """An exec's ids (its -u, else the container's user; None: root), read from
    the running container's files; HOME from Config.Env if it sets one.
    Docker's exec answers a missing user with 126."""
    if not user:
        return None
    try:
        cred = resolve(user, *files_of_process(init_pid))
    except UserError as ex:
        raise StartError(126, ex.message) from None
    spec = cred.to_spec()
    home = next((e[5:] for e in env if e.startswith("HOME=")), None)
    if home is not None:
        spec["home"] = home
    return spec


def run_credentials(user: str, upper: str, lower: str, env) -> dict | None:
    """A container's ids at start (Config.User), from its layer over the image."""
    if not user:
        return None
    spec = resolve(user, *files_of_rootfs(upper, lower)).to_spec()
    home = next((e[5:] for e in env if e.startswith("HOME=")), None)
    if home is not None:
        spec["home"] = home
    return spec

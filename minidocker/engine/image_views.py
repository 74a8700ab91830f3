"""Images in Docker 20.10's shapes (pure: the image records of images.py in, dicts
out): `GET /images/json` entries (one per image id, all its tags) filtered as
Docker filters them, and `GET /images/{name}/json`."""
import fnmatch
import os

from minidocker.errors import InvalidArgument
from minidocker.ids import parse_time

LIST_KEYS = ("before", "dangling", "label", "reference", "since")


def _config(env, cmd) -> dict:
    return {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
            "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": env,
            "Cmd": cmd, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
            "Labels": None}


def _committed_config(m: dict) -> dict:
    """What a committed image (engine/commit.py) keeps of its container's config."""
    if not m.get("Parent"):
        return {}
    return {"Hostname": m.get("Hostname", ""), "Image": m.get("Image", ""), "WorkingDir": m.get("WorkingDir", ""),
            "Entrypoint": m.get("Entrypoint"), "Labels": m.get("Labels") or {},
            **({"ExposedPorts": m["ExposedPorts"]} if m.get("ExposedPorts") else {})}


def _grouped(records: list[dict]) -> list[dict]:
    """One record per image id, with every tag that points at it."""
    by_id: dict = {}
    for m in records:
        got = by_id.setdefault(m["Id"], dict(m, RepoTags=[]))
        got["RepoTags"] += [t for t in m.get("RepoTags", []) if t not in got["RepoTags"]]
    return list(by_id.values())


def inspect(m: dict, tags: list[str], arch: str) -> dict:
    layers = list(m.get("DiffIDs") or ([m["DiffID"]] if m.get("DiffID") else []))
    rootfs = m.get("Rootfs", "")
    return {
        "Id": m["Id"], "RepoTags": list(tags), "RepoDigests": [], "Parent": m.get("Parent", ""),
        "Comment": m.get("Comment", "Imported from -"), "Created": m["Created"], "Container": m.get("Container", ""),
        "ContainerConfig": _config(None, None), "DockerVersion": "", "Author": m.get("Author", ""),
        "Config": {**_config(m.get("Env"), m.get("Cmd")), **_committed_config(m)}, "Architecture": arch, "Os": "linux",
        "Size": m.get("Size", 0), "VirtualSize": m.get("Size", 0),
        "GraphDriver": {"Data": {"LowerDir": rootfs, "MergedDir": "", "UpperDir": "",
                                 "WorkDir": os.path.dirname(rootfs)}, "Name": "overlay"},
        "RootFS": {"Type": "layers", "Layers": layers},
        "Metadata": {"LastTagTime": m.get("TagTime", m["Created"])},
    }


def summary(m: dict) -> dict:
    return {"Containers": -1, "Created": int(parse_time(m["Created"])), "Id": m["Id"], "Labels": None,
            "ParentId": m.get("Parent", ""), "RepoDigests": None, "RepoTags": list(m["RepoTags"]) or None, "SharedSize": -1,
            "Size": m.get("Size", 0), "VirtualSize": m.get("Size", 0)}


def _reference(tags: list[str], pattern: str) -> bool:
    """Docker's `reference` filter: a glob on name:tag, or on the name alone
    when the pattern has no tag."""
    for t in tags:
        name, _, tag = t.rpartition(":")
        if ":" in pattern.rsplit("/", 1)[-1]:
            if fnmatch.fnmatchcase(t, pattern):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def listing(records: list[dict], filters: dict, find) -> list[dict]:
    """`GET /images/json` newest first; ``find(ref)`` looks an image up for
    ``before``/``since`` (NotFound when there is none)."""
    f = {k: list(v.keys()) if isinstance(v, dict) else list(v) for k, v in (filters or {}).items()}
    for key in f:
        if key not in LIST_KEYS:
            raise InvalidArgument(f"Invalid filter '{key}'")
    for v in f.get("dangling", []):
        if v.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"Invalid filter 'dangling={v}'")
    before = [parse_time(find(r)["Created"]) for r in f.get("before", [])]
    since = [parse_time(find(r)["Created"]) for r in f.get("since", [])]
    out = []
    for m in sorted(_grouped(records), key=lambda m: m["Created"], reverse=True):
        t = parse_time(m["Created"])
        if any(v.lower() in ("true", "1") for v in f.get("dangling", [])) and m["RepoTags"]:
            continue
        if f.get("reference") and not any(_reference(m["RepoTags"], p) for p in f["reference"]):
            continue
        if f.get("label"):  # imported images carry no labels
            continue
        if (before and not t < min(before)) or (since and not t > max(since)):
            continue
        out.append(summary(m))
    return out


def tags_of(records: list[dict], image_id: str) -> list[str]:
    return [t for g in _grouped(records) if g["Id"] == image_id for t in g["RepoTags"]]

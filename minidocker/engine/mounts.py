"""Mount specifications, as Docker 20.10 reads them (pure: no I/O).

Three sources, in the create body:
- ``HostConfig.Binds`` (``-v SRC:DST[:MODE]``): an absolute SRC is a bind, any other
  a named volume; ``Config.Volumes`` ({"/dst": {}}, ``-v /dst``): anonymous volumes;
- ``HostConfig.Mounts`` (``--mount``): {"Type", "Source", "Target", "ReadOnly", ...};
- ``HostConfig.Tmpfs`` (``--tmpfs PATH[:OPTS]``): {"/path": "opts"}.

Each becomes a mount point dict (what the container keeps and inspect shows):
``{"Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation",
"Spec": "binds"|"mounts"|"volumes"|"tmpfs", "Data": tmpfs options, "Flags": tmpfs flags,
"NoCopy": bool, "CreateMissing": bool}`` — Source of a volume is filled in by the engine.
Errors carry moby's texts (volume/mounts/linux_parser.go, validate.go).
"""
from minidocker.errors import InvalidArgument

RW_MODES = {"ro", "rw"}
PROPAGATION = {"private", "rprivate", "shared", "rshared", "slave", "rslave"}
LABEL_MODES = {"z", "Z"}
CONSISTENCY = {"consistent", "cached", "delegated"}

NOSUID, NODEV, NOEXEC, RDONLY = 2, 4, 8, 1
_TMPFS_FLAGS = {"ro": (RDONLY, True), "rw": (RDONLY, False), "nosuid": (NOSUID, True), "suid": (NOSUID, False),
                "nodev": (NODEV, True), "dev": (NODEV, False), "noexec": (NOEXEC, True), "exec": (NOEXEC, False)}
TMPFS_DEFAULT = NOSUID | NODEV | NOEXEC


def _mode_ok(mode: str, bind: bool) -> bool:
    """moby's ValidMountMode: at most one of each kind; nocopy only for volumes."""
    counts = {"rw": 0, "prop": 0, "label": 0, "copy": 0, "cons": 0}
    for o in mode.split(","):
        if o in RW_MODES:
            counts["rw"] += 1
        elif o in PROPAGATION:
            counts["prop"] += 1
        elif o in LABEL_MODES:
            counts["label"] += 1
        elif o == "nocopy":
            if bind:
                return False
            counts["copy"] += 1
        elif o in CONSISTENCY:
            counts["cons"] += 1
        else:
            return False
    return all(v <= 1 for v in counts.values())


def _mount_error(kind: str, text: str) -> str:
    return f'invalid mount config for type "{kind}": {text}'


def _check_dest(kind: str, dest: str) -> None:
    if not dest.startswith("/"):
        raise InvalidArgument(_mount_error(kind, f"invalid mount path: '{dest}' mount path must be absolute"))
    if kind == "bind" and _clean(dest) == "/":
        raise InvalidArgument(_mount_error(kind, "invalid specification: destination can't be '/'"))


def _clean(path: str) -> str:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    out: list = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        else:
            out.append(p)
    return "/" + "/".join(out)


def parse_bind(raw: str) -> dict:
    """One ``HostConfig.Binds`` entry (``-v``)."""
    arr = raw.split(":")
    mode = ""
    if len(arr) == 1:
        src, dest = "", arr[0]
    elif len(arr) == 2:
        if _mode_ok(arr[1], bind=False):  # "/foo:rw": a volume cannot carry only a mode
            raise InvalidArgument(f"invalid volume specification: '{raw}'")
        src, dest = arr
    elif len(arr) == 3:
        src, dest, mode = arr
        if not _mode_ok(mode, bind=src.startswith("/")):
            raise InvalidArgument(f"invalid mode: {mode}")
    else:
        raise InvalidArgument(f"invalid volume specification: '{raw}'")
    if not dest:
        raise InvalidArgument(f"invalid volume specification: '{raw}'")
    opts = mode.split(",") if mode else []
    bind = src.startswith("/")
    kind = "bind" if bind else "volume"
    try:
        _check_dest(kind, dest)
    except InvalidArgument as ex:
        raise InvalidArgument(f"invalid volume specification: '{raw}': {ex.message}") from None
    prop = next((o for o in opts if o in PROPAGATION), "rprivate" if bind else "")
    if bind:
        return _point("bind", "", _clean(src), _clean(dest), mode, "ro" not in opts, prop, "binds",
                      create_missing=True)
    return _point("volume", src, "", _clean(dest), mode if mode else ("z" if src else ""), "ro" not in opts,
                  "", "binds", nocopy="nocopy" in opts)


def parse_mount(m) -> dict:
    """One ``HostConfig.Mounts`` entry (``--mount``)."""
    if not isinstance(m, dict):
        raise InvalidArgument("invalid mount config: not an object")
    kind = m.get("Type") or ""
    src, dest = m.get("Source") or "", m.get("Target") or ""
    ro = bool(m.get("ReadOnly"))
    if kind not in ("bind", "volume", "tmpfs"):
        raise InvalidArgument(_mount_error(kind, "mount type unknown"))
    if not dest:
        raise InvalidArgument(_mount_error(kind, "field Target must not be empty"))
    _check_dest(kind, dest)
    if kind == "bind":
        if not src:
            raise InvalidArgument(_mount_error(kind, "field Source must not be empty"))
        if not src.startswith("/"):
            raise InvalidArgument(_mount_error(kind, f"invalid mount path: '{src}' mount path must be absolute"))
        prop = ((m.get("BindOptions") or {}).get("Propagation")) or "rprivate"
        return _point("bind", "", _clean(src), _clean(dest), "", not ro, prop, "mounts")
    if kind == "volume":
        if m.get("BindOptions"):
            raise InvalidArgument(_mount_error(kind, "BindOptions must not be specified"))
        nocopy = bool((m.get("VolumeOptions") or {}).get("NoCopy"))
        p = _point("volume", src, "", _clean(dest), "z", not ro, "", "mounts", nocopy=nocopy)
        p["Labels"] = (m.get("VolumeOptions") or {}).get("Labels")
        return p
    if src:
        raise InvalidArgument(_mount_error(kind, "field Source must not be specified"))
    opts = m.get("TmpfsOptions") or {}
    data = []
    if opts.get("SizeBytes"):
        data.append(f"size={int(opts['SizeBytes'])}")
    if opts.get("Mode"):
        data.append(f"mode={int(opts['Mode']) & 0o7777:o}")
    p = _point("tmpfs", "", "", _clean(dest), "", not ro, "", "mounts")
    p["Data"], p["Flags"] = ",".join(data), TMPFS_DEFAULT | (RDONLY if ro else 0)
    return p


def parse_tmpfs(dest: str, options: str) -> dict:
    """One ``HostConfig.Tmpfs`` entry (``--tmpfs``): Docker's default flags
    (nosuid,nodev,noexec) changed by the flag words, the rest passed as data."""
    if not dest.startswith("/"):
        raise InvalidArgument(f"invalid mount path: '{dest}' mount path must be absolute")
    flags, data = TMPFS_DEFAULT, []
    for o in (options or "").split(","):
        if not o:
            continue
        if o in _TMPFS_FLAGS:
            bit, on = _TMPFS_FLAGS[o]
            flags = flags | bit if on else flags & ~bit
        else:
            data.append(o)
    p = _point("tmpfs", "", "", _clean(dest), "", not flags & RDONLY, "", "tmpfs")
    p["Data"], p["Flags"] = ",".join(data), flags
    return p


def _point(kind, name, source, dest, mode, rw, prop, spec, nocopy=False, create_missing=False) -> dict:
    return {"Type": kind, "Name": name, "Source": source, "Destination": dest, "Driver": "local" if kind == "volume" else "",
            "Mode": mode, "RW": rw, "Propagation": prop, "Spec": spec, "NoCopy": nocopy,
            "CreateMissing": create_missing, "Data": "", "Flags": 0}


def parse_all(binds, mounts, tmpfs, volumes) -> list[dict]:
    """Every mount point of a create body, checked; Docker's `Duplicate mount point`."""
    points = [parse_bind(b) for b in binds or []]
    points += [parse_mount(m) for m in mounts or []]
    for dest in (volumes or {}):
        if not isinstance(dest, str) or not dest.startswith("/"):
            raise InvalidArgument(f"invalid volume specification: '{dest}': invalid mount config for type "
                                  f"\"volume\": invalid mount path: '{dest}' mount path must be absolute")
        if any(p["Destination"] == _clean(dest) for p in points):
            continue  # a bind or mount over a declared volume replaces it
        points.append(_point("volume", "", "", _clean(dest), "", True, "", "volumes"))
    seen = set()
    for p in points:
        if p["Destination"] in seen:
            raise InvalidArgument(f"Duplicate mount point: {p['Destination']}")
        seen.add(p["Destination"])
    for dest, opts in (tmpfs or {}).items():
        t = parse_tmpfs(dest, opts)
        if t["Destination"] in seen:
            raise InvalidArgument(f"Duplicate mount point: {t['Destination']}")
        seen.add(t["Destination"])
        points.append(t)
    return points


def inspect_view(p: dict) -> dict | None:
    """A mount point as `inspect` shows it under Mounts (--tmpfs ones are not shown)."""
    if p["Spec"] == "tmpfs":
        return None
    out = {"Type": p["Type"]}
    if p["Type"] == "volume":
        out["Name"] = p["Name"]
    out.update({"Source": p["Source"], "Destination": p["Destination"]})
    if p["Type"] == "volume":
        out["Driver"] = "local"
    out.update({"Mode": p["Mode"], "RW": p["RW"], "Propagation": p["Propagation"]})
    return out


def summary_view(p: dict) -> dict | None:
    """A mount point in `GET /containers/json` (Docker lists them with Name for volumes)."""
    return inspect_view(p)


def parse_size(text: str) -> int:
    """go-units RAMInBytes: "64m", "1g", "512k", "100" (binary units)."""
    t = text.strip().lower()
    mult = 1
    for suffix, m in (("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("tb", 1 << 40), ("k", 1 << 10),
                      ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1)):
        if t.endswith(suffix):
            t, mult = t[: -len(suffix)], m
            break
    try:
        return int(float(t) * mult)
    except ValueError:
        raise InvalidArgument(f"invalid size: '{text}'") from None

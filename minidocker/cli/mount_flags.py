"""`run -v`, `--mount`, `--tmpfs`: the create body's pieces, built as the docker
20.10 CLI builds them (its opts/mount.go): `-v SPEC` goes to HostConfig.Binds, or,
with no destination (`-v /path`), to Config.Volumes; `--mount` to HostConfig.Mounts
(its own flag errors); `--tmpfs PATH[:OPTS]` to HostConfig.Tmpfs."""
import csv

_TRUE = ("", "1", "true")
_FALSE = ("0", "false")


def split_volumes(specs) -> tuple[list, dict]:
    """(Binds, Config.Volumes)."""
    binds, volumes = [], {}
    for spec in specs:
        if ":" in spec.rstrip(":"):
            binds.append(spec)
        else:
            volumes[spec] = {}
    return binds, volumes


def _bool(key: str, value: str) -> bool:
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f'invalid value for {key}: {value}')


def _size(text: str) -> int:
    t = text.strip().lower()
    for suffix, mult in (("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20),
                         ("g", 1 << 30), ("b", 1)):
        if t.endswith(suffix):
            return int(float(t[: -len(suffix)]) * mult)
    return int(t)


def parse_mount(text: str) -> dict:
    """One --mount value -> a HostConfig.Mounts entry (ValueError: Docker's text)."""
    m: dict = {"Type": "volume"}
    fields = next(csv.reader([text]))
    bind_opts, vol_opts, tmpfs_opts = {}, {}, {}
    for field in fields:
        key, eq, value = field.partition("=")
        k = key.lower()
        if not eq and k in ("readonly", "ro", "volume-nocopy", "bind-nonrecursive"):
            value = ""
        elif not eq:
            raise ValueError(f"invalid field '{field}' must be a key=value pair")
        if k == "type":
            m["Type"] = value
        elif k in ("source", "src"):
            m["Source"] = value
        elif k in ("target", "dst", "destination"):
            m["Target"] = value
        elif k in ("readonly", "ro"):
            m["ReadOnly"] = _bool(key, value)
        elif k == "consistency":
            m["Consistency"] = value
        elif k == "bind-propagation":
            bind_opts["Propagation"] = value
        elif k == "bind-nonrecursive":
            bind_opts["NonRecursive"] = _bool(key, value)
        elif k == "volume-nocopy":
            vol_opts["NoCopy"] = _bool(key, value)
        elif k == "volume-label":
            lk, _, lv = value.partition("=")
            vol_opts.setdefault("Labels", {})[lk] = lv
        elif k == "volume-driver":
            vol_opts.setdefault("DriverConfig", {})["Name"] = value
        elif k == "volume-opt":
            ok, _, ov = value.partition("=")
            vol_opts.setdefault("DriverConfig", {}).setdefault("Options", {})[ok] = ov
        elif k == "tmpfs-size":
            try:
                tmpfs_opts["SizeBytes"] = _size(value)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {value}") from None
        elif k == "tmpfs-mode":
            try:
                tmpfs_opts["Mode"] = int(value, 8)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {value}") from None
        else:
            raise ValueError(f"unexpected key '{key}' in '{field}'")
    if not m.get("Target"):
        raise ValueError("target is required")
    if m["Type"] == "bind" and bind_opts:
        m["BindOptions"] = bind_opts
    if m["Type"] == "volume" and vol_opts:
        m["VolumeOptions"] = vol_opts
    if m["Type"] == "tmpfs" and tmpfs_opts:
        m["TmpfsOptions"] = tmpfs_opts
    return m


def tmpfs_map(specs) -> dict:
    out = {}
    for spec in specs:
        path, _, opts = spec.partition(":")
        out[path] = opts
    return out

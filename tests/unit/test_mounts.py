"""Mount specs as Docker 20.10 reads them (engine/mounts.py, cli/mount_flags.py):
shapes and error texts measured on Docker."""
import os

import pytest

from minidocker.cli import mount_flags
from minidocker.engine import mounts
from minidocker.engine.archive import go_mode, go_time
from minidocker.errors import InvalidArgument


def test_bind_and_volume_specs():
    p = mounts.parse_bind("/tmp/h:/data:ro")
    assert (p["Type"], p["Source"], p["Destination"], p["Mode"], p["RW"], p["Propagation"]) == \
        ("bind", "/tmp/h", "/data", "ro", False, "rprivate")
    p = mounts.parse_bind("/tmp/h:/z:ro,rshared")
    assert (p["Mode"], p["Propagation"], p["RW"]) == ("ro,rshared", "rshared", False)
    p = mounts.parse_bind("vol:/v")
    assert (p["Type"], p["Name"], p["Mode"], p["RW"], p["Propagation"]) == ("volume", "vol", "z", True, "")
    p = mounts.parse_bind("vol:/v:ro")
    assert (p["Mode"], p["RW"]) == ("ro", False)
    p = mounts.parse_bind("/anon")
    assert (p["Type"], p["Name"], p["Mode"]) == ("volume", "", "")
    assert mounts.parse_bind("/tmp/h:/data")["CreateMissing"] is True


@pytest.mark.parametrize("spec,message", [
    ("/tmp:rel", "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid mount "
                 "path: 'rel' mount path must be absolute"),
    ("/tmp:/x:bogus", "invalid mode: bogus"),
    ("/tmp:/x:ro:rw", "invalid volume specification: '/tmp:/x:ro:rw'"),
    ("a:b:c:d", "invalid volume specification: 'a:b:c:d'"),
    ("/tmp:/", "invalid volume specification: '/tmp:/': invalid mount config for type \"bind\": invalid "
               "specification: destination can't be '/'"),
    ("/foo:rw", "invalid volume specification: '/foo:rw'"),
    ("/tmp:/x:nocopy", "invalid mode: nocopy"),
])
def test_bind_errors(spec, message):
    with pytest.raises(InvalidArgument) as ex:
        mounts.parse_bind(spec)
    assert ex.value.message == message


@pytest.mark.parametrize("m,message", [
    ({"Type": "foo", "Target": "/x"}, 'invalid mount config for type "foo": mount type unknown'),
    ({"Type": "bind", "Target": "/x"}, 'invalid mount config for type "bind": field Source must not be empty'),
    ({"Type": "tmpfs", "Source": "/a", "Target": "/x"},
     'invalid mount config for type "tmpfs": field Source must not be specified'),
    ({"Type": "bind", "Source": "/tmp", "Target": "rel"},
     "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
])
def test_mount_errors(m, message):
    with pytest.raises(InvalidArgument) as ex:
        mounts.parse_mount(m)
    assert ex.value.message == message


def test_tmpfs_and_duplicates():
    t = mounts.parse_tmpfs("/t", "size=2m,mode=700")
    assert t["Data"] == "size=2m,mode=700" and t["Flags"] == mounts.TMPFS_DEFAULT and t["RW"]
    t = mounts.parse_tmpfs("/t", "ro,exec")
    assert t["Flags"] == mounts.NOSUID | mounts.NODEV | mounts.RDONLY and not t["RW"]
    t = mounts.parse_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 0o1770}})
    assert t["Data"] == "size=1048576,mode=1770"
    with pytest.raises(InvalidArgument) as ex:
        mounts.parse_all(["/tmp:/x", "/var:/x"], None, None, None)
    assert ex.value.message == "Duplicate mount point: /x"
    with pytest.raises(InvalidArgument) as ex:
        mounts.parse_all(None, None, {"rel": ""}, None)
    assert ex.value.message == "invalid mount path: 'rel' mount path must be absolute"
    points = mounts.parse_all(["v:/a"], [{"Type": "tmpfs", "Target": "/t"}], {"/r": ""}, {"/anon": {}})
    views = [mounts.inspect_view(p) for p in points]
    assert [v and v["Destination"] for v in views] == ["/a", "/t", "/anon", None]  # --tmpfs is not listed


def test_cli_mount_flag():
    assert mount_flags.parse_mount("type=bind,source=/h,target=/m2") == \
        {"Type": "bind", "Source": "/h", "Target": "/m2"}
    assert mount_flags.parse_mount("type=volume,src=v,dst=/m3,readonly") == \
        {"Type": "volume", "Source": "v", "Target": "/m3", "ReadOnly": True}
    assert mount_flags.parse_mount("type=tmpfs,target=/t2,tmpfs-size=1m") == \
        {"Type": "tmpfs", "Target": "/t2", "TmpfsOptions": {"SizeBytes": 1048576}}
    assert mount_flags.parse_mount("target=/x") == {"Type": "volume", "Target": "/x"}
    for text, message in (("type=volume,target=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
                          ("type=volume", "target is required")):
        with pytest.raises(ValueError) as ex:
            mount_flags.parse_mount(text)
        assert str(ex.value) == message
    assert mount_flags.split_volumes(["/h:/c", "v:/d:ro", "/anon"]) == (["/h:/c", "v:/d:ro"], {"/anon": {}})
    assert mount_flags.tmpfs_map(["/t1:size=2m,mode=700", "/t2"]) == {"/t1": "size=2m,mode=700", "/t2": ""}


def test_path_stat_encoding():
    assert go_mode(0o040755) == 2147484141  # Docker's X-Docker-Container-Path-Stat for a 0755 directory
    assert go_mode(0o120777) == 134218239   # a symlink
    assert go_mode(0o100644) == 420
    assert go_time(1796145729_000000000) == "2026-12-01T17:22:09Z"  # (Docker's, measured)
    assert go_time(1796156002_174692639) == "2026-12-01T20:13:22.174692639Z"
    assert go_time(1796156002_100000000) == "2026-12-01T20:13:22.1Z"


def test_volume_names(tmp_path):
    from minidocker.engine.volumes import Volumes
    vols = Volumes(str(tmp_path))
    for name, message in (("a", "create a: volume name is too short, names should be at least two alphanumeric "
                                "characters"),
                          ("bad/name", 'create bad/name: "bad/name" includes invalid characters for a local volume '
                                       'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass '
                                       'a host directory, use absolute path')):
        with pytest.raises(InvalidArgument) as ex:
            vols.create(name)
        assert ex.value.message == message
    assert os.listdir(os.path.join(str(tmp_path), "volumes")) == []
    meta, created = vols.create("ok", labels={"a": "b"})
    assert created and vols.create("ok")[1] is False and vols.view(meta)["Labels"] == {"a": "b"}

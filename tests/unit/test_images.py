"""Image import: archives that try to write outside the image are refused."""
import io
import os
import tarfile

import pytest

from minidocker.errors import InvalidArgument
from minidocker.engine.images import Images


def _tar(entries) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for kind, name, arg in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(arg)
                tar.addfile(info, io.BytesIO(arg))
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, arg
                tar.addfile(info)
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, arg
                tar.addfile(info)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
    buf.seek(0)
    return buf


def test_import_and_retag(tmp_path):
    imgs = Images(str(tmp_path))
    a = imgs.import_tar("box", _tar([("dir", "bin", None), ("file", "bin/x", b"1"), ("sym", "bin/sh", "/bin/x")]))
    assert imgs.get("box")["Id"] == a["Id"] and imgs.get("box:latest")["Id"] == a["Id"]
    assert os.path.islink(os.path.join(imgs.get("box")["Rootfs"], "bin", "sh"))
    b = imgs.import_tar("box", _tar([("file", "y", b"2")]))
    assert imgs.get("box")["Id"] == b["Id"] != a["Id"]
    assert os.path.exists(os.path.join(imgs.get_by_id(a["Id"])["Rootfs"], "bin", "x"))  # old layer kept
    assert [m["RepoTags"] for m in imgs.list()] == [["box:latest"]]


@pytest.mark.parametrize("entries", [
    [("file", "../evil", b"x")],
    [("file", "/abs", b"x")],
    [("sym", "esc", "{victim}"), ("file", "esc/owned", b"x")],
    [("hard", "hl", "{victim}/target")],
    [("hard", "hl", "../../etc/passwd")],
])
def test_escapes_refused(tmp_path, entries):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "target").write_text("safe")
    entries = [(k, n, a.replace("{victim}", str(victim)) if isinstance(a, str) else a) for k, n, a in entries]
    with pytest.raises(InvalidArgument):
        Images(str(tmp_path / "root")).import_tar("bad", _tar(entries))
    assert sorted(os.listdir(victim)) == ["target"] and (victim / "target").read_text() == "safe"
    assert Images(str(tmp_path / "root")).list() == []


def test_import_changes():
    from minidocker.engine.images import parse_changes
    assert parse_changes(["ENV PATH=/bin", 'CMD ["sh"]']) == (["PATH=/bin"], ["sh"])
    assert parse_changes(["ENV A 1"]) == (["A=1"], None)
    assert parse_changes(["CMD echo hi"]) == (None, ["/bin/sh", "-c", "echo hi"])
    with pytest.raises(InvalidArgument):
        parse_changes(["RUN true"])


def test_same_files_other_config_is_another_image(tmp_path):
    imgs = Images(str(tmp_path))
    a = imgs.import_tar("one", _tar([("file", "x", b"1")]))
    b = imgs.import_tar("two", _tar([("file", "x", b"1")]), env=["PATH=/bin"])
    assert a["Id"] != b["Id"] and imgs.get("two")["Env"] == ["PATH=/bin"]

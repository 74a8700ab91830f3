"""`docker diff` from an overlay upper dir (engine/changes.py): added, changed,
deleted (whiteouts), the parent directories marked changed once, runtime files left out."""
import os

import pytest

from minidocker.engine.changes import changes


@pytest.fixture
def layers(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for d in ("bin", "etc", "var/lib"):
        (lower / d).mkdir(parents=True)
    (lower / "bin" / "ls").write_text("ls")
    (lower / "etc" / "group").write_text("g")
    (upper / "bin").mkdir(parents=True)
    (upper / "etc").mkdir()
    (upper / "newdir").mkdir()
    (upper / "newdir" / "f").write_text("x")
    (upper / "etc" / "group").write_text("changed")
    for name in ("hostname", "hosts", "resolv.conf"):  # the runtime's mount points
        (upper / "etc" / name).write_text("")
    return str(lower), str(upper)


def test_added_changed_and_runtime_files(layers):
    lower, upper = layers
    assert changes(upper, [lower]) == [{"Path": "/etc/group", "Kind": 0}, {"Path": "/newdir", "Kind": 1},
                                       {"Path": "/newdir/f", "Kind": 1}]


def test_whiteouts_are_deletions(layers):
    lower, upper = layers
    if os.geteuid() != 0:
        pytest.skip("a whiteout is a 0/0 character device: mknod needs root")
    os.mknod(os.path.join(upper, "bin", "ls"), 0o20000, os.makedev(0, 0))
    os.mknod(os.path.join(upper, "bin", "never-there"), 0o20000, os.makedev(0, 0))
    assert changes(upper, [lower])[:2] == [{"Path": "/bin", "Kind": 0}, {"Path": "/bin/ls", "Kind": 2}]
    assert len(changes(upper, [lower])) == 5


def test_layers_stack(layers, tmp_path):
    lower, upper = layers
    mid = tmp_path / "mid"
    (mid / "opt").mkdir(parents=True)
    os.makedirs(os.path.join(upper, "opt"))
    with open(os.path.join(upper, "opt", "x"), "w") as f:
        f.write("x")
    got = changes(upper, [str(mid), lower])
    assert {"Path": "/opt", "Kind": 0} in got and {"Path": "/opt/x", "Kind": 1} in got

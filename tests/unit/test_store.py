"""State files: atomic writes, and a corrupt file does not stop the daemon."""
import json
import logging
import os
import sys

import pytest

from minidocker.engine.models import Container, Network
from minidocker.engine.store import Store, read_json, write_json


@pytest.fixture
def daemon_stderr(capsys):
    """minidocker's log on (captured) stderr, as the daemon has it."""
    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger("minidocker").addHandler(handler)
    yield
    logging.getLogger("minidocker").removeHandler(handler)


def test_roundtrip_and_corrupt_file_set_aside(tmp_path, capsys, daemon_stderr):
    s = Store(str(tmp_path))
    s.save_network(Network(id="a" * 64, name="n1", driver="bridge", created="now"))
    bad = tmp_path / "networks" / ("b" * 64 + ".json")
    bad.write_text("{ half a file")
    nets = s.load_networks()
    assert [n.name for n in nets] == ["n1"]
    assert os.path.exists(str(bad) + ".corrupt") and "corrupt state file" in capsys.readouterr().err
    write_json(str(tmp_path / "x.json"), {"k": 1})
    assert read_json(str(tmp_path / "x.json")) == {"k": 1}
    assert [f for f in os.listdir(tmp_path) if ".tmp." in f] == []


def test_write_ahead_records_skip_fsync_durable_ones_do_not(tmp_path, monkeypatch):
    """A write-ahead record (durable=False) is atomic but not fsynced; every other write is."""
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    path = str(tmp_path / "x.json")
    write_json(path, {"k": 1})
    assert len(synced) == 1
    write_json(path, {"k": 2}, durable=False)
    assert len(synced) == 1 and read_json(path) == {"k": 2}
    assert [f for f in os.listdir(tmp_path) if ".tmp." in f] == []


def _container(cid: str, status: str = "created") -> Container:
    return Container(id=cid, name="/c", created="now", image="busybox", image_id="sha256:x", argv=["true"],
                     status=status)


def test_a_containers_write_ahead_record_is_rewritten_in_place_and_the_later_save_wins(tmp_path, monkeypatch):
    """durable=False goes to ahead.json, same inode, no fsync and no rename; on
    load the record saved last wins, whichever file holds it."""
    s = Store(str(tmp_path))
    c = _container("c" * 64)
    s.save_container(c)  # created: durable
    bundle = tmp_path / "containers" / c.id
    synced, renamed = [], []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (renamed.append(b), real_replace(a, b)))
    c.endpoints = {"n" * 64: {"ip": "10.0.0.2", "aliases": ["a" * 40]}}
    s.save_container(c, durable=False)  # a long record
    inode = os.stat(bundle / "ahead.json").st_ino
    c.endpoints = {"n" * 64: {"ip": "10.0.0.2"}}
    c.handle = {"pid": 42}
    s.save_container(c, durable=False)  # a shorter one over it: cut to length, still JSON
    assert synced == [] and renamed == []
    assert os.stat(bundle / "ahead.json").st_ino == inode
    assert json.loads((bundle / "ahead.json").read_text())["handle"] == {"pid": 42}
    assert (bundle / "ahead.json").read_bytes().endswith(b"}")
    # a crash here: the record is newer than config.json
    [loaded] = Store(str(tmp_path)).load_containers()
    assert loaded.handle == {"pid": 42} and loaded.endpoints == {"n" * 64: {"ip": "10.0.0.2"}}
    # the final state, durable: it is newer than the record
    c.status = "running"
    s.save_container(c)
    assert len(synced) == 1
    s2 = Store(str(tmp_path))
    [loaded] = s2.load_containers()
    assert loaded.status == "running"
    # the counter goes on from what was loaded: a record after a restart still wins
    loaded.pid = 7
    s2.save_container(loaded, durable=False)
    [again] = Store(str(tmp_path)).load_containers()
    assert again.pid == 7


def test_an_unreadable_write_ahead_record_is_set_aside_and_the_durable_state_stands(tmp_path, daemon_stderr):
    s = Store(str(tmp_path))
    c = _container("d" * 64, status="exited")
    s.save_container(c)
    (tmp_path / "containers" / c.id / "ahead.json").write_text('{"Saved": 9, "status": "runn')
    [loaded] = Store(str(tmp_path)).load_containers()
    assert loaded.status == "exited"
    assert (tmp_path / "containers" / c.id / "ahead.json.corrupt").exists()
    s.delete_container(c.id)
    assert Store(str(tmp_path)).load_containers() == []


def test_containers_dir_is_a_top_directory(tmp_path):
    """containers/ carries ext4's FS_TOPDIR_FL (chattr +T), so bundles spread over
    block groups (engine/top_dir.py); a bundle does not inherit it."""
    from minidocker.engine import top_dir
    probe = tmp_path / "probe"
    probe.mkdir()
    if not top_dir.mark(str(probe)):
        pytest.skip("the file system under the tests has no FS_TOPDIR_FL")
    s = Store(str(tmp_path / "root"))
    containers = os.path.join(s.root, "containers")
    assert top_dir.flags(containers) & top_dir.FS_TOPDIR_FL
    s.save_container(Container(id="c" * 64, name="/x", created="now", image="busybox", image_id="i", argv=[]))
    assert not top_dir.flags(s.bundle("c" * 64)) & top_dir.FS_TOPDIR_FL
    Store(s.root)  # a second start finds it marked and leaves it so
    assert top_dir.flags(containers) & top_dir.FS_TOPDIR_FL
    other = tmp_path / "plain"
    other.mkdir()
    assert not top_dir.flags(str(other)) & top_dir.FS_TOPDIR_FL

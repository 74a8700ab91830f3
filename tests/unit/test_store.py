"""State files: atomic writes, and a corrupt file does not stop the daemon."""
import logging
import os
import sys

import pytest

from minidocker.engine.models import Network
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

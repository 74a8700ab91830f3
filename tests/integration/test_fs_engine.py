"""The filesystem side through the Engine: volumes survive a daemon restart (and a
crash's leftovers are swept), commit of a commit and the layer garbage collection."""
import os

from minidocker.engine import commit, image_verbs, volume_verbs
from minidocker.engine.core import Engine

from .conftest import _fresh_root
from .enginehelp import ex, run


def test_volumes_survive_restart(no_leaks, tmp_path, image_root):
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e1 = Engine(root, run_dir, host_resolv_conf=resolv)
    e2 = None
    try:
        c = run(e1, "sh", "-c", "echo kept > /v/f; sleep 600", name="writer", Binds=["keep:/v"])
        for _ in range(100):
            if os.path.exists(os.path.join(root, "volumes", "keep", "_data", "f")):
                break
            ex(e1, c, "true")
        e1.close()
        os.makedirs(os.path.join(root, "volumes", ".create-half", "_data"))  # a create a crash cut short
        e2 = Engine(root, run_dir, host_resolv_conf=resolv)
        assert [v["Name"] for v in volume_verbs.listing(e2)["Volumes"]] == ["keep"]
        assert not os.path.exists(os.path.join(root, "volumes", ".create-half"))
        code, out = ex(e2, e2.containers[c.id], "cat", "/v/f")
        assert (code, out) == (0, "kept\n")
        try:
            volume_verbs.remove(e2, "keep")
            raise AssertionError("removed a volume in use")
        except Exception as err:  # noqa: BLE001
            assert getattr(err, "message", "") == f"remove keep: volume is in use - [{c.id}]"
        e2.ctr.remove(c.id, force=True)
        volume_verbs.remove(e2, "keep")
        assert os.listdir(os.path.join(root, "volumes")) == []
    finally:
        (e2 or e1).close(teardown=True)


def test_commit_chain_and_layer_gc(engine):
    c1 = run(engine, "sh", "-c", "echo one > /one", name="first")
    engine.ctr.wait(c1.id)
    img1 = commit.commit(engine, c1.id, "chain", "1")["Id"]
    c2 = engine.ctr.create({"Image": "chain:1", "Cmd": ["sh", "-c", "echo two > /two; rm /one"]}, name="second")
    engine.ctr.start(c2.id)
    engine.ctr.wait(c2.id)
    img2 = commit.commit(engine, c2.id, "chain", "2")["Id"]
    c3 = engine.ctr.create({"Image": "chain:2", "Cmd": ["sh", "-c", "cat /two; ls /one || echo gone"]},
                           name="third")
    engine.ctr.start(c3.id)
    assert engine.ctr.wait(c3.id) == 0
    log = open(os.path.join(engine.store.bundle(c3.id), "container.log")).read()
    assert "two" in log and "gone" in log
    layers = os.path.join(engine.root, "images", "layers")
    for c in (c1, c2, c3):
        engine.ctr.remove(c.id)
    # untagging the parent keeps it (a child stands on it); removing the child takes both
    assert image_verbs.remove(engine, "chain:1") == [{"Untagged": "chain:1"}]
    assert os.path.isdir(os.path.join(layers, img1[7:]))
    out = image_verbs.remove(engine, "chain:2")
    assert [out[0], out[1], out[3]] == [{"Untagged": "chain:2"}, {"Deleted": img2}, {"Deleted": img1}]
    assert len(out) == 5 and all(out[i]["Deleted"] not in (img1, img2) for i in (2, 4))  # each image's layer
    assert not os.path.exists(os.path.join(layers, img1[7:])) and not os.path.exists(os.path.join(layers, img2[7:]))

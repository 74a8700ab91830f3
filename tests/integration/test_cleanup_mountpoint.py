"""process.cleanup's mount-point test (by mount id, not by reading mountinfo: that
file has a line per netns pin, so reading it cost each removal O(containers))."""
import os

from minidocker.network import namespaces as ns
from minidocker.runtime import process


def test_mountpoint_by_mount_id(tmp_path, no_leaks):
    merged = tmp_path / "merged"
    merged.mkdir()
    assert not process._is_mountpoint(str(merged))
    assert not process._is_mountpoint(str(tmp_path / "missing"))
    ns.mount("tmpfs", str(merged), "tmpfs", 0)
    try:
        assert process._is_mountpoint(str(merged))
        (merged / "f").write_text("x")
    finally:
        ns.umount(str(merged), ns.MNT_DETACH)
    assert not process._is_mountpoint(str(merged))


def test_cleanup_detaches_a_host_mount_and_removes_the_layer(tmp_path, no_leaks):
    bundle = tmp_path / "bundle"
    for d in ("merged", "upper", "work"):
        (bundle / d).mkdir(parents=True)
    ns.mount("tmpfs", str(bundle / "merged"), "tmpfs", 0)
    (bundle / "merged" / "f").write_text("x")
    process.cleanup(str(bundle))
    assert sorted(os.listdir(bundle)) == []

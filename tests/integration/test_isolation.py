import json
import subprocess

from minidocker import namespaces as ns


def test_runs_in_throwaway_netns(no_leaks):
    links = [l["ifname"] for l in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)]
    assert links == ["lo"]


def test_netns_create_delete(tmp_path, no_leaks):
    d = "/run/minidocker-test/netns"
    ns.ensure_private_dir(d)
    p = f"{d}/x1"
    ns.create_netns(p)
    out = ns.run_in_netns(p, lambda: subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)
    assert [l["ifname"] for l in json.loads(out)] == ["lo"]
    ns.delete_netns(p)
    ns.umount(d, ns.MNT_DETACH)

"""Issue 2: state survives a daemon restart, and the restarted daemon reconciles
with the kernel (dead containers released, live ones adopted)."""
import os
import signal
import time

from minidocker.engine.core import Engine

from .conftest import _fresh_root
from .enginehelp import body, ex, ip_j, run


def test_restart_reconciles(no_leaks, tmp_path, image_root):
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e1 = Engine(root, run_dir, host_resolv_conf=resolv)
    e2 = None
    try:
        e1.net.create("keep_net", subnet="10.55.0.0/24")
        live = run(e1, name="live", network="keep_net")
        dead = run(e1, name="dead")
        dead_veth = next(iter(dead.endpoints.values()))["host_veth"]
        dead_pin = dead.netns
        net_ids = sorted(e1.networks)
        e1.close()  # the daemon goes away; containers keep running
        os.kill(dead.pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(dead.pid, 0)
                time.sleep(0.02)
            except ProcessLookupError:
                break
        # what a crash mid-start leaves: a pin, a host veth and a bundle nobody owns
        import subprocess
        from minidocker.network import namespaces
        namespaces.create_netns(os.path.join(run_dir, "netns", "0123456789ab"))
        crashed = e1.ctr.create(body({"Name": "crashed", "Image": "busybox", "Cmd": ["true"]}))
        e1.net.attach_addresses(crashed)  # what start saves before it plumbs
        e1.store.save_container(crashed)
        stale_veth = next(iter(crashed.endpoints.values()))["host_veth"]
        subprocess.run(["ip", "link", "add", stale_veth, "type", "veth", "peer", "name", "mdvpeer0"], check=True)
        subprocess.run(["ip", "link", "add", "mdvforeign", "type", "veth", "peer", "name", "mdvforeig1"], check=True)
        os.makedirs(os.path.join(root, "containers", "f" * 64))
        e2 = Engine(root, run_dir, host_resolv_conf=resolv)
        assert sorted(os.listdir(os.path.join(run_dir, "netns"))) == [os.path.basename(live.netns)]
        links = {l["ifname"] for l in ip_j("link")}
        assert stale_veth not in links and "mdvforeign" in links  # ours swept, another daemon's kept
        assert [ep.ip for ep in e2.containers[crashed.id].eps()] == [""]  # and its address released
        subprocess.run(["ip", "link", "del", "mdvforeign"], check=True)
        assert not os.path.exists(os.path.join(root, "containers", "f" * 64))
        assert sorted(e2.networks) == net_ids
        d = e2.containers[dead.id]
        assert d.status == "exited" and d.exit_code == 137
        assert [ep.ip for ep in d.eps()] == [""]  # a stopped container holds no address
        assert dead_veth not in {l["ifname"] for l in ip_j("link")}
        assert not os.path.exists(dead_pin)
        l2 = e2.containers[live.id]
        assert l2.status == "running"
        code, out = ex(e2, l2, "ip", "-o", "-4", "addr", "show", "eth0")
        assert code == 0 and "10.55.0.2/24" in out
        # the resolver came back to the live container
        code, out = ex(e2, l2, "nslookup", "live", "127.0.0.11")
        assert code == 0 and "10.55.0.2" in out, out
        # and a new container still gets a fresh address, not the live one's
        other = run(e2, name="other", network="keep_net")
        assert next(iter(other.endpoints.values()))["ip"] == "10.55.0.3"
    finally:
        (e2 or e1).close(teardown=True)


def test_default_bridge_elected_at_start_like_dockerd(no_leaks, tmp_path, image_root):
    """Bridge kept: same subnet, Gateway shown. Bridge gone and its pool now taken
    (Docker started and took 172.17): the next free pool; stopped containers get addresses from it at start."""
    import subprocess
    from minidocker.engine import views
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e1 = Engine(root, run_dir, host_resolv_conf=resolv)
    e2 = e3 = None
    try:
        assert views.network_inspect(e1.default_bridge(), [])["IPAM"]["Config"] == [{"Subnet": "172.17.0.0/16"}]
        c = e1.ctr.create(body({"Name": "sleeper", "Image": "busybox", "Cmd": ["true"]}))
        e1.close()
        e2 = Engine(root, run_dir, host_resolv_conf=resolv)  # minidocker0 still there
        assert views.network_inspect(e2.default_bridge(), [])["IPAM"]["Config"] == [
            {"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
        e2.close()
        subprocess.run(["ip", "link", "del", "minidocker0"], check=True)
        subprocess.run(["ip", "link", "add", "fakedocker0", "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", "172.17.0.1/16", "dev", "fakedocker0"], check=True)
        subprocess.run(["ip", "link", "set", "fakedocker0", "up"], check=True)
        e3 = Engine(root, run_dir, host_resolv_conf=resolv)
        assert e3.default_bridge().network == "172.18.0.0/16"
        ep = next(iter(e3.containers[c.id].endpoints.values()))
        assert (ep["ip"], ep["mac"], ep["gateway"]) == ("", "", "")  # a stopped one holds no address
        e3.ctr.start(c.id)
        ep = next(iter(e3.containers[c.id].endpoints.values()))
        assert (ep["ip"], ep["mac"], ep["gateway"]) == ("172.18.0.2", "02:42:ac:12:00:02", "172.18.0.1")
        assert e3.ctr.wait(c.id) == 0
    finally:
        (e3 or e2 or e1).close(teardown=True)
        subprocess.run(["ip", "link", "del", "fakedocker0"])

"""Edge cases found in review: nothing of the host's is taken over or left behind."""
import subprocess

import pytest

from minidocker.errors import Conflict

from .enginehelp import body, ip_j, kernel_snapshot


def test_bridge_name_of_existing_link_is_refused(engine):
    subprocess.run(["ip", "link", "add", "hostlink0", "type", "veth", "peer", "name", "hostlink1"], check=True)
    try:
        before = kernel_snapshot(engine)
        with pytest.raises(Conflict):
            engine.net.create("hijack", options={"com.docker.network.bridge.name": "hostlink0"})
        assert kernel_snapshot(engine) == before
        link = next(l for l in ip_j("addr") if l["ifname"] == "hostlink0")
        assert link.get("addr_info", []) == []
    finally:
        subprocess.run(["ip", "link", "del", "hostlink0"], check=True)


def test_failed_start_leaves_nothing(engine):
    before = kernel_snapshot(engine)
    c = engine.ctr.create(body({"Name": "broken", "Image": "busybox", "Cmd": ["nosuch"], "NetworkMode": "default"}))
    with pytest.raises(Exception) as info:
        engine.ctr.start(c.id)
    assert getattr(info.value, "code", None) == 127
    assert c.id not in engine.dns.attached()
    snap = kernel_snapshot(engine)
    assert snap["links"] == before["links"] and snap["pins"] == before["pins"] and snap["nft"] == before["nft"]
    assert engine.containers[c.id].status == "created"


def test_image_with_symlinked_etc_cannot_touch_host(engine, tmp_path):
    import io
    import os
    import tarfile
    victim = tmp_path / "victim"
    victim.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        with open(os.path.join(engine.images.get("busybox")["Rootfs"], "bin", "busybox"), "rb") as f:
            data = f.read()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("etc")
        link.type, link.linkname = tarfile.SYMTYPE, str(victim)
        tar.addfile(link)
    buf.seek(0)
    engine.images.import_tar("evil-etc", buf)
    try:
        c = engine.ctr.create(body({"Image": "evil-etc", "Cmd": ["/bin/busybox", "true"], "NetworkMode": "none"}))
        with pytest.raises(Exception) as info:
            engine.ctr.start(c.id)
        assert getattr(info.value, "code", None) == 125
        assert os.listdir(victim) == []
        engine.ctr.remove(c.id)
    finally:
        os.unlink(engine.images._tag_path("evil-etc"))


def test_failed_start_with_rm_is_removed_and_recorded(engine):
    from .enginehelp import run
    ports = [{"proto": "tcp", "host_ip": "", "host_port": "8090", "container_port": 80}]
    run(engine, name="holder", Ports=ports)
    keep = engine.ctr.create(body({"Name": "keeper", "Image": "busybox", "Cmd": ["true"], "Ports": ports}))
    with pytest.raises(Conflict):
        engine.ctr.start(keep.id)
    assert keep.exit_code == 128 and "port is already allocated" in keep.error
    gone = engine.ctr.create(body({"Name": "gone", "Image": "busybox", "Cmd": ["true"], "Ports": ports,
                              "AutoRemove": True}))
    with pytest.raises(Conflict):
        engine.ctr.start(gone.id)
    assert gone.id not in engine.containers


def test_specific_host_addresses_do_not_conflict(engine):
    from .enginehelp import run
    run(engine, name="p1", Ports=[{"proto": "tcp", "host_ip": "127.0.0.1", "host_port": "8091", "container_port": 80}])
    run(engine, name="p2", Ports=[{"proto": "tcp", "host_ip": "172.17.0.1", "host_port": "8091", "container_port": 80}])
    c = engine.ctr.create(body({"Name": "p3", "Image": "busybox", "Cmd": ["true"],
                           "Ports": [{"proto": "tcp", "host_ip": "", "host_port": "8091", "container_port": 80}]}))
    with pytest.raises(Conflict):
        engine.ctr.start(c.id)


def test_rm_exit_code_for_every_waiter(engine):
    c = engine.ctr.create(body({"Name": "rmw", "Image": "busybox", "Cmd": ["sh", "-c", "exit 5"], "AutoRemove": True}))
    engine.ctr.start(c.id)
    assert engine.ctr.wait(c.id) == 5
    assert engine.ctr.wait(c.id) == 5  # a second waiter (stop, a second client) too


def test_container_files_have_usual_modes(engine):
    import os
    from .enginehelp import ex, run
    old = os.umask(0o077)  # whatever the daemon's umask, containers see Docker's modes
    try:
        c = run(engine, name="modes")
    finally:
        os.umask(old)
    assert ex(engine, c, "stat", "-c", "%a", "/etc/hosts")[1].strip() == "644"
    assert ex(engine, c, "sh", "-c", "umask")[1].strip() == "0022"
    assert ex(engine, c, "stat", "-c", "%a", "/")[1].strip() == "755"

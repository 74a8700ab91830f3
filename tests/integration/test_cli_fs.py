"""A container's filesystem through the minidocker CLI: -v/--mount/--tmpfs/--read-only
(checked in /proc/PID/mountinfo), volumes, cp both ways (running and stopped), diff,
commit (a layered image that runs), export, rmi with layer garbage collection,
container prune; Docker's messages for bad input."""
import io
import json
import os
import subprocess
import tarfile


def _pid(cli, name) -> int:
    return json.loads(cli.ok("inspect", name))[0]["State"]["Pid"]


def _mountpoints(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            parts = line.split()
            out[parts[4]] = (parts[3], parts[5], line.split(" - ")[1].split()[0])
    return out


def test_run_mounts_with_our_cli(cli, tmp_path):
    host = tmp_path / "cfg"
    host.mkdir()
    (host / "app.conf").write_text("port=1\n")
    cli.ok("run", "-d", "--name", "web", "-v", f"{host}/app.conf:/etc/app.conf:ro", "-v", "data:/data",
           "--mount", "type=tmpfs,target=/cache", "--tmpfs", "/run", "--read-only", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "peer", "-v", "data:/shared", "busybox", "sleep", "600")
    try:
        mi = _mountpoints(_pid(cli, "web"))
        assert mi["/etc/app.conf"][0] == f"{host}/app.conf" and mi["/etc/app.conf"][1].startswith("ro")
        assert mi["/"][1].startswith("ro")
        assert mi["/cache"][2] == "tmpfs" and mi["/run"][2] == "tmpfs"
        assert cli.ok("exec", "web", "cat", "/etc/app.conf") == "port=1\n"
        cli.ok("exec", "peer", "sh", "-c", "echo shared > /shared/x")
        assert cli.ok("exec", "web", "cat", "/data/x") == "shared\n"  # one volume, two containers
        p = cli("volume", "rm", "data")
        assert p.returncode == 1 and p.stderr.startswith("Error response from daemon: remove data: volume is in use - [")
    finally:
        cli.ok("rm", "-f", "web", "peer")
    assert cli.ok("volume", "ls", "-q") == "data\n"
    assert cli.ok("volume", "rm", "data") == "data\n"
    p = cli("volume", "rm", "data")
    assert (p.returncode, p.stderr) == (1, "Error: No such volume: data\n")


def test_mount_errors_change_nothing(cli):
    p = cli("run", "--mount", "type=bind,source=/nonexistent-fs,target=/x", "busybox", "true")
    assert p.returncode == 125
    assert p.stderr == ('minidocker: Error response from daemon: invalid mount config for type "bind": bind source '
                        "path does not exist: /nonexistent-fs.\nSee 'minidocker run --help'.\n")
    p = cli("run", "--mount", "type=volume,target=/x,bogus=1", "busybox", "true")
    assert p.returncode == 125
    assert p.stderr == ('invalid argument "type=volume,target=/x,bogus=1" for "--mount" flag: unexpected key '
                        "'bogus' in 'bogus=1'\nSee 'minidocker run --help'.\n")
    assert cli.ok("ps", "-aq") == "" and cli.ok("volume", "ls", "-q") == ""


def test_cp_both_ways_running_and_stopped(cli, tmp_path):
    cli.ok("run", "-d", "--name", "box", "busybox", "sh", "-c", "mkdir /newdir; echo x > /newdir/f; sleep 600")
    src = tmp_path / "in.txt"
    src.write_text("into\n")
    try:
        for _ in range(50):
            if cli("exec", "box", "test", "-f", "/newdir/f").returncode == 0:
                break
        cli.ok("cp", str(src), "box:/newdir/")
        assert cli.ok("exec", "box", "cat", "/newdir/in.txt") == "into\n"
        cli.ok("cp", str(src), "box:/newdir/renamed")
        assert cli.ok("exec", "box", "cat", "/newdir/renamed") == "into\n"
        out = tmp_path / "out"
        cli.ok("cp", "box:/newdir", str(out))
        assert sorted(os.listdir(out)) == ["f", "in.txt", "renamed"]
        tar = cli("cp", "box:/newdir/f", "-")
        p = subprocess.run([*cli.cmd("cp", "box:/newdir/f", "-")], env=cli.env, capture_output=True)
        names = tarfile.open(fileobj=io.BytesIO(p.stdout)).getnames()
        assert names == ["f"] and tar.returncode == 0
        p = cli("cp", "box:/nope", str(tmp_path / "x"))
        assert (p.returncode, p.stderr) == (1, "Error: No such container:path: box:/nope\n")
        p = cli("cp", str(src), "box:/nodir/x")
        assert (p.returncode, p.stderr) == (1, "Error: No such container:path: box:/nodir\n")
        p = cli("cp", "a", "b")
        assert (p.returncode, p.stderr) == (1, "must specify at least one container source\n")
        p = cli("cp", "nope:/x", str(tmp_path))
        assert (p.returncode, p.stderr) == (1, "Error: No such container:path: nope:/x\n")
        cli.ok("stop", "-t", "0", "box")
        cli.ok("cp", str(src), "box:/")  # stopped: through its overlay, mounted for the call
        stopped = tmp_path / "stopped"
        cli.ok("cp", "box:/in.txt", str(stopped))
        assert stopped.read_text() == "into\n"
        diff = cli.ok("diff", "box").splitlines()
        assert diff == ["A /in.txt", "A /newdir", "A /newdir/f", "A /newdir/in.txt", "A /newdir/renamed"]
        with open("/proc/self/mountinfo") as f:
            assert cli.env["MINIDOCKER_ROOT"] not in f.read()  # unmounted after the call
    finally:
        cli.ok("rm", "-f", "box")


def test_diff_commit_export_rmi(cli, tmp_path):
    cli.ok("run", "--name", "src", "busybox", "sh", "-c",
           "mkdir /newdir; echo x > /newdir/f; rm /bin/ls; echo hi > /etc/motd")
    diff = cli.ok("diff", "src").splitlines()
    assert diff == ["C /bin", "D /bin/ls", "C /etc", "A /etc/motd", "A /newdir", "A /newdir/f"]
    img = cli.ok("commit", "-m", "msg", "-a", "me", "src", "layered:1").strip()
    assert img.startswith("sha256:")
    meta = json.loads(cli.ok("inspect", "--type", "image", "layered:1"))[0]
    assert meta["Comment"] == "msg" and meta["Author"] == "me" and len(meta["RootFS"]["Layers"]) == 2
    # the new image runs on both layers: the file is there, the deleted one is not
    assert cli.ok("run", "--rm", "layered:1", "cat", "/newdir/f") == "x\n"
    assert cli("run", "--rm", "layered:1", "test", "-e", "/bin/ls").returncode == 1
    cli.ok("export", "-o", str(tmp_path / "fs.tar"), "src")
    names = tarfile.open(tmp_path / "fs.tar").getnames()
    assert "newdir/f" in names and "bin/ls" not in names and "bin/sh" in names
    cli.ok("run", "--name", "user", "layered:1", "true")
    p = cli("rmi", "layered:1")
    assert p.returncode == 1
    cid = json.loads(cli.ok("inspect", "user"))[0]["Id"]
    assert p.stderr == (f'Error response from daemon: conflict: unable to remove repository reference "layered:1" '
                        f"(must force) - container {cid[:12]} is using its referenced image {img[7:19]}\n")
    cli.ok("rm", "user", "src")
    layer_dir = os.path.join(cli.env["MINIDOCKER_ROOT"], "images", "layers", img[7:])
    assert os.path.isdir(layer_dir)
    out = cli.ok("rmi", "layered:1").splitlines()  # the image, then its layer, as Docker prints them
    assert out[:2] == ["Untagged: layered:1", f"Deleted: {img}"]
    assert len(out) == 3 and out[2].startswith("Deleted: sha256:") and out[2] != f"Deleted: {img}"
    assert not os.path.exists(layer_dir)  # the layer no image uses is gone from disk


def test_container_prune(cli):
    cli.ok("run", "--name", "done1", "busybox", "true")
    cli.ok("run", "--name", "keep", "--label", "keep=1", "busybox", "true")
    cli.ok("run", "-d", "--name", "live", "busybox", "sleep", "600")
    try:
        ids = {n: json.loads(cli.ok("inspect", n))[0]["Id"] for n in ("done1", "keep")}
        out = cli.ok("container", "prune", "-f", "--filter", "label!=keep")
        assert out.startswith(f"Deleted Containers:\n{ids['done1']}\n\nTotal reclaimed space: ")
        assert sorted(cli.ok("ps", "-a", "--format", "{{.Names}}").split()) == ["keep", "live"]
        assert cli.ok("container", "prune", "-f") == f"Deleted Containers:\n{ids['keep']}\n\nTotal reclaimed space: 0B\n"
        assert cli.ok("container", "prune", "-f") == "Total reclaimed space: 0B\n"
    finally:
        cli.ok("rm", "-f", "live")


def test_ps_ancestor_follows_committed_images(cli):
    """`ps --filter ancestor=IMAGE` matches containers of IMAGE and of images made
    on top of it (Docker follows the parent chain)."""
    cli.ok("run", "--name", "base", "busybox", "touch", "/made")
    cli.ok("commit", "base", "anc-child:1")
    try:
        cli.ok("run", "-d", "--name", "kid", "anc-child:1", "sleep", "600")
        got = cli.ok("ps", "-a", "--filter", "ancestor=busybox", "--format", "{{.Names}}").split()
        assert sorted(got) == ["base", "kid"]
        assert cli.ok("ps", "-a", "--filter", "ancestor=anc-child:1", "--format", "{{.Names}}").split() == ["kid"]
    finally:
        cli("rm", "-f", "kid", "base")
        cli("rmi", "anc-child:1")


def test_ps_volume_filter_matches_name_destination_and_source(cli, tmp_path):
    """As Docker 20.10: a volume's name, any mount's destination, a bind's source."""
    cli.ok("run", "-d", "--name", "vf", "-v", "vfvol:/data", "-v", f"{tmp_path}:/hostt", "busybox", "sleep", "600")
    try:
        for v in ("vfvol", "/data", str(tmp_path), "/hostt"):
            assert cli.ok("ps", "--filter", f"volume={v}", "--format", "{{.Names}}").split() == ["vf"], v
        assert cli.ok("ps", "--filter", "volume=/nothing", "--format", "{{.Names}}") == ""
    finally:
        cli("rm", "-f", "-v", "vf")
        cli("volume", "rm", "vfvol")

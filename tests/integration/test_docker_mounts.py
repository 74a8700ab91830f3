"""Mounts and volumes through the real docker CLI 20.10 against minidockerd:
`-v`, `--mount`, `--tmpfs`, `--read-only`, named and anonymous volumes, checked in
the container's /proc/PID/mountinfo, with Docker's inspect shapes and errors."""
import json
import os

from .dockerhelp import docker  # noqa: F401


def mountinfo(pid: int) -> dict:
    """mount point -> (root, options, fstype, super options)."""
    out = {}
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ")
            parts = left.split()
            fstype, _src, sopts = right.split()[:3]
            out[parts[4]] = (parts[3], parts[5], fstype, sopts)
    return out


def test_binds_volumes_tmpfs_in_mountinfo_and_inspect(docker, tmp_path):  # noqa: F811
    host = tmp_path / "host"
    host.mkdir()
    (host / "f").write_text("hello\n")
    cid = docker.ok("run", "-d", "--name", "mm", "-v", f"{host}:/data:ro", "-v", "vol1:/vol", "-v", "/anon",
                    "--mount", f"type=bind,source={host},target=/m2",
                    "--mount", "type=volume,source=vol2,target=/m3,readonly",
                    "--mount", "type=tmpfs,target=/t2,tmpfs-size=1m", "--tmpfs", "/t1:size=2m,mode=700",
                    "busybox", "sleep", "600").strip()
    try:
        info = json.loads(docker.ok("inspect", cid))[0]
        pid = info["State"]["Pid"]
        mi = mountinfo(pid)
        assert mi["/data"][0] == str(host) and mi["/data"][1].startswith("ro")
        assert mi["/m2"][0] == str(host) and mi["/m2"][1].startswith("rw")
        root = docker.env["MINIDOCKER_ROOT"]
        assert mi["/vol"][0].endswith("/volumes/vol1/_data")
        assert mi["/m3"][1].startswith("ro") and mi["/m3"][0].endswith("/volumes/vol2/_data")
        assert mi["/t1"][2] == "tmpfs" and "size=2048k" in mi["/t1"][3] and "mode=700" in mi["/t1"][3]
        assert mi["/t1"][1].startswith("rw,nosuid,nodev,noexec")
        assert mi["/t2"][2] == "tmpfs" and "size=1024k" in mi["/t2"][3]
        assert docker.ok("exec", cid, "cat", "/data/f") == "hello\n"
        p = docker("exec", cid, "touch", "/data/x")
        assert p.returncode != 0 and "Read-only file system" in p.stderr
        docker.ok("exec", cid, "sh", "-c", "echo v > /vol/v")
        assert open(os.path.join(root, "volumes", "vol1", "_data", "v")).read() == "v\n"

        hc = info["HostConfig"]
        # the docker CLI collects -v binds by walking a Go map: their order is random
        assert sorted(hc["Binds"]) == sorted([f"{host}:/data:ro", "vol1:/vol"])
        assert hc["Mounts"] == [{"Type": "bind", "Source": str(host), "Target": "/m2"},
                                {"Type": "volume", "Source": "vol2", "Target": "/m3", "ReadOnly": True},
                                {"Type": "tmpfs", "Target": "/t2", "TmpfsOptions": {"SizeBytes": 1048576}}]
        assert hc["Tmpfs"] == {"/t1": "size=2m,mode=700"}
        assert info["Config"]["Volumes"] == {"/anon": {}}
        by_dest = {m["Destination"]: m for m in info["Mounts"]}
        assert set(by_dest) == {"/data", "/vol", "/anon", "/m2", "/m3", "/t2"}  # --tmpfs is not listed
        assert by_dest["/data"] == {"Type": "bind", "Source": str(host), "Destination": "/data", "Mode": "ro",
                                    "RW": False, "Propagation": "rprivate"}
        assert by_dest["/vol"] == {"Type": "volume", "Name": "vol1",
                                   "Source": os.path.join(root, "volumes", "vol1", "_data"),
                                   "Destination": "/vol", "Driver": "local", "Mode": "z", "RW": True,
                                   "Propagation": ""}
        anon = by_dest["/anon"]["Name"]
        assert len(anon) == 64 and by_dest["/anon"]["Mode"] == ""
        assert by_dest["/t2"] == {"Type": "tmpfs", "Source": "", "Destination": "/t2", "Mode": "", "RW": True,
                                  "Propagation": ""}
        assert sorted(docker.ok("volume", "ls", "-q").split()) == sorted([anon, "vol1", "vol2"])
        p = docker("volume", "rm", "vol1")
        assert p.returncode == 1
        assert p.stderr == f"Error response from daemon: remove vol1: volume is in use - [{cid}]\n"
    finally:
        docker.ok("rm", "-f", "-v", "mm")
    # rm -v: the anonymous volume went, the named ones stay
    assert sorted(docker.ok("volume", "ls", "-q").split()) == ["vol1", "vol2"]
    assert docker.ok("volume", "rm", "vol1", "vol2").split() == ["vol1", "vol2"]


def test_read_only_root_and_copy_up(docker):  # noqa: F811
    p = docker("run", "--rm", "--read-only", "--tmpfs", "/run", "busybox", "sh", "-c",
               "grep ' / / ' /proc/self/mountinfo; touch /x")
    assert p.returncode == 1
    assert " / / ro," in p.stdout and "Read-only file system" in p.stderr
    # a fresh named volume gets the image's files at its mount point
    out = docker.ok("run", "--rm", "-v", "etcvol:/etc", "busybox", "ls", "/etc")
    assert "passwd" in out.split() or "group" in out.split() or out.split()
    root = docker.env["MINIDOCKER_ROOT"]
    assert sorted(os.listdir(os.path.join(root, "volumes", "etcvol", "_data")))
    docker.ok("volume", "rm", "etcvol")


def test_mount_errors_as_docker(docker, tmp_path):  # noqa: F811
    cases = [
        (["--mount", "type=bind,source=/nonexistent-hfs,target=/y"],
         'invalid mount config for type "bind": bind source path does not exist: /nonexistent-hfs'),
        (["-v", "/tmp:rel"], "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": "
                             "invalid mount path: 'rel' mount path must be absolute"),
        (["--mount", "type=bind,source=/tmp,target=rel"],
         "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
        (["-v", "/tmp:/x:bogus"], "invalid mode: bogus"),
        (["-v", "/tmp:/x:ro:rw"], "invalid volume specification: '/tmp:/x:ro:rw'"),
        (["-v", "/tmp:/"], "invalid volume specification: '/tmp:/': invalid mount config for type \"bind\": "
                           "invalid specification: destination can't be '/'"),
        (["-v", "/tmp:/x", "-v", "/var:/x"], "Duplicate mount point: /x"),
        (["--mount", "type=bind,target=/x"], 'invalid mount config for type "bind": field Source must not be empty'),
        (["--mount", "type=tmpfs,source=/a,target=/x"],
         'invalid mount config for type "tmpfs": field Source must not be specified'),
        (["--tmpfs", "rel"], "invalid mount path: 'rel' mount path must be absolute"),
    ]
    for flags, message in cases:
        p = docker("run", "--rm", *flags, "busybox", "true")
        assert p.returncode == 125, (flags, p.stderr)
        assert p.stderr == f"docker: Error response from daemon: {message}.\nSee 'docker run --help'.\n", flags
    assert docker.ok("ps", "-aq") == ""
    assert docker.ok("volume", "ls", "-q") == ""
    assert not os.path.exists("/nonexistent-hfs")


def test_volume_verbs_as_docker(docker):  # noqa: F811
    assert docker.ok("volume", "create", "--label", "a=b", "lv") == "lv\n"
    got = json.loads(docker.ok("volume", "inspect", "lv"))[0]
    root = docker.env["MINIDOCKER_ROOT"]
    assert got["Labels"] == {"a": "b"} and got["Driver"] == "local" and got["Scope"] == "local"
    assert got["Mountpoint"] == os.path.join(root, "volumes", "lv", "_data") and got["Options"] == {}
    anon = docker.ok("volume", "create").strip()
    assert len(anon) == 64
    assert docker.ok("volume", "ls", "-q", "-f", "label=a=b") == "lv\n"
    assert docker.ok("volume", "ls", "-q", "-f", "name=l") == "lv\n"
    p = docker("volume", "rm", "nope")
    assert (p.returncode, p.stderr) == (1, "Error: No such volume: nope\n")
    p = docker("volume", "inspect", "nope")
    assert (p.returncode, p.stdout, p.stderr) == (1, "[]\n", "Error: No such volume: nope\n")
    p = docker("volume", "create", "bad/name")
    assert p.returncode == 1 and p.stderr == (
        'Error response from daemon: create bad/name: "bad/name" includes invalid characters for a local volume '
        'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use '
        'absolute path\n')
    p = docker("volume", "create", "a")
    assert p.returncode == 1 and p.stderr == ("Error response from daemon: create a: volume name is too short, names "
                                              "should be at least two alphanumeric characters\n")
    docker.ok("create", "--name", "user", "-v", "lv:/x", "busybox", "true")
    assert docker.ok("volume", "ls", "-q", "-f", "dangling=true") == anon + "\n"
    out = docker.ok("volume", "prune", "-f")
    assert out.startswith(f"Deleted Volumes:\n{anon}\n\nTotal reclaimed space: ")
    docker.ok("rm", "user")
    assert docker.ok("volume", "rm", "lv") == "lv\n"

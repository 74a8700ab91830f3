"""cp, diff, commit, export, rmi, container prune and the swarm endpoints through
the real docker CLI 20.10 and docker-py against minidockerd, with Docker's shapes."""
import base64
import io
import json
import os
import tarfile

from .dockerhelp import docker, dockerpy  # noqa: F401

NOT_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect '
               'this node to swarm and try again.')


def test_cp_diff_commit_export_with_docker_cli(docker, tmp_path):  # noqa: F811
    docker.ok("run", "-d", "--name", "box", "busybox", "sh", "-c",
              "mkdir /newdir; echo x > /newdir/f; rm /bin/ls; sleep 600")
    try:
        for _ in range(50):
            if docker("exec", "box", "test", "-f", "/newdir/f").returncode == 0:
                break
        src = tmp_path / "in.txt"
        src.write_text("into\n")
        docker.ok("cp", str(src), "box:/newdir/")
        assert docker.ok("exec", "box", "cat", "/newdir/in.txt") == "into\n"
        docker.ok("cp", "box:/newdir", str(tmp_path / "out"))
        assert sorted(os.listdir(tmp_path / "out")) == ["f", "in.txt"]
        p = docker("cp", "box:/nope", str(tmp_path / "x"))
        assert (p.returncode, p.stderr) == (1, "Error: No such container:path: box:/nope\n")
        p = docker("cp", str(src), "box:/nodir/x")
        assert (p.returncode, p.stderr) == (1, "Error: No such container:path: box:/nodir\n")
        assert docker.ok("diff", "box").splitlines() == ["C /bin", "D /bin/ls", "A /newdir", "A /newdir/f",
                                                         "A /newdir/in.txt"]
        img = docker.ok("commit", "-m", "msg", "-a", "me", "box", "fromdocker:1").strip()
        meta = json.loads(docker.ok("image", "inspect", "fromdocker:1"))[0]
        assert meta["Id"] == img and meta["Comment"] == "msg" and meta["Author"] == "me"
        assert meta["Parent"] == json.loads(docker.ok("image", "inspect", "busybox"))[0]["Id"]
        assert docker.ok("run", "--rm", "fromdocker:1", "cat", "/newdir/in.txt") == "into\n"
        docker.ok("export", "-o", str(tmp_path / "fs.tar"), "box")
        names = tarfile.open(tmp_path / "fs.tar").getnames()
        assert "newdir/in.txt" in names and "bin/ls" not in names
        out = docker.ok("rmi", "fromdocker:1").splitlines()  # the image, then its layer, as Docker prints them
        assert out[:2] == ["Untagged: fromdocker:1", f"Deleted: {img}"] and len(out) == 3
    finally:
        docker.ok("rm", "-f", "box")


def test_archive_api_shapes_with_docker_py(dockerpy, tmp_path):  # noqa: F811
    c = dockerpy.containers.run("busybox", ["sh", "-c", "mkdir /d; echo x > /d/f; sleep 600"], detach=True,
                                volumes={str(tmp_path): {"bind": "/host", "mode": "rw"}, "pyvol": {"bind": "/v"}})
    try:
        for _ in range(50):
            if c.exec_run(["test", "-f", "/d/f"]).exit_code == 0:
                break
        data, stat = c.get_archive("/d")
        assert stat["name"] == "d" and stat["mode"] == (1 << 31) | 0o755 and stat["linkTarget"] == ""
        names = tarfile.open(fileobj=io.BytesIO(b"".join(data))).getnames()
        assert names == ["d", "d/f"]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("put.txt")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"put"))
        assert c.put_archive("/v", buf.getvalue()) is True
        assert c.exec_run(["cat", "/v/put.txt"]).output == b"put"
        api = dockerpy.api
        stat = api.inspect_container(c.id)["Mounts"]
        assert {m["Destination"] for m in stat} == {"/host", "/v"}
        resp = api._get(api._url("/containers/{0}/archive", c.id), params={"path": "/bin/sh"})
        head = json.loads(base64.b64decode(resp.headers["X-Docker-Container-Path-Stat"]))
        assert head["mode"] & (1 << 27) and head["linkTarget"]
        resp = api._get(api._url("/containers/{0}/archive", c.id), params={"path": "/nope"})
        assert resp.status_code == 404
        assert resp.json() == {"message": f"Could not find the file /nope in container {c.id}"}
        # mount points made in its layer are added, as Docker shows them
        assert c.diff() == [{"Path": "/d", "Kind": 1}, {"Path": "/d/f", "Kind": 1}, {"Path": "/host", "Kind": 1},
                            {"Path": "/v", "Kind": 1}]
    finally:
        c.remove(force=True, v=True)
    assert [v.name for v in dockerpy.volumes.list()] == ["pyvol"]
    vol = dockerpy.volumes.get("pyvol")
    assert vol.attrs["Driver"] == "local"
    vol.remove()
    created = dockerpy.volumes.create("pyvol2", labels={"k": "v"})
    assert created.attrs["Labels"] == {"k": "v"}
    assert dockerpy.volumes.prune() == {"VolumesDeleted": ["pyvol2"], "SpaceReclaimed": 0}
    dockerpy.containers.run("busybox", "true", name="gone")
    pruned = dockerpy.containers.prune()
    assert len(pruned["ContainersDeleted"]) == 1 and dockerpy.containers.list(all=True) == []


def test_swarm_endpoints_answer_not_in_swarm(dockerpy, docker):  # noqa: F811
    import docker as docker_module
    for call in (dockerpy.swarm.reload, dockerpy.services.list, dockerpy.nodes.list, dockerpy.secrets.list,
                 dockerpy.configs.list):
        try:
            call()
            raise AssertionError(f"{call} answered")
        except docker_module.errors.APIError as ex:
            assert ex.response.status_code == 503 and ex.explanation == NOT_MANAGER
    p = docker("service", "ls")
    assert p.returncode == 1
    assert p.stderr == f"Error response from daemon: {NOT_MANAGER}\n"
    p = docker("swarm", "leave")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: This node is not part of a swarm\n")

"""The real docker 20.10 CLI against minidockerd: system commands, networks, images,
events; outputs as real Docker 20.10 prints them (api-research NOTES), state
checked against the kernel."""
import json
import os
import re
import subprocess
import time

from .enginehelp import ip_j
from .dockerhelp import docker  # noqa: F401  (fixture)

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def bridge_of(docker, net: str) -> str:
    net_id = docker.ok("network", "inspect", "-f", "{{.Id}}", net).strip()
    return json.loads(docker.ok("network", "inspect", "-f", "{{json .Options}}", net)).get(
        "com.docker.network.bridge.name") or f"mdbr-{net_id[:10]}"


def sandbox(cli, name: str) -> str:
    return cli.ok("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", name).strip()


def test_version_and_info_are_truthful(docker, cli):
    out = docker.ok("version", "--format", "{{json .Server}}")
    server = json.loads(out)
    assert server["Platform"]["Name"] == "minidocker"
    engine = server["Components"][0]
    assert engine["Name"] == "Engine"
    assert (engine["Details"]["ApiVersion"], engine["Details"]["MinAPIVersion"]) == ("1.41", "1.12")
    assert engine["Details"]["KernelVersion"] == os.uname().release
    assert server["Os"] == "linux"
    cli.ok("run", "-d", "--name", "up", "busybox", "sleep", "600")
    p = docker("info")
    assert p.returncode == 0, p.stderr
    info = json.loads(docker.ok("info", "--format", "{{json .}}"))
    assert info["ContainersRunning"] == 1
    assert info["Containers"] == info["ContainersRunning"] + info["ContainersStopped"]
    assert info["Name"] == os.uname().nodename
    assert info["NCPU"] == os.cpu_count()
    assert info["KernelVersion"] == os.uname().release
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", info["ID"])
    assert info["ID"] == json.loads(docker.ok("info", "--format", "{{json .ID}}"))  # stable
    assert info["Images"] >= 1 and info["DockerRootDir"] == cli.env["MINIDOCKER_ROOT"]
    # no fallback list of capability warnings: only the daemon's own (true) one
    warnings = [line for line in p.stderr.splitlines() if line.startswith("WARNING")]
    assert warnings == info["Warnings"] and len(warnings) == 1 and "minidocker runs containers without" in warnings[0]
    assert info["MemoryLimit"] and info["PidsLimit"] and info["CgroupDriver"] == "cgroupfs"  # runtime/cgroups.py


def test_network_create_ls_inspect_rm(docker):
    out = docker.ok("network", "create", "--subnet", "172.29.0.0/16", "--gateway", "172.29.0.1",
                    "--ip-range", "172.29.5.0/24", "--aux-address", "host1=172.29.0.5", "--internal",
                    "--label", "team=a", "-o", "com.docker.network.bridge.name=mdbr-dtest", "--attachable", "dtest")
    net_id = out.strip()
    assert HEX64.match(net_id)
    got = json.loads(docker.ok("network", "inspect", "dtest"))[0]
    assert got["IPAM"] == {"Driver": "default", "Options": {}, "Config": [
        {"Subnet": "172.29.0.0/16", "IPRange": "172.29.5.0/24", "Gateway": "172.29.0.1",
         "AuxiliaryAddresses": {"host1": "172.29.0.5"}}]}
    assert (got["Internal"], got["Attachable"], got["Labels"], got["Options"]) == (
        True, True, {"team": "a"}, {"com.docker.network.bridge.name": "mdbr-dtest"})
    link = ip_j("-4", "addr", "show", "dev", "mdbr-dtest")[0]
    assert [(a["local"], a["prefixlen"]) for a in link["addr_info"]] == [("172.29.0.1", 16)]
    docker.ok("network", "create", "plain")
    assert docker.ok("network", "ls", "--filter", "label=team=a", "--format", "{{.Name}}") == "dtest\n"
    assert docker.ok("network", "ls", "--filter", "driver=null", "--format", "{{.Name}} {{.Driver}}") == \
        "none null\n"
    assert docker.ok("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}") == "dtest\nplain\n"
    assert docker.ok("network", "ls", "-q", "--no-trunc", "--filter", "name=dtes") == net_id + "\n"
    assert docker.ok("network", "ls", "--format", "table {{.Name}}\t{{.Internal}}", "-f", "name=dtest") == \
        "NAME      INTERNAL\ndtest     true\n"
    assert docker.ok("network", "inspect", "-v", "-f", "{{.Name}}", net_id[:6]) == "dtest\n"
    p = docker("network", "create", "dtest")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: network with name dtest already exists\n")
    p = docker("network", "rm", "dtest", "nosuch", "plain")
    assert p.returncode == 1
    assert p.stdout == "dtest\nplain\n"
    assert p.stderr == "Error: No such network: nosuch\n"
    assert not any(l["ifname"] == "mdbr-dtest" for l in ip_j("link"))
    p = docker("network", "inspect", "dtest")
    assert (p.returncode, p.stdout, p.stderr) == (1, "[]\n", "Error: No such network: dtest\n")


def test_connect_disconnect_against_the_kernel(docker, cli):
    docker.ok("network", "create", "--subnet", "172.20.16.0/16", "--gateway", "172.20.16.1", "self_net")
    cli.ok("run", "-d", "--name", "b1", "busybox", "sleep", "600")
    ns = sandbox(cli, "b1")
    docker.ok("network", "connect", "--ip", "172.20.16.50", "--alias", "bee", "--alias", "b-one", "self_net", "b1")
    eth1 = ip_j("addr", "show", "dev", "eth1", netns=ns)[0]
    assert [(a["local"], a["prefixlen"]) for a in eth1["addr_info"]] == [("172.20.16.50", 16)]
    assert eth1["address"] == "02:42:ac:14:10:32"
    got = json.loads(docker.ok("network", "inspect", "self_net"))[0]["Containers"]
    (cid, ep), = got.items()
    assert (ep["Name"], ep["IPv4Address"], ep["MacAddress"]) == ("b1", "172.20.16.50/16", "02:42:ac:14:10:32")
    aliases = json.loads(cli.ok("inspect", "-f", "{{json .NetworkSettings.Networks.self_net.Aliases}}", "b1"))
    assert aliases == ["bee", "b-one", cid[:12]]
    image = docker.ok("image", "inspect", "-f", "{{.Id}}", "busybox").strip()
    p = docker("rmi", "busybox")
    assert (p.returncode, p.stderr) == (1, f'Error response from daemon: conflict: unable to remove repository '
                                           f'reference "busybox" (must force) - container {cid[:12]} is using its '
                                           f'referenced image {image[7:19]}\n')
    p = docker("network", "connect", "self_net", "b1")
    assert (p.returncode, p.stderr) == (
        1, "Error response from daemon: endpoint with name b1 already exists in network self_net\n")
    cli.ok("run", "-d", "--name", "b2", "--network", "self_net", "busybox", "sleep", "600")
    p = docker("network", "connect", "--alias", "x", "bridge", "b2")
    assert p.stderr == ("Error response from daemon: network-scoped alias is supported only for containers "
                        "in user defined networks\n")
    p = docker("network", "rm", "self_net")
    assert p.returncode == 1 and "has active endpoints" in p.stderr
    cli.ok("rm", "-f", "b2")
    docker.ok("network", "disconnect", "self_net", "b1")
    assert not any(l["ifname"] == "eth1" for l in ip_j("link", netns=ns))
    p = docker("network", "disconnect", "self_net", "b1")
    assert (p.returncode, p.stderr) == (
        1, f"Error response from daemon: container {cid} is not connected to network self_net\n")
    docker.ok("network", "connect", "self_net", "b1")
    docker.ok("network", "disconnect", "-f", "self_net", "b1")
    p = docker("network", "disconnect", "-f", "self_net", "nosuch")
    assert p.stderr == "Error response from daemon: endpoint nosuch not found\n"
    docker.ok("network", "rm", "self_net")


def test_network_prune(docker, cli):
    docker.ok("network", "create", "--label", "keep=yes", "kept")
    docker.ok("network", "create", "unused1")
    docker.ok("network", "create", "inuse")
    cli.ok("run", "-d", "--name", "user", "--network", "inuse", "busybox", "sleep", "600")
    assert docker.ok("network", "prune", "-f", "--filter", "label!=keep=yes") == "Deleted Networks:\nunused1\n\n"
    assert docker.ok("network", "prune", "-f", "--filter", "until=1h") == ""
    assert docker.ok("network", "prune", "-f") == "Deleted Networks:\nkept\n\n"
    assert docker.ok("network", "ls", "--format", "{{.Name}}", "-f", "type=custom") == "inuse\n"
    p = docker("network", "prune", "-f", "--filter", "bogus=1")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: Invalid filter 'bogus'\n")


def test_images_import_and_missing_image(docker, tmp_path):
    out = docker.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")
    assert any(line.startswith("busybox:latest ") for line in out.splitlines())
    rootfs = tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "bin" / "hello").write_text("#!/bin/sh\necho hi\n")
    tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
    p = docker("import", "--change", "ENV PATH=/bin", "--change", "CMD [\"hello\"]", "-", "impt:1", input=tar)
    assert p.returncode == 0, p.stderr
    image_id = p.stdout.decode().strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id)
    assert docker.ok("images", "impt", "--format", "{{.Repository}} {{.Tag}} {{.ID}}") == \
        f"impt 1 {image_id[7:19]}\n"
    got = json.loads(docker.ok("image", "inspect", "impt:1"))[0]
    assert (got["Id"], got["RepoTags"], got["Config"]["Env"], got["Config"]["Cmd"], got["Os"]) == (
        image_id, ["impt:1"], ["PATH=/bin"], ["hello"], "linux")
    assert got["RootFS"]["Type"] == "layers" and got["Comment"] == "Imported from -"
    hist = docker.ok("history", "--format", "{{.ID}} {{.CreatedBy}} {{.Comment}}", "impt:1")
    assert hist == f"{image_id[7:19]}  Imported from -\n"
    assert docker.ok("image", "prune", "-f") == "Total reclaimed space: 0B\n"
    docker.ok("tag", "impt:1", "impt:2")
    p = docker("rmi", image_id[7:19])
    assert (p.returncode, p.stderr) == (1, f"Error response from daemon: conflict: unable to delete "
                                           f"{image_id[7:19]} (must be forced) - image is referenced in multiple "
                                           f"repositories\n")
    assert docker.ok("rmi", "impt:2") == "Untagged: impt:2\n"
    p = docker("inspect", "-f", "{{.Id}}", "impt:1")  # the CLI finds it among the images
    assert p.stdout == image_id + "\n"
    out = docker.ok("rmi", "impt:1").splitlines()  # the image, then its layer, as Docker prints them
    assert out[:2] == ["Untagged: impt:1", f"Deleted: {image_id}"] and len(out) == 3
    p = docker("inspect", "impt:1")
    assert (p.returncode, p.stdout, p.stderr) == (1, "[]\n", "Error: No such object: impt:1\n")
    p = docker("image", "inspect", "nosuch")
    assert (p.returncode, p.stderr) == (1, "Error: No such image: nosuch\n")
    p = docker("run", "nosuchimage")
    assert p.returncode == 125
    assert p.stderr == (
        "Unable to find image 'nosuchimage:latest' locally\n"
        "docker: Error response from daemon: pull access denied for nosuchimage, repository does not exist "
        "or may require 'docker login': denied: requested access to the resource is denied.\n"
        "See 'docker run --help'.\n")
    p = docker("pull", "nosuchimage:2")
    assert p.returncode == 1 and "pull access denied for nosuchimage," in p.stderr


def test_events_of_networks(docker, cli):
    since = time.time()
    docker.ok("network", "create", "evnet")
    cli.ok("run", "-d", "--name", "evc", "--network", "evnet", "busybox", "sleep", "600")
    docker.ok("network", "disconnect", "evnet", "evc")
    docker.ok("network", "rm", "evnet")
    time.sleep(1.1)  # the CLI sends `until` in whole seconds
    out = docker.ok("events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                    "--filter", "type=network", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert out.splitlines() == ["network create evnet", "network connect evnet", "network disconnect evnet",
                                "network destroy evnet"]
    out = docker.ok("events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                    "--filter", "event=connect", "--format", "{{json .}}")
    ev = json.loads(out)
    cid = cli.ok("inspect", "-f", "{{.Id}}", "evc").strip()
    assert ev["Actor"]["Attributes"] == {"container": cid, "name": "evnet", "type": "bridge"}
    assert "status" not in ev and ev["scope"] == "local"


def test_events_follow_live(docker, cli):
    """`docker events` without `until` streams as things happen (the head first)."""
    p = subprocess.Popen([docker.binary, "events", "--filter", "type=network", "--filter", "event=create",
                          "--format", "{{.Action}} {{.Actor.Attributes.name}}"], env=docker.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # subscribed before the network comes
        docker.ok("network", "create", "live1")
        docker.ok("network", "rm", "live1")
        docker.ok("network", "create", "live2")
        assert p.stdout.readline() == "create live1\n"
        assert p.stdout.readline() == "create live2\n"
    finally:
        p.terminate()
        p.wait(timeout=10)
    docker.ok("network", "rm", "live2")
    deadline = time.monotonic() + 5  # the daemon notices the client going away at its next idle tick
    while json.loads(docker.ok("info", "--format", "{{json .NEventsListener}}")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert json.loads(docker.ok("info", "--format", "{{json .NEventsListener}}")) == 0

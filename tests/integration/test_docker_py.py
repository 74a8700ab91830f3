"""docker-py 7 drives minidockerd: containers.run (detached and not), exec_run,
logs, wait, remove; the low-level create_container with host_config and
networking_config — checked against the kernel."""
import time

import pytest

from .dockerhelp import Docker, in_netns, pid_alive


@pytest.fixture
def client(cli, tmp_path):
    c = Docker(cli, tmp_path).py()
    yield c
    c.close()


def test_run_detached_exec_logs_wait_remove(client):
    c = client.containers.run("busybox", "sh -c 'echo started; echo warn >&2; exec sleep 600'", detach=True,
                              name="pyc1")
    c.reload()
    assert c.status == "running" and c.name == "pyc1"
    pid = c.attrs["State"]["Pid"]
    assert pid_alive(pid)
    code, out = c.exec_run("sh -c 'echo from-exec; exit 3'")
    assert (code, out) == (3, b"from-exec\n")
    code, (out, err) = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    assert (code, out, err) == (0, b"o\n", b"e\n")
    code, out = c.exec_run("tty", tty=True)
    assert code == 0 and out.startswith(b"/dev/pts/")
    for _ in range(50):
        if c.logs():
            break
        time.sleep(0.1)
    assert c.logs(stdout=True, stderr=False) == b"started\n"
    assert c.logs(stdout=False, stderr=True) == b"warn\n"
    c.stop(timeout=1)
    assert not pid_alive(pid)
    assert c.wait() == {"Error": None, "StatusCode": 137}
    c.remove()
    assert client.containers.list(all=True) == []


def test_run_in_the_foreground_and_its_errors(client):
    docker = pytest.importorskip("docker")
    assert client.containers.run("busybox", ["sh", "-c", "echo one; echo two"]) == b"one\ntwo\n"
    with pytest.raises(docker.errors.ContainerError) as info:
        client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 4"], remove=True)
    assert info.value.exit_status == 4 and b"bad" in info.value.stderr
    assert len(client.containers.list(all=True)) == 1  # the first one (no remove) is left
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("nosuch")


def test_low_level_create_with_host_and_networking_config(client):
    api = client.api
    client.networks.create("lownet", ipam=__import__("docker").types.IPAMConfig(
        pool_configs=[__import__("docker").types.IPAMPool(subnet="10.78.0.0/24")]))
    host_config = api.create_host_config(network_mode="lownet", port_bindings={80: ("127.0.0.1", 18081)},
                                         dns=["10.0.0.53"], dns_search=["ex.test"], extra_hosts={"h1": "10.1.2.3"})
    net_config = api.create_networking_config({"lownet": api.create_endpoint_config(
        ipv4_address="10.78.0.9", aliases=["lowalias"])})
    c = api.create_container("busybox", "sleep 600", name="lowc", ports=[80], labels={"a": "b"},
                             host_config=host_config, networking_config=net_config)
    info = api.inspect_container(c["Id"])
    assert info["State"]["Status"] == "created"
    assert info["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18081"}]}
    assert info["Config"]["Labels"] == {"a": "b"} and info["Config"]["ExposedPorts"] == {"80/tcp": {}}
    api.start(c["Id"])
    info = api.inspect_container(c["Id"])
    net = info["NetworkSettings"]["Networks"]["lownet"]
    assert net["IPAddress"] == "10.78.0.9" and "lowalias" in net["Aliases"]
    assert info["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18081"}]}
    pid = info["State"]["Pid"]
    assert "inet 10.78.0.9/24" in in_netns(pid, "ip", "-4", "addr", "show", "eth0")
    code, out = client.containers.get("lowc").exec_run("cat /etc/resolv.conf /etc/hosts")
    assert code == 0 and b"ex.test" in out and b"10.1.2.3\th1" in out
    row = api.containers(filters={"label": ["a=b"]})[0]
    assert row["Ports"] == [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 18081, "Type": "tcp"}]
    api.remove_container(c["Id"], force=True)
    assert not pid_alive(pid)
    client.networks.get("lownet").remove()


def test_wait_conditions_and_attach_socket(client):
    api = client.api
    c = api.create_container("busybox", ["sh", "-c", "read x; echo got-$x; exit 6"], stdin_open=True,
                             name="att")
    sock = api.attach_socket(c["Id"], params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    raw = sock._sock
    raw.sendall(b"hello\n")  # before start: kept until the process exists
    api.start(c["Id"])
    assert api.wait(c["Id"], condition="not-running")["StatusCode"] == 6
    data = b""
    while True:
        chunk = raw.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data == b"\x01\x00\x00\x00\x00\x00\x00\x0agot-hello\n"
    sock.close()
    assert api.inspect_container(c["Id"])["State"]["ExitCode"] == 6
    with pytest.raises(__import__("docker").errors.APIError) as info:  # not running: Docker's 409
        api.exec_create(c["Id"], "true")
    assert info.value.status_code == 409 and "is not running" in str(info.value)
    api.remove_container(c["Id"])

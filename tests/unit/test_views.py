"""Docker-shaped views: the list entries the daemon answers (ContainerSummary)."""
from minidocker.engine import views
from minidocker.engine.models import Container, Endpoint, Network
from minidocker.ids import parse_time

T0 = "2026-01-01T00:00:00.5Z"


def _container(**kw) -> Container:
    return Container(id="a" * 64, name="web", created=T0, image="busybox", image_id="sha256:" + "e" * 64,
                     argv=["sh", "-c", "echo hi"], **kw)


def test_container_summary_is_dockers_shape():
    net = Network(id="n" * 64, name="self_net", driver="bridge", created=T0)
    ep = Endpoint(id="p" * 64, network_id=net.id, ip="172.20.0.2", prefixlen=16, gateway="172.20.0.1",
                  mac="02:42:ac:14:00:02")
    c = _container(status="running", started_at=T0, network_mode="self_net", endpoints={net.id: ep.to_dict()},
                   active_ports={"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
    s = views.container_summary(c, {net.id: net}, now=parse_time(T0) + 3)
    assert set(s) == {"Id", "Names", "Image", "ImageID", "Command", "Created", "Ports", "Labels", "State",
                      "Status", "HostConfig", "NetworkSettings", "Mounts"}
    assert s["Names"] == ["/web"] and s["Created"] == int(parse_time(T0)) and isinstance(s["Created"], int)
    assert s["Command"] == "sh -c 'echo hi'" and s["State"] == "running" and s["Status"] == "Up 3 seconds"
    assert s["Ports"] == [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]
    assert s["HostConfig"] == {"NetworkMode": "self_net"}
    settings = s["NetworkSettings"]["Networks"]["self_net"]
    assert settings["IPAddress"] == "172.20.0.2" and settings["NetworkID"] == net.id
    assert "SizeRw" not in s
    assert views.container_summary(c, {net.id: net}, sizes=(1, 2))["SizeRootFs"] == 2


def test_summary_of_stopped_and_created_containers():
    host = Network(id="h" * 64, name="host", driver="host", created=T0, builtin=True)
    c = _container(status="exited", exit_code=3, finished_at=T0, network_mode="host",
                   active_ports={"1/tcp": [{"HostIp": "", "HostPort": "1"}]})
    s = views.container_summary(c, {host.id: host}, now=parse_time(T0) + 120)
    assert s["Status"] == "Exited (3) 2 minutes ago" and s["Ports"] == []
    assert list(s["NetworkSettings"]["Networks"]) == ["host"]
    c.status = "created"
    assert views.container_summary(c, {host.id: host})["Status"] == "Created"


def test_stopped_endpoints_as_docker_shows_them():
    """Docker 20.10: a stopped container's endpoint shows its network (its id once
    it has run on it, even after the network is gone) and no address; an
    internal-only container shows no ports."""
    net = Network(id="n" * 64, name="self_net", driver="bridge", created=T0)
    ran = Endpoint(id="", network_id=net.id, ip="", prefixlen=0, gateway="", mac="", aliases=["aaaaaaaaaaaa"],
                   network_name="self_net", joined=True)
    fresh = Endpoint(id="", network_id="g" * 64, ip="", prefixlen=0, gateway="", mac="", network_name="gone")
    c = _container(status="exited", network_mode="self_net",
                   endpoints={net.id: ran.to_dict(), fresh.network_id: fresh.to_dict()})
    nets = views.container_inspect(c, {net.id: net}, c.image_id, "/b")["NetworkSettings"]["Networks"]
    assert list(nets) == ["self_net", "gone"]
    assert (nets["self_net"]["NetworkID"], nets["self_net"]["IPAddress"], nets["self_net"]["Aliases"]) == \
        (net.id, "", ["aaaaaaaaaaaa"])
    assert (nets["gone"]["NetworkID"], nets["gone"]["EndpointID"], nets["gone"]["Aliases"]) == ("", "", None)
    inner = Network(id="i" * 64, name="inner", driver="bridge", created=T0, internal=True)
    ep = Endpoint(id="p" * 64, network_id=inner.id, ip="10.9.0.2", prefixlen=24, gateway="10.9.0.1", mac="m")
    c = _container(status="running", network_mode="inner", endpoints={inner.id: ep.to_dict()},
                   exposed_ports={"80/tcp": {}})
    assert views.container_inspect(c, {inner.id: inner}, c.image_id, "/b")["NetworkSettings"]["Ports"] == {}


def test_etc_paths_empty_until_the_first_start_and_the_joined_containers_for_container_mode():
    """Docker 20.10: a created container's ResolvConfPath, HostnamePath and HostsPath
    are empty (the files come with the first start); they stay once it stopped; a
    --network container:X container shows X's files, which it binds."""
    root = "/var/lib/minidocker/containers"
    created = _container()
    view = views.container_inspect(created, {}, created.image_id, f"{root}/{created.id}")
    assert (view["ResolvConfPath"], view["HostnamePath"], view["HostsPath"]) == ("", "", "")
    stopped = _container(started_at="2026-12-02T10:00:00.000000000Z", status="exited")
    view = views.container_inspect(stopped, {}, stopped.image_id, f"{root}/{stopped.id}")
    assert view["HostsPath"] == f"{root}/{stopped.id}/hosts"
    assert view["ResolvConfPath"] == f"{root}/{stopped.id}/resolv.conf"
    assert view["HostnamePath"] == f"{root}/{stopped.id}/hostname"
    joined = _container(network_mode="container:" + "c" * 64, started_at="2026-12-02T10:00:00Z")
    view = views.container_inspect(joined, {}, joined.image_id, f"{root}/{joined.id}")
    assert view["HostsPath"] == f"{root}/{'c' * 64}/hosts"

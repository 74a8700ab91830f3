"""Small helpers for engine-level integration tests."""
import contextlib
import json
import os
import subprocess


def run(engine, *argv, name="", network="default", **cfg):
    """Create and start a detached container; returns the Container."""
    c = engine.ctr.create(docker_body(Image="busybox", Cmd=list(argv) or ["sleep", "600"], NetworkMode=network,
                                      **cfg), name=name)
    engine.ctr.start(c.id)
    return c


def docker_body(**flat) -> dict:
    """Docker's create body from flat settings (HostConfig and endpoint keys moved in
    place); ``Ports`` as [{"proto", "host_ip", "host_port", "container_port"}]."""
    from minidocker.engine.create_spec import flat as to_docker
    expose = flat.pop("Expose", None)
    if expose:
        flat["ExposedPorts"] = {(p if "/" in p else p + "/tcp"): {} for p in expose}
    ports = flat.pop("Ports", None)
    if ports:
        bindings = flat.setdefault("PortBindings", {})
        for p in ports:
            bindings.setdefault(f"{p['container_port']}/{p['proto']}", []).append(
                {"HostIp": p.get("host_ip", ""), "HostPort": str(p.get("host_port") or "")})
    name = flat.pop("Name", None)
    body = to_docker(**flat)
    if name:
        body["Name"] = name
    return body


def body(flat: dict) -> dict:
    return docker_body(**flat)


def ex(engine, c, *argv) -> tuple[int, str]:
    """`exec` in the container; (exit code, combined output)."""
    r, w = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        code = engine.ctr.exec(c.id, list(argv), [], "", False, (null, w, w))
    finally:
        os.close(w)
        os.close(null)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    return code, out.decode()


def ip_j(*args, netns=None) -> list:
    cmd = ["ip", "-j", *args]
    if netns:
        cmd = ["nsenter", f"--net={netns}", *cmd]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout or "[]")


def drop_created(engine, known: set) -> None:
    """Remove the containers made since ``known`` was taken: a create that
    succeeded before its start failed (Docker leaves them `Created`)."""
    for cid in set(engine.containers) - known:
        engine.ctr.remove(cid)


def kernel_snapshot(engine) -> dict:
    """Everything a failed command must leave unchanged."""
    links = sorted(l["ifname"] for l in ip_j("link"))
    addrs = sorted((a["ifname"], i["local"]) for a in ip_j("addr") for i in a.get("addr_info", []))
    nft = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    pins = sorted(os.listdir(engine.netns_dir))
    with engine.lock:
        state = (sorted(engine.networks), sorted(engine.containers),
                 sorted(json.dumps(c.endpoints, sort_keys=True) for c in engine.containers.values()))
    return {"links": links, "addrs": addrs, "nft": nft, "pins": pins, "state": state,
            "files": sorted(os.listdir(os.path.join(engine.root, "containers"))),
            "netfiles": sorted(os.listdir(os.path.join(engine.root, "networks")))}


@contextlib.contextmanager
def peer_namespace(tag: str, name: str, host_if: str, host_ip: str, peer_ip: str):
    """A namespace joined to the test's host by a veth pair (another machine, an
    upstream server): host_if holds host_ip/24 on the host, eth0 peer_ip/24 inside,
    routed through the host. Yields its pin path; removes everything after."""
    from minidocker.network import namespaces, netlink
    pins = f"/run/mdt-{tag}-{os.getpid()}"
    namespaces.ensure_private_dir(pins)
    path = os.path.join(pins, name)
    try:
        namespaces.create_netns(path)
        with netlink.inside(None) as host:
            host.create_veth_into(host_if, "eth0", path)
        sh = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True)  # noqa: E731
        sh("ip", "addr", "add", f"{host_ip}/24", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        inside = ["nsenter", f"--net={path}", "ip"]
        sh(*inside, "addr", "add", f"{peer_ip}/24", "dev", "eth0")
        sh(*inside, "link", "set", "eth0", "up")
        sh(*inside, "link", "set", "lo", "up")
        sh(*inside, "route", "add", "default", "via", host_ip)
        yield path
    finally:
        with netlink.inside(None) as host:
            host.delete_link(host_if)
        namespaces.delete_netns(path)
        namespaces.umount(pins, namespaces.MNT_DETACH)
        os.rmdir(pins)

"""Port publishing (-p): DNAT from the host to the container, and Docker's conflicts."""
import socket
import time

import pytest

from minidocker.errors import Conflict

from .enginehelp import body as flat_body, run


def _get(ip: str, port: int) -> bytes:
    for _ in range(50):
        try:
            with socket.create_connection((ip, port), timeout=2) as s:
                s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        return data
                    data += chunk
        except OSError:
            time.sleep(0.05)
    return b""


def test_publish_reaches_container(engine):
    ports = [{"proto": "tcp", "host_ip": "", "host_port": "8080", "container_port": 80}]
    c = run(engine, "httpd", "-f", "-p", "80", "-h", "/etc", name="web", Ports=ports)
    body = _get("172.17.0.1", 8080)  # a host address; the output hook DNATs it
    assert c.id[:12].encode() in body
    # a second container may ask for the same port; it is refused when it starts (as Docker)
    other = engine.ctr.create(flat_body({"Name": "web-b", "Image": "busybox", "Cmd": ["true"], "Ports": ports}))
    with pytest.raises(Conflict) as info:
        engine.ctr.start(other.id)
    assert "Bind for 0.0.0.0:8080 failed: port is already allocated" in info.value.message
    assert other.status == "created"
    engine.ctr.remove(c.id, force=True)
    engine.ctr.start(other.id)  # the port is free again
    assert engine.ctr.wait(other.id) == 0
    assert "8080" not in __import__("subprocess").run(["nft", "list", "ruleset"], capture_output=True,
                                                        text=True).stdout


def test_ephemeral_host_port(engine):
    c = run(engine, "httpd", "-f", "-p", "80", "-h", "/etc", name="web2",
            Ports=[{"proto": "tcp", "host_ip": "", "host_port": "", "container_port": 80}])
    port = int(c.active_ports["80/tcp"][0]["HostPort"])
    assert port >= 32768
    assert c.id[:12].encode() in _get("172.17.0.1", port)

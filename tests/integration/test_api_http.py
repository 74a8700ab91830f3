"""minidockerd's HTTP as Docker's clients meet it, byte by byte over the socket:
version prefixes and their errors, the headers on every answer, keep-alive with
several requests on one connection, chunked bodies both ways, Content-Type checks,
and bad input answered with Docker's status and message, changing nothing."""
import json
import os
import socket
import subprocess

import pytest

from .enginehelp import ip_j


class Conn:
    """One raw HTTP/1.1 connection to the daemon."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(path)
        self.buf = b""

    def send(self, method, target, body=b"", headers=None, chunks=None):
        head = {"Host": "docker", "User-Agent": "test"}
        if chunks is not None:
            head["Transfer-Encoding"] = "chunked"
        elif body or method in ("POST", "PUT"):
            head["Content-Length"] = str(len(body))
        head.update(headers or {})
        data = f"{method} {target} HTTP/1.1\r\n".encode() + \
            "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode() + b"\r\n" + body
        if chunks is not None:
            data += b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip()] = v.strip()
        body = b""
        if head_only or status in (204, 304):
            pass
        elif headers.get("Transfer-Encoding") == "chunked":
            while True:
                size = int(self._line(), 16)
                if size == 0:
                    self._line()
                    break
                body += self._exact(size)
                self._line()
        else:
            body = self._exact(int(headers.get("Content-Length", "0")))
        return status, headers, body

    def ask(self, method, target, body=b"", headers=None, **kw):
        self.send(method, target, body, headers, **kw)
        return self.response(head_only=method == "HEAD")

    def close(self):
        self.sock.close()


@pytest.fixture
def conn(cli):
    c = Conn(os.path.join(cli.run_dir, "minidocker.sock"))
    yield c
    c.close()


def state(cli) -> tuple:
    return (cli.ok("network", "ls", "-q", "--no-trunc"), sorted(l["ifname"] for l in ip_j("link")))


def test_ping_version_prefixes_and_common_headers(conn):
    status, h, body = conn.ask("HEAD", "/_ping")
    assert (status, body) == (200, b"")
    assert (h["Api-Version"], h["Docker-Experimental"], h["Ostype"]) == ("1.41", "false", "linux")
    assert (h["Cache-Control"], h["Pragma"], h["Content-Length"]) == (
        "no-cache, no-store, must-revalidate", "no-cache", "0")
    assert h["Content-Type"] == "text/plain; charset=utf-8" and h["Server"].startswith("minidocker/")
    assert h["Date"].endswith(" GMT")
    # all on the same connection
    for target in ("/_ping", "/v1.41/_ping", "/v1.12/_ping"):
        status, h, body = conn.ask("GET", target)
        assert (status, body, h["Content-Length"]) == (200, b"OK", "2")
    status, h, body = conn.ask("GET", "/version")
    assert status == 200 and h["Content-Type"] == "application/json" and body.endswith(b"}\n")
    assert json.loads(body)["ApiVersion"] == "1.41" and "Api-Version" in h
    status, h, body = conn.ask("GET", "/v1.99/version")
    assert (status, h["Content-Type"], body) == (
        400, "application/json",
        b'{"message":"client version 1.99 is too new. Maximum supported API version is 1.41"}\n')
    status, h, body = conn.ask("GET", "/v1.11/version")
    assert (status, h["Content-Type"], body) == (
        400, "text/plain; charset=utf-8",
        b"client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your "
        b"client to a newer version\n")
    for target in ("/nosuch", "/v1.41/nosuch", "/v1.99/nosuch"):
        assert conn.ask("GET", target)[::2] == (404, b'{"message":"page not found"}\n')
    assert conn.ask("PUT", "/containers/json")[::2] == (404, b'{"message":"page not found"}\n')
    # errors of old API versions are Go's text/plain
    status, h, body = conn.ask("GET", "/v1.23/networks/nosuch")
    assert (status, h["Content-Type"], h["X-Content-Type-Options"], body) == (
        404, "text/plain; charset=utf-8", "nosniff", b"network nosuch not found\n")
    status, h, body = conn.ask("GET", "/v1.24/networks/nosuch")
    assert (status, body) == (404, b'{"message":"network nosuch not found"}\n')


def test_keep_alive_survives_clients_that_come_and_go(cli):
    path = os.path.join(cli.run_dir, "minidocker.sock")
    idle = [Conn(path) for _ in range(5)]  # docker-py keeps a pool of idle connections
    try:
        for c in idle:
            assert c.ask("GET", "/v1.41/_ping")[0] == 200
        idle[0].close()  # a client leaves between requests
        idle[1].sock.sendall(b"GET /v1.41/_pi")  # ... or in the middle of one
        idle[1].close()
        for _ in range(3):
            for c in idle[2:]:
                assert c.ask("GET", "/v1.41/networks")[0] == 200
        status, h, _ = idle[2].ask("GET", "/_ping", headers={"Connection": "close"})
        assert h["Connection"] == "close"
        with pytest.raises(ConnectionError):
            idle[2].ask("GET", "/_ping")
    finally:
        for c in idle:
            c.close()


def test_content_type_and_malformed_bodies_change_nothing(conn, cli):
    before = state(cli)
    js = {"Content-Type": "application/json"}
    body = b'{"Name":"ctnet"}'
    assert conn.ask("POST", "/v1.41/networks/create", body, {"Content-Type": "text/plain"})[::2] == (
        400, b'{"message":"Content-Type specified (text/plain) must be \'application/json\'"}\n')
    cases = [
        (b'{"Name":"bad"', "unexpected EOF"),
        (b"nonsense", "invalid character 'o' in literal null (expecting 'u')"),
        (b"<html>", "invalid character '<' looking for beginning of value"),
        (b'{"Name":"bad","IPAM":{"Config":"x"}}',
         "json: cannot unmarshal string into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig"),
        (b'{"Name":7}',
         "json: cannot unmarshal number into Go struct field NetworkCreateRequest.Name of type string"),
        (b'{"Name":"bad","Internal":"yes"}',
         "json: cannot unmarshal string into Go struct field NetworkCreateRequest.Internal of type bool"),
        (b'{"Name":"bad","Labels":[]}',
         "json: cannot unmarshal array into Go struct field NetworkCreateRequest.Labels of type map[string]string"),
        (b'[]', "json: cannot unmarshal array into Go value of type types.NetworkCreateRequest"),
        (b'', "got EOF while reading request body"),
    ]
    for raw, message in cases:
        status, h, got = conn.ask("POST", "/v1.41/networks/create", raw, js)
        assert (status, json.loads(got)) == (400, {"message": message}), raw
    for raw, code, message in [  # Docker's statuses (api-research raw/x06-net-bad)
        (b'{"Name": "x", "Driver": "nosuchdriver"}', 404, 'plugin "nosuchdriver" not found'),
        (b'{"Name": ""}', 500, "invalid name: "),
        (b'{"Name": "x", "IPAM": {"Config": [{"Subnet": "bad"}]}}', 500,
         "Invalid subnet bad : invalid CIDR address: bad"),
    ]:
        status, _, got = conn.ask("POST", "/v1.41/networks/create", raw, js)
        assert (status, json.loads(got)) == (code, {"message": message}), raw
    assert conn.ask("DELETE", "/v1.41/networks/bridge")[::2] == (
        403, b'{"message":"bridge is a pre-defined network and cannot be removed"}\n')
    status, _, got = conn.ask("POST", "/v1.41/networks/nonet/connect", b'{"Container":"nosuch"}', js)
    assert (status, got) == (404, b'{"message":"No such container: nosuch"}\n')
    status, _, got = conn.ask("POST", "/networks/nosuch/connect", b'{"Container":1}', js)
    assert (status, json.loads(got)["message"]) == (
        400, "json: cannot unmarshal number into Go struct field NetworkConnect.Container of type string")
    status, _, got = conn.ask("GET", "/networks?filters=nope")
    assert status == 400
    status, _, got = conn.ask("GET", '/networks?filters={"bogus":{"x":true}}')
    assert (status, got) == (400, b'{"message":"Invalid filter \'bogus\'"}\n')
    assert state(cli) == before
    # unknown fields are ignored, field names match in any case, nulls are fine
    status, _, got = conn.ask("POST", "/v1.41/networks/create",
                              b'{"name":"ctnet","Bogus":1,"IPAM":{"Config":[{"Subnet":"10.77.0.0/24",'
                              b'"IPRange":null,"Gateway":null,"AuxiliaryAddresses":null}],"Nope":{}},'
                              b'"Labels":null}', js)
    assert status == 201 and json.loads(got)["Warning"] == ""
    status, _, got = conn.ask("GET", "/v1.41/networks/ctnet")
    assert json.loads(got)["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24"}]
    assert json.loads(got)["IPAM"]["Options"] is None
    # a second one only when asked not to check (and then names are ambiguous)
    status, _, got = conn.ask("POST", "/networks/create", b'{"Name":"ctnet","CheckDuplicate":false}', js)
    assert status == 201 and json.loads(got)["Warning"].startswith("Network with name ctnet (id : ")
    status, _, got = conn.ask("DELETE", "/networks/ctnet")
    assert (status, got) == (400, b'{"message":"network ctnet is ambiguous (2 matches found based on name)"}\n')
    for n in json.loads(conn.ask("GET", '/networks?filters={"name":["ctnet"]}')[2]):
        assert conn.ask("DELETE", f"/networks/{n['Id']}")[0] == 204
    assert state(cli) == before


def test_filters_in_both_forms_and_query_booleans(conn):
    js = {"Content-Type": "application/json"}
    conn.ask("POST", "/networks/create", b'{"Name":"fa","Labels":{"k":"v"}}', js)
    conn.ask("POST", "/networks/create", b'{"Name":"fb"}', js)
    from urllib.parse import quote
    for f in ({"label": {"k=v": True}}, {"label": ["k=v"]}, {"label": ["k"], "type": ["custom"]}):
        got = json.loads(conn.ask("GET", "/networks?filters=" + quote(json.dumps(f)))[2])
        assert [n["Name"] for n in got] == ["fa"], f
    got = json.loads(conn.ask("GET", "/networks?filters=" + quote('{"dangling":["true"]}'))[2])
    assert sorted(n["Name"] for n in got) == ["fa", "fb"]
    for value in ("True", "1", "yes", "anything"):
        assert conn.ask("GET", f"/networks/fa?verbose={value}")[0] == 200
    assert conn.ask("GET", "/networks/fa?scope=swarm")[0] == 404
    assert json.loads(conn.ask("POST", "/networks/prune?filters=" + quote('{"label":["k=v"]}'))[2]) == \
        {"NetworksDeleted": ["fa"]}
    assert json.loads(conn.ask("POST", "/networks/prune")[2]) == {"NetworksDeleted": ["fb"]}


def test_chunked_import_body_and_chunked_answer(conn, tmp_path):
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "x").write_bytes(os.urandom(100_000))
    tar = subprocess.run(["tar", "-C", str(root), "-c", "."], capture_output=True, check=True).stdout
    chunks = [tar[i:i + 32768] for i in range(0, len(tar), 32768)]
    status, h, body = conn.ask("POST", "/v1.41/images/create?changes=ENV+PATH%3D%2Fbin&changes=CMD+%5B%22x%22%5D"
                               "&fromSrc=-&message=&repo=chunky%3A2&tag=", chunks=chunks,
                               headers={"Content-Type": "text/plain"})
    assert status == 200 and h["Content-Type"] == "application/json"
    image_id = json.loads(body)["status"]
    assert body.endswith(b"\r\n") and image_id.startswith("sha256:")
    # the connection goes on after the body
    got = json.loads(conn.ask("GET", "/v1.41/images/chunky:2/json")[2])
    assert (got["Id"], got["RepoTags"], got["Config"]["Env"], got["Config"]["Cmd"]) == (
        image_id, ["chunky:2"], ["PATH=/bin"], ["x"])
    gone = json.loads(conn.ask("DELETE", "/v1.41/images/chunky:2")[2])
    assert gone[:2] == [{"Untagged": "chunky:2"}, {"Deleted": image_id}]  # then its layer, as Docker's
    assert len(gone) == 3 and gone[2]["Deleted"].startswith("sha256:") and gone[2]["Deleted"] != image_id
    assert conn.ask("GET", "/images/nosuch/json")[::2] == (
        404, b'{"message":"no such image: nosuch: No such image: nosuch:latest"}\n')
    # a bad archive is refused before any output, and the connection still serves
    status, _, body = conn.ask("POST", "/images/create?fromSrc=-&repo=bad", chunks=[b"not a tar" * 100])
    assert status == 400
    assert conn.ask("GET", "/_ping")[2] == b"OK"
    # events stream: the head comes at once, chunked
    conn.send("GET", "/events?since=0&until=1")
    status, h, body = conn.response()
    assert (status, h["Transfer-Encoding"], body) == (200, "chunked", b"")

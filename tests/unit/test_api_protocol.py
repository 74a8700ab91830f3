"""The pure parts of speaking Docker's API: Go-style body decoding, moby's
BoolValue, version checks and error shapes, event filters, prune filters and the
image list (no root, no kernel)."""
import socket
import threading
import time

import pytest

from minidocker.api import framing
from minidocker.api.router import Router, Routes, version_tuple
from minidocker.api.schema import ListOf, MapOf, Struct, decode
from minidocker.api.server import serve_connection
from minidocker.engine import events, filters, image_views
from minidocker.engine.models import Network
from minidocker.errors import InvalidArgument

INNER = Struct("Inner", "*pkg.Inner", {"Port": "int", "Tags": ListOf("string")})
OUTER = Struct("Outer", "types.Outer", {"Name": "string", "On": "bool", "In": INNER, "Map": MapOf("string"),
                                        "Items": ListOf(INNER)})


@pytest.mark.parametrize("body, message", [
    (b'{"Name": 1}', "json: cannot unmarshal number into Go struct field Outer.Name of type string"),
    (b'{"On": "true"}', "json: cannot unmarshal string into Go struct field Outer.On of type bool"),
    (b'{"In": {"Port": 1.5}}', "json: cannot unmarshal number 1.5 into Go struct field Inner.In.Port of type int"),
    (b'{"In": {"Port": true}}', "json: cannot unmarshal bool into Go struct field Inner.In.Port of type int"),
    (b'{"Items": [{"Tags": "a"}]}',
     "json: cannot unmarshal string into Go struct field Inner.Items.Tags of type []string"),
    (b'{"Map": {"a": 1}}', "json: cannot unmarshal number into Go struct field Outer.Map of type string"),
    (b'{"In": []}', "json: cannot unmarshal array into Go struct field Outer.In of type *pkg.Inner"),
    (b'"x"', "json: cannot unmarshal string into Go value of type types.Outer"),
    (b'{"Name": "a"', "unexpected EOF"),
    (b'{"Name": tru', "unexpected EOF"),
    (b'  ', "got EOF while reading request body"),
    (b'falsy', "invalid character 'y' in literal false (expecting 'e')"),
])
def test_go_decoding_errors(body, message):
    with pytest.raises(InvalidArgument) as info:
        decode(body, OUTER)
    assert info.value.message == message


def test_go_decoding_accepts_what_go_accepts():
    got = decode(b'{"name": "x", "ON": true, "Bogus": [1], "In": null, "Items": [{"port": 2, "Tags": null}],'
                 b'"Map": {"k": "v"}}', OUTER)
    assert got == {"Name": "x", "On": True, "In": None, "Items": [{"Port": 2, "Tags": None}], "Map": {"k": "v"}}
    assert decode(b"null", OUTER) == {}


@pytest.mark.parametrize("value, expected", [
    (None, False), ("", False), ("0", False), ("no", False), ("False", False), ("NONE", False),
    ("1", True), ("true", True), ("True", True), ("yes", True), ("2", True), ("anything", True),
])
def test_bool_value_as_moby(value, expected):
    assert framing.bool_value(value) is expected


def test_version_order():
    assert version_tuple("1.9") < version_tuple("1.12") < version_tuple("1.41") < version_tuple("1.100")


routes = Routes()


@routes("GET", r"/thing")
def thing(e, req):
    raise InvalidArgument("bad thing")


@routes("POST", r"/nothing")
def nothing(e, req):
    return 204, None


@pytest.fixture
def conn():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    t = threading.Thread(target=serve_connection, args=(None, b, Router(routes)), daemon=True)
    t.start()
    yield a
    a.close()
    t.join(timeout=5)


def ask(sock, method, path, body=None, headers=None):
    framing.send_request(sock, method, path, body, headers={"Connection": "keep-alive", **(headers or {})})
    return framing.Response(sock)


def test_error_shapes_by_version(conn):
    r = ask(conn, "GET", "/v1.41/thing")
    assert (r.status, r.headers["content-type"], r.read()) == (400, "application/json", b'{"message":"bad thing"}\n')
    r = ask(conn, "GET", "/v1.23/thing")
    assert (r.status, r.headers["content-type"], r.read()) == (400, "text/plain; charset=utf-8", b"bad thing\n")
    r = ask(conn, "GET", "/v2/thing")
    assert r.status == 400 and b"client version 2 is too new" in r.read()
    r = ask(conn, "POST", "/nothing", b"unread body")  # a body nobody reads does not upset the next request
    assert (r.status, "content-length" in r.headers, "content-type" in r.headers) == (204, False, False)
    r = ask(conn, "GET", "/thing")
    assert r.status == 400 and r.headers["api-version"] == "1.41" and "connection" not in r.headers


def _ev(kind, action, actor, **attrs):
    return events.event(kind, action, actor, attrs)


def test_event_shapes_and_filters():
    c = _ev("container", "die", "c" * 64, image="busybox", name="web", exitCode="0",
            **{"com.docker.compose.project": "proj"})
    n = _ev("network", "connect", "n" * 64, container="c" * 64, name="front", type="bridge")
    assert (c["status"], c["id"], c["from"], c["Actor"]["Attributes"]["exitCode"]) == ("die", "c" * 64, "busybox", "0")
    assert "status" not in n and n["scope"] == "local" and n["time"] == n["timeNano"] // 10 ** 9
    f = events.check_filters
    assert events.matches(c, f({"type": ["container"], "event": {"die": True}}))
    assert not events.matches(n, f({"type": ["container"]}))
    assert events.matches(c, f({"label": ["com.docker.compose.project=proj"]}))
    assert not events.matches(c, f({"label": ["com.docker.compose.project=proj", "other"]}))
    assert events.matches(c, f({"container": ["web"]})) and events.matches(c, f({"container": ["ccc"]}))
    assert not events.matches(n, f({"container": ["web"]}))
    assert events.matches(n, f({"network": ["front"]})) and not events.matches(c, f({"network": ["front"]}))
    with pytest.raises(InvalidArgument, match="Invalid filter 'bogus'"):
        f({"bogus": ["x"]})


def test_event_replay_and_live():
    bus = events.Events()
    t0 = time.time()
    bus.emit("network", "create", "a", {"name": "a"})
    got = list(bus.listen(since=t0 - 1, until=time.time()))
    assert [e["Action"] for e in got] == ["create"]
    stream = bus.listen(filters={"type": ["network"]}, tick=0.05)
    assert next(stream) is None and bus.listeners == 1  # nothing yet: an idle tick
    bus.emit("container", "start", "c", {})
    bus.emit("network", "destroy", "a", {"name": "a"})
    got = [x for x in (next(stream), next(stream)) if x]
    assert [e["Action"] for e in got] == ["destroy"]
    stream.close()
    assert bus.listeners == 0


def test_prune_filters_and_timestamps():
    now = 1_800_000_000.0
    assert filters.timestamp("1h30m", now) == now - 5400
    assert filters.timestamp("1796146559.5", now) == 1796146559.5
    assert filters.timestamp("2026-12-01T00:00:00Z", now) == 1796083200.0
    with pytest.raises(InvalidArgument):
        filters.timestamp("yesterday", now)
    old = Network(id="1", name="old", driver="bridge", created="2026-01-01T00:00:00Z", labels={"k": "v"})
    keep = filters.prune_filters({"until": ["2026-06-01T00:00:00Z"]}, now)
    assert keep(old) is False
    assert filters.prune_filters({"label!": ["k"]}, now)(old) is True
    assert filters.prune_filters({"label": {"k=v": True}}, now)(old) is False
    with pytest.raises(InvalidArgument, match="Invalid filter 'name'"):
        filters.prune_filters({"name": ["x"]}, now)


def test_image_list_groups_tags_and_filters():
    recs = [{"Id": "sha256:a", "Created": "2026-01-01T00:00:00Z", "RepoTags": ["busybox:latest"], "Size": 5},
            {"Id": "sha256:a", "Created": "2026-01-01T00:00:00Z", "RepoTags": ["bb:1"], "Size": 5},
            {"Id": "sha256:b", "Created": "2026-02-01T00:00:00Z", "RepoTags": ["impt:1"], "Size": 7}]
    find = {"busybox": recs[0], "impt:1": recs[2]}.__getitem__
    got = image_views.listing(recs, {}, find)
    assert [(i["Id"], i["RepoTags"], i["Created"]) for i in got] == [
        ("sha256:b", ["impt:1"], 1769904000), ("sha256:a", ["busybox:latest", "bb:1"], 1767225600)]
    assert [i["Id"] for i in image_views.listing(recs, {"reference": {"impt": True}}, find)] == ["sha256:b"]
    assert [i["Id"] for i in image_views.listing(recs, {"reference": ["b*:1"]}, find)] == ["sha256:a"]
    assert [i["Id"] for i in image_views.listing(recs, {"before": ["impt:1"]}, find)] == ["sha256:a"]
    assert image_views.listing(recs, {"dangling": ["true"]}, find) == []
    with pytest.raises(InvalidArgument):
        image_views.listing(recs, {"bogus": ["x"]}, find)


def test_expect_continue_is_asked_only_when_the_body_is_read(conn):
    conn.sendall(b"POST /nothing HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    r = framing.Response(conn)  # answered without reading: no "100 Continue", and the connection ends
    assert r.status == 204
    assert conn.recv(100) == b""

"""The daemon's HTTP side without an Engine: framing, routing, errors as Docker's
JSON, streams, fds, keep-alive, and the request log line; over a socketpair."""
import logging
import os
import re
import time
import socket
import threading

import pytest

from minidocker.api import framing
from minidocker.api.router import PassFds, Router, Routes, Stream, Takeover, json_query, split_version
from minidocker.api.server import serve_connection
from minidocker.errors import NotFound

routes = Routes()


@routes("GET", r"/things/(?P<ref>[^/]+)")
def get_thing(e, req, ref):
    if ref == "missing":
        raise NotFound(f"no such thing: {ref}")
    if ref == "bug":
        raise RuntimeError("boom")
    return 200, {"Name": ref, "Engine": e, "Version": req.api_version}


@routes("POST", r"/echo")
def echo(e, req):
    return 201, req.json()


@routes("GET", r"/filtered")
def filtered(e, req):
    return 200, json_query(req, "filters")


@routes("GET", r"/stream")
def stream(e, req):
    return 200, Stream(iter([b"a", b"", b"bc"]))


@routes("POST", r"/fd")
def pass_fd(e, req):
    r, w = os.pipe()
    os.write(w, b"x")
    os.close(w)
    return 200, PassFds([r])


@routes("POST", r"/takeover")
def takeover(e, req):
    def run(out):
        if req.flag("fail"):
            raise NotFound("gone before the answer began")
        out.start(200, {"Content-Type": "application/json"}, chunked=False)
        out.write(b'{"ExitCode": 3}')
    return 200, Takeover(run)


@pytest.fixture
def conn():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    t = threading.Thread(target=serve_connection, args=("ENGINE", b, Router(routes)), daemon=True)
    t.start()
    yield a
    a.close()
    t.join(timeout=5)
    assert not t.is_alive()


def ask(sock, method, path, body=None, **kw):
    framing.send_request(sock, method, path, body, **kw)
    return framing.Response(sock)


def test_json_answers_and_the_version_prefix(conn):
    r = ask(conn, "GET", "/v1.41/things/x%2Fy", headers={"Connection": "keep-alive"})
    assert (r.status, r.headers["content-type"]) == (200, "application/json")
    assert r.json() == {"Name": "x/y", "Engine": "ENGINE", "Version": "1.41"}
    r = ask(conn, "POST", "/echo", {"A": [1]})  # a second request on the same connection
    assert (r.status, r.json()) == (201, {"A": [1]})
    assert split_version("/v1.12/networks") == ("1.12", "/networks")
    assert split_version("/networks/v1.4") == (None, "/networks/v1.4")


@pytest.mark.parametrize("path, status, message", [
    ("/things/missing", 404, "no such thing: missing"),
    ("/things/bug", 500, "RuntimeError: boom"),
    ("/nosuch", 404, "page not found"),
    ("/filtered?filters=%7Bnope", 400, "invalid filters: {nope"),
])
def test_errors_as_docker_answers_them(conn, caplog, path, status, message):
    r = ask(conn, "GET", path)
    assert (r.status, r.json()) == (status, {"message": message})
    if status == 500:  # a bug: its traceback goes to the log
        assert any(rec.levelno == logging.ERROR and rec.exc_info for rec in caplog.records)


def test_json_query_parameters(conn):
    assert ask(conn, "GET", '/filtered?filters={"name":{"a":true}}').json() == {"name": {"a": True}}


def test_streams_are_chunked_for_http11(conn):
    r = ask(conn, "GET", "/stream")
    assert r.headers["transfer-encoding"] == "chunked"
    assert list(r.chunks()) == [b"a", b"bc"]


def test_fds_ride_with_the_answer(conn):
    r = ask(conn, "POST", "/fd")
    assert r.status == 200 and len(r.fds) == 1
    assert os.read(r.fds[0], 1) == b"x"
    os.close(r.fds[0])


def test_takeover_writes_its_own_answer(conn):
    r = ask(conn, "POST", "/takeover")
    assert (r.status, r.json()) == (200, {"ExitCode": 3})


def test_takeover_failing_before_its_answer(conn):
    r = ask(conn, "POST", "/takeover?fail=1")
    assert (r.status, r.json()) == (404, {"message": "gone before the answer began"})


def test_malformed_request_is_400(conn):
    conn.sendall(b"nonsense\r\n\r\n")
    r = framing.Response(conn)
    assert r.status == 400 and r.json()["message"].startswith("bad request: ")


def test_one_debug_line_per_request(conn, caplog):
    caplog.set_level(logging.DEBUG, logger="minidockerd")
    ask(conn, "GET", "/things/x?a=1").read()
    # the server's thread logs the request once its answer is sent: give it a moment
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not any(r.name == "minidockerd" for r in caplog.records):
        time.sleep(0.005)
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "minidockerd"]
    assert len(lines) == 1 and re.fullmatch(r"GET /things/x\?a=1 200 \d+\.\dms", lines[0]), lines

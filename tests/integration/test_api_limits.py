"""The daemon cannot be starved or killed by its clients: half-sent requests are
closed after the request timeout, connections beyond the cap get a 503 naming
it, a bad Content-Length or an oversized body is refused before anything is
done, and the soft open-files limit is the hard one."""
import os
import socket
import time

import pytest

from .test_api_http import Conn


@pytest.fixture
def tight(monkeypatch, request):
    """A daemon with a 1 s request timeout and at most 24 connections."""
    monkeypatch.setenv("MINIDOCKER_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("MINIDOCKER_MAX_CONNECTIONS", "24")
    return request.getfixturevalue("cli")


def _sock(cli) -> str:
    return os.path.join(cli.run_dir, "minidocker.sock")


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _closed_by_peer(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _networks(cli) -> list:
    return sorted(cli.ok("network", "ls", "-q").split())


def test_half_sent_requests_are_closed(tight):
    pid = tight.daemon.pid
    tight.ok("ps")
    base = _threads(pid)
    held = []
    for i in range(20):  # a slowloris: heads that never end, and a body that never comes
        s = socket.socket(socket.AF_UNIX)
        s.connect(_sock(tight))
        if i % 2:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            s.sendall(b"POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"Name\":")
        held.append(s)
    deadline = time.monotonic() + 10
    # each holds a thread (one of them the thread that served `ps`, kept waiting: api/workers.py)...
    while _threads(pid) < base + 19 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _threads(pid) >= base + 19
    for s in held:  # ...until the timeout closes it
        assert _closed_by_peer(s, 30)
        s.close()
    deadline = time.monotonic() + 30
    while _threads(pid) > base and time.monotonic() < deadline:  # (kept ones end once idle 2 s)
        time.sleep(0.1)
    assert _threads(pid) <= base
    assert _networks(tight) == sorted(tight.ok("network", "ls", "-q").split())
    assert "hhd" not in tight.ok("network", "ls")


def test_connections_beyond_the_cap_get_503(tight):
    held = []
    try:
        for _ in range(24):
            s = socket.socket(socket.AF_UNIX)
            s.connect(_sock(tight))
            held.append(s)
        c = Conn(_sock(tight))
        c.send("GET", "/_ping")
        status, _, body = c.response()
        assert status == 503
        assert json_message(body) == "too many connections: the daemon serves at most 24 at once"
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the slots come back as their threads see the close
        p = tight("ps")
        if p.returncode == 0:
            break
        time.sleep(0.1)
    assert p.returncode == 0, p.stderr


def json_message(body: bytes) -> str:
    import json
    return json.loads(body)["message"]


@pytest.mark.parametrize("length", ["-5", "abc", "1, 2", "99999999999999999999", "+5"])
def test_bad_content_length_is_400_and_changes_nothing(cli, length):
    before = _networks(cli)
    c = Conn(_sock(cli))
    c.send("POST", "/networks/create", b'{"Name":"hhd-cl"}',
           headers={"Content-Type": "application/json", "Content-Length": length})
    status, _, body = c.response()
    assert status == 400 and "Content-Length" in json_message(body)
    assert _networks(cli) == before


def test_oversized_body_is_413(cli):
    from minidocker.api.framing import MAX_BODY
    c = Conn(_sock(cli))
    c.send("POST", "/networks/create", b"", headers={"Content-Type": "application/json",
                                                      "Content-Length": str(MAX_BODY + 1)})
    status, _, body = c.response()
    assert status == 413 and json_message(body) == f"request body too large: the limit is {MAX_BODY} bytes"
    assert "hhd" not in cli.ok("network", "ls")


@pytest.fixture
def low_soft_limit(request):
    """A daemon started with Debian's login-shell soft limit (1024)."""
    import resource
    old = resource.getrlimit(resource.RLIMIT_NOFILE)
    if old[1] <= 1024:
        pytest.skip("the hard open-files limit is 1024 or less")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, old[1]))
    try:
        cli = request.getfixturevalue("cli")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, old)
    return cli


def test_soft_fd_limit_is_raised_to_the_hard_one(low_soft_limit):
    with open(f"/proc/{low_soft_limit.daemon.pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    assert soft == hard != "1024"

"""cli/fastpath.py sends the same requests as the click commands, or leaves the
command line to them; cli/wire.py encodes and decodes JSON as the json module does."""
import json
import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest

from minidocker.api import client as api_client
from minidocker.cli import fastpath, wire

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def click_requests(argv, monkeypatch) -> list:
    """The requests the click command sends for ``argv`` (answered with made-up
    successes), as (method, path with query, body)."""
    from minidocker.cli.main import cli
    sent = []

    def request(self, method, path, body=None, query=None, fds=(), stream=False):
        query = {k: v for k, v in (query or {}).items() if v is not None}
        sent.append((method, path + ("?" + urlencode(query) if query else ""), body))
        if path.endswith("/exec") or path.endswith("/create"):
            return {"Id": "f" * 64}
        return {"StatusCode": 0, "ExitCode": 0} if "/wait" in path or "/start" in path else []
    monkeypatch.setattr(api_client.Client, "request", request)
    try:
        cli.main(list(argv), standalone_mode=False)
    except SystemExit as ex:
        assert not ex.code, ex.code
    return sent


RUNS = [
    ["run", "--rm", "busybox", "true"],
    ["run", "--rm", "--network", "none", "busybox", "true"],
    ["run", "-d", "--name", "web", "--network=mynet", "busybox", "sleep", "3600"],
    ["run", "-di", "--net", "host", "busybox:latest"],
    ["run", "-i", "--rm", "-e", "A=1", "-eB=2", "--env=C", "busybox", "sh", "-c", "echo $A"],
    ["run", "--name", "c1", "--network", "n1", "--ip", "10.1.0.9", "--network-alias", "a", "--net-alias=b",
     "busybox", "-d", "--rm"],
    ["run", "--network", "container:other", "busybox", "ls", "-l"],
    ["run", "--rm", "library/busybox", "true"],
]


@pytest.mark.parametrize("argv", RUNS, ids=" ".join)
def test_run_creates_what_the_click_command_creates(argv, monkeypatch):
    monkeypatch.setenv("C", "from-env")
    plan = fastpath.plan_run(argv[1:])
    path = "/containers/create" + (f"?name={plan['name']}" if plan["name"] else "")
    assert click_requests(argv, monkeypatch)[0] == ("POST", path, plan["body"])


EXECS = [
    ["exec", "c1", "true"],
    ["exec", "-i", "c1", "cat"],
    ["exec", "-d", "-e", "X=1", "-w", "/tmp", "-u", "1000:1000", "c1", "sleep", "1"],
    ["exec", "--env", "HOME", "--workdir=/", "c1", "sh", "-c", "echo -n"],
]


@pytest.mark.parametrize("argv", EXECS, ids=" ".join)
def test_exec_creates_what_the_click_command_creates(argv, monkeypatch):
    plan = fastpath.plan_exec(argv[1:])
    sent = click_requests(argv, monkeypatch)
    assert sent[1] == ("POST", f"/containers/{plan['container']}/exec", plan["body"])


NETWORK = [
    ["network", "connect", "n1", "c1"],
    ["network", "connect", "--ip", "10.1.0.5", "--alias", "x", "--alias=y", "n1", "c1"],
    ["network", "disconnect", "n1", "c1"],
    ["network", "disconnect", "-f", "n1", "c1"],
    ["network", "create", "n2"],
    ["network", "create", "--subnet", "10.9.0.0/24", "n2"],
    ["network", "create", "--subnet=10.9.0.0/24", "--gateway", "10.9.0.254", "n2"],
    ["network", "rm", "n2"],
]


@pytest.mark.parametrize("argv", NETWORK, ids=" ".join)
def test_network_verbs_send_what_the_click_commands_send(argv, monkeypatch):
    method, path, body, _ = fastpath.plan_network(argv[1:])
    assert click_requests(argv, monkeypatch) == [(method, path, body)]


@pytest.mark.parametrize("argv", [["rm", "c1"], ["rm", "-f", "c1"], ["rm", "-fv", "c1"], ["rm", "--volumes", "c1"]],
                         ids=" ".join)
def test_rm_sends_what_the_click_command_sends(argv, monkeypatch):
    path, _ = fastpath.plan_rm(argv[1:])
    assert click_requests(argv, monkeypatch) == [("DELETE", path, None)]


@pytest.mark.parametrize("argv", [["ps"], ["ps", "-a"], ["ps", "-aq"], ["ps", "--no-trunc", "-q"]], ids=" ".join)
def test_ps_lists_what_the_click_command_lists(argv, monkeypatch):
    path, _, _ = fastpath.plan_ps(argv[1:])
    assert click_requests(argv, monkeypatch) == [("GET", path, None)]


def test_ps_table_is_the_click_commands_table(monkeypatch, capsys):
    """The default table, rendered here without the template engine, byte for byte."""
    summaries = [{"Id": "a" * 64, "Names": ["/web"], "Image": "busybox", "Command": "sleep 3600 with a long tail",
                  "Created": 1_700_000_000, "Status": "Up 2 hours", "State": "running",
                  "Ports": [{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"}]},
                 {"Id": "b" * 64, "Names": ["/db"], "Image": "busybox:latest", "Command": "true",
                  "Created": 1_700_000_100, "Status": "Exited (0) 1 hour ago", "State": "exited", "Ports": []}]
    monkeypatch.setattr(api_client.Client, "request", lambda *a, **k: summaries)
    monkeypatch.setattr(wire, "request", lambda *a, **k: wire.Answer(200, json.dumps(summaries).encode()))
    monkeypatch.setattr("time.time", lambda: 1_700_010_000)
    from minidocker.cli.main import cli
    for args in (["ps", "-a"], ["ps", "-a", "--no-trunc"], ["ps", "-aq"]):
        cli.main(list(args), standalone_mode=False)
        by_click = capsys.readouterr().out
        assert fastpath.main(list(args)) == 0
        assert capsys.readouterr().out == by_click
        assert "web" in by_click or "aaaa" in by_click


FALLBACKS = [
    ["run", "-t", "busybox"], ["run", "-it", "busybox"], ["run", "-p", "80:80", "busybox"],
    ["run", "--help"], ["run", "--rm=true", "busybox"], ["run", "--", "busybox"], ["run"],
    ["run", "--name"], ["run", "-e", "=x", "busybox"], ["run", "BusyBox"], ["run", "busybox:"],
    ["run", "registry.example/busybox"], ["run", "busybox@sha256:" + "0" * 64], ["run", "a..b"],
    ["run", "--network", "bridge", "--network-alias", "x", "busybox"], ["run", "--name", "a b", "busybox"],
    ["run", "--mount", "type=tmpfs,dst=/x", "busybox"], ["run", "-h", "host", "busybox"],
    ["exec", "c1"], ["exec", "-t", "c1", "sh"], ["exec", "-it", "c1", "sh"], ["exec", "c/1", "true"],
    ["network", "ls"], ["network", "inspect", "n1"], ["network", "connect", "n1"],
    ["network", "connect", "n1", "c1", "extra"], ["network", "create", "--internal", "n1"],
    ["network", "create", "--gateway", "10.0.0.1", "n1"], ["network", "create", "--subnet", "a", "--subnet", "b", "n1"],
    ["network", "rm", "n1", "n2"], ["network"], ["rm", "a", "b"], ["rm", "--link", "a"],
    ["ps", "--format", "{{.ID}}"], ["ps", "-f", "status=exited"], ["ps", "x"],
]


@pytest.mark.parametrize("argv", FALLBACKS, ids=" ".join)
def test_other_command_lines_go_to_the_full_cli(argv):
    plan_of, _ = fastpath.VERBS[argv[0]]
    with pytest.raises(fastpath.Fallback):
        plan_of(argv[1:])


def test_verbs_it_does_not_know_and_switches_go_to_the_full_cli(monkeypatch):
    def no_request(*args, **kwargs):
        raise AssertionError("the fast path sent a request")
    monkeypatch.setattr(wire, "request", no_request)
    assert fastpath.main(["inspect", "c1"]) is None
    assert fastpath.main([]) is None
    monkeypatch.setenv("MINIDOCKER_FAST", "0")
    assert fastpath.main(["ps"]) is None
    monkeypatch.setenv("MINIDOCKER_FAST", "1")
    monkeypatch.setenv("MINIDOCKER_EXPLAIN", "1")
    assert fastpath.main(["ps"]) is None


def test_wire_reads_the_environment_as_os_environ_does(monkeypatch):
    """With os loaded (here) the live os.environ; without it (the -S launcher)
    the environment the process started with, decoded as os.environ decodes it."""
    monkeypatch.setenv("MINIDOCKER_RUN", "/tmp/some-run")
    assert wire.env("MINIDOCKER_RUN") == "/tmp/some-run" and wire.socket_path() == "/tmp/some-run/minidocker.sock"
    monkeypatch.delenv("MINIDOCKER_RUN")
    assert wire.env("MINIDOCKER_RUN", "dflt") == "dflt" and wire.socket_path() == "/run/minidocker/minidocker.sock"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from minidocker.cli import wire; "
            "print(ascii(('os' in sys.modules, wire.env('X1'), wire.env('X2', 'd'), wire.socket_path())))")
    env = {"X1": "caf\u00e9 \udcff", "MINIDOCKER_RUN": "/r/"}
    out = subprocess.run([sys.executable, "-S", "-c", code, REPO], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out == ascii((False, "caf\u00e9 \udcff", "d", "/r/minidocker.sock")) + "\n"


def test_no_daemon_goes_to_the_full_cli(tmp_path, monkeypatch):
    """The full client starts the daemon (or says it cannot): no answer is a fallback."""
    monkeypatch.setenv("MINIDOCKER_RUN", str(tmp_path))
    assert fastpath.main(["ps"]) is None
    assert fastpath.main(["network", "connect", "n1", "c1"]) is None


@pytest.mark.parametrize("value", [
    {"a": [1, None, True, False, "é\"\\\n<>"], "b": {}, "c": [], "d": {"e": {"f": -3}}}, [], "x", 0, None,
])
def test_wire_json_is_the_json_modules(value):
    assert wire.dumps(value) == json.dumps(value)
    assert wire.loads(json.dumps(value, indent=2).encode()) == value


def test_wire_json_refuses_what_json_refuses():
    for bad in (b'{"a": 1} x', b"NaN", b"{'a': 1}", b'{"a": 1,}'):
        with pytest.raises(ValueError):
            wire.loads(bad)


def test_the_fast_path_loads_no_heavy_module():
    """Its point: none of click, json, re, socket, enum (tens of ms) is imported,
    nor os (2-3 ms in an interpreter started with -S)."""
    code = ("import sys; sys.argv = ['minidocker', 'ps']; import minidocker.cli.fastpath, minidocker.cli.entry; "
            "print(sorted(m for m in ('click', 'json', 're', 'socket', 'enum', 'subprocess', 'minidocker.api.client',"
            " 'os')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2])).stdout
    assert out.strip() == "[]"

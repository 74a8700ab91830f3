"""Wrong types thrown at every field of every route's body: each is answered with
Go's decoder's words (400; 500 for containers/create, as dockerd 20.10), never a
Python exception, and nothing is created or changed."""
import json
import os
import re

import pytest

from minidocker.api import container_bodies, routes_networks
from minidocker.api.schema import ListOf, MapOf, Struct

from .enginehelp import ip_j
from .test_api_http import Conn

GO_TYPE_ERROR = re.compile(r"^json: cannot unmarshal (string|number|number \S+|bool|array|object) into Go "
                           r"(struct field \S+|value) of type (\S+|\S*struct \{\})$")
PYTHON = re.compile(r"Error\b|Traceback|KeyError|NoneType|object has no attribute|recursion", re.I)


def wrong_values(kind) -> list:
    """Values of every JSON type but the one ``kind`` wants (nested where it holds more)."""
    if isinstance(kind, Struct):
        return [[], "x", 5]
    if isinstance(kind, ListOf):
        inner = kind.kind
        return ["x", {}, 5] + ([[w] for w in wrong_values(inner)[:1]] if not isinstance(inner, Struct) else [["x"]])
    if isinstance(kind, MapOf):
        return [[], "x"] + [{"k": w} for w in wrong_values(kind.kind)[:1]]
    return {"string": [5, True, [], {}], "strslice": [5, True, {}, [5]], "bool": ["false", "true", 0, []],
            "int": ["1", 1.5, True], "int64": ["1", 2.5, False], "float64": ["1", True],
            "interface {}": []}[kind]


def cases(schema: Struct, base: dict):
    """(path, body) with one field set wrong, everything else as ``base``."""
    def walk(struct: Struct, prefix: list):
        for name, kind in struct.fields.items():
            for bad in wrong_values(kind):
                yield prefix + [name], bad
            if isinstance(kind, Struct):
                yield from walk(kind, prefix + [name])
            elif isinstance(kind, (ListOf, MapOf)) and isinstance(kind.kind, Struct):
                yield from ((p, v) for p, v in walk(kind.kind, prefix + [name, 0 if isinstance(kind, ListOf)
                                                                              else "k"]))
            elif isinstance(kind, MapOf) and isinstance(kind.kind, ListOf) and isinstance(kind.kind.kind, Struct):
                yield from walk(kind.kind.kind, prefix + [name, "80/tcp", 0])
    for path, bad in walk(schema, []):
        body = json.loads(json.dumps(base))
        at = body
        for step, nxt in zip(path, path[1:]):
            if step not in at if isinstance(at, dict) else False:
                at[step] = [] if isinstance(nxt, int) else {}
            if isinstance(at, list):
                while len(at) <= step:
                    at.append([] if isinstance(nxt, int) else {})
            at = at[step]
        if isinstance(at, list):
            at.append(bad)
        else:
            at[path[-1]] = bad
        yield ".".join(map(str, path)), body


def _ask(sock, method, target, body: bytes):
    c = Conn(sock)
    c.send(method, target, body, headers={"Content-Type": "application/json"})
    status, _, data = c.response()
    c.sock.close()
    return status, json.loads(data)["message"]


def _state(cli):
    return (cli.ok("ps", "-a", "--no-trunc", "-q"), cli.ok("network", "ls", "-q", "--no-trunc"),
            sorted(l["ifname"] for l in ip_j("link")))


def test_wrong_types_everywhere_are_refused(cli):
    sock = os.path.join(cli.run_dir, "minidocker.sock")
    cli.ok("network", "create", "hhd-fz")
    cid = cli.ok("run", "-d", "--name", "hhd-fzc", "busybox", "sleep", "300").strip()
    eid = json.loads(_ask_raw(sock, "POST", f"/containers/{cid}/exec", b'{"Cmd":["true"]}'))["Id"]
    before = _state(cli)
    routes = [
        ("/networks/create", routes_networks.CREATE, {"Name": "hhd-fz2"}, 400),
        ("/networks/hhd-fz/connect", routes_networks.CONNECT, {"Container": "hhd-fzc"}, 400),
        ("/networks/hhd-fz/disconnect", routes_networks.DISCONNECT, {"Container": "hhd-fzc"}, 400),
        ("/containers/create", container_bodies.CREATE, {"Image": "busybox", "Cmd": ["true"]}, 500),
        (f"/containers/{cid}/exec", container_bodies.EXEC, {"Cmd": ["true"]}, 400),
        (f"/exec/{eid}/start", container_bodies.EXEC_START, {"Detach": True}, 400),
        ("/minidocker/check", routes_networks.CHECK, {"Networks": ["hhd-fz"], "Timeout": 0.1}, 400),
    ]
    refused = 0
    for target, schema, base, want in routes:
        for where, body in cases(schema, base):
            status, msg = _ask(sock, "POST", target, json.dumps(body).encode())
            assert (status, bool(GO_TYPE_ERROR.match(msg))) == (want, True), (target, where, body, status, msg)
            assert not PYTHON.search(msg), msg
            refused += 1
        for raw, msg in [(b'{"Name":', "unexpected EOF"), (b"[1]", None), (b'"x"', None), (b"5", None),
                         (b"[" * 100000, "invalid character '[' exceeded max depth"),
                         (b'{"a":' * 20000 + b"1" + b"}" * 20000, "invalid character '{' exceeded max depth"),
                         (b"{nope}", "invalid character 'n' looking for object key string"),
                         (b"\xff\xfe", None)]:
            status, got = _ask(sock, "POST", target, raw)
            assert status == want and not PYTHON.search(got), (target, raw[:20], status, got)
            if msg is not None and "looking for object key" not in msg:
                assert got == msg, (target, got)
            refused += 1
    assert _state(cli) == before
    print(f"refused {refused} bad bodies")  # the figure for the closing note
    cli.ok("rm", "-f", "hhd-fzc")


def _ask_raw(sock, method, target, body: bytes) -> bytes:
    c = Conn(sock)
    c.send(method, target, body, headers={"Content-Type": "application/json"})
    _, _, data = c.response()
    c.sock.close()
    return data


@pytest.mark.parametrize("body,message", [
    ({"Name": "hhd-x", "Internal": "false"},
     "json: cannot unmarshal string into Go struct field NetworkCreateRequest.Internal of type bool"),
    ({"Name": 5}, "json: cannot unmarshal number into Go struct field NetworkCreateRequest.Name of type string"),
    ([1], "json: cannot unmarshal array into Go value of type types.NetworkCreateRequest"),
])
def test_network_create_words_as_docker(cli, body, message):
    status, got = _ask(os.path.join(cli.run_dir, "minidocker.sock"), "POST", "/networks/create",
                       json.dumps(body).encode())
    assert (status, got) == (400, message)
    assert "hhd-x" not in cli.ok("network", "ls")


@pytest.mark.parametrize("body,message", [  # measured on dockerd 20.10: 500 with Go's words
    ({"Image": "busybox", "HostConfig": []}, "json: cannot unmarshal array into Go struct field "
     "ContainerConfigWrapper.HostConfig of type container.HostConfig"),
    ({"Image": "busybox", "Cmd": 5}, "json: cannot unmarshal number into Go struct field "
     "ContainerConfigWrapper.Cmd of type string"),
    ({"Image": "busybox", "Cmd": [5]}, "json: cannot unmarshal number into Go struct field "
     "ContainerConfigWrapper.Cmd of type string"),
    ({"Image": "busybox", "Tty": "false"}, "json: cannot unmarshal string into Go struct field "
     "ContainerConfigWrapper.Tty of type bool"),
    ({"Image": "busybox", "NetworkingConfig": {"EndpointsConfig": []}}, "json: cannot unmarshal array into Go "
     "struct field NetworkingConfig.NetworkingConfig.EndpointsConfig of type map[string]*network.EndpointSettings"),
    ({"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": "x"}}}, "json: cannot unmarshal string into "
     "Go struct field HostConfig.HostConfig.PortBindings of type []nat.PortBinding"),
    ({"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 80}]}}}, "json: cannot "
     "unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string"),
    ({"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": 5}}}, "json: cannot unmarshal number into "
     "Go struct field RestartPolicy.HostConfig.RestartPolicy.Name of type string"),
    ({"Image": "busybox", "Labels": {"a": 5}}, "json: cannot unmarshal number into Go struct field "
     "ContainerConfigWrapper.Labels of type string"),
    ({"Image": "busybox", "ExposedPorts": []}, "json: cannot unmarshal array into Go struct field "
     "ContainerConfigWrapper.ExposedPorts of type nat.PortSet"),
    ({"Image": "busybox", "NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": "x"}}}},
     "json: cannot unmarshal string into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig."
     "Aliases of type []string"),
    ([], "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper"),
])
def test_container_create_words_as_docker(cli, body, message):
    status, got = _ask(os.path.join(cli.run_dir, "minidocker.sock"), "POST", "/containers/create",
                       json.dumps(body).encode())
    assert (status, got) == (500, message)
    assert cli.ok("ps", "-aq") == ""


def test_string_cmd_is_one_argument(cli):
    """Docker's strslice: "sleep 300" is one element, not s l e e p."""
    status, _ = 0, None
    data = _ask_raw(os.path.join(cli.run_dir, "minidocker.sock"), "POST", "/containers/create?name=hhd-s",
                    json.dumps({"Image": "busybox", "Cmd": "sleep 300"}).encode())
    cid = json.loads(data)["Id"]
    assert cli.ok("inspect", "-f", "{{json .Config.Cmd}}", cid).strip() == '["sleep 300"]'
    cli.ok("rm", cid)

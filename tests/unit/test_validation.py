"""Unit tests for minidocker.validation (messages checked on docker 20.10.24)."""
import random

import pytest

from minidocker import validation as v
from minidocker.errors import InvalidArgument
from minidocker.validation import PortMapping as P


@pytest.mark.parametrize("name,bare", [("centos1", "centos1"), ("/ab", "ab"), ("a_b.c-d", "a_b.c-d"),
                                       ("9x", "9x")])
def test_container_name_ok(name, bare):
    assert v.validate_container_name(name) == bare


@pytest.mark.parametrize("name", ["bad/name", "a", "_ab", ".ab", "-ab", "", "a b", "é1", "ab\n"])
def test_container_name_bad(name):
    with pytest.raises(InvalidArgument) as e:
        v.validate_container_name(name)
    assert e.value.message == (f"Invalid container name ({name}), only "
                               "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")


@pytest.mark.parametrize("name", ["bad/name", "a", "bad name", ".x", "x:y", "self_net"])
def test_network_name_ok(name):
    assert v.validate_network_name(name) == name


def test_network_name_empty():
    with pytest.raises(InvalidArgument) as e:
        v.validate_network_name("")
    assert e.value.message == "invalid name: "


def test_generate_name():
    rng = random.Random(1)
    name = v.generate_name(set(), rng)
    left, right = name.split("_")
    assert left in v._LEFT and right in v._RIGHT
    taken = {f"{a}_{b}" for a in v._LEFT for b in v._RIGHT}
    other = v.generate_name(taken, rng)
    assert other not in taken and other[-1].isdigit()
    assert "boring_wozniak" not in {v.generate_name(set(), random.Random(i)) for i in range(300)}


def test_flag_message():
    assert (v.flag_message("=x", "-e, --env", "invalid environment variable: =x")
            == 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x')


def test_parse_env():
    assert v.parse_env("A=1") == "A=1"
    assert v.parse_env("B=") == "B="
    assert v.parse_env("A B=1") == "A B=1"
    assert v.parse_env("FOO", {"FOO": "bar"}) == "FOO=bar"
    assert v.parse_env("NOPE", {}) == "NOPE"
    for bad in ("=x", ""):
        with pytest.raises(InvalidArgument) as e:
            v.parse_env(bad)
        assert e.value.message == f"invalid environment variable: {bad}"
        assert e.value.client_side


def test_parse_label():
    assert v.parse_label("y=1") == ("y", "1")
    assert v.parse_label("x") == ("x", "")
    assert v.parse_label("z=a=b") == ("z", "a=b")
    assert v.parse_kv_list(["x", "y=1", "z=a=b"]) == {"x": "", "y": "1", "z": "a=b"}
    for bad, msg in (("=x", "invalid label '=x': empty name"), ("", "invalid label '': empty name"),
                     ("a b=c", "label 'a b' contains whitespaces")):
        with pytest.raises(InvalidArgument) as e:
            v.parse_label(bad)
        assert e.value.message == msg and e.value.client_side


def test_parse_opt():
    assert v.parse_opt("a=b=c") == ("a", "b=c")
    assert v.parse_opt("foo") == ("foo", "")
    assert v.parse_opt("=x") == ("", "x")
    assert v.parse_kv_list(["foo", "a=b=c"], v.parse_opt) == {"foo": "", "a": "b=c"}


def test_parse_add_host_ok():
    assert v.parse_add_host("foo:1.2.3.4") == ("foo", "1.2.3.4")
    assert v.parse_add_host("bar:::1") == ("bar", "::1")
    assert v.parse_add_host("q:host-gateway") == ("q", "host-gateway")
    assert v.parse_add_host("foo:1.2.3.4 ") == ("foo", "1.2.3.4 ")
    assert v.parse_add_host("fo o:1.2.3.4") == ("fo o", "1.2.3.4")


@pytest.mark.parametrize("text,msg", [
    ("foo", 'bad format for add-host: "foo"'),
    ("foo=1.2.3.4", 'bad format for add-host: "foo=1.2.3.4"'),
    (":1.2.3.4", 'bad format for add-host: ":1.2.3.4"'),
    ("foo:bar", 'invalid IP address in add-host: "bar"'),
    ("baz:[::2]", 'invalid IP address in add-host: "[::2]"'),
    ("a:b:1.2.3.4", 'invalid IP address in add-host: "b:1.2.3.4"'),
])
def test_parse_add_host_bad(text, msg):
    with pytest.raises(InvalidArgument) as e:
        v.parse_add_host(text)
    assert e.value.message == msg and e.value.client_side


@pytest.mark.parametrize("spec,expected", [
    ("80", [P(80, "tcp")]),
    ("80/", [P(80, "tcp")]),
    ("8080:80", [P(80, "tcp", "", "8080")]),
    (":84", [P(84, "tcp")]),
    ("127.0.0.1:8080:80/udp", [P(80, "udp", "127.0.0.1", "8080")]),
    ("127.0.0.1::82", [P(82, "tcp", "127.0.0.1", "")]),
    ("0.0.0.0:18085:85/tcp", [P(85, "tcp", "0.0.0.0", "18085")]),
    ("86:86/UDP", [P(86, "udp", "", "86")]),
    ("[::1]:8080:80", [P(80, "tcp", "::1", "8080")]),
    ("82-83", [P(82, "tcp"), P(83, "tcp")]),
    ("127.0.0.1:18090-18091:90-91/udp", [P(90, "udp", "127.0.0.1", "18090"),
                                         P(91, "udp", "127.0.0.1", "18091")]),
    ("18080-18081:80", [P(80, "tcp", "", "18080-18081")]),
    ("8080-8081:80-81/udp/tcp", [P(80, "udp", "", "8080"), P(81, "udp", "", "8081")]),
    ("0:80", [P(80, "tcp", "", "0")]),
    ("80:0", [P(0, "tcp", "", "80")]),
    ("8080:80/sctp", [P(80, "sctp", "", "8080")]),
])
def test_parse_port_ok(spec, expected):
    assert v.parse_port(spec) == expected


def test_port_key():
    assert P(80, "udp").key == "80/udp"


@pytest.mark.parametrize("spec,msg", [
    ("80/xyz", "Invalid proto: xyz"),
    ("foo", "Invalid containerPort: foo"),
    ("8080:foo", "Invalid containerPort: foo"),
    ("70000", "Invalid containerPort: 70000"),
    ("-1", "Invalid containerPort: -1"),
    ("80-79", "Invalid containerPort: 80-79"),
    ("80-foo", "Invalid containerPort: 80-foo"),
    ("a b", "Invalid containerPort: a b"),
    ("99999:80", "Invalid hostPort: 99999"),
    ("8080-foo:80", "Invalid hostPort: 8080-foo"),
    ("1.2.3.4:80", "Invalid hostPort: 1.2.3.4"),
    ("1.2.3:80:80", "Invalid ip address: 1.2.3"),
    ("8080:80:90", "Invalid ip address: 8080"),
    ("localhost:8080:80", "Invalid ip address: localhost"),
    ("1.2.3.4:8080:80:90", "Invalid ip address 1.2.3.4:8080: address 1.2.3.4:8080:: too many colons in address"),
    ("[::1]:80", "Invalid ip address [:: address [::: missing ']' in address"),
    ("::1:80:80", "Invalid ip address ::1: address ::1:: too many colons in address"),
    ("8080-8082:80-81", "Invalid ranges specified for container and host Ports: 80-81 and 8080-8082"),
    ("8080:", "No port specified: 8080:<empty>"),
    ("/udp", "No port specified: /udp<empty>"),
])
def test_parse_port_bad(spec, msg):
    with pytest.raises(InvalidArgument) as e:
        v.parse_port(spec)
    assert e.value.message == msg and e.value.client_side

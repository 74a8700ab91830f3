"""Ports as Docker 20.10 shows them: the PORTS column (docker CLI's DisplayablePorts),
--expose expansion, and the order of one port's bindings (nat.SortPortMap)."""
import types

import pytest

from minidocker.cli.list_rows import ports_text
from minidocker.engine import port_binding
from minidocker.errors import InvalidArgument
from minidocker.validation import parse_expose


def test_ports_column_as_docker_measured():
    # the API's list for -p 18080:80 -p 127.0.0.1:18081:80 -p 18090-18091:90-91/udp
    # -p 127.0.0.1::82 --expose 7000-7001 --expose 99/udp, and what docker ps printed for it
    ports = [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 18081, "Type": "tcp"},
             {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 18080, "Type": "tcp"},
             {"IP": "::", "PrivatePort": 80, "PublicPort": 18080, "Type": "tcp"},
             {"IP": "127.0.0.1", "PrivatePort": 82, "PublicPort": 32768, "Type": "tcp"},
             {"IP": "0.0.0.0", "PrivatePort": 90, "PublicPort": 18090, "Type": "udp"},
             {"IP": "::", "PrivatePort": 90, "PublicPort": 18090, "Type": "udp"},
             {"IP": "0.0.0.0", "PrivatePort": 91, "PublicPort": 18091, "Type": "udp"},
             {"IP": "::", "PrivatePort": 91, "PublicPort": 18091, "Type": "udp"},
             {"PrivatePort": 99, "Type": "udp"}, {"PrivatePort": 7000, "Type": "tcp"},
             {"PrivatePort": 7001, "Type": "tcp"}]
    assert ports_text(list(reversed(ports))) == (
        "99/udp, 7000-7001/tcp, 0.0.0.0:18080->80/tcp, 127.0.0.1:18081->80/tcp, :::18080->80/tcp, "
        "127.0.0.1:32768->82/tcp, 0.0.0.0:18090->90/udp, :::18090->90/udp, 0.0.0.0:18091->91/udp, "
        ":::18091->91/udp")


def test_ports_column_groups_same_numbered_ranges():
    ports = [{"IP": ip, "PrivatePort": p, "PublicPort": p, "Type": "tcp"}
             for ip in ("0.0.0.0", "::") for p in (8000, 8001, 8003)]
    assert ports_text(ports) == ("0.0.0.0:8000-8001->8000-8001/tcp, :::8000-8001->8000-8001/tcp, "
                                 "0.0.0.0:8003->8003/tcp, :::8003->8003/tcp")
    assert ports_text([]) == ""


def test_expose_expands_ranges_as_the_docker_cli():
    assert parse_expose("7000-7002") == ["7000/tcp", "7001/tcp", "7002/tcp"]
    assert parse_expose("99/udp") == ["99/udp"]
    assert parse_expose("80/") == ["80/tcp"]
    with pytest.raises(InvalidArgument, match=r"^invalid port format for --expose: 80:80$"):
        parse_expose("80:80")
    with pytest.raises(InvalidArgument, match=r'^invalid range format for --expose: abc, error: '
                                              r'strconv.ParseUint: parsing "abc": invalid syntax$'):
        parse_expose("abc")


def _c(bindings, exposed=None, publish_all=False):
    return types.SimpleNamespace(port_bindings=bindings, exposed_ports=exposed or dict.fromkeys(bindings, {}),
                                 publish_all=publish_all)


def test_binding_order_as_docker_measured():
    # tcp: one port's bindings come out reversed; udp: highest host port first
    tcp = _c({"80/tcp": [{"HostIp": "", "HostPort": "18084"}, {"HostIp": "", "HostPort": "18085"},
                         {"HostIp": "", "HostPort": "18083"}]})
    assert [b["HostPort"] for _, b in port_binding._ordered(tcp)] == ["18083", "18085", "18084"]
    udp = _c({"81/udp": [{"HostIp": "", "HostPort": "18086"}, {"HostIp": "", "HostPort": "18088"},
                         {"HostIp": "", "HostPort": "18087"}]})
    assert [b["HostPort"] for _, b in port_binding._ordered(udp)] == ["18088", "18087", "18086"]
    # -P adds an ephemeral binding for each exposed port that has none
    allp = _c({"10/tcp": [{"HostIp": "", "HostPort": "28189"}]},
              exposed={"10/tcp": {}, "8/tcp": {}, "9/udp": {}}, publish_all=True)
    assert [(k, b["HostPort"]) for k, b in port_binding._ordered(allp)] == [
        ("10/tcp", "28189"), ("8/tcp", ""), ("9/udp", "")]

"""rtnl.py's raw messages, read back by pyroute2's own decoders: the same request
pyroute2 would send, field by field (pure encoding; the kernel's side is covered
by the integration tests that start containers through these requests)."""
import errno
import struct

import pytest
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from minidocker.network import rtnl


def decoded(cls, kind, flags, body):
    msg = cls(rtnl.message(kind, flags, body, seq=7))
    msg.decode()
    assert msg["header"]["type"] == kind
    assert msg["header"]["sequence_number"] == 7
    assert msg["header"]["length"] == len(rtnl.NLMSGHDR.pack(0, 0, 0, 0, 0)) + len(body)
    return msg


def test_a_veth_into_a_bridge_and_a_namespace():
    m = decoded(ifinfmsg, rtnl.RTM_NEWLINK, rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL,
                rtnl.new_veth("veth1234567", "eth0", 1450, 9, master=3, peer_mac="02:42:ac:11:00:02"))
    assert m["header"]["flags"] == 0x605
    assert (m["index"], m["flags"], m["change"]) == (0, 1, 1)  # born up
    assert m.get_attr("IFLA_IFNAME") == "veth1234567"
    assert (m.get_attr("IFLA_MTU"), m.get_attr("IFLA_TXQLEN"), m.get_attr("IFLA_MASTER")) == (1450, 0, 3)
    info = m.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == "veth"
    peer = info.get_attr("IFLA_INFO_DATA").get_attr("VETH_INFO_PEER")
    assert peer.get_attr("IFLA_IFNAME") == "eth0"
    assert (peer.get_attr("IFLA_MTU"), peer.get_attr("IFLA_TXQLEN")) == (1450, 0)
    assert peer.get_attr("IFLA_NET_NS_FD") == 9
    assert peer.get_attr("IFLA_ADDRESS") == "02:42:ac:11:00:02"


def test_a_veth_without_a_bridge_is_born_down_and_without_a_master():
    m = decoded(ifinfmsg, rtnl.RTM_NEWLINK, rtnl.NLM_F_ACK, rtnl.new_veth("a", "b", 1500, 4))
    assert (m["flags"], m["change"]) == (0, 0)
    assert m.get_attr("IFLA_MASTER") is None
    peer = m.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA").get_attr("VETH_INFO_PEER")
    assert peer.get_attr("IFLA_ADDRESS") is None


def test_an_address_with_its_broadcast():
    m = decoded(ifaddrmsg, rtnl.RTM_NEWADDR, rtnl.NLM_F_ACK, rtnl.new_address(5, "10.1.2.3", 22, "10.1.3.255"))
    assert (m["family"], m["prefixlen"], m["index"], m["scope"]) == (2, 22, 5, 0)
    assert m.get_attr("IFA_LOCAL") == m.get_attr("IFA_ADDRESS") == "10.1.2.3"
    assert m.get_attr("IFA_BROADCAST") == "10.1.3.255"


def test_the_default_route():
    m = decoded(rtmsg, rtnl.RTM_NEWROUTE, rtnl.NLM_F_ACK, rtnl.new_default_route("172.18.0.1", 2))
    assert (m["family"], m["dst_len"], m["table"], m["proto"], m["scope"], m["type"]) == (2, 0, 254, 3, 0, 1)
    assert m.get_attr("RTA_GATEWAY") == "172.18.0.1"
    assert m.get_attr("RTA_OIF") == 2
    assert m.get_attr("RTA_DST") is None


def test_up_and_a_lookup_by_name():
    m = decoded(ifinfmsg, rtnl.RTM_NEWLINK, rtnl.NLM_F_ACK, rtnl.set_up(7))
    assert (m["index"], m["flags"], m["change"]) == (7, 1, 1)
    m = decoded(ifinfmsg, rtnl.RTM_GETLINK, 0, rtnl.get_link("br-0123"))
    assert m["index"] == 0 and m.get_attr("IFLA_IFNAME") == "br-0123"
    assert m.get_attr("IFLA_EXT_MASK") == rtnl.RTEXT_FILTER_SKIP_STATS


def test_attributes_are_padded_to_four_bytes():
    assert len(rtnl.text(3, "eth0")) == 12  # 4 header + "eth0\0" + 3 padding
    assert struct.unpack_from("=H", rtnl.text(3, "eth0"))[0] == 9  # the length leaves the padding out


def test_answers_are_split_and_errors_read():
    ack = rtnl.NLMSGHDR.pack(36, rtnl.NLMSG_ERROR, 0, 4, 0) + struct.pack("=i", -errno.EEXIST) + b"\0" * 16
    reply = rtnl.message(rtnl.RTM_NEWLINK, 0, rtnl.set_up(3), seq=5)
    found = list(rtnl.messages(reply + ack))
    assert [(k, s) for k, s, _ in found] == [(rtnl.RTM_NEWLINK, 5), (rtnl.NLMSG_ERROR, 4)]
    assert rtnl.error_code(found[1][2]) == errno.EEXIST


class FakeKernel:
    """A socket stand-in that answers with canned bytes (the kernel is exercised by
    the integration tests; this pins the request/answer matching)."""

    def __init__(self, answers):
        self.answers, self.sent = list(answers), []

    def send(self, data):
        self.sent.append(data)

    def recv(self, _n):
        return self.answers.pop(0)


def _error(seq, code):
    return rtnl.NLMSGHDR.pack(36, rtnl.NLMSG_ERROR, 0, seq, 0) + struct.pack("=i", -code) + b"\0" * 16


def test_a_request_skips_answers_to_earlier_ones_and_raises_the_kernels_refusal():
    s = rtnl.Socket.__new__(rtnl.Socket)
    s._seq = 0
    s._sock = FakeKernel([_error(0, 0), _error(1, errno.EEXIST)])
    with pytest.raises(NetlinkError) as ex:
        s.change(rtnl.RTM_NEWADDR, rtnl.new_address(2, "10.0.0.2", 24, "10.0.0.255"), create=True)
    assert ex.value.code == errno.EEXIST
    s._sock = FakeKernel([_error(2, errno.ENODEV)])
    assert s.link_index("nope") is None
    s._sock = FakeKernel([rtnl.message(rtnl.RTM_NEWLINK, 0, rtnl.IFINFOMSG.pack(0, 1, 42, 0, 0), seq=3)])
    assert s.link_index("eth0") == 42


def test_a_bridge_born_up_or_down():
    m = decoded(ifinfmsg, rtnl.RTM_NEWLINK, rtnl.NLM_F_ACK, rtnl.new_bridge("mdbr-0123456789", 1400, up=True))
    assert (m["flags"], m["change"]) == (1, 1)
    assert (m.get_attr("IFLA_IFNAME"), m.get_attr("IFLA_MTU")) == ("mdbr-0123456789", 1400)
    assert m.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_KIND") == "bridge"
    m = decoded(ifinfmsg, rtnl.RTM_NEWLINK, rtnl.NLM_F_ACK, rtnl.new_bridge("br0", 1500, up=False))
    assert (m["flags"], m["change"]) == (0, 0)


def test_route_dump_request_and_lookup_by_index():
    m = decoded(rtmsg, rtnl.RTM_GETROUTE, rtnl.NLM_F_DUMP, rtnl.dump_routes())
    assert m["header"]["flags"] == rtnl.NLM_F_REQUEST | rtnl.NLM_F_DUMP
    assert (m["family"], m["table"]) == (2, 0)
    m = decoded(ifinfmsg, rtnl.RTM_GETLINK, 0, rtnl.get_link_by_index(12))
    assert m["index"] == 12 and m.get_attr("IFLA_IFNAME") is None


def _pyroute2_body(msg) -> bytes:
    msg.encode()
    return bytes(msg.data[16:])  # after the netlink header


def test_routes_and_link_names_are_read_from_what_the_kernel_sends():
    r = rtmsg()
    r["family"], r["dst_len"], r["table"] = 2, 16, 254
    r["attrs"] = [("RTA_TABLE", 254), ("RTA_DST", "172.18.0.0"), ("RTA_OIF", 7)]
    assert rtnl.route_entry(_pyroute2_body(r)) == (254, "172.18.0.0", 16, 7)
    r = rtmsg()
    r["family"], r["dst_len"], r["table"] = 2, 0, 252  # a table above 255: only RTA_TABLE says which
    r["attrs"] = [("RTA_TABLE", 1000), ("RTA_GATEWAY", "10.0.0.1")]
    assert rtnl.route_entry(_pyroute2_body(r)) == (1000, "0.0.0.0", 0, None)
    link = ifinfmsg()
    link["index"] = 7
    link["attrs"] = [("IFLA_MTU", 1500), ("IFLA_IFNAME", "mdbr-abc"), ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "bridge")]})]
    assert rtnl.link_name(_pyroute2_body(link)) == "mdbr-abc"


def test_a_dump_collects_its_parts_until_done():
    s = rtnl.Socket.__new__(rtnl.Socket)
    s._seq = 0
    part = lambda body, seq=1: rtnl.NLMSGHDR.pack(16 + len(body), rtnl.RTM_NEWROUTE, rtnl.NLM_F_MULTI, seq, 0) + body
    done = rtnl.NLMSGHDR.pack(20, rtnl.NLMSG_DONE, rtnl.NLM_F_MULTI, 1, 0) + b"\0" * 4
    s._sock = FakeKernel([part(b"AAAA") + part(b"BBBB"), part(b"CCCC", seq=9) + part(b"DDDD") + done])
    assert s.dump(rtnl.RTM_GETROUTE, rtnl.dump_routes()) == [b"AAAA", b"BBBB", b"DDDD"]

"""ctnl.py's raw conntrack deletes, read back by pyroute2's decoder: the same
filtered deletes pyroute2's NFCTSocket sends (pure encoding; the kernel's side is
tests/integration/test_netns_handle.py's flush test)."""
import socket

from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple, nfct_msg

from minidocker.network import ctnl, rtnl


def test_four_acknowledged_deletes_one_field_each():
    data = ctnl.requests("10.1.2.3")
    got = []
    for kind, seq, body in rtnl.messages(data):
        assert kind == (1 << 8 | 2)  # NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE
        msg = nfct_msg(rtnl.NLMSGHDR.pack(rtnl.NLMSGHDR.size + len(body), kind, 0x5, seq, 0) + body)
        msg.decode()
        assert msg["nfgen_family"] == socket.AF_INET and msg["version"] == 0 and msg["res_id"] == 0
        tuples = [(name, msg.get_attr(name)) for name in ("CTA_TUPLE_ORIG", "CTA_TUPLE_REPLY") if msg.get_attr(name)]
        assert len(tuples) == 1
        direction, tup = tuples[0]
        ip = tup.get_attr("CTA_TUPLE_IP")
        fields = {k: ip.get_attr(k) for k in ("CTA_IP_V4_SRC", "CTA_IP_V4_DST") if ip.get_attr(k)}
        filt = msg.get_attr("CTA_FILTER")
        flags = filt.get_attr("CTA_FILTER_ORIG_FLAGS" if direction == "CTA_TUPLE_ORIG" else "CTA_FILTER_REPLY_FLAGS")
        got.append((seq, direction, fields, flags))
    assert got == [(1, "CTA_TUPLE_ORIG", {"CTA_IP_V4_SRC": "10.1.2.3"}, 1),
                   (2, "CTA_TUPLE_ORIG", {"CTA_IP_V4_DST": "10.1.2.3"}, 2),
                   (3, "CTA_TUPLE_REPLY", {"CTA_IP_V4_SRC": "10.1.2.3"}, 1),
                   (4, "CTA_TUPLE_REPLY", {"CTA_IP_V4_DST": "10.1.2.3"}, 2)]
    # each message has the flags of an acknowledged request
    assert [rtnl.NLMSGHDR.unpack_from(data, off)[2] for off in _offsets(data)] == [0x5] * 4


def test_the_bytes_are_pyroute2s():
    """Byte for byte what NFCTSocket builds for the same delete."""
    for seq, (tuple_kind, _fk, addr_kind, _flag) in enumerate(ctnl.FIELDS, start=1):
        direction = "tuple_orig" if tuple_kind == ctnl.CTA_TUPLE_ORIG else "tuple_reply"
        field = "saddr" if addr_kind == ctnl.CTA_IP_V4_SRC else "daddr"
        t = NFCTAttrTuple(**{field: "10.1.2.3"})
        t.attrs()
        flags_name = "CTA_FILTER_ORIG_FLAGS" if direction == "tuple_orig" else "CTA_FILTER_REPLY_FLAGS"
        msg = nfct_msg.create_from(**{direction: t}, cta_filter={"attrs": [[flags_name, t.flags]]})
        msg["nfgen_family"] = socket.AF_INET
        msg["header"]["type"] = ctnl.CT_DELETE
        msg["header"]["flags"] = 0x5
        msg["header"]["sequence_number"] = seq
        msg.encode()
        ours = rtnl.message(ctnl.CT_DELETE, rtnl.NLM_F_ACK, ctnl.delete_filtered("10.1.2.3", *ctnl.FIELDS[seq - 1]), seq)
        assert ours == bytes(msg.data[:msg["header"]["length"]])


def _offsets(data):
    off = 0
    while off < len(data):
        yield off
        off += rtnl.NLMSGHDR.unpack_from(data, off)[0]

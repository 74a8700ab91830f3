"""Which rtnetlink notifications mean "this link is gone" (pure: bytes only)."""
import struct

from minidocker.network.link_delete import RTM_DELLINK, unregistered

RTM_NEWLINK = 16
AF_BRIDGE = 7


def msg(mtype: int, index: int, family: int = 0, attrs: bytes = b"") -> bytes:
    body = struct.pack("=BxHiII", family, 1, index, 0, 0) + attrs
    length = 16 + len(body)
    return struct.pack("=IHHII", length, mtype, 0, 0, 0) + body + b"\0" * (-length % 4)


def test_the_links_own_dellink_says_it_is_gone():
    assert unregistered(msg(RTM_DELLINK, 42), 42)


def test_another_links_dellink_or_a_newlink_does_not():
    assert not unregistered(msg(RTM_DELLINK, 41), 42)
    assert not unregistered(msg(RTM_NEWLINK, 42), 42)


def test_a_bridge_ports_leaving_its_bridge_is_not_the_link_going():
    """The bridge sends RTM_DELLINK of family AF_BRIDGE for a port as it leaves,
    while the link still exists."""
    assert not unregistered(msg(RTM_DELLINK, 42, AF_BRIDGE), 42)


def test_it_is_found_among_other_messages_of_one_batch_with_padding():
    batch = msg(RTM_NEWLINK, 7, attrs=b"\x05\x00\x03\x00a") + msg(RTM_DELLINK, 42, AF_BRIDGE) + msg(RTM_DELLINK, 42)
    assert unregistered(batch, 42)
    assert not unregistered(batch[:-32], 42)


def test_truncated_or_nonsense_input_says_no():
    assert not unregistered(b"", 42)
    assert not unregistered(msg(RTM_DELLINK, 42)[:20], 42)
    assert not unregistered(struct.pack("=IHHII", 0, RTM_DELLINK, 0, 0, 0) + b"\0" * 16, 42)


def test_the_delete_request_is_an_acknowledged_rtm_dellink_of_the_index():
    from minidocker.network.link_delete import delete_request
    data = delete_request(42)
    length, mtype, flags = struct.unpack_from("=IHH", data)
    assert length == len(data) == 32 and mtype == RTM_DELLINK and flags == 1 | 4  # REQUEST | ACK
    family, _type, index = struct.unpack_from("=BxHi", data, 16)
    assert (family, index) == (0, 42)


def test_the_acknowledgement_gives_the_errno():
    from minidocker.network.link_delete import acknowledgement

    def ack(err: int) -> bytes:
        return struct.pack("=IHHII", 36, 2, 0, 1, 0) + struct.pack("=i", err) + b"\0" * 16

    assert acknowledgement(ack(0)) == 0
    assert acknowledgement(ack(-19)) == 19  # ENODEV
    assert acknowledgement(msg(RTM_DELLINK, 42) + ack(-1)) == 1
    assert acknowledgement(msg(RTM_NEWLINK, 42)) is None
    assert acknowledgement(b"") is None

"""drift.generation()'s message and answer (the kernel's side: tests/integration/
test_firewall_drift.py, through the Engine)."""
import socket
import struct

from minidocker.firewall import drift


def test_the_request_is_nft_msg_getgen():
    data = drift.generation_request(seq=5)
    length, kind, flags, seq, _pid = struct.unpack_from("=IHHII", data)
    assert (length, kind, flags, seq) == (len(data), 10 << 8 | 16, 1, 5)
    assert struct.unpack_from("=BBH", data, 16) == (socket.AF_UNSPEC, 0, 0)


def _newgen(gen_id: int, extra: bytes = b"") -> bytes:
    pid_attr = struct.pack("=HH", 8, 2) + struct.pack(">I", 4242)
    gen_attr = struct.pack("=HH", 8, 1) + struct.pack(">I", gen_id)
    body = struct.pack("=BBH", 0, 0, 0) + pid_attr + gen_attr + extra
    return struct.pack("=IHHII", 16 + len(body), 10 << 8 | 15, 0, 1, 0) + body


def test_the_answer_gives_the_generation_id_big_endian():
    assert drift.generation_of(_newgen(0x01020304)) == 0x01020304
    name = b"nft\0"
    assert drift.generation_of(_newgen(7, struct.pack("=HH", 4 + len(name), 3) + name)) == 7


def test_an_error_or_garbage_is_no_generation():
    err = struct.pack("=IHHII", 36, 2, 0, 1, 0) + struct.pack("=i", -1) + b"\0" * 16
    assert drift.generation_of(err) is None
    assert drift.generation_of(b"") is None
    assert drift.generation_of(b"\0" * 20) is None

"""A container's log read back: all of it, its tail, and following it."""
from minidocker.engine.outputs import read_log


def test_tail_and_all(tmp_path):
    log = tmp_path / "container.log"
    log.write_bytes(b"1\n2\n3\n4\n5\n")
    assert b"".join(read_log(str(log))) == b"1\n2\n3\n4\n5\n"
    assert b"".join(read_log(str(log), tail="2")) == b"4\n5\n"
    assert b"".join(read_log(str(log), tail="0")) == b""
    assert b"".join(read_log(str(log), tail="nonsense")) == b"1\n2\n3\n4\n5\n"
    assert list(read_log(str(tmp_path / "never-started.log"))) == []


def test_follow_until_the_container_stops(tmp_path):
    log = tmp_path / "container.log"
    log.write_bytes(b"a\n")
    state = {"running": True, "ticks": 0}
    got = []
    for piece in read_log(str(log), follow=True, running=lambda: state["running"], poll=0.001):
        got.append(piece)
        if piece == b"":  # idle: the container writes once more, then exits
            state["ticks"] += 1
            with open(log, "ab") as f:
                f.write(b"b\n")
            state["running"] = state["ticks"] < 2
    assert b"".join(got) == b"a\nb\nb\n" and state["ticks"] == 2

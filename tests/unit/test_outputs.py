"""A container's log (Docker's json-file lines) written and read back: all of it,
its tail, the stream of each record, following it; an older raw log still reads."""
import json

from minidocker.engine.outputs import JsonLog, frame, read_records


def _data(records) -> bytes:
    return b"".join(r[2] for r in records if r is not None)


def test_tail_and_all(tmp_path):
    log = tmp_path / "container.log"
    log.write_bytes(b"1\n2\n3\n4\n5\n")  # a log from before the json-file format
    assert _data(read_records(str(log))) == b"1\n2\n3\n4\n5\n"
    assert _data(read_records(str(log), tail="2")) == b"4\n5\n"
    assert _data(read_records(str(log), tail="0")) == b""
    assert _data(read_records(str(log), tail="nonsense")) == b"1\n2\n3\n4\n5\n"
    assert list(read_records(str(tmp_path / "never-started.log"))) == []


def test_json_file_keeps_streams_apart(tmp_path):
    path = str(tmp_path / "container.log")
    log = JsonLog(path)
    log.write(1, b"out1\nout2\n")
    log.write(2, b"err\xff\n")
    log.write(1, b"partial")
    log.close()
    lines = [json.loads(l) for l in open(path, "rb")]
    assert [(l["stream"], l["log"][:4]) for l in lines] == [("stdout", "out1"), ("stdout", "out2"),
                                                            ("stderr", "err\udcff"), ("stdout", "part")]
    assert all(l["time"].endswith("Z") and len(l["time"]) == 30 for l in lines)
    recs = list(read_records(path))
    assert [(s, d) for s, _, d in recs] == [(1, b"out1\n"), (1, b"out2\n"), (2, b"err\xff\n"), (1, b"partial")]
    assert [(s, d) for s, _, d in read_records(path, tail="1")] == [(1, b"partial")]
    assert list(read_records(path, since=4e9)) == []


def test_follow_until_the_container_stops(tmp_path):
    path = str(tmp_path / "container.log")
    JsonLog(path).write(1, b"a\n")
    state = {"running": True, "ticks": 0}
    got = []
    for rec in read_records(path, follow=True, running=lambda: state["running"], poll=0.001):
        got.append(rec)
        if rec is None:  # idle: the container writes once more, then exits
            state["ticks"] += 1
            w = JsonLog(path)
            w.write(2, b"b\n")
            w.close()
            state["running"] = state["ticks"] < 2
    assert [r[::2] for r in got if r] == [(1, b"a\n"), (2, b"b\n"), (2, b"b\n")] and state["ticks"] == 2


def test_frame():
    assert frame(1, b"hi\n") == b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"

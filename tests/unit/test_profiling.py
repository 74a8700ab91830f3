import pstats

from minidocker.api import profiling


def test_off_unless_asked(monkeypatch):
    monkeypatch.setattr(profiling, "_DIR", "")
    assert not profiling.enabled()


def test_each_request_leaves_a_profile_and_a_line(monkeypatch, tmp_path):
    monkeypatch.setattr(profiling, "_DIR", str(tmp_path / "prof"))
    assert profiling.enabled()
    seen = []
    profiling.run("POST", "/v1.41/containers/abc/start?x=1", lambda: seen.append(sum(range(100))))
    assert seen == [4950]
    files = sorted(p.name for p in (tmp_path / "prof").glob("*.prof"))
    assert len(files) == 1 and files[0].endswith("-POST-v1_41_containers_abc_start.prof")
    stats = pstats.Stats(str(tmp_path / "prof" / files[0]))
    assert any(name == "<lambda>" for _, _, name in stats.stats)
    seq, method, target, ms, threads = (tmp_path / "prof" / "requests.tsv").read_text().strip().split("\t")
    assert (method, target) == ("POST", "/v1.41/containers/abc/start?x=1") and float(ms) >= 0 and int(threads) >= 1

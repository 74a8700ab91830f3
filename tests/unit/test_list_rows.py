"""The CLI's `ps` and `network ls` rows, made from the daemon's list answers:
ages, statuses and the `--format` fields, as the docker CLI makes them."""
import time

from minidocker.cli import list_rows
from minidocker.engine import views
from minidocker.engine.models import Container
from minidocker.ids import human_duration, parse_time


def test_human_duration_like_docker():
    assert [human_duration(s) for s in (0.2, 1, 5, 59, 60, 150, 3599, 3600, 7200, 86400 * 3)] == [
        "Less than a second", "1 second", "5 seconds", "59 seconds", "About a minute", "2 minutes",
        "59 minutes", "About an hour", "2 hours", "3 days"]


def _row(c: Container, now: float) -> dict:
    """What `ps` shows: the daemon's summary at ``now``, formatted by the CLI at ``now``."""
    return list_rows.ps_row(views.container_summary(c, {}, now=now), now=now)


def test_ps_row_ages_are_utc():
    c = Container(id="a" * 64, name="x", created="2026-01-01T00:00:00.000000Z", image="busybox", image_id="",
                  argv=["sleep", "600"], status="running", started_at="2026-01-01T00:00:00.000000Z")
    t0 = parse_time("2026-01-01T00:00:00.000000Z")
    row = _row(c, now=t0 + 5)
    assert row["Status"] == "Up 5 seconds" and row["RunningFor"] == "5 seconds ago"
    c.status, c.exit_code, c.finished_at = "exited", 137, "2026-01-01T00:00:00.000000Z"
    assert _row(c, now=t0 + 120)["Status"] == "Exited (137) 2 minutes ago"


def test_timestamps_go_rfc3339nano():
    from minidocker.ids import now
    s = now()
    assert s.endswith("Z") and len(s.split(".")[-1]) <= 10
    assert parse_time("2026-01-01T00:00:00Z") == parse_time("2026-01-01T00:00:00.000000000Z")
    assert abs(parse_time("2026-01-01T00:00:00.5Z") - parse_time("2026-01-01T00:00:00Z") - 0.5) < 1e-9


SUMMARY = {
    "Id": "f" * 64, "Names": ["/web"], "Image": "busybox", "ImageID": "sha256:" + "e" * 64,
    "Command": "sh -c 'echo hello; sleep 600'", "Created": 1767225600,
    "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
              {"IP": "127.0.0.1", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"}],
    "Labels": {"b": "2", "a": "1"}, "State": "running", "Status": "Up 2 minutes",
    "HostConfig": {"NetworkMode": "self_net"},
    "NetworkSettings": {"Networks": {"self_net": {}, "other": {}}}, "Mounts": [],
}


def test_ps_row_fields_and_truncation():
    r = list_rows.ps_row(SUMMARY, now=1767225600 + 90)
    assert r == {
        "ID": "f" * 12, "Image": "busybox", "Command": '"sh -c \'echo hello; …"',
        "CreatedAt": list_rows.go_time(1767225600), "RunningFor": "About a minute ago",
        # PORTS sorted by container port, as the docker CLI sorts them
        "Status": "Up 2 minutes", "Ports": "127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp", "Names": "web",
        "State": "running", "Networks": "other,self_net", "Labels": "a=1,b=2", "Mounts": "", "Size": "0B"}
    full = list_rows.ps_row(SUMMARY, now=1767225600 + 90, trunc=False)
    assert full["ID"] == "f" * 64 and full["Command"] == '"sh -c \'echo hello; sleep 600\'"'


def test_ps_created_at_is_go_time_string():
    text = list_rows.go_time(0)
    local = time.localtime(0)
    assert text.startswith(time.strftime("%Y-%m-%d %H:%M:%S", local))
    assert len(text.split(" ")) == 4 and text.split(" ")[2][0] in "+-"


def test_sizes_like_go_units():
    assert [list_rows.human_size(n) for n in (0, 999, 1000, 1234, 12_345_678, 4.2e9)] == [
        "0B", "999B", "1kB", "1.23kB", "12.3MB", "4.2GB"]
    assert list_rows.size_text({"SizeRw": 12, "SizeRootFs": 1_500_000}) == "12B (virtual 1.5MB)"
    assert list_rows.size_text({}) == "0B"


def test_network_row():
    n = {"Name": "beta", "Id": "b" * 64, "Created": "2026-01-01T00:00:00.123456789Z", "Scope": "local",
         "Driver": "bridge", "EnableIPv6": False, "Internal": True, "Labels": {"team": "blue", "a": ""}}
    assert list_rows.network_row(n) == {
        "ID": "b" * 12, "Name": "beta", "Driver": "bridge", "Scope": "local", "IPv6": "false",
        "Internal": "true", "CreatedAt": "2026-01-01T00:00:00.123456789Z", "Labels": "a=,team=blue"}
    assert list_rows.network_row(n, trunc=False)["ID"] == "b" * 64

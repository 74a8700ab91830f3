"""Docker-shaped views: ps ages and statuses."""
from minidocker.engine import views
from minidocker.engine.models import Container


def test_human_duration_like_docker():
    assert [views.human_duration(s) for s in (0.2, 1, 5, 59, 60, 150, 3599, 3600, 7200, 86400 * 3)] == [
        "Less than a second", "1 second", "5 seconds", "59 seconds", "About a minute", "2 minutes",
        "59 minutes", "About an hour", "2 hours", "3 days"]


def test_ps_row_ages_are_utc():
    c = Container(id="a" * 64, name="x", created="2026-01-01T00:00:00.000000Z", image="busybox", image_id="",
                  argv=["sleep", "600"], status="running", started_at="2026-01-01T00:00:00.000000Z")
    t0 = views._parse_time("2026-01-01T00:00:00.000000Z")
    row = views.ps_row(c, now=t0 + 5)
    assert row["Status"] == "Up 5 seconds" and row["RunningFor"] == "5 seconds ago"
    c.status, c.exit_code, c.finished_at = "exited", 137, "2026-01-01T00:00:00.000000Z"
    assert views.ps_row(c, now=t0 + 120)["Status"] == "Exited (137) 2 minutes ago"


def test_timestamps_go_rfc3339nano():
    from minidocker.ids import now
    s = now()
    assert s.endswith("Z") and len(s.split(".")[-1]) <= 10
    assert views._parse_time("2026-01-01T00:00:00Z") == views._parse_time("2026-01-01T00:00:00.000000000Z")
    assert abs(views._parse_time("2026-01-01T00:00:00.5Z") - views._parse_time("2026-01-01T00:00:00Z") - 0.5) < 1e-9

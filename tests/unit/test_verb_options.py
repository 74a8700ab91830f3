"""Pure parts of issue 11's verbs: user resolution, health config checks,
Go durations, env files, --since values."""
import pytest

from minidocker.cli import run_options, timestamps
from minidocker.engine import health_config, users
from minidocker.errors import DecodeError, InvalidArgument

PASSWD = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n" \
         "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\ndaemon:x:1:\nbin:x:2:daemon\nnogroup:x:65534:\n"


@pytest.mark.parametrize("user, want", [
    ("nobody", (65534, 65534, [65534], "/nonexistent")),
    ("daemon", (1, 1, [1, 2], "/usr/sbin")),          # a member of bin
    ("1234:5678", (1234, 5678, [5678], "/")),
    ("1000", (1000, 0, [0], "/")),
    ("65534", (65534, 65534, [65534], "/nonexistent")),
    ("root:nogroup", (0, 65534, [65534], "/root")),
    ("nobody:0", (65534, 0, [0], "/nonexistent")),
])
def test_resolve(user, want):
    c = users.resolve(user, PASSWD, GROUP)
    assert (c.uid, c.gid, c.groups, c.home) == want


def test_resolve_errors():
    with pytest.raises(users.UserError, match="^unable to find user x: no matching entries in passwd file$"):
        users.resolve("x", PASSWD, GROUP)
    with pytest.raises(users.UserError, match="^unable to find user root: no matching entries in passwd file$"):
        users.resolve("root", None, None)  # an image without /etc/passwd
    with pytest.raises(users.UserError, match="^unable to find group g: no matching entries in group file$"):
        users.resolve("0:g", PASSWD, GROUP)
    assert users.resolve("1:2", None, None).groups == [2]


def test_health_config_checks():
    assert health_config.check({"Test": ["CMD-SHELL", "true"], "Interval": 10**9}) == \
        {"Test": ["CMD-SHELL", "true"], "Interval": 10**9}
    for hc, msg in (({"Interval": 1000}, "Interval in Healthcheck cannot be less than 1ms"),
                    ({"Timeout": -5}, "Timeout in Healthcheck cannot be less than 1ms"),
                    ({"StartPeriod": 5}, "StartPeriod in Healthcheck cannot be less than 1ms"),
                    ({"Retries": -1}, "Retries in Healthcheck cannot be negative")):
        with pytest.raises(InvalidArgument, match=f"^{msg}$"):
            health_config.check(hc)
    with pytest.raises(DecodeError, match=r"HealthConfig.Healthcheck.Test of type \[\]string$"):
        health_config.check({"Test": "true"})
    with pytest.raises(DecodeError, match="HealthConfig.Healthcheck.Interval of type time.Duration$"):
        health_config.check({"Interval": "1s"})
    assert health_config.probe_argv({"Test": ["CMD-SHELL", "a b"]}) == ["/bin/sh", "-c", "a b"]
    assert health_config.probe_argv({"Test": ["CMD", "a", "b"]}) == ["a", "b"]
    assert health_config.probe_argv({"Test": ["NONE"]}) is None
    assert health_config.probe_argv({"Interval": 1}) is None


@pytest.mark.parametrize("ns, text", [(10**9, "1s"), (1_500_000_000, "1.5s"), (500_000_000, "500ms"),
                                      (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (0, "0s")])
def test_go_duration(ns, text):
    assert health_config.go_duration(ns) == text
    assert run_options.parse_duration(text) == ns


def test_parse_duration_errors():
    for text, msg in (("abc", 'time: invalid duration "abc"'), ("5", 'time: missing unit in duration "5"'),
                      ("5x", 'time: unknown unit "x" in duration "5x"')):
        with pytest.raises(ValueError, match=f"^{msg}$"):
            run_options.parse_duration(text)
    assert run_options.parse_duration("-1s") == -10**9


def test_env_file(tmp_path):
    f = tmp_path / "e"
    f.write_text("# c\nA=1\n  B= 2 \nK\nGONE\n\r\nE=\n")
    assert run_options.read_kv_file(str(f), {"K": "v"}) == ["A=1", "B= 2 ", "K=v", "E="]
    assert run_options.read_kv_file(str(f)) == ["A=1", "B= 2 ", "K", "GONE", "E="]  # label files


def test_since_values():
    assert timestamps.get_timestamp("2020-01-01T00:00:00Z") == "1577836800.000000000"
    assert timestamps.get_timestamp("2020-01-01T00:00:00.5+01:00") == "1577833200.500000000"
    assert timestamps.get_timestamp("1m", now=1000.7) == "940"
    assert timestamps.get_timestamp("1577836800.25") == "1577836800.25"
    with pytest.raises(ValueError, match='^failed to parse value as time or duration: "bogus"$'):
        timestamps.get_timestamp("bogus")

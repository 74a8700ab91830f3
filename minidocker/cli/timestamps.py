"""`logs --since/--until` values as the docker CLI sends them (its
timetypes.GetTimestamp): a Go duration ("42m") is that long before now, in
whole seconds; an RFC3339-like time ("2013-01-02T13:23:37Z", "2013-01-02",
local time without a zone) becomes "SECONDS.NANOS"; a Unix timestamp passes
as it is. Anything else: `invalid value for "since": failed to parse value as
time or duration: "x"` (exit 1)."""
import re
import sys
import time
from datetime import datetime, timedelta, timezone

import click

from minidocker.cli.run_options import parse_duration

_UNIX = re.compile(r"^\d+(\.\d{1,9})?$")


def get_timestamp(value: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    if value != "0":
        try:
            d = parse_duration(value)
            return str(int((now * 1e9 - d) // 1e9))
        except ValueError:
            pass
    t = _parse_time(value)
    if t is None:
        if "-" in value:
            raise ValueError(f'parsing time "{value}": cannot parse')
        if not _UNIX.match(value):
            raise ValueError(f'failed to parse value as time or duration: "{value}"')
        return value
    ns = t.microsecond * 1000 + _extra_ns(value)
    return "%d.%09d" % (int(t.replace(microsecond=0).timestamp()), ns)


def _extra_ns(value: str) -> int:
    """Nanoseconds beyond microseconds (datetime keeps only 6 digits)."""
    m = re.search(r"\.(\d+)", value)
    if not m:
        return 0
    digits = (m.group(1) + "000000000")[:9]
    return int(digits[6:])


def _parse_time(value: str) -> datetime | None:
    text = value.replace("z", "Z")
    frac = re.search(r"\.(\d+)", text)
    if frac:  # datetime takes up to 6 digits
        text = text[:frac.start()] + "." + (frac.group(1) + "000000")[:6] + text[frac.end():]
    text = text.replace("Z", "+00:00")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H%z",
                "%Y-%m-%d%z", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
                "%Y-%m-%dT%H", "%Y-%m-%d"):
        try:
            t = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if t.tzinfo is None:  # local time, as the CLI's ParseInLocation
            offset = -time.altzone if time.daylight and time.localtime().tm_isdst else -time.timezone
            t = t.replace(tzinfo=timezone(timedelta(seconds=offset)))
        return t
    return None


def query_time(value: str, name: str) -> str:
    try:
        return get_timestamp(value)
    except ValueError as ex:
        click.echo(f'invalid value for "{name}": {ex}', err=True)
        sys.exit(1)

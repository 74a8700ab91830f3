"""Ids, timestamps and durations in Docker's formats (a leaf: the daemon and the CLI use it)."""
import functools
import time
from datetime import datetime, timezone


def new_id() -> str:
    """64 hex digits, like a Docker object id."""
    import secrets  # here, not at the top: 7 ms of every CLI start (hmac, hashlib)
    return secrets.token_hex(32)


def now() -> str:
    """UTC in Go's RFC3339Nano, as Docker prints Created/StartedAt: nanoseconds with
    trailing zeros dropped (and no dot at all on a whole second)."""
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def parse_time(s: str) -> float:
    """Go RFC3339Nano (any number of fraction digits, or none) -> epoch seconds."""
    try:
        return _parse_time(s)
    except ValueError:
        return time.time()


@functools.lru_cache(maxsize=1 << 14)
def _parse_time(s: str) -> float:
    """(cached: `ps` reads two stamps of every container, and strptime is slow)"""
    head, _, frac = s.rstrip("Z").partition(".")
    whole = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return whole + (int(frac) / 10 ** len(frac) if frac.isdigit() else 0.0)


def human_duration(seconds: float) -> str:
    """Docker's units.HumanDuration: a container's "Up 5 seconds" (daemon) and
    "2 minutes ago" (CLI)."""
    if seconds < 1:
        return "Less than a second"
    s = int(seconds)
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"

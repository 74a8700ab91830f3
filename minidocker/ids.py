"""Ids and timestamps in Docker's formats."""
import secrets
import time
from datetime import datetime, timezone


def new_id() -> str:
    """64 hex digits, like a Docker object id."""
    return secrets.token_hex(32)


def now() -> str:
    """UTC in Go's RFC3339Nano, as Docker prints Created/StartedAt: nanoseconds with
    trailing zeros dropped (and no dot at all on a whole second)."""
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"

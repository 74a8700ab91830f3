"""Ids and timestamps in Docker's formats."""
import secrets
from datetime import datetime, timezone


def new_id() -> str:
    """64 hex digits, like a Docker object id."""
    return secrets.token_hex(32)


def now() -> str:
    """RFC 3339 with nanosecond-style precision, UTC, like Docker's Created fields."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

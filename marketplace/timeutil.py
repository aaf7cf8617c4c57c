"""Time helpers: the database stores naive UTC; callable defaults so every row gets its own time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

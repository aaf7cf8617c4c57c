"""Time helpers: the database stores naive UTC; callable defaults so every row gets its own time."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)

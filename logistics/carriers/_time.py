"""Times as carriers write them, read into timezone-aware UTC datetimes."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse_time(value: object, *, naive_zone: str) -> datetime:
    """An ISO 8601 text ("2025-08-01T03:52:50.158Z", "2025-08-01 10:52:50", "+07:00" offsets),
    a day-first text ("01/08/2025 10:52"), or unix seconds (or milliseconds). A time without an
    offset is read in `naive_zone` (the carrier's local time). ValueError for anything else, and
    for times before 2000 or after 2100 (a unit mistake, not a parcel)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            moment = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"unix time out of range: {value!r}") from exc
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty time")
        if text.isdigit():
            return parse_time(int(text), naive_zone=naive_zone)
        match = _DAY_FIRST.match(text)
        try:
            if match:
                day, month, year, hour, minute, second = match.groups()
                moment = datetime(
                    int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
                )
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not a time: {value!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(naive_zone))
        moment = moment.astimezone(UTC)
    else:
        raise ValueError(f"not a time: {type(value).__name__}")
    if not _EARLIEST <= moment < _LATEST:
        raise ValueError(f"time out of range: {value!r}")
    return moment


def optional_time(value: object, *, naive_zone: str) -> datetime | None:
    """parse_time for hints such as an expected delivery time: None when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        return parse_time(value, naive_zone=naive_zone)
    except ValueError:
        return None

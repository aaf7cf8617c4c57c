"""Time helpers: the database stores naive UTC; callable defaults so every row gets its own time.
Calendar days (an OCOP rating's validity, an issue date "not in the future") are the floor's:
the local date where it is (BABEL_DEFAULT_TIMEZONE, Asia/Ho_Chi_Minh), not the server's or UTC's."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

FLOOR_TIMEZONE = "Asia/Ho_Chi_Minh"  # without an app (a script, a test of pure code)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def floor_timezone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or FLOOR_TIMEZONE)


def local_today() -> date:
    """Today where the floor is: the one "today" of OCOP validity in pages, the API, search
    documents and queries, and the operator's register."""
    return datetime.now(floor_timezone()).date()


def local_date(moment: datetime) -> date:
    """The floor's calendar day of a naive UTC time from the database."""
    return moment.replace(tzinfo=UTC).astimezone(floor_timezone()).date()

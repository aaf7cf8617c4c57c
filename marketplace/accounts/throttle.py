"""Sign-in throttling per e-mail address, counted atomically.

An attempt first takes a slot: one conditional UPDATE (`failures < max`) in a short transaction
of its own, committed before the password is checked, so concurrent attempts queue on the row
and at most LOGIN_MAX_FAILURES of them in a window ever reach the password check. A successful
sign-in or password reset gives the slots back (in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Executable, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import LoginThrottle
from ..timeutil import utcnow


class Slot(NamedTuple):
    allowed: bool
    retry_after_s: int = 0


def _insert_if_missing(email: str, now: datetime) -> Executable:
    dialect = db.engine.dialect.name
    values = {"email": email, "failures": 0, "window_started_at": now}
    if dialect == "postgresql":
        return postgresql.insert(LoginThrottle).values(**values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(LoginThrottle).values(**values).on_conflict_do_nothing()
    raise RuntimeError(f"login throttling does not know the {dialect} dialect")


def take_slot(email: str) -> Slot:
    """Count one attempt for `email` unless the window's failures are used up."""
    window = timedelta(seconds=int(current_app.config["LOGIN_FAILURE_WINDOW_S"]))
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    now = utcnow()
    row = LoginThrottle
    # Its own transaction: the count must be visible to the other attempts before this one's
    # (slow) password check, whatever the request's own transaction does afterwards.
    with db.engine.begin() as conn:
        conn.execute(_insert_if_missing(email, now))
        conn.execute(
            update(row)
            .where(row.email == email, row.window_started_at <= now - window)
            .values(failures=0, window_started_at=now)
        )
        taken = conn.execute(
            update(row).where(row.email == email, row.failures < limit).values(failures=row.failures + 1)
        ).rowcount
        if taken == 1:
            return Slot(True)
        started = conn.execute(select(row.window_started_at).where(row.email == email)).scalar()
    ends = (started or now) + window
    return Slot(False, max(1, int((ends - now).total_seconds()) + 1))


def clear(email: str) -> None:
    """Forget the address's failures (in the caller's transaction): a successful sign-in, or a
    password reset, which proves the owner and lifts a lock."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == email))

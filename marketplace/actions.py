"""Running a state-changing service call behind a button, the same way in every view."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from .errors import DomainError, ValidationFailed
from .extensions import db


def run_action(action: Callable[[], object], success: str | None = None) -> bool:
    """Call `action`; on success commit and flash `success`, on a domain error roll back and
    flash the user's message(s). Returns whether it succeeded (the caller picks the redirect)."""
    try:
        action()
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.field_errors.values():
            for message in messages:
                flash(message, "error")
        if not exc.field_errors:
            flash(exc.message, "error")
        return False
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return False
    db.session.commit()
    if success:
        flash(success, "success")
    return True

"""Calling a state-changing service from a view, the same way in every view: `run_action` behind a
button, `run_form` behind a form. Both commit once on success and roll back on a domain error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from flask import flash
from flask_wtf import FlaskForm

from .errors import DomainError, ValidationFailed
from .extensions import db
from .forms import apply_errors

T = TypeVar("T")


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


@dataclass(frozen=True)
class Done(Generic[T]):
    """The service accepted the form and the change is committed: `result` is what it returned."""

    result: T

    def __bool__(self) -> Literal[True]:
        return True


@dataclass(frozen=True)
class NotDone:
    """Falsy: the form was not posted, did not validate, or the service refused it; `errors` are
    the service's field errors (now on the form too), for pages that show some elsewhere."""

    errors: Mapping[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> Literal[False]:
        return False


def run_form(
    form: FlaskForm,
    action: Callable[[], T],
    success: str | None = None,
    *,
    refusals: str | None = None,
) -> Done[T] | NotDone:
    """The form-view block, once. When `form` was posted and validates, call `action` (the
    service, reading the form's data): on success commit, flash `success` and answer Done — the
    view redirects; on ValidationFailed roll back and put its messages on the form's fields
    (`apply_errors`) — the view shows the form again. Any other DomainError (Forbidden,
    NotFound…) goes on to the error pages, unless `refusals` names where its message belongs on
    the form: a field's name, or "" for the form's own errors.

        if done := run_form(form, lambda: services.register_shop(form.data, actor=user), _("…")):
            return redirect(url_for("sellers.dashboard", shop_slug=done.result.slug))
        return render_template("sellers/register.html", form=form)
    """
    if not form.validate_on_submit():
        return NotDone()
    try:
        result = action()
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return NotDone(exc.field_errors)
    except DomainError as exc:
        if refusals is None:
            raise
        db.session.rollback()
        target = getattr(form, refusals, None) if refusals else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, exc.message]
        else:
            form.form_errors.append(exc.message)
        return NotDone()
    db.session.commit()
    if success:
        flash(success, "success")
    return Done(result)

"""Form helpers shared by every package."""

from __future__ import annotations

from flask_wtf import FlaskForm

from .errors import ValidationFailed


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Map a service's collected field errors back onto the form; unknown fields go to form-level."""
    for field, messages in exc.field_errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            form.form_errors.extend(messages)

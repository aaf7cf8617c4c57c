"""Form helpers shared by every package, and AppForm, the base of every form.

AppForm cleans text at the edge: every text field gets a first filter that removes control
characters (marketplace/cleantext.py) before any other filter or validator sees the value —
single-line fields (StringField and its kinds: e-mail, phone, search, hidden…) lose them all,
text areas keep their newlines and tabs. Passwords are left exactly as typed."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.meta import DefaultMeta

from .cleantext import multi_line, single_line
from .errors import ValidationFailed


def text_filter(field_class: type) -> Any:
    """The cleaning filter for a field class, or None for fields that hold no free text."""
    if issubclass(field_class, TextAreaField):
        return multi_line
    if issubclass(field_class, PasswordField):
        return None
    if issubclass(field_class, StringField):
        return single_line
    return None


class AppForm(FlaskForm):
    """FlaskForm (CSRF and all) whose text fields are cleaned of control characters."""

    class Meta(DefaultMeta):
        def bind_field(self, form: Any, unbound_field: UnboundField, options: dict) -> Any:
            clean = text_filter(unbound_field.field_class)
            if clean is not None:
                options = {**options, "filters": (clean, *unbound_field.kwargs.get("filters", ()))}
            return super().bind_field(form, unbound_field, options)


def submitted_data(form: FlaskForm) -> dict[str, Any]:
    """What was posted (without the CSRF token), with each text field of `form` as the form cleaned
    it: for views that hand posted values straight to a service."""
    data: dict[str, Any] = {key: value for key, value in request.form.items() if key != "csrf_token"}
    for field in form:
        if field.name in data and text_filter(type(field)) is not None:
            data[field.name] = field.data
    return data


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Map a service's collected field errors back onto the form; unknown fields go to form-level."""
    for field, messages in exc.field_errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            form.form_errors.extend(messages)

"""Role predicates and view decorators of the shell; packages add their own named predicates."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import Role, User


def is_operator(user: User | None) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.active
        and user.role == Role.OPERATOR.value
    )


def operator_required(view):
    """Signed-in operators only; everyone else signed in gets 403."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not is_operator(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper

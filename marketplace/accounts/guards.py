"""View guards of the accounts package."""

from __future__ import annotations

from functools import wraps

from flask import render_template
from flask_login import current_user, login_required

from .forms import ActionForm


def confirmed_email_required(view):
    """Signed in with a confirmed e-mail address: for anything that acts for that address
    (accepting a staff invitation, registering a shop). Others see what to do, with a button
    that mails the link again."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.email_confirmed:
            return render_template("accounts/confirm_needed.html", action_form=ActionForm()), 403
        return view(*args, **kwargs)

    return wrapper

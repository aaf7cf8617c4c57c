"""Language choice, the template filters for money (from marketplace.money), numbers, weights (marketplace.numbers) and dates (dd/mm/yyyy)."""

from __future__ import annotations

from datetime import date, datetime

from babel.numbers import format_decimal
from flask import Flask, current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from .money import format_vnd
from .numbers import format_weight


def select_locale() -> str:
    """Vietnamese by default, whatever the browser says (many Vietnamese phones are set to
    English); English only when the person chose it with the switch or in their account."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, worker: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    account_locale = current_user.locale if getattr(current_user, "is_authenticated", False) else None
    if isinstance(account_locale, str) and account_locale in languages:
        return account_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


money = format_vnd  # the template filter: 150000 -> '150.000 ₫' (marketplace.money)


def number(value: int | float) -> str:
    return format_decimal(value, locale=str(get_locale() or "vi"))


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return format_date(value, "dd/MM/yyyy")


def short_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["weight"] = format_weight  # grams -> '850 g', '2,0 kg' (marketplace.numbers)
    app.jinja_env.filters["date"] = short_date
    app.jinja_env.filters["datetime"] = short_datetime

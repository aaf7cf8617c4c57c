"""A person's data: the export they may download, and the erasure of their account (Decree
13/2023 on personal data: a person can see, take and have deleted what the floor holds about
them, within what bookkeeping law requires it to keep).

Each package says what it holds about a user through a `PersonalDataSource` registered in
`app.extensions["personal_data"]` (the shell's own first, then sellers, then orders), so the shell
never imports the packages built on it:

- `export(user)`: sections of the JSON export (only this user's rows, nothing about others);
- `blockers(user)`: why the account cannot be erased now (a shop it owns, orders on their way);
- `erase(user)`: anonymise or remove its rows; returns counts for the audit record.

Erasure is immediate once the password is confirmed (no grace period, no undo): personal fields
are replaced, the account can no longer sign in and every session ends; orders stay, anonymised,
because the accounts of a sale must be kept. The mails queued or sent to the address keep their
rows (the idempotency keys) but lose recipient and text, and their .eml files go. An `AccountDeletion` row records when and how many
rows of each kind changed, without any personal data."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..errors import DomainError, Errors
from ..extensions import db, rows_matched
from ..mail import forget_mails_to, queue_mail
from ..models import LoginAttempt, LoginThrottle, Role, User
from ..timeutil import utcnow
from .models import AccountDeletion, Consent
from .pages import BY_KEY

log = logging.getLogger(__name__)

EXTENSION_KEY = "personal_data"
EXPORT_FORMAT = 1
# What replaces a person's name wherever it was kept (orders, reviews, the account).
ANONYMISED = "Đã ẩn danh"
DELETED_ACCOUNT_NAME = "Tài khoản đã xoá"


def _no_blockers(_user: User) -> list[str]:
    return []


@dataclass(frozen=True)
class PersonalDataSource:
    name: str
    export: Callable[[User], dict[str, Any]]
    erase: Callable[[User], dict[str, int]]
    blockers: Callable[[User], list[str]] = field(default=_no_blockers)


def register_source(app: Flask, source: PersonalDataSource) -> None:
    app.extensions.setdefault(EXTENSION_KEY, []).append(source)


def sources() -> list[PersonalDataSource]:
    return list(current_app.extensions.get(EXTENSION_KEY, []))


def iso(value: datetime | date | None) -> str | None:
    """Times in the export: ISO 8601, UTC (stored naive UTC) with a Z."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


# --- export -----------------------------------------------------------------------------------


def export_data(user: User) -> dict[str, Any]:
    """Everything the floor holds about `user`, as one JSON-ready dict."""
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": iso(utcnow()),
        "site": current_app.config.get("SITE_NAME") or current_app.config["PROVINCE_NAME"],
    }
    for source in sources():
        data.update(source.export(user))
    return data


# --- erasure ----------------------------------------------------------------------------------


def deletion_blockers(user: User) -> list[str]:
    """Why `user`'s account cannot be erased now (empty: it can)."""
    return [reason for source in sources() for reason in source.blockers(user)]


def delete_account(user: User, password: str, *, confirmed: bool) -> AccountDeletion:
    """Erase `user`'s account at their request, after checking their password. Every package
    anonymises what it holds (the shell's account last), sessions end, and one AccountDeletion
    row records it. The caller commits and ends the browser's session."""
    from ..accounts.services import check_password

    errors = Errors()
    if not check_password(user, password or ""):
        errors.add("password", _("Mật khẩu không đúng."))
    if not confirmed:
        errors.add("confirm", _("Vui lòng đánh dấu ô xác nhận."))
    errors.raise_if_any()
    blockers = deletion_blockers(user)
    if blockers:
        raise DomainError(" ".join(blockers))
    address = user.email
    # Written while the name and address are still there; the key names neither the account nor
    # the address, so nothing links the erased account to its old mailbox.
    notice_key = f"mail:account-deleted:{secrets.token_hex(16)}"
    queue_mail(address, _("Tài khoản của bạn đã được xoá"), "account_deleted", key=notice_key, user=user)
    summary: dict[str, int] = {}
    # The shell's source (the account itself) was registered first: erase it last.
    for source in reversed(sources()):
        for what, count in source.erase(user).items():
            summary[f"{source.name}.{what}"] = count
        db.session.flush()
    # Every other mail to the address, sent or not, loses its text (and its .eml file).
    summary["account.mails"] = forget_mails_to(address, keep={notice_key})
    record = AccountDeletion(user_id=user.id, method="self_service", summary=summary)
    db.session.add(record)
    db.session.flush()
    log.info("account %s erased at its owner's request: %s", user.id, summary)
    return record


# --- the shell's own source: the account, its consents, its sign-in records --------------------


def _export_account(user: User) -> dict[str, Any]:
    consents = db.session.scalars(select(Consent).where(Consent.user_id == user.id).order_by(Consent.id))
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "role": user.role,
            "locale": user.locale,
            "created_at": iso(user.created_at),
            "email_confirmed_at": iso(user.email_confirmed_at),
            "last_login_at": iso(user.last_login_at),
        },
        "consents": [
            {
                "document": consent.document,
                "document_title": str(BY_KEY[consent.document].title) if consent.document in BY_KEY else None,
                "version": consent.version.number if consent.version else None,
                "version_effective_from": iso(consent.version.effective_from) if consent.version else None,
                "context": consent.context,
                "given_at": iso(consent.given_at),
            }
            for consent in consents
        ],
    }


def _account_blockers(user: User) -> list[str]:
    if user.role == Role.OPERATOR.value:
        return [
            _(
                "Tài khoản ban quản lý sàn không tự xoá được: hãy nhờ người quản trị hệ thống "
                "thu hồi quyền quản trị trước."
            )
        ]
    return []


def _erase_account(user: User) -> dict[str, int]:
    from ..accounts.services import end_sessions

    attempts = db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == user.email))
    user.email = f"da-xoa-{user.id}@tai-khoan.invalid"  # RFC 2606: never a real mailbox
    user.full_name = DELETED_ACCOUNT_NAME
    user.phone = None
    user.locale = None
    # Not a hash any password can match: argon2 refuses it, so no sign-in and no reset.
    user.password_hash = "!erased:" + secrets.token_hex(16)
    user.role = Role.BUYER.value
    user.active = False
    user.email_confirmed_at = None
    user.last_login_at = None
    user.deleted_at = utcnow()
    end_sessions(user)
    db.session.flush()
    return {"account": 1, "sign_in_records": rows_matched(attempts)}


ACCOUNT_SOURCE = PersonalDataSource("account", _export_account, _erase_account, _account_blockers)

"""Account operations. They validate, change models and flush; the caller commits."""

from __future__ import annotations

import contextlib
import hmac
import re
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError, Errors
from ..extensions import db
from ..mail import queue_mail
from ..models import LoginAttempt, Role, User, new_session_token
from ..timeutil import utcnow
from . import passwords, throttle


def _hasher() -> PasswordHasher:
    """Argon2id with the configured cost (tests use a cheap one). Verification reads the cost
    from each hash, and a sign-in rehashes a hash made with other parameters."""
    return PasswordHasher(**current_app.config.get("PASSWORD_HASH_PARAMS", {}))


RESET_MAX_AGE_S = 2 * 3600
PHONE_RE = re.compile(r"^(0|\+84)(3|5|7|8|9)\d{8}$")


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def normalize_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return re.sub(r"[\s.\-]", "", phone)


def valid_phone(phone: str | None) -> bool:
    """Vietnamese mobile numbers: 0 or +84, then a mobile prefix and 8 digits."""
    return bool(phone and PHONE_RE.match(phone))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=8)
def _decoy_hash(params: tuple) -> str:
    return PasswordHasher(**dict(params)).hash(secrets.token_urlsafe(16))


def waste_password_check(password: str) -> None:
    """The argon2 work of a real check, for an address with no (usable) account: answering
    faster would tell which addresses have one."""
    params = tuple(sorted(current_app.config.get("PASSWORD_HASH_PARAMS", {}).items()))
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher().verify(_decoy_hash(params), password)


def _check_password_rules(errors: Errors, password: str, field: str = "password") -> None:
    for message in passwords.problems(password):
        errors.add(field, message)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def load_user(auth_id: str) -> User | None:
    """Flask-Login's user loader: "<id>:<session token>" from the session or the remember
    cookie. A token that is no longer the user's (signed out, password changed) loads nobody."""
    user_id, _sep, token = (auth_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def end_sessions(user: User) -> None:
    """Every session and remember cookie of the user stops working (a new session token)."""
    user.session_token = new_session_token()


class _Fields(NamedTuple):
    email: str
    full_name: str
    phone: str | None


def _validated(
    errors: Errors, *, email: str, password: str, full_name: str, phone: str | None, role: str
) -> _Fields:
    email = normalize_email(email)
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors.add("email", _("Địa chỉ email không hợp lệ."))
    _check_password_rules(errors, password)
    if not (full_name or "").strip():
        errors.add("full_name", _("Vui lòng nhập họ tên."))
    phone = normalize_phone(phone)
    if phone and not valid_phone(phone):
        errors.add("phone", _("Số điện thoại di động không hợp lệ."))
    if role not in {r.value for r in Role}:
        errors.add("role", _("Vai trò không hợp lệ."))
    return _Fields(email, (full_name or "").strip(), phone)


def create_user(
    *,
    email: str,
    password: str,
    full_name: str,
    phone: str | None = None,
    role: str = Role.BUYER.value,
    confirmed: bool = False,
) -> User:
    """An account made by the system (first operator, demo, tests): says when the address is
    taken. The public sign-up page uses sign_up(), which never does."""
    errors = Errors()
    fields = _validated(errors, email=email, password=password, full_name=full_name, phone=phone, role=role)
    if not errors and get_user_by_email(fields.email):
        errors.add("email", _("Email này đã được đăng ký."))
    errors.raise_if_any()
    user = User(
        email=fields.email,
        password_hash=hash_password(password),
        full_name=fields.full_name,
        phone=fields.phone,
        role=role,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def sign_up(
    *,
    email: str,
    password: str,
    full_name: str,
    phone: str | None = None,
    next_url: str | None = None,
    privacy_consent: object,
) -> str:
    """The public sign-up. A new address gets an unconfirmed buyer account and a confirmation
    link (carrying `next_url`, a path on this site, where the person was going); a taken one gets
    a note to its owner instead. Either way the same work is done and the same thing returned
    (the normalised address), so the answer tells nobody which it was. The privacy policy's box
    must be ticked; the new account's consent is recorded with the version in force."""
    from ..legal import services as legal

    errors = Errors()
    fields = _validated(
        errors, email=email, password=password, full_name=full_name, phone=phone, role=Role.BUYER.value
    )
    legal.check_consent(errors, privacy_consent)
    errors.raise_if_any()
    password_hash = hash_password(password)  # also for a taken address: the same time either way
    existing = get_user_by_email(fields.email)
    if existing is None:
        user = User(
            email=fields.email,
            password_hash=password_hash,
            full_name=fields.full_name,
            phone=fields.phone,
            role=Role.BUYER.value,
        )
        try:
            with db.session.begin_nested():
                db.session.add(user)
        except IntegrityError:  # the same address signed up a moment ago
            existing = get_user_by_email(fields.email)
        else:
            legal.record_consent(context="sign_up", user=user)
            send_confirmation(user, next_url=next_url)
            return fields.email
    if existing is not None:
        queue_mail(
            existing.email,
            _("Có người vừa đăng ký bằng địa chỉ email của bạn"),
            "sign_up_existing",
            user=existing,
            sign_in_link=url_for("accounts.sign_in", _external=True),
            reset_link=url_for("accounts.forgot_password", _external=True),
        )
    return fields.email


# --- e-mail confirmation ----------------------------------------------------------------------


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-confirm")


def make_confirmation_token(user: User) -> str:
    # Bound to the address: a link mailed to an old address cannot confirm a new one.
    return _confirm_serializer().dumps({"uid": user.id, "e": user.email})


def send_confirmation(user: User, *, next_url: str | None = None) -> None:
    """Mail the confirmation link; `next_url` (a path on this site, checked again when the link
    is opened) is where the link leads after confirming and signing in."""
    link = url_for(
        "accounts.confirm_email", token=make_confirmation_token(user), next=next_url, _external=True
    )
    queue_mail(
        user.email,
        _("Xác nhận địa chỉ email"),
        "confirm_email",
        user=user,
        link=link,
        hours=int(current_app.config["EMAIL_CONFIRM_MAX_AGE_H"]),
    )


def confirm_email(token: str) -> tuple[User, bool]:
    """The user the link was mailed to, and whether this opening confirmed the address (False:
    it already was; a link does nothing twice)."""
    max_age = int(current_app.config["EMAIL_CONFIRM_MAX_AGE_H"]) * 3600
    try:
        data = _confirm_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise DomainError(_("Liên kết xác nhận đã hết hạn. Vui lòng đăng nhập và yêu cầu gửi lại.")) from None
    except BadSignature:
        raise DomainError(_("Liên kết xác nhận không hợp lệ.")) from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("e"):
        raise DomainError(_("Liên kết xác nhận không hợp lệ."))
    if user.email_confirmed_at is not None:
        return user, False
    user.email_confirmed_at = utcnow()
    db.session.flush()
    return user, True


# --- sign-in ----------------------------------------------------------------------------------


class AuthResult(NamedTuple):
    user: User | None
    message: str | None = None
    throttled: bool = False
    retry_after_s: int = 0


def authenticate(email: str, password: str, *, ip: str | None) -> AuthResult:
    """Checks the password unless the address used up its attempts. Every address, with an
    account or not, costs one argon2 verification. The caller commits, also on failure."""
    email = normalize_email(email)[:254]
    slot = throttle.take_slot(email)
    if not slot.allowed:
        minutes = -(-slot.retry_after_s // 60)
        return AuthResult(
            None,
            _("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(m)d phút.", m=minutes),
            throttled=True,
            retry_after_s=slot.retry_after_s,
        )
    user = get_user_by_email(email)
    if user is None:
        waste_password_check(password)
        ok = False
    else:
        ok = check_password(user, password) and user.active
    db.session.add(LoginAttempt(email=email, ip=ip, success=ok))
    if not ok or user is None:
        return AuthResult(None, _("Email hoặc mật khẩu không đúng."))
    throttle.clear(email)
    user.last_login_at = utcnow()
    # Keep the attempts table small: this address's old rows no longer matter.
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.created_at < utcnow() - timedelta(days=1)
        )
    )
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return AuthResult(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Needs the current password; ends every session of the user (the caller signs the
    current one in again)."""
    errors = Errors()
    if not check_password(user, current_password or ""):
        errors.add("current_password", _("Mật khẩu hiện tại không đúng."))
    _check_password_rules(errors, new_password)
    errors.raise_if_any()
    user.password_hash = hash_password(new_password)
    end_sessions(user)
    db.session.flush()


# --- password reset ---------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # Binding the token to the current hash makes it single-use: resetting changes the hash.
    return _serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})


def request_password_reset(email: str) -> None:
    """Queue a reset mail if the account exists; callers answer the same either way. A sign-in
    lock does not stop it: the mailbox owner can always get back in."""
    user = get_user_by_email(email)
    if user is None or not user.active:
        return
    link = url_for("accounts.reset_password", token=make_reset_token(user), _external=True)
    queue_mail(user.email, _("Đặt lại mật khẩu"), "password_reset", user=user, link=link)


def user_from_reset_token(token: str) -> User:
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE_S)
    except SignatureExpired:
        raise DomainError(_("Liên kết đặt lại mật khẩu đã hết hạn. Vui lòng yêu cầu liên kết mới.")) from None
    except BadSignature:
        raise DomainError(_("Liên kết đặt lại mật khẩu không hợp lệ.")) from None
    user = db.session.get(User, data.get("uid"))
    if user is None or user.password_hash[-16:] != data.get("h"):
        raise DomainError(_("Liên kết đặt lại mật khẩu đã được dùng hoặc không còn hiệu lực."))
    return user


def reset_password(token: str, new_password: str) -> User:
    """A new password from the mailed link: every session ends, a sign-in lock on the address is
    lifted, and the address counts as confirmed (the link reached its mailbox)."""
    user = user_from_reset_token(token)
    errors = Errors()
    _check_password_rules(errors, new_password)
    errors.raise_if_any()
    user.password_hash = hash_password(new_password)
    end_sessions(user)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    throttle.clear(user.email)
    db.session.flush()
    return user

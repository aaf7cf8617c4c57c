"""Account operations. They validate, change models and flush; the caller commits."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from ..errors import DomainError, Errors
from ..extensions import db
from ..models import LoginAttempt, Role, User
from ..timeutil import utcnow


def _hasher() -> PasswordHasher:
    """Argon2id with the configured cost (tests use a cheap one). Verification reads the cost
    from each hash, and a sign-in rehashes a hash made with other parameters."""
    return PasswordHasher(**current_app.config.get("PASSWORD_HASH_PARAMS", {}))


RESET_MAX_AGE_S = 2 * 3600
PHONE_RE = re.compile(r"^(0|\+84)(3|5|7|8|9)\d{8}$")


def normalize_email(email: str) -> str:
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
    except (VerifyMismatchError, InvalidHashError):
        return False


def _check_password_rules(errors: Errors, password: str, field: str = "password") -> None:
    if len(password or "") < 8:
        errors.add(field, _("Mật khẩu phải có ít nhất 8 ký tự."))


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(
    *, email: str, password: str, full_name: str, phone: str | None = None, role: str = Role.BUYER.value
) -> User:
    errors = Errors()
    email = normalize_email(email)
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors.add("email", _("Địa chỉ email không hợp lệ."))
    if not errors and get_user_by_email(email):
        errors.add("email", _("Email này đã được đăng ký."))
    _check_password_rules(errors, password)
    if not (full_name or "").strip():
        errors.add("full_name", _("Vui lòng nhập họ tên."))
    phone = normalize_phone(phone)
    if phone and not valid_phone(phone):
        errors.add("phone", _("Số điện thoại di động không hợp lệ."))
    if role not in {r.value for r in Role}:
        errors.add("role", _("Vai trò không hợp lệ."))
    errors.raise_if_any()
    user = User(
        email=email,
        password_hash=hash_password(password),
        full_name=full_name.strip(),
        phone=phone,
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user


def recent_failures(email: str) -> int:
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_S"])
    return (
        db.session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.email == normalize_email(email),
                LoginAttempt.success.is_(False),
                LoginAttempt.created_at > utcnow() - window,
            )
        )
        or 0
    )


class AuthResult(NamedTuple):
    user: User | None
    message: str | None = None
    throttled: bool = False


def authenticate(email: str, password: str, *, ip: str | None) -> AuthResult:
    """Checks the password unless the account is throttled. Records the attempt either way;
    the caller commits even on failure so that throttling counts it."""
    email = normalize_email(email)
    if recent_failures(email) >= current_app.config["LOGIN_MAX_FAILURES"]:
        minutes = current_app.config["LOGIN_FAILURE_WINDOW_S"] // 60
        return AuthResult(
            None, _("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(m)d phút.", m=minutes), True
        )
    user = get_user_by_email(email)
    ok = bool(user and user.active and check_password(user, password))
    db.session.add(LoginAttempt(email=email, ip=ip, success=ok))
    if not ok:
        return AuthResult(None, _("Email hoặc mật khẩu không đúng."))
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


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # Binding the token to the current hash makes it single-use: resetting changes the hash.
    return _serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})


def request_password_reset(email: str) -> None:
    """Queue a reset mail if the account exists; callers answer the same either way."""
    from flask import url_for

    from ..mail import queue_mail

    user = get_user_by_email(email)
    if user is None or not user.active:
        return
    link = url_for("accounts.reset_password", token=make_reset_token(user), _external=True)
    queue_mail(user.email, _("Đặt lại mật khẩu"), "password_reset", user=user, link=link)


def user_from_reset_token(token: str) -> User:
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE_S)
    except SignatureExpired:
        raise DomainError(_("Liên kết đặt lại mật khẩu đã hết hạn. Vui lòng yêu cầu liên kết mới."))
    except BadSignature:
        raise DomainError(_("Liên kết đặt lại mật khẩu không hợp lệ."))
    user = db.session.get(User, data.get("uid"))
    if user is None or user.password_hash[-16:] != data.get("h"):
        raise DomainError(_("Liên kết đặt lại mật khẩu đã được dùng hoặc không còn hiệu lực."))
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_from_reset_token(token)
    errors = Errors()
    _check_password_rules(errors, new_password)
    errors.raise_if_any()
    user.password_hash = hash_password(new_password)
    db.session.flush()
    return user

"""What a new password must be: at least MIN_LENGTH characters, and not one of the common
passwords in common_passwords.txt (compared without regard to case or surrounding spaces)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 8
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The list, read once per process (a file shipped with the code: every process agrees)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    return (password or "").strip().casefold() in common_passwords()


def problems(password: str) -> list[str]:
    """Why `password` cannot be used (empty: it can)."""
    if len(password or "") < MIN_LENGTH:
        return [_("Mật khẩu phải có ít nhất 8 ký tự.")]  # MIN_LENGTH
    if is_common(password):
        return [_("Mật khẩu này quá phổ biến nên rất dễ bị đoán. Vui lòng chọn mật khẩu khác.")]
    return []

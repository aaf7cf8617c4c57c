"""Legal pages (publishing a version, the version in force, the history) and consent to them.

Services validate, change rows and flush; the caller commits."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Errors, Forbidden, NotFound
from ..extensions import db
from ..models import User
from ..permissions import is_operator
from ..timeutil import local_today
from . import markup
from .models import Consent, LegalPageVersion
from .pages import BY_KEY, PRIVACY, LegalPage

MAX_DAYS_AHEAD = 366  # a version may be announced up to a year before it applies
MAX_NOTE_CHARS = 300
CONSENT_CONTEXTS = frozenset({"sign_up", "checkout", "question"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def page_for(key: str) -> LegalPage:
    page = BY_KEY.get(key)
    if page is None:
        raise NotFound(_("Không tìm thấy trang."))
    return page


# --- reading ----------------------------------------------------------------------------------


def versions(key: str) -> list[LegalPageVersion]:
    """Every published version of a page, newest first."""
    return list(
        db.session.scalars(
            select(LegalPageVersion)
            .where(LegalPageVersion.page == key)
            .order_by(LegalPageVersion.number.desc())
        )
    )


def current_version(key: str, today: date | None = None) -> LegalPageVersion | None:
    """The version in force: the highest number whose effective date has come."""
    return db.session.scalar(
        select(LegalPageVersion)
        .where(LegalPageVersion.page == key, LegalPageVersion.effective_from <= (today or local_today()))
        .order_by(LegalPageVersion.number.desc())
        .limit(1)
    )


def current_version_id(key: str, today: date | None = None) -> int | None:
    """The id of the version in force (consents need no more: not the page's text)."""
    return db.session.scalar(
        select(LegalPageVersion.id)
        .where(LegalPageVersion.page == key, LegalPageVersion.effective_from <= (today or local_today()))
        .order_by(LegalPageVersion.number.desc())
        .limit(1)
    )


def latest_version(key: str) -> LegalPageVersion | None:
    """The last one published, in force or waiting for its date."""
    return db.session.scalar(
        select(LegalPageVersion)
        .where(LegalPageVersion.page == key)
        .order_by(LegalPageVersion.number.desc())
        .limit(1)
    )


def get_version(key: str, number: int) -> LegalPageVersion:
    found = db.session.scalar(
        select(LegalPageVersion).where(LegalPageVersion.page == key, LegalPageVersion.number == number)
    )
    if found is None:
        raise NotFound(_("Không tìm thấy phiên bản này."))
    return found


# --- publishing -------------------------------------------------------------------------------


def parse_date(raw: object) -> date | None:
    """A date as a browser's date field sends it (yyyy-mm-dd) or as people write it (dd/mm/yyyy)."""
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        match = _VN_DATE.match(text)
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    return None


def publish_version(key: str, data: dict, *, actor: User) -> LegalPageVersion:
    """A new version of page `key`: `body` (the markup text), `effective_from` (today or later,
    not before the last version's date, at most a year ahead) and an optional `change_note`."""
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới thực hiện được thao tác này."))
    page_for(key)
    errors = Errors()
    body = (data.get("body") or "").replace("\r\n", "\n").strip()
    if not body:
        errors.add("body", _("Vui lòng nhập nội dung."))
    elif len(body) > markup.MAX_SOURCE_CHARS:
        errors.add("body", _("Nội dung tối đa %(n)d ký tự.", n=markup.MAX_SOURCE_CHARS))
    note = (data.get("change_note") or "").strip() or None
    if note and len(note) > MAX_NOTE_CHARS:
        errors.add("change_note", _("Tóm tắt thay đổi tối đa %(n)d ký tự.", n=MAX_NOTE_CHARS))
    today = local_today()
    raw_date = data.get("effective_from")
    effective = parse_date(raw_date) if raw_date not in (None, "") else today
    latest = latest_version(key)
    if effective is None:
        errors.add("effective_from", _("Ngày hiệu lực không hợp lệ (ngày/tháng/năm)."))
    elif effective < today:
        errors.add("effective_from", _("Ngày hiệu lực không được trước hôm nay."))
    elif effective > today + timedelta(days=MAX_DAYS_AHEAD):
        errors.add("effective_from", _("Ngày hiệu lực không được xa quá một năm."))
    elif latest is not None and effective < latest.effective_from:
        errors.add(
            "effective_from",
            _(
                "Ngày hiệu lực không được trước ngày của phiên bản %(n)d (%(date)s).",
                n=latest.number,
                date=latest.effective_from.strftime("%d/%m/%Y"),
            ),
        )
    if latest is not None and body == latest.body:
        errors.add("body", _("Nội dung giống hệt phiên bản %(n)d: không có gì để công bố.", n=latest.number))
    errors.raise_if_any()
    assert effective is not None  # refused above otherwise
    version = LegalPageVersion(
        page=key,
        number=(latest.number if latest else 0) + 1,
        body=body,
        body_html=markup.render(body),
        change_note=note,
        effective_from=effective,
        published_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
    except IntegrityError:  # another operator published this page at the same moment
        raise Conflict(_("Một phiên bản khác vừa được công bố. Vui lòng tải lại trang.")) from None
    return version


# --- consent ----------------------------------------------------------------------------------


def accepted(value: object) -> bool:
    """A ticked checkbox as a form or a caller passes it."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"y", "yes", "on", "1", "true"}


def has_consented(user: User, document: str = PRIVACY) -> bool:
    """Has `user` agreed to the version of `document` in force (or, with none published, at all)?"""
    current_id = current_version_id(document)
    query = select(Consent.id).where(Consent.user_id == user.id, Consent.document == document)
    if current_id is not None:
        query = query.where(Consent.version_id == current_id)
    return db.session.scalar(query.limit(1)) is not None


def consent_required(user: User | None, document: str = PRIVACY) -> bool:
    """Must this person tick the consent box? A guest always; a member who has not agreed to the
    version in force (an account from before, or the policy changed since)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return True
    return not has_consented(user, document)


def check_consent(errors: Errors, value: object, *, field: str = "privacy_consent") -> None:
    """The form's consent box: refuse the form (on `field`) unless it is ticked."""
    if not accepted(value):
        errors.add(field, _("Vui lòng đồng ý với Chính sách bảo mật thông tin để tiếp tục."))


def record_consent(*, context: str, user: User | None = None, document: str = PRIVACY) -> Consent:
    """Record that the person agreed just now to the version of `document` in force, from
    `context` (sign_up, checkout, question). `user` None: a guest; the caller keeps the returned
    row's id with what the guest made (the checkout's payment, say)."""
    if context not in CONSENT_CONTEXTS:
        raise ValueError(f"unknown consent context {context!r}")
    page_for(document)
    consent = Consent(
        user_id=user.id if user is not None else None,
        document=document,
        version_id=current_version_id(document),
        context=context,
    )
    db.session.add(consent)
    db.session.flush()
    return consent


def consents_of(user: User) -> list[Consent]:
    return list(db.session.scalars(select(Consent).where(Consent.user_id == user.id).order_by(Consent.id)))

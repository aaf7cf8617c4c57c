"""The operator's tools for the Q&A: agencies and their officials (invitations), the redaction
rules and manual redactions, what is visible, titles, and the calendar of announced days. Each
takes the acting operator, never commits, and records index updates in the outbox."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from marketplace import slugs
from marketplace.errors import DomainError, Errors, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db, rows_matched
from marketplace.mail import queue_mail
from marketplace.models import Role, User
from marketplace.permissions import is_operator
from marketplace.timeutil import utcnow

from . import states
from .models import (
    Agency,
    CalendarDay,
    ManualRedaction,
    Message,
    Official,
    OfficialInvitation,
    Question,
    RedactionRule,
    Visibility,
)
from .redaction import REPLACEMENT, load_redactor, pattern_problem
from .services import TITLE_MAX, record_all_changed, record_changed, require


def edit_title(question: Question, title: str, *, actor: User) -> None:
    """The operator corrects a title; the slug (and so the URL) stays."""
    require(is_operator(actor))
    title = " ".join((title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise DomainError(_("Tiêu đề không hợp lệ."), field_errors={"title": [_("Tiêu đề không hợp lệ.")]})
    old = question.title
    question.title = title
    states.record_event(question, "title_edited", actor=actor, actor_role="operator", note=old)
    record_changed(question)


# --- the operator's tools ------------------------------------------------------------------------------


def save_agency(data: dict, *, actor: User, agency: Agency | None = None) -> Agency:
    require(is_operator(actor))
    errors = Errors()
    name = " ".join((data.get("name") or "").split())
    if not name:
        errors.add("name", _("Vui lòng nhập tên cơ quan."))
    try:
        days = int(data.get("working_days") or 20)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 365:
        errors.add("working_days", _("Số ngày làm việc từ 1 đến 365."))
    errors.raise_if_any()
    if agency is None:
        agency = Agency(slug=slugs.unique_slug(Agency, data.get("slug") or name), name=name)
        db.session.add(agency)
    agency.name = name
    agency.description = (data.get("description") or "").strip()
    agency.working_days = days
    agency.transfer_restarts_clock = bool(data.get("transfer_restarts_clock", True))
    agency.active = bool(data.get("active", True))
    db.session.flush()
    return agency


def add_rule(name: str, pattern: str, *, actor: User, replacement: str | None = None) -> RedactionRule:
    require(is_operator(actor))
    problem = pattern_problem(pattern)
    if problem:
        raise ValidationFailed({"pattern": [_("Biểu thức không hợp lệ: %(problem)s", problem=problem)]})
    rule = RedactionRule(
        name=(name or "").strip()[:120] or pattern[:120],
        pattern=pattern,
        replacement=(replacement or "").strip()[:80] or "[đã ẩn]",
        created_by_id=actor.id,
    )
    db.session.add(rule)
    db.session.flush()
    record_all_changed()
    return rule


def set_rule_active(rule: RedactionRule, active: bool, *, actor: User) -> None:
    require(is_operator(actor))
    rule.active = active
    db.session.flush()
    record_all_changed()


def redact_manually(question: Question, phrase: str, reason: str, *, actor: User) -> ManualRedaction:
    require(is_operator(actor))
    phrase, reason = (phrase or "").strip(), (reason or "").strip()
    errors = Errors()
    if len(phrase) < 2:
        errors.add("phrase", _("Vui lòng nhập đoạn cần ẩn."))
    if not reason:
        errors.add("reason", _("Vui lòng nêu lý do."))
    errors.raise_if_any()
    redaction = ManualRedaction(question_id=question.id, phrase=phrase, reason=reason, actor_id=actor.id)
    db.session.add(redaction)
    db.session.flush()
    _reslug_if_it_shows(question, phrase)
    states.record_event(question, "redacted", actor=actor, actor_role="operator", note=reason)
    record_changed(question)
    return redaction


def _reslug_if_it_shows(question: Question, phrase: str) -> None:
    """The URL is public too: when the redacted phrase is in the slug, the question gets a new one
    from its redacted title (the old address stops working: personal data goes before a stable
    URL)."""
    folded = slugs.typed_slug(phrase, Question)
    if not folded or f"-{folded}-" not in f"-{question.slug}-":
        return
    title = load_redactor(question.id).text(question.title).replace(REPLACEMENT, " ")
    question.slug = slugs.unique_slug(Question, title, exclude_id=question.id)
    db.session.flush()


def set_visibility(message: Message, visibility: str, *, actor: User) -> None:
    require(is_operator(actor))
    if visibility not in {v.value for v in Visibility}:
        raise DomainError(_("Chế độ hiển thị không hợp lệ."))
    old = message.visibility
    message.visibility = visibility
    states.record_event(
        message.question, "message_visibility", actor=actor, actor_role="operator", note=f"{old}→{visibility}"
    )
    record_changed(message.question)


def set_hidden(question: Question, hidden: bool, *, actor: User, reason: str = "") -> None:
    require(is_operator(actor))
    question.hidden = hidden
    states.record_event(
        question, "hidden" if hidden else "shown", actor=actor, actor_role="operator", note=reason
    )
    record_changed(question)


def set_calendar_day(day: date, kind: str | None, note: str, *, actor: User) -> None:
    """Declare a bridge day off ('day_off') or a make-up working day ('working_day'); None
    removes the declaration. Deadlines already given stay as announced."""
    require(is_operator(actor))
    row = db.session.get(CalendarDay, day)
    if kind is None:
        if row is not None:
            db.session.delete(row)
        db.session.flush()
        return
    if kind not in ("day_off", "working_day"):
        raise DomainError(_("Loại ngày không hợp lệ."))
    if row is None:
        row = CalendarDay(day=day, kind=kind)
        db.session.add(row)
    row.kind, row.note, row.created_by_id = kind, (note or "").strip()[:200], actor.id
    db.session.flush()


# --- officials: invitations -----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_official(agency: Agency, email: str, *, actor: User) -> tuple[OfficialInvitation, str]:
    """Mail a single-use link; returns the invitation and the link."""
    from sellers.services import valid_email

    require(is_operator(actor))
    address = valid_email(email)
    if address is None:
        message = _("Địa chỉ email không hợp lệ.")
        raise DomainError(message, field_errors={"email": [message]})
    token = secrets.token_urlsafe(32)
    now = utcnow()
    days = int(current_app.config["INVITATION_MAX_AGE_DAYS"])
    invitation = db.session.scalar(
        select(OfficialInvitation).where(
            OfficialInvitation.agency_id == agency.id, OfficialInvitation.email == address
        )
    )
    if invitation is None:
        invitation = OfficialInvitation(agency_id=agency.id, email=address)
        db.session.add(invitation)
    invitation.invited_by_id = actor.id
    invitation.token_hash = _token_hash(token)
    invitation.accepted_at = None
    invitation.created_at = now
    invitation.expires_at = now + timedelta(days=days)
    db.session.flush()
    link = url_for("govqa.accept_invitation", token=token, _external=True)
    queue_mail(
        address,
        _("Lời mời trả lời câu hỏi của doanh nghiệp cho %(agency)s", agency=agency.name),
        "qa_official_invitation",
        agency=agency,
        link=link,
        days=days,
    )
    return invitation, link


def invitation_for_token(token: str) -> OfficialInvitation:
    invitation = db.session.scalar(
        select(OfficialInvitation).where(OfficialInvitation.token_hash == _token_hash(token or ""))
    )
    if invitation is None:
        raise NotFound(_("Không tìm thấy lời mời."))
    return invitation


def accept_invitation(invitation: OfficialInvitation, *, actor: User) -> Official:
    if invitation.accepted_at is not None:
        raise Forbidden(_("Lời mời này đã được sử dụng."))
    if invitation.expires_at <= utcnow():
        raise Forbidden(_("Lời mời này đã hết hạn."))
    if not actor.email_confirmed or actor.email != invitation.email:
        raise Forbidden(
            _("Lời mời này dành cho %(email)s. Vui lòng đăng nhập bằng địa chỉ đó.", email=invitation.email)
        )
    if actor.role not in (Role.BUYER.value, Role.AGENCY.value):
        raise Forbidden(_("Tài khoản này đã có vai trò khác; vui lòng dùng một tài khoản riêng."))
    consumed = db.session.execute(
        update(OfficialInvitation)
        .where(OfficialInvitation.id == invitation.id, OfficialInvitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rows_matched(consumed) != 1:
        raise Forbidden(_("Lời mời này đã được sử dụng."))
    official = db.session.scalar(select(Official).where(Official.user_id == actor.id))
    if official is None:
        official = Official(user_id=actor.id, agency_id=invitation.agency_id)
        db.session.add(official)
    official.agency_id, official.active = invitation.agency_id, True
    actor.role = Role.AGENCY.value
    db.session.flush()
    return official


def make_official(user: User, agency: Agency) -> Official:
    """An account made an official directly (demo, tests, the CLI)."""
    official = db.session.scalar(select(Official).where(Official.user_id == user.id))
    if official is None:
        official = Official(user_id=user.id, agency_id=agency.id)
        db.session.add(official)
    official.agency_id = agency.id
    user.role = Role.AGENCY.value
    db.session.flush()
    return official

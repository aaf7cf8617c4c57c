"""What askers, the operator and officials do with questions. Each function takes the actor,
checks they may, changes the models through govqa/states.py, records mail and index events in the
outbox, and never commits (the view, command or worker does, once)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import delete, select

from marketplace import outbox, slugs
from marketplace.errors import DomainError, Errors, Forbidden
from marketplace.extensions import db
from marketplace.mail import queue_mail
from marketplace.models import OutboxEvent, Role, User
from marketplace.permissions import is_operator
from marketplace.timeutil import floor_timezone, local_today, utcnow

from . import states
from .attachments import store_attachment
from .calendar import Calendar, load_calendar
from .html import clean_html, html_to_text
from .models import (
    Agency,
    BusinessProfile,
    Contribution,
    Follow,
    Message,
    MessageKind,
    Official,
    Question,
    QuestionEvent,
    QuestionState,
    Rating,
    Visibility,
)
from .redaction import REPLACEMENT, load_redactor

S = QuestionState
CHANGED_TOPIC = "qa.question.changed"  # the search index and the feeds listen
REMINDER_TOPIC = "qa.reminder"
MAX_ATTACHMENTS = 5
REMIND_BEFORE_WORKING_DAYS = 3
TITLE_MAX = 200
BODY_MAX = 20_000

TOPICS: dict[str, LazyString] = {
    "tax": _l("Thuế"),
    "food_safety": _l("An toàn thực phẩm"),
    "ocop": _l("Chứng nhận OCOP"),
    "land": _l("Đất đai"),
    "customs": _l("Hải quan, xuất nhập khẩu"),
    "ecommerce": _l("Thương mại điện tử"),
    "labour": _l("Lao động, bảo hiểm"),
    "business_registration": _l("Đăng ký kinh doanh"),
    "other": _l("Khác"),
}
REJECT_KINDS = ("out_of_scope", "duplicate", "abusive")

_TAX_CODE = re.compile(r"\d{10}(-\d{3})?")


def topic_label(topic: str) -> str:
    return str(TOPICS[topic]) if topic in TOPICS else topic


# --- who may do what -------------------------------------------------------------------------


def official_of(user: User | None) -> Official | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return db.session.scalar(select(Official).where(Official.user_id == user.id, Official.active.is_(True)))


def is_official_for(user: User | None, agency_id: int | None) -> bool:
    official = official_of(user)
    return official is not None and agency_id is not None and official.agency_id == agency_id


def contributes(user: User | None, question: Question) -> bool:
    official = official_of(user)
    return official is not None and (
        db.session.scalar(
            select(Contribution.id).where(
                Contribution.question_id == question.id, Contribution.agency_id == official.agency_id
            )
        )
        is not None
    )


def is_asker(user: User | None, question: Question) -> bool:
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and question.asker_id == user.id
    )


def is_staff_for(user: User | None, question: Question) -> bool:
    """The operator, the answering agency's officials, and a contributing agency's."""
    return is_operator(user) or is_official_for(user, question.agency_id) or contributes(user, question)


def is_public(question: Question) -> bool:
    return question.state in states.PUBLIC and not question.hidden


def can_view(user: User | None, question: Question) -> bool:
    return is_public(question) or is_asker(user, question) or is_staff_for(user, question)


def can_see_original(user: User | None, question: Question) -> bool:
    """The unredacted texts: the asker and staff only."""
    return is_asker(user, question) or is_staff_for(user, question)


def visible_messages(user: User | None, question: Question) -> list[Message]:
    staff = is_staff_for(user, question)
    asker = is_asker(user, question)
    out = []
    for message in question.messages:
        if (
            (message.visibility == Visibility.PUBLIC.value and is_public(question))
            or (message.visibility in (Visibility.PUBLIC.value, Visibility.ASKER.value) and (asker or staff))
            or staff
        ):
            out.append(message)
    return out


def require(condition: bool, message: str | None = None) -> None:
    if not condition:
        raise Forbidden(message or _("Bạn không có quyền thực hiện thao tác này."))


def require_official(question: Question, actor: User) -> Official:
    official = official_of(actor)
    require(
        official is not None and official.agency_id == question.agency_id,
        _("Chỉ cán bộ của cơ quan được giao câu hỏi mới thực hiện được thao tác này."),
    )
    assert official is not None
    return official


# --- who may ask ----------------------------------------------------------------------------------


def normalize_tax_code(raw: str | None) -> str:
    text = re.sub(r"[\s.]", "", raw or "")
    if re.fullmatch(r"\d{13}", text):
        text = f"{text[:10]}-{text[10:]}"
    return text


def tax_code_problem(code: str) -> str | None:
    """Format only: 10 digits, or 10 + "-" + 3 for a branch. The check digit is not verified: its
    rule is not confirmed here (as in sellers/services.py); the operator's moderation catches a
    wrong code."""
    if _TAX_CODE.fullmatch(code or ""):
        return None
    return _("Mã số thuế gồm 10 chữ số; chi nhánh thêm dấu gạch ngang và 3 chữ số (ví dụ 3001234567-001).")


def asker_identity(user: User | None) -> tuple[str, str | None, int | None] | None:
    """(business name, tax code, shop id) the user asks for: the first approved shop they own,
    else their business profile; None when they may not ask."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    from sellers.models import Shop, ShopMember, ShopStatus

    shop = db.session.scalar(
        select(Shop)
        .join(ShopMember, ShopMember.shop_id == Shop.id)
        .where(
            ShopMember.user_id == user.id,
            ShopMember.role == "owner",
            Shop.status == ShopStatus.APPROVED.value,
        )
        .order_by(Shop.id)
        .limit(1)
    )
    if shop is not None:
        return shop.name, shop.tax_code, shop.id
    profile = db.session.scalar(select(BusinessProfile).where(BusinessProfile.user_id == user.id))
    if profile is not None:
        return profile.business_name, profile.tax_code, None
    return None


def register_business(user: User, *, business_name: str, tax_code: str) -> BusinessProfile:
    errors = Errors()
    name = (business_name or "").strip()
    if not name:
        errors.add("business_name", _("Vui lòng nhập tên doanh nghiệp."))
    elif len(name) > 200:
        errors.add("business_name", _("Tên doanh nghiệp tối đa 200 ký tự."))
    code = normalize_tax_code(tax_code)
    problem = tax_code_problem(code)
    if problem:
        errors.add("tax_code", problem)
    errors.raise_if_any()
    profile = db.session.scalar(select(BusinessProfile).where(BusinessProfile.user_id == user.id))
    if profile is None:
        profile = BusinessProfile(user_id=user.id, business_name=name, tax_code=code)
        db.session.add(profile)
    else:
        profile.business_name, profile.tax_code = name, code
    db.session.flush()
    return profile


# --- asking -------------------------------------------------------------------------------------------


def _question_fields(data: dict, errors: Errors) -> dict:
    title = " ".join((data.get("title") or "").split())
    body = (data.get("body") or "").strip()
    topic = data.get("topic") or ""
    if not title:
        errors.add("title", _("Vui lòng nhập tiêu đề câu hỏi."))
    elif len(title) > TITLE_MAX:
        errors.add("title", _("Tiêu đề tối đa %(n)d ký tự.", n=TITLE_MAX))
    if not body:
        errors.add("body", _("Vui lòng nhập nội dung câu hỏi."))
    elif len(body) > BODY_MAX:
        errors.add("body", _("Nội dung tối đa %(n)d ký tự.", n=BODY_MAX))
    if topic not in TOPICS:
        errors.add("topic", _("Vui lòng chọn lĩnh vực."))
    return {"title": title, "body": clean_html(body), "topic": topic}


def submit_question(data: dict, *, actor: User, files: list[tuple[str, bytes]] | None = None) -> Question:
    """`data`: title, body, topic, agency_id (None: "not sure"), show_asker_name."""
    identity = asker_identity(actor)
    require(
        identity is not None,
        _("Chỉ chủ cửa hàng hoặc doanh nghiệp đã khai mã số thuế mới gửi được câu hỏi."),
    )
    assert identity is not None
    errors = Errors()
    fields = _question_fields(data, errors)
    agency = None
    if data.get("agency_id"):
        agency = db.session.get(Agency, int(data["agency_id"]))
        if agency is None or not agency.active:
            errors.add("agency_id", _("Cơ quan không hợp lệ."))
    files = [f for f in (files or []) if f[1]]
    if len(files) > MAX_ATTACHMENTS:
        errors.add("attachments", _("Tối đa %(n)d tệp đính kèm.", n=MAX_ATTACHMENTS))
    errors.raise_if_any()
    business_name, tax_code, shop_id = identity
    question = Question(
        # From the redacted title: a URL is public, and outlives any later edit of the title.
        slug=slugs.unique_slug(Question, load_redactor().text(fields["title"]).replace(REPLACEMENT, " ")),
        agency_id=agency.id if agency else None,
        topic=fields["topic"],
        title=fields["title"],
        body=fields["body"],
        asker_id=actor.id,
        asker_name=actor.full_name,
        business_name=business_name,
        tax_code=tax_code,
        shop_id=shop_id,
        show_asker_name=bool(data.get("show_asker_name")),
        state=S.SUBMITTED.value,
        submitted_at=utcnow(),
    )
    db.session.add(question)
    db.session.flush()
    for filename, blob in files:
        store_attachment(question, filename, blob, actor=actor)
    states.record_event(question, "submitted", actor=actor, actor_role="asker", to_state=S.SUBMITTED.value)
    db.session.add(Follow(question_id=question.id, user_id=actor.id))
    db.session.flush()
    _notify_operators(question, _("Câu hỏi mới chờ kiểm duyệt: %(title)s", title=question.title))
    return question


# --- the clock ---------------------------------------------------------------------------------------


def start_clock(question: Question, agency: Agency, start: date, calendar: Calendar | None = None) -> dict:
    calendar = calendar or load_calendar()
    days = agency.working_days
    return {
        "clock_started_on": start,
        "working_days_allowed": days,
        "due_on": calendar.add_working_days(start, days),
        "long_due_on": calendar.add_working_days(start, 2 * days),
    }


def _schedule_reminders(question: Question) -> None:
    """Reminders to the agency: a few working days before the deadline, the day after it, and
    the day after twice the time. Each is an outbox row due then; its handler does nothing if the
    question has moved on or its deadline changed meanwhile."""
    if question.due_on is None:
        return
    calendar = load_calendar()
    before = question.due_on
    for _i in range(REMIND_BEFORE_WORKING_DAYS):
        before -= timedelta(days=1)
        while not calendar.is_working_day(before):
            before -= timedelta(days=1)
    plan = [("before", before), ("overdue", question.due_on + timedelta(days=1))]
    if question.long_due_on is not None:
        plan.append(("long_overdue", question.long_due_on + timedelta(days=1)))
    for kind, day in plan:
        key = f"{REMINDER_TOPIC}:{question.id}:{question.due_on.isoformat()}:{kind}"
        if db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.idempotency_key == key)) is not None:
            continue  # the same deadline again (a clock restarted on the same day)
        event = outbox.record(
            REMINDER_TOPIC,
            {"question_id": question.id, "kind": kind, "due_on": question.due_on.isoformat()},
            key=key,
        )
        event.next_attempt_at = _morning_utc(day)


def _morning_utc(day: date) -> datetime:
    """08:00 on `day` where the floor is, as naive UTC."""
    local = datetime.combine(day, time(8, 0), tzinfo=floor_timezone())
    return local.astimezone(UTC).replace(tzinfo=None)


# --- the operator's moderation ------------------------------------------------------------------


def accept_question(question: Question, agency: Agency, *, actor: User) -> None:
    """Accept a submitted question (or route one an agency said was not theirs) to `agency`;
    the clock starts from today (the period runs from tomorrow)."""
    require(is_operator(actor))
    if not agency.active:
        raise DomainError(_("Cơ quan này không còn hoạt động."))
    clock = start_clock(question, agency, local_today())
    states.transition(
        question,
        S.AWAITING_ANSWER.value,
        actor=actor,
        actor_role="operator",
        action="routed",
        agency_id=agency.id,
        **clock,
    )
    question.agency_id = agency.id
    question.agency = agency
    db.session.flush()
    _schedule_reminders(question)
    _notify(
        question,
        actor,
        _("Câu hỏi của bạn đã được chuyển tới %(agency)s", agency=agency.name),
        _(
            "Câu hỏi đã được tiếp nhận và chuyển tới %(agency)s. Hạn trả lời: %(due)s.",
            agency=agency.name,
            due=question.due_on.strftime("%d/%m/%Y") if question.due_on else "",
        ),
    )
    _notify_agency(question, agency, _("Câu hỏi mới được giao: %(title)s", title=question.title))
    record_changed(question)


def ask_clarification(question: Question, text: str, *, actor: User) -> Message:
    """The operator (while moderating) or the answering agency asks the asker for more."""
    if question.state == S.SUBMITTED.value:
        require(is_operator(actor))
        role = "operator"
    else:
        require_official(question, actor)
        role = "official"
    body = _required_html(text, "text")
    states.transition(
        question,
        S.AWAITING_CLARIFICATION.value,
        actor=actor,
        actor_role=role,
        action="clarification_requested",
    )
    message = _message(question, MessageKind.CLARIFICATION_REQUEST, body, actor, Visibility.ASKER)
    _notify(question, actor, _("Cần bổ sung thông tin cho câu hỏi của bạn"), html_to_text(body))
    record_changed(question)
    return message


def answer_clarification(question: Question, text: str, *, actor: User) -> Message:
    """The asker answers; the question goes back to whoever asked (moderation, or the agency,
    whose clock then starts again from today)."""
    require(is_asker(actor, question))
    body = _required_html(text, "text")
    if question.agency_id is not None and question.due_on is not None:
        agency = question.agency or db.session.get(Agency, question.agency_id)
        assert agency is not None
        clock = start_clock(question, agency, local_today())
        states.transition(
            question, S.AWAITING_ANSWER.value, actor=actor, actor_role="asker", action="clarified", **clock
        )
        _schedule_reminders(question)
        _notify_agency(question, agency, _("Người hỏi đã bổ sung thông tin: %(title)s", title=question.title))
    else:
        states.transition(question, S.SUBMITTED.value, actor=actor, actor_role="asker", action="clarified")
        _notify_operators(question, _("Người hỏi đã bổ sung thông tin: %(title)s", title=question.title))
    message = _message(question, MessageKind.CLARIFICATION, body, actor, Visibility.ASKER)
    record_changed(question)
    return message


def reject_question(
    question: Question, kind: str, reason: str, *, actor: User, duplicate_of: Question | None = None
) -> None:
    """Out of scope, a duplicate (linking the earlier question), or abusive: with a reason the
    asker sees."""
    require(is_operator(actor))
    errors = Errors()
    reason = (reason or "").strip()
    if kind not in REJECT_KINDS:
        errors.add("kind", _("Vui lòng chọn lý do từ chối."))
    if not reason:
        errors.add("reason", _("Vui lòng nêu lý do để người hỏi được biết."))
    if kind == "duplicate" and (duplicate_of is None or duplicate_of.id == question.id):
        errors.add("duplicate_of", _("Vui lòng chỉ ra câu hỏi đã có."))
    errors.raise_if_any()
    states.transition(
        question,
        S.REJECTED.value,
        actor=actor,
        actor_role="operator",
        action=f"rejected_{kind}",
        note=reason,
        reject_kind=kind,
        state_reason=reason,
        duplicate_of_id=duplicate_of.id if kind == "duplicate" and duplicate_of else None,
        closed_at=utcnow(),
    )
    _notify(question, actor, _("Câu hỏi của bạn không được tiếp nhận"), reason)
    record_changed(question)


def withdraw(question: Question, *, actor: User) -> None:
    require(is_asker(actor, question))
    states.transition(
        question, S.WITHDRAWN.value, actor=actor, actor_role="asker", action="withdrawn", closed_at=utcnow()
    )
    _notify(question, actor, _("Câu hỏi đã được rút lại"), question.title)
    record_changed(question)


# --- the agency's side ----------------------------------------------------------------------------


def answer_question(
    question: Question, text: str, *, actor: User, files: list[tuple[str, bytes]] | None = None
) -> Message:
    official = require_official(question, actor)
    body = _required_html(text, "body")
    files = [f for f in (files or []) if f[1]]
    if len(files) > MAX_ATTACHMENTS:
        raise DomainError(_("Tối đa %(n)d tệp đính kèm.", n=MAX_ATTACHMENTS))
    states.transition(
        question,
        S.ANSWERED.value,
        actor=actor,
        actor_role="official",
        action="answered",
        agency_id=official.agency_id,
        answered_at=utcnow(),
        closed_at=utcnow(),
    )
    message = _message(
        question, MessageKind.ANSWER, body, actor, Visibility.PUBLIC, agency_id=official.agency_id
    )
    for filename, blob in files:
        store_attachment(question, filename, blob, actor=actor, message=message)
    _notify(question, actor, _("Câu hỏi của bạn đã được trả lời"), html_to_text(body))
    record_changed(question)
    return message


def request_contribution(question: Question, agency: Agency, note: str, *, actor: User) -> Contribution:
    """Ask a colleague agency to contribute: its officials may read the question and add a note
    for the answering agency (staff only)."""
    official = require_official(question, actor)
    require(question.state in states.WITH_AGENCY, _("Câu hỏi không còn chờ trả lời."))
    if agency.id == official.agency_id:
        raise DomainError(_("Vui lòng chọn một cơ quan khác."))
    existing = db.session.scalar(
        select(Contribution).where(
            Contribution.question_id == question.id, Contribution.agency_id == agency.id
        )
    )
    contribution = existing or Contribution(question_id=question.id, agency_id=agency.id)
    db.session.add(contribution)
    body = _required_html(note, "note")
    _message(
        question,
        MessageKind.CONTRIBUTION_REQUEST,
        body,
        actor,
        Visibility.STAFF,
        agency_id=official.agency_id,
    )
    states.record_event(
        question,
        "contribution_requested",
        actor=actor,
        actor_role="official",
        agency_id=agency.id,
        note=agency.name,
    )
    _notify_agency(question, agency, _("Đề nghị phối hợp trả lời: %(title)s", title=question.title))
    return contribution


def contribute(question: Question, text: str, *, actor: User) -> Message:
    require(contributes(actor, question), _("Cơ quan của bạn không được đề nghị phối hợp."))
    official = official_of(actor)
    assert official is not None
    body = _required_html(text, "body")
    message = _message(
        question, MessageKind.CONTRIBUTION, body, actor, Visibility.STAFF, agency_id=official.agency_id
    )
    states.record_event(
        question, "contributed", actor=actor, actor_role="official", agency_id=official.agency_id
    )
    if question.agency is not None:
        _notify_agency(
            question, question.agency, _("Cơ quan phối hợp đã góp ý: %(title)s", title=question.title)
        )
    return message


def transfer_question(question: Question, agency: Agency, reason: str, *, actor: User) -> None:
    """To another agency, with a reason; the clock restarts if the receiving agency says so."""
    official = require_official(question, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Vui lòng nêu lý do chuyển."), field_errors={"reason": [_("Vui lòng nêu lý do chuyển.")]}
        )
    if agency.id == official.agency_id or not agency.active:
        raise DomainError(_("Vui lòng chọn một cơ quan khác."))
    clock = start_clock(question, agency, local_today()) if agency.transfer_restarts_clock else {}
    states.transition(
        question,
        S.TRANSFERRED.value,
        actor=actor,
        actor_role="official",
        action="transferred",
        note=reason,
        agency_id=agency.id,
        state_reason=reason,
        **clock,
    )
    question.agency_id = agency.id
    question.agency = agency
    db.session.flush()
    if clock:
        _schedule_reminders(question)
    _notify(
        question,
        actor,
        _("Câu hỏi của bạn đã được chuyển tới %(agency)s", agency=agency.name),
        reason,
    )
    _notify_agency(
        question, agency, _("Câu hỏi được chuyển tới cơ quan bạn: %(title)s", title=question.title)
    )
    record_changed(question)


def not_our_remit(question: Question, reason: str, *, actor: User) -> None:
    official = require_official(question, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Vui lòng nêu lý do."), field_errors={"reason": [_("Vui lòng nêu lý do.")]})
    states.transition(
        question,
        S.NOT_OUR_REMIT.value,
        actor=actor,
        actor_role="official",
        action="not_our_remit",
        note=reason,
        agency_id=official.agency_id,
        state_reason=reason,
    )
    _notify(question, actor, _("Cơ quan cho biết câu hỏi không thuộc thẩm quyền"), reason)
    _notify_operators(question, _("Câu hỏi cần chuyển cơ quan khác: %(title)s", title=question.title))
    record_changed(question)


# --- following and rating ---------------------------------------------------------------------------


def follow(question: Question, *, actor: User) -> None:
    require(can_view(actor, question))
    exists = db.session.scalar(
        select(Follow.id).where(Follow.question_id == question.id, Follow.user_id == actor.id)
    )
    if exists is None:
        db.session.add(Follow(question_id=question.id, user_id=actor.id))
        db.session.flush()


def unfollow(question: Question, *, actor: User) -> None:
    db.session.execute(delete(Follow).where(Follow.question_id == question.id, Follow.user_id == actor.id))


def is_following(user: User | None, question: Question) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(Follow.id).where(Follow.question_id == question.id, Follow.user_id == user.id)
        )
        is not None
    )


def rate(question: Question, useful: bool, *, actor: User) -> Rating:
    require(can_view(actor, question))
    if question.state != S.ANSWERED.value:
        raise DomainError(_("Chỉ đánh giá được câu hỏi đã có trả lời."))
    rating = db.session.scalar(
        select(Rating).where(Rating.question_id == question.id, Rating.user_id == actor.id)
    )
    if rating is None:
        rating = Rating(question_id=question.id, user_id=actor.id, useful=useful)
        db.session.add(rating)
    else:
        rating.useful = useful
    db.session.flush()
    return rating


# --- messages, mail and events ----------------------------------------------------------------------


def _required_html(text: str | None, field: str) -> str:
    body = clean_html(text)
    if not html_to_text(body):
        message = _("Vui lòng nhập nội dung.")
        raise DomainError(message, field_errors={field: [message]})
    return body


def _message(
    question: Question,
    kind: MessageKind,
    body: str,
    actor: User,
    visibility: Visibility,
    agency_id: int | None = None,
) -> Message:
    message = Message(
        question_id=question.id,
        kind=kind.value,
        author_id=actor.id,
        agency_id=agency_id,
        body_html=body,
        visibility=visibility.value,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _link(question: Question) -> str:
    return url_for("govqa.question", slug=question.slug, _external=True)


def _notify(question: Question, actor: User | None, subject: str, text: str) -> None:
    """The asker and every follower, except whoever did it. Followers who are neither the asker
    nor staff read only what is public: they get the news without the text."""
    event_id = db.session.scalar(
        select(QuestionEvent.id)
        .where(QuestionEvent.question_id == question.id)
        .order_by(QuestionEvent.id.desc())
    )
    followers = db.session.scalars(
        select(User).join(Follow, Follow.user_id == User.id).where(Follow.question_id == question.id)
    ).all()
    recipients = {u.id: u for u in followers}
    if question.asker is not None:
        recipients[question.asker.id] = question.asker
    for user in recipients.values():
        if (actor is not None and user.id == actor.id) or not user.active or user.deleted_at is not None:
            continue
        private = can_see_original(user, question)
        if not private and not is_public(question):
            continue
        queue_mail(
            user.email,
            subject,
            "qa_update",
            key=f"qa-mail:{event_id}:{user.id}",
            user=user,
            title=question.title if private else _public_title(question),
            text=text if private else "",
            state=states.label(question.state),
            link=_link(question),
        )


def _public_title(question: Question) -> str:
    from .redaction import load_redactor

    return load_redactor(question.id).text(question.title)


def _notify_agency(question: Question, agency: Agency, subject: str) -> None:
    officials = db.session.scalars(
        select(Official).where(Official.agency_id == agency.id, Official.active.is_(True))
    ).all()
    for official in officials:
        queue_mail(
            official.user.email,
            subject,
            "qa_agency",
            user=official.user,
            question=question,
            due=question.due_on.strftime("%d/%m/%Y") if question.due_on else "",
            link=url_for("govqa_official.question", question_id=question.id, _external=True),
        )


def _notify_operators(question: Question, subject: str) -> None:
    operators = db.session.scalars(
        select(User).where(User.role == Role.OPERATOR.value, User.active.is_(True))
    ).all()
    for operator in operators:
        queue_mail(
            operator.email,
            subject,
            "qa_agency",
            user=operator,
            question=question,
            due="",
            link=url_for("govqa_operator.question", question_id=question.id, _external=True),
        )


def record_changed(question: Question) -> None:
    """The question's public face may have changed: the search index and feeds update."""
    outbox.record(CHANGED_TOPIC, {"question_id": question.id})


def record_all_changed() -> None:
    outbox.record(CHANGED_TOPIC, {"all": True})


# --- the reminders handler (worker) ---------------------------------------------------------------


def on_reminder(payload: dict, event) -> None:
    question = db.session.get(Question, int(payload["question_id"]))
    if question is None or question.state not in states.WITH_AGENCY or question.due_on is None:
        return
    if question.due_on.isoformat() != payload.get("due_on") or question.agency is None:
        return  # the deadline changed since (a transfer, a clarification): another reminder is due
    kind = payload.get("kind")
    if kind == "before":
        subject = _(
            "Sắp đến hạn trả lời (%(due)s): %(title)s",
            due=question.due_on.strftime("%d/%m/%Y"),
            title=question.title,
        )
    elif kind == "overdue":
        subject = _("Đã quá hạn trả lời: %(title)s", title=question.title)
    else:
        subject = _("Quá hạn gấp đôi thời gian: %(title)s", title=question.title)
    _notify_agency(question, question.agency, subject)

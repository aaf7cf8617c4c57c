"""The question state machine: which moves are legal, and the one function that makes them.

submitted → (operator) awaiting_answer | awaiting_clarification | rejected;
awaiting_answer / transferred → (official) answered | awaiting_clarification | transferred |
not_our_remit; awaiting_clarification → (asker) submitted (back to moderation) or awaiting_answer
(when an agency asked); not_our_remit → (operator) awaiting_answer (routed elsewhere) | rejected;
the asker withdraws any open question. answered, rejected and withdrawn are final.

"Overdue" and "long overdue" are never stored: `timeliness()` reads them from the deadline and
today. Each move is a conditional UPDATE on the current state (two people pressing buttons at
once cannot both win) and a qa_events row with the actor, their role and the time."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.errors import Conflict
from marketplace.extensions import db, rows_matched
from marketplace.models import User
from marketplace.timeutil import local_today, utcnow

from .models import Question, QuestionEvent, QuestionState

S = QuestionState

TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED.value: frozenset(
        {S.AWAITING_ANSWER.value, S.AWAITING_CLARIFICATION.value, S.REJECTED.value, S.WITHDRAWN.value}
    ),
    S.AWAITING_CLARIFICATION.value: frozenset(
        {S.SUBMITTED.value, S.AWAITING_ANSWER.value, S.WITHDRAWN.value}
    ),
    S.AWAITING_ANSWER.value: frozenset(
        {
            S.ANSWERED.value,
            S.AWAITING_CLARIFICATION.value,
            S.TRANSFERRED.value,
            S.NOT_OUR_REMIT.value,
            S.WITHDRAWN.value,
        }
    ),
    # Transferred: waiting for the receiving agency, which acts as on awaiting_answer.
    S.TRANSFERRED.value: frozenset(
        {
            S.ANSWERED.value,
            S.AWAITING_CLARIFICATION.value,
            S.TRANSFERRED.value,
            S.NOT_OUR_REMIT.value,
            S.WITHDRAWN.value,
        }
    ),
    S.NOT_OUR_REMIT.value: frozenset({S.AWAITING_ANSWER.value, S.REJECTED.value, S.WITHDRAWN.value}),
    S.ANSWERED.value: frozenset(),
    S.REJECTED.value: frozenset(),
    S.WITHDRAWN.value: frozenset(),
}

# With an agency, the clock running.
WITH_AGENCY = frozenset({S.AWAITING_ANSWER.value, S.TRANSFERRED.value})
# Not finished: the asker may withdraw, followers hear of changes.
OPEN = frozenset(state for state, moves in TRANSITIONS.items() if moves)
FINAL = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
# Which finished questions the public sees (with their answer or the agency's word).
PUBLIC = frozenset({S.ANSWERED.value, S.NOT_OUR_REMIT.value, S.AWAITING_ANSWER.value, S.TRANSFERRED.value})

LABELS = {
    S.SUBMITTED.value: _l("Đã gửi, chờ kiểm duyệt"),
    S.AWAITING_CLARIFICATION.value: _l("Chờ bổ sung thông tin"),
    S.AWAITING_ANSWER.value: _l("Chờ cơ quan trả lời"),
    S.ANSWERED.value: _l("Đã trả lời"),
    S.TRANSFERRED.value: _l("Đã chuyển cơ quan khác"),
    S.NOT_OUR_REMIT.value: _l("Không thuộc thẩm quyền"),
    S.REJECTED.value: _l("Bị từ chối"),
    S.WITHDRAWN.value: _l("Đã rút lại"),
}

OVERDUE = "overdue"
LONG_OVERDUE = "long_overdue"
ON_TIME = "on_time"
TIMELINESS_LABELS = {
    ON_TIME: _l("Trong hạn"),
    OVERDUE: _l("Quá hạn"),
    LONG_OVERDUE: _l("Quá hạn nghiêm trọng"),
}


def label(state: str) -> str:
    return str(LABELS.get(state, state))


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def timeliness(question: Question, today: date | None = None) -> str | None:
    """Computed, never stored: None when no clock runs (not routed, or finished); "on_time";
    "overdue" after the due date; "long_overdue" after twice the time."""
    if question.state not in WITH_AGENCY or question.due_on is None:
        return None
    today = today or local_today()
    if question.long_due_on is not None and today > question.long_due_on:
        return LONG_OVERDUE
    if today > question.due_on:
        return OVERDUE
    return ON_TIME


def transition(
    question: Question,
    target: str,
    *,
    actor: User | None,
    actor_role: str,
    action: str,
    note: str | None = None,
    agency_id: int | None = None,
    **changes,
) -> QuestionEvent:
    """Move `question` to `target` (with other columns in the same UPDATE) or raise Conflict."""
    current = question.state
    if not can_transition(current, target):
        raise Conflict(
            _(
                "Không thể chuyển câu hỏi từ “%(a)s” sang “%(b)s”.",
                a=label(current),
                b=label(target),
            )
        )
    now = utcnow()
    result = db.session.execute(
        update(Question)
        .where(Question.id == question.id, Question.state == current)
        .values(state=target, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if rows_matched(result) != 1:
        db.session.refresh(question)
        raise Conflict(
            _("Câu hỏi vừa được cập nhật (%(state)s). Vui lòng tải lại trang.", state=label(question.state))
        )
    for key, value in {"state": target, "updated_at": now, **changes}.items():
        set_committed_value(question, key, value)
    return record_event(
        question,
        action,
        actor=actor,
        actor_role=actor_role,
        note=note,
        from_state=current,
        to_state=target,
        agency_id=agency_id,
    )


def record_event(
    question: Question,
    action: str,
    *,
    actor: User | None,
    actor_role: str,
    note: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    agency_id: int | None = None,
) -> QuestionEvent:
    event = QuestionEvent(
        question_id=question.id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor_role,
        agency_id=agency_id,
        note=note,
    )
    db.session.add(event)
    db.session.flush()
    return event

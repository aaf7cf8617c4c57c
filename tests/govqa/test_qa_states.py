"""The question state machine: every legal move made, every illegal one refused; overdue and
long overdue computed from the deadline, never stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from govqa import states
from govqa.models import Question, QuestionEvent, QuestionState
from marketplace.errors import Conflict
from marketplace.extensions import db

ALL = [s.value for s in QuestionState]
LEGAL = {
    ("submitted", "awaiting_answer"),
    ("submitted", "awaiting_clarification"),
    ("submitted", "rejected"),
    ("submitted", "withdrawn"),
    ("awaiting_clarification", "submitted"),
    ("awaiting_clarification", "awaiting_answer"),
    ("awaiting_clarification", "withdrawn"),
    ("awaiting_answer", "answered"),
    ("awaiting_answer", "awaiting_clarification"),
    ("awaiting_answer", "transferred"),
    ("awaiting_answer", "not_our_remit"),
    ("awaiting_answer", "withdrawn"),
    ("transferred", "answered"),
    ("transferred", "awaiting_clarification"),
    ("transferred", "transferred"),
    ("transferred", "not_our_remit"),
    ("transferred", "withdrawn"),
    ("not_our_remit", "awaiting_answer"),
    ("not_our_remit", "rejected"),
    ("not_our_remit", "withdrawn"),
}


def test_the_table_is_what_the_issue_says():
    assert {(a, b) for a, moves in states.TRANSITIONS.items() for b in moves} == LEGAL
    assert set(states.TRANSITIONS) == set(ALL)
    assert {"answered", "rejected", "withdrawn"} == states.FINAL


def _question(state: str, n: int) -> Question:
    question = Question(
        slug=f"q-{n}",
        topic="tax",
        title="Câu hỏi",
        body="<p>Nội dung</p>",
        asker_name="A",
        business_name="B",
        state=state,
    )
    db.session.add(question)
    db.session.flush()
    return question


@pytest.mark.parametrize("current", ALL)
def test_every_move_from(app, current):
    for n, target in enumerate(ALL):
        question = _question(current, n)
        if (current, target) in LEGAL:
            event = states.transition(question, target, actor=None, actor_role="system", action="test")
            assert question.state == target
            assert (event.from_state, event.to_state, event.actor_role) == (current, target, "system")
            db.session.refresh(question)
            assert question.state == target
        else:
            with pytest.raises(Conflict):
                states.transition(question, target, actor=None, actor_role="system", action="test")
            db.session.refresh(question)
            assert question.state == current
    db.session.rollback()


def test_a_stale_copy_loses(app):
    question = _question("awaiting_answer", 1)
    db.session.commit()
    db.session.execute(
        Question.__table__.update().where(Question.id == question.id).values(state="withdrawn")
    )
    with pytest.raises(Conflict):
        states.transition(question, "answered", actor=None, actor_role="official", action="answered")
    assert question.state == "withdrawn"
    assert db.session.scalar(select(QuestionEvent.id).where(QuestionEvent.action == "answered")) is None


def test_overdue_and_long_overdue_are_computed(app):
    question = _question("awaiting_answer", 1)
    question.due_on, question.long_due_on = date(2027, 3, 1), date(2027, 3, 29)
    assert states.timeliness(question, date(2027, 3, 1)) == states.ON_TIME
    assert states.timeliness(question, date(2027, 3, 2)) == states.OVERDUE
    assert states.timeliness(question, date(2027, 3, 29)) == states.OVERDUE
    assert states.timeliness(question, date(2027, 3, 30)) == states.LONG_OVERDUE
    question.state = "answered"
    assert states.timeliness(question, date(2027, 3, 30)) is None
    question.state, question.due_on = "submitted", None
    assert states.timeliness(question, date(2027, 3, 30)) is None

"""The agencies' figures on a small example computed by hand."""

from __future__ import annotations

from datetime import date, datetime

from qa_testlib import agency, ask, business_asker

from govqa import services, stats
from govqa.models import QuestionState
from marketplace.extensions import db


def _routed(asker, operator, of, started: date, **fields):
    question = ask(asker, title=f"Câu hỏi {started} {len(fields)} {fields.get('answered_at')}", topic="tax")
    services.accept_question(question, of, actor=operator)
    clock = services.start_clock(question, of, started)
    for key, value in {**clock, **fields}.items():
        setattr(question, key, value)
    db.session.commit()
    return question


def test_figures_by_hand(app, factory):
    operator = factory.operator()
    tax = agency("Thuế tỉnh")
    asker = business_asker(factory)
    answered = QuestionState.ANSWERED.value
    start = date(2027, 3, 1)  # a Monday; March 2027 has no holiday; due on the 20th working day: Mon 29
    assert services.start_clock(None, tax, start)["due_on"] == date(2027, 3, 29)
    # Answered Fri 5 Mar (4 working days), Wed 10 Mar (7), Wed 31 Mar (22, late); and one answered at
    # 20:00 UTC on Mon 29 Mar — 03:00 on Tue 30 Mar where the floor is: late, 21 working days.
    for moment in (
        datetime(2027, 3, 5, 3),
        datetime(2027, 3, 10, 3),
        datetime(2027, 3, 31, 3),
        datetime(2027, 3, 29, 20),
    ):
        _routed(asker, operator, tax, start, state=answered, answered_at=moment)
    # Still waiting: one past its deadline (started 1 Feb 2027, Tết in between), one not.
    _routed(asker, operator, tax, date(2027, 2, 1))
    _routed(asker, operator, tax, date(2027, 3, 29))
    figures = stats.figures([tax], today=date(2027, 4, 2))[tax.id]
    assert (figures.received, figures.answered, figures.answered_on_time) == (6, 4, 2)
    assert figures.on_time_percent == 50
    assert figures.median_working_days == 14.0  # median of 4, 7, 21, 22: (7 + 21) / 2
    assert (figures.open_now, figures.overdue_now) == (2, 1)
    march = next(m for m in figures.months if m.month == "2027-03")
    assert (march.received, march.answered, march.on_time) == (5, 4, 2)

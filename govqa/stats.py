"""The figures people judge agencies by: questions received, answered, answered on time (%),
median working days to answer, now overdue, and the same by month.

"Received": questions whose clock this agency runs or ran (routed or transferred to it, and
not taken back); "on time": answered on or before the due date (the floor's calendar day);
working days to answer: counted from the day after the clock started (Civil Code art. 147),
with the same calendar as the deadlines."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.timeutil import local_date, local_today

from . import states
from .calendar import Calendar, load_calendar
from .models import Agency, Question, QuestionState

S = QuestionState


@dataclass
class Month:
    month: str  # YYYY-MM
    received: int = 0
    answered: int = 0
    on_time: int = 0


@dataclass
class Figures:
    agency_id: int
    received: int = 0
    answered: int = 0
    answered_on_time: int = 0
    overdue_now: int = 0
    open_now: int = 0
    median_working_days: float | None = None
    months: list[Month] = field(default_factory=list)

    @property
    def on_time_percent(self) -> int | None:
        return round(100 * self.answered_on_time / self.answered) if self.answered else None

    def as_json(self) -> dict:
        return {
            "received": self.received,
            "answered": self.answered,
            "answered_on_time": self.answered_on_time,
            "answered_on_time_percent": self.on_time_percent,
            "median_working_days_to_answer": self.median_working_days,
            "overdue_now": self.overdue_now,
            "open_now": self.open_now,
        }


def months_back(today: date, count: int) -> list[str]:
    year, month = today.year, today.month
    out = []
    for _i in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def figures(agencies: list[Agency], *, months: int = 12, today: date | None = None) -> dict[int, Figures]:
    today = today or local_today()
    calendar: Calendar = load_calendar()
    ids = [a.id for a in agencies]
    out = {
        a.id: Figures(agency_id=a.id, months=[Month(m) for m in months_back(today, months)]) for a in agencies
    }
    if not ids:
        return out
    rows = db.session.execute(
        select(
            Question.agency_id,
            Question.state,
            Question.clock_started_on,
            Question.due_on,
            Question.long_due_on,
            Question.answered_at,
        ).where(Question.agency_id.in_(ids), Question.clock_started_on.is_not(None))
    ).all()
    days: dict[int, list[int]] = {i: [] for i in ids}
    for row in rows:
        f = out[row.agency_id]
        by_month = {m.month: m for m in f.months}
        f.received += 1
        received_month = by_month.get(row.clock_started_on.strftime("%Y-%m"))
        if received_month:
            received_month.received += 1
        if row.state == S.ANSWERED.value and row.answered_at is not None:
            answered_on = local_date(row.answered_at)
            f.answered += 1
            on_time = row.due_on is not None and answered_on <= row.due_on
            f.answered_on_time += on_time
            days[row.agency_id].append(calendar.working_days_between(row.clock_started_on, answered_on))
            answered_month = by_month.get(answered_on.strftime("%Y-%m"))
            if answered_month:
                answered_month.answered += 1
                answered_month.on_time += on_time
        elif row.state in states.WITH_AGENCY:
            f.open_now += 1
            if row.due_on is not None and today > row.due_on:
                f.overdue_now += 1
    for agency_id, values in days.items():
        if values:
            out[agency_id].median_working_days = float(statistics.median(values))
    return out


def figures_of(agency: Agency) -> Figures:
    return figures([agency])[agency.id]

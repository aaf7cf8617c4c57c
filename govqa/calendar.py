"""Working days: weekends off, Vietnam's public holidays (the `holidays` package, Tết included),
and what the government announces each year — bridge days off and make-up working days — which
the operator keeps in qa_calendar_days. A make-up Saturday counts; a bridge day does not.

A period of N working days after an event starts on the day after it (Civil Code 2015, art. 147):
a question submitted on day D with 20 working days is due on the 20th working day after D.

`Calendar` is pure (tests and Hypothesis use it without a database); `load_calendar()` reads the
operator's days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select

from marketplace.extensions import db

DAY_OFF = "day_off"
WORKING_DAY = "working_day"
MAX_DAYS = 3650  # a period longer than this is a mistake, not a deadline


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    # An immutable per-year table derived from the installed package: the same in every process.
    return frozenset(holidays.country_holidays("VN", years=year).keys())


@lru_cache(maxsize=64)
def _weekend_workdays(year: int) -> frozenset[date]:
    # The make-up Saturdays the package knows with their bridge days (e.g. 22/08/2026 for the
    # day off on 31/08/2026): the bridge day is in the holiday table, so its make-up day must be too.
    table = holidays.country_holidays("VN", years=year)
    return frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)


def public_holiday(day: date) -> bool:
    return day in _public_holidays(day.year)


def make_up_working_day(day: date) -> bool:
    return day in _weekend_workdays(day.year)


@dataclass(frozen=True)
class Calendar:
    """`overrides`: the operator's announced days, day → DAY_OFF or WORKING_DAY (they win over
    the weekend and the holiday table)."""

    overrides: Mapping[date, str] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        kind = self.overrides.get(day)
        if kind is not None:
            return kind == WORKING_DAY
        if make_up_working_day(day):
            return True
        return day.weekday() < 5 and not public_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself does not count); 0 is `start`."""
        if days < 0 or days > MAX_DAYS:
            raise ValueError(f"days must be between 0 and {MAX_DAYS}")
        current, counted = start, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many a period started on `start` had used on `end`."""
        if end <= start:
            return 0
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_working_day(current)
        return count

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 1)


def load_calendar() -> Calendar:
    from .models import CalendarDay

    rows = db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return Calendar({row.day: row.kind for row in rows})


def due_date(submitted_on: date, days: int, calendar: Calendar | None = None) -> date:
    return (calendar or load_calendar()).add_working_days(submitted_on, days)

"""Working-day deadlines: weekends, public holidays (Tết 2027), the operator's announced days;
the period starts the day after (Civil Code art. 147)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from qa_testlib import _any_operator, agency

from govqa import admin
from govqa.calendar import DAY_OFF, WORKING_DAY, Calendar, load_calendar
from marketplace.extensions import db

PLAIN = Calendar()


def test_the_period_starts_the_day_after():
    # Monday 11 Jan 2027: the 1st working day after is Tuesday.
    assert PLAIN.add_working_days(date(2027, 1, 11), 1) == date(2027, 1, 12)
    assert PLAIN.add_working_days(date(2027, 1, 11), 0) == date(2027, 1, 11)


def test_weekends_do_not_count():
    # Friday 15 Jan 2027 + 1 working day = Monday 18; + 5 = Friday 22.
    assert PLAIN.add_working_days(date(2027, 1, 15), 1) == date(2027, 1, 18)
    assert PLAIN.add_working_days(date(2027, 1, 15), 5) == date(2027, 1, 22)
    # Submitted on a Saturday: the period starts Sunday, the first working day is Monday.
    assert PLAIN.add_working_days(date(2027, 1, 16), 1) == date(2027, 1, 18)


def test_tet_2027_does_not_count():
    # Tết holidays 2027 (holidays package): Thu 4 Feb to Wed 10 Feb.
    for day in (date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)):
        assert not PLAIN.is_working_day(day), day
    # Wednesday 3 Feb + 1 working day = Thursday 11 Feb.
    assert PLAIN.add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)
    # 20 working days from Monday 25 Jan 2027: 4 days in January, 3 before Tết, then 13 after.
    assert PLAIN.add_working_days(date(2027, 1, 25), 20) == date(2027, 3, 1)
    assert PLAIN.working_days_between(date(2027, 1, 25), date(2027, 3, 1)) == 20


def test_operator_declared_make_up_saturday_and_bridge_day(app):
    operator = _any_operator()
    # Suppose the government moves Friday 12 Feb 2027 off (a bridge day after Tết) and makes
    # Saturday 20 Feb a working day instead.
    admin.set_calendar_day(date(2027, 2, 12), DAY_OFF, "Nghỉ bù Tết", actor=operator)
    admin.set_calendar_day(date(2027, 2, 20), WORKING_DAY, "Làm bù", actor=operator)
    db.session.commit()
    calendar = load_calendar()
    assert not calendar.is_working_day(date(2027, 2, 12))
    assert calendar.is_working_day(date(2027, 2, 20))
    # Wed 3 Feb + 1 = Thu 11; + 2 = Mon 15 (Fri 12 off); Fri 19 is the 6th; Sat 20 the 7th.
    assert calendar.add_working_days(date(2027, 2, 3), 2) == date(2027, 2, 15)
    assert calendar.add_working_days(date(2027, 2, 3), 7) == date(2027, 2, 20)
    assert PLAIN.add_working_days(date(2027, 2, 3), 7) == date(2027, 2, 19)


def test_due_date_command(app, runner):
    agency(name="Thuế tỉnh", working_days=10)
    result = runner.invoke(args=["qa", "due-date", "2027-01-29", "--days", "5"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2027-02-12")
    result = runner.invoke(args=["qa", "due-date", "2027-01-25"])
    assert result.output.startswith("2027-03-01")
    result = runner.invoke(args=["qa", "due-date", "2027-01-25", "--agency", "thue-tinh"])
    assert result.output.startswith("2027-02-15"), result.output  # 4 + 3 before Tết, 3 after
    result = runner.invoke(args=["qa", "due-date", "2027-13-01"])
    assert result.exit_code != 0
    result = runner.invoke(args=["qa", "due-date", "2027-01-25", "--agency", "nope"])
    assert result.exit_code != 0 and "nope" in result.output


def test_declare_day_command(app, runner):
    result = runner.invoke(args=["qa", "declare-day", "2027-02-20", "working_day", "--note", "Làm bù"])
    assert result.exit_code == 0, result.output
    assert load_calendar().is_working_day(date(2027, 2, 20))
    runner.invoke(args=["qa", "declare-day", "2027-02-20", "none"])
    assert not load_calendar().is_working_day(date(2027, 2, 20))


days_ = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
overrides = st.dictionaries(days_, st.sampled_from([DAY_OFF, WORKING_DAY]), max_size=20)


@given(start=days_, n=st.integers(min_value=1, max_value=80), extra=overrides)
def test_due_date_is_a_working_day_after_the_start(start, n, extra):
    calendar = Calendar(extra)
    due = calendar.add_working_days(start, n)
    assert due > start
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(start, due) == n
    # Exactly n working days in (start, due]: the day before `due` had used n - 1.
    assert calendar.working_days_between(start, due - timedelta(days=1)) == n - 1


@given(
    start=days_,
    a=st.integers(min_value=0, max_value=60),
    b=st.integers(min_value=0, max_value=60),
    extra=overrides,
)
def test_due_date_is_monotone_and_additive(start, a, b, extra):
    calendar = Calendar(extra)
    lo, hi = sorted((a, b))
    assert calendar.add_working_days(start, lo) <= calendar.add_working_days(start, hi)
    # a + b working days = b working days after the a-th one.
    assert calendar.add_working_days(start, a + b) == calendar.add_working_days(
        calendar.add_working_days(start, a), b
    )


@given(start=days_, n=st.integers(min_value=1, max_value=40), extra=overrides)
def test_a_make_up_day_never_makes_a_deadline_later_and_a_day_off_never_earlier(start, n, extra):
    calendar = Calendar(extra)
    due = calendar.add_working_days(start, n)
    saturday = start + timedelta(days=(5 - start.weekday()) % 7 or 7)
    more = Calendar({**extra, saturday: WORKING_DAY})
    fewer = Calendar({**extra, saturday: DAY_OFF})
    assert more.add_working_days(start, n) <= due <= fewer.add_working_days(start, n)


def test_the_packages_make_up_saturday_counts():
    """Regression: the `holidays` table gives Mon 31 Aug 2026 off as a bridge day but the calendar
    ignored the Saturday it is made up on (22 Aug 2026), so deadlines across it came a day late."""
    assert not PLAIN.is_working_day(date(2026, 8, 31))
    assert PLAIN.is_working_day(date(2026, 8, 22))
    # Fri 21 Aug + 1 working day is Sat 22 Aug (made up), + 2 is Mon 24 Aug.
    assert PLAIN.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert PLAIN.add_working_days(date(2026, 8, 21), 2) == date(2026, 8, 24)
    assert not PLAIN.is_working_day(date(2026, 8, 29))  # an ordinary Saturday stays off


def test_due_date_command_refuses_a_period_too_long_with_a_message(app, runner):
    """Regression: --days up to 3650 was accepted, then twice the time (the long-overdue date)
    overflowed the calendar's limit and the command died with a traceback."""
    result = runner.invoke(args=["qa", "due-date", "2027-01-25", "--days", "3650"])
    assert result.exit_code == 2 and result.exception is not None and "--days" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(args=["qa", "due-date", "2027-01-25", "--days", "365"])
    assert result.exit_code == 0, result.output

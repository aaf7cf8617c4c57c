"""Reporting periods in Vietnamese days, and the SQL that buckets a UTC timestamp into one.

Every figure on a dashboard counts what happened on the floor's calendar days (UTC+7 for every
province of Vietnam), whatever the server's zone: an order placed at 23:30 on 30 November in Hà
Tĩnh belongs to 30 November even though the database stores 16:30 UTC, and one placed at 00:10 on
1 December belongs to December although it is still 30 November in UTC.

A period is a whole number of local days, `start` to `end` inclusive. Queries filter on the raw
UTC column (`utc_bounds()`, so the `created_at` indexes serve them) and group by `local_day()`,
an expression that shifts the column by the floor's UTC offset and takes its date, on SQLite and
PostgreSQL alike. The shift is a fixed number of hours: Vietnam has kept UTC+7 without daylight
saving since 1975, and `offset_hours()` refuses a zone whose offset moves, rather than silently
putting some hours in the wrong day.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from marketplace.timeutil import floor_timezone, local_today

MAX_DAYS = 3 * 366  # a report over three years at most: enough for any yearly comparison
DEFAULT_DAYS = 30


class Granularity(enum.StrEnum):
    DAY = "ngay"
    WEEK = "tuan"
    MONTH = "thang"


GRANULARITY_LABELS = {
    Granularity.DAY: _l("Theo ngày"),
    Granularity.WEEK: _l("Theo tuần"),
    Granularity.MONTH: _l("Theo tháng"),
}

# Presets offered beside the two date fields; the key is what the link carries (`ky=`).
PRESETS = {
    "7": _l("7 ngày"),
    "30": _l("30 ngày"),
    "90": _l("90 ngày"),
    "thang-nay": _l("Tháng này"),
    "thang-truoc": _l("Tháng trước"),
    "nam-nay": _l("Năm nay"),
}


class PeriodError(ValueError):
    """A period a person asked for that cannot be reported; the message says why, in their language."""


def offset_hours() -> int:
    """The floor's UTC offset in whole hours, the same all year (see the module docstring)."""
    zone = floor_timezone()
    year = local_today().year
    offsets = {datetime(year, month, 1, 12, tzinfo=zone).utcoffset() for month in (1, 4, 7, 10)}
    if len(offsets) != 1:
        raise RuntimeError(f"{zone} changes its UTC offset during the year; dashboards assume it does not")
    offset = offsets.pop() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest:
        raise RuntimeError(f"{zone} is not a whole number of hours from UTC")
    return hours


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(str(_l("Ngày kết thúc phải sau ngày bắt đầu.")))
        if self.days > MAX_DAYS:
            raise PeriodError(str(_l("Khoảng thời gian dài nhất là %(days)d ngày.", days=MAX_DAYS)))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[from, to) in naive UTC, as the database stores times: local midnight of `start` to
        local midnight after `end`."""
        zone = floor_timezone()

        def utc(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

        return utc(self.start), utc(self.end + timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def previous(self) -> Period:
        """The period of the same length just before, for "compared with" figures."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def args(self) -> dict[str, str]:
        """Query-string arguments that ask for this period again (links, exports)."""
        return {"tu": self.start.isoformat(), "den": self.end.isoformat()}

    def slug(self) -> str:
        """For file names: 2026-11-01_2026-11-30."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> Period:
        today = today or local_today()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def preset(cls, key: str, *, today: date | None = None) -> Period:
        today = today or local_today()
        if key.isdigit() and key in PRESETS:
            return cls.last_days(int(key), today=today)
        if key == "thang-nay":
            return cls(today.replace(day=1), today)
        if key == "thang-truoc":
            last = today.replace(day=1) - timedelta(days=1)
            return cls(last.replace(day=1), last)
        if key == "nam-nay":
            return cls(today.replace(month=1, day=1), today)
        raise PeriodError(str(_l("Không có khoảng thời gian này.")))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def _parse_day(raw: str, label: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise PeriodError(
            str(_l("%(field)s không đúng dạng ngày (năm-tháng-ngày, ví dụ 2026-11-30).", field=label))
        ) from None


def period_from_args(
    args: Mapping[str, str], *, default_days: int = DEFAULT_DAYS, today: date | None = None
) -> tuple[Period, str | None]:
    """The period a page was asked for (`ky=` preset, or `tu=`/`den=` dates), and an error message
    when the request was wrong: then the default period is shown with the message, never a 500."""
    today = today or local_today()
    default = Period.last_days(default_days, today=today)
    try:
        if args.get("ky"):
            return Period.preset(args["ky"], today=today), None
        raw_start, raw_end = (args.get("tu") or "").strip(), (args.get("den") or "").strip()
        if not raw_start and not raw_end:
            return default, None
        end = _parse_day(raw_end, str(_l("Đến ngày"))) if raw_end else today
        start = (
            _parse_day(raw_start, str(_l("Từ ngày"))) if raw_start else end - timedelta(days=default_days - 1)
        )
        return Period(start, end), None
    except PeriodError as error:
        return default, str(error)


def granularity_from_args(args: Mapping[str, str], period: Period) -> Granularity:
    """What the chart groups by: as asked, else days up to three months, weeks up to a year."""
    try:
        return Granularity(args.get("nhom", ""))
    except ValueError:
        pass
    if period.days <= 92:
        return Granularity.DAY
    return Granularity.WEEK if period.days <= 366 else Granularity.MONTH


def bucket_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())  # weeks start on Monday (ISO), as in Vietnam
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def series(
    period: Period,
    per_day: Mapping[date, int] | Iterable[tuple[date, int]],
    granularity: Granularity = Granularity.DAY,
) -> list[tuple[date, int]]:
    """Every bucket of the period in order, with zeros where nothing happened (a chart without the
    quiet days lies about the trend). `per_day` maps local days (date or 'YYYY-MM-DD') to values."""
    values: dict[date, int] = {}
    items = per_day.items() if isinstance(per_day, Mapping) else per_day
    for day, value in items:
        key = bucket_start(as_date(day), granularity)
        values[key] = values.get(key, 0) + int(value or 0)
    buckets: list[date] = []
    for day in period.each_day():
        key = bucket_start(day, granularity)
        if not buckets or buckets[-1] != key:
            buckets.append(key)
    return [(key, values.get(key, 0)) for key in buckets]


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class local_day(FunctionElement[str]):
    """`local_day(Order.created_at)`: the floor's calendar day of a naive UTC column, as
    'YYYY-MM-DD' text, for GROUP BY. SQLite and PostgreSQL spell it differently."""

    type = String()
    inherit_cache = True
    name = "local_day"


@compiles(local_day)
def _local_day_default(element: local_day, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"strftime('%Y-%m-%d', {compiler.process(column, **kw)}, '{offset_hours():+d} hours')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"to_char({compiler.process(column, **kw)} + interval '{offset_hours()} hours', 'YYYY-MM-DD')"


def within(column: Any, period: Period) -> ColumnElement[bool]:
    """`column` (naive UTC; a mapped attribute or any column expression) falls on one of the
    period's local days."""
    start, end = period.utc_bounds()
    return (column >= start) & (column < end)

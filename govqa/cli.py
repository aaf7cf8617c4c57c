"""`flask qa …`: check the working-day calendar, declare announced days."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db

from .calendar import DAY_OFF, WORKING_DAY, load_calendar
from .models import Agency, CalendarDay

qa_cli = AppGroup("qa", help="Government Q&A: deadlines and the calendar of working days.")


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@qa_cli.command("due-date")
@click.argument("submitted")
@click.option(
    "--days",
    type=click.IntRange(min=0, max=365),
    default=None,
    help="Working days (default 20, at most 365).",
)
@click.option("--agency", "agency_slug", default=None, help="Use this agency's number of working days.")
def due_date_command(submitted: str, days: int | None, agency_slug: str | None) -> None:
    """The due date of a question submitted on SUBMITTED (YYYY-MM-DD): the period starts the day
    after; weekends, public holidays and announced days off do not count, make-up days do."""
    day = _parse_day(submitted)
    if agency_slug is not None:
        agency = db.session.scalar(select(Agency).where(Agency.slug == agency_slug))
        if agency is None:
            raise click.ClickException(f"no agency {agency_slug!r}")
        if days is None:
            days = agency.working_days
    if days is None:
        days = 20
    calendar = load_calendar()
    due = calendar.add_working_days(day, days)
    long_due = calendar.add_working_days(day, 2 * days)
    click.echo(f"{due.isoformat()}\t{days} working days after {day.isoformat()} ({due:%d/%m/%Y}, {due:%A})")
    click.echo(f"long overdue after {long_due.isoformat()}")


@qa_cli.command("declare-day")
@click.argument("day")
@click.argument("kind", type=click.Choice([DAY_OFF, WORKING_DAY, "none"]))
@click.option("--note", default="")
def declare_day_command(day: str, kind: str, note: str) -> None:
    """Declare an announced bridge day off or make-up working day ("none" removes it)."""
    parsed = _parse_day(day)
    row = db.session.get(CalendarDay, parsed)
    if kind == "none":
        if row is not None:
            db.session.delete(row)
    else:
        if row is None:
            row = CalendarDay(day=parsed, kind=kind)
            db.session.add(row)
        row.kind, row.note = kind, note
    db.session.commit()
    click.echo(f"{parsed.isoformat()}: {kind}")

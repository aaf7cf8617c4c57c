"""The demo province: communes, categories, shops, listings and accounts for `make run`."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

import catalog.seed  # noqa: F401 - registers `flask catalog seed-categories`

demo_cli = AppGroup("demo", help="Demo data.")


def accounts_table(emails_present: set[str] | None = None) -> str:
    """The demo accounts as a plain-text table (only those in `emails_present`, when given)."""
    from .loader import demo_accounts, demo_password

    password = demo_password()
    rows = [
        (a["role"], a["email"], password, a.get("note", ""))
        for a in demo_accounts()
        if emails_present is None or a["email"] in emails_present
    ]
    if not rows:
        return "No demo accounts yet: run `flask --app wsgi demo load`."
    header = ("role", "email", "password", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(header[:3])).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows
    ]
    return "\n".join(lines)


def _present_emails() -> set[str]:
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import User

    from .loader import demo_accounts

    wanted = [a["email"] for a in demo_accounts()]
    return set(db.session.scalars(select(User.email).where(User.email.in_(wanted))))


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo province (idempotent: a second run creates nothing).

    Links in the mails it queues use BASE_URL (see the README's configuration table)."""
    from marketplace.extensions import db

    from .loader import load_demo

    started = time.monotonic()
    try:
        counts = load_demo()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    created = (
        ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n) or "nothing (all there already)"
    )
    click.echo(f"Demo data: created {created} in {time.monotonic() - started:.1f}s.")
    click.echo(accounts_table(_present_emails()))
    _echo_logistics()


@demo_cli.command("accounts")
def accounts_command() -> None:
    """Print the demo accounts that exist in the database, with their password."""
    click.echo(accounts_table(_present_emails()))
    _echo_logistics()


def _echo_logistics() -> None:
    from .logistics import credentials_text

    text = credentials_text()
    if text:
        click.echo(text)

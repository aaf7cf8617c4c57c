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
@click.option(
    "--accounts/--no-accounts",
    default=True,
    help="Print the demo accounts afterwards (`make run` prints them once the server answers).",
)
def load_command(accounts: bool) -> None:
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
    if accounts:
        click.echo(accounts_table(_present_emails()))
        _echo_logistics()
    else:
        click.echo("Demo accounts: printed when the server is up (or `flask --app wsgi demo accounts`).")


@demo_cli.command("accounts")
def accounts_command() -> None:
    """Print the demo accounts that exist in the database, with their password."""
    click.echo(accounts_table(_present_emails()))
    _echo_logistics()


@demo_cli.command("setup")
def setup_command() -> None:
    """Where this installation searches and sends mail, in two lines (`make run` prints them)."""
    for line in setup_lines():
        click.echo(line)


def setup_lines() -> list[str]:
    """'Search: …' (which backend answers, where, how many documents) and 'Mail: …'."""
    from flask import current_app

    from search import service as search_service

    cfg = current_app.config
    body = search_service.health()
    state = search_service.state()
    embedded = body["embedded"]
    try:
        docs = state.embedded.count()
    except Exception:  # noqa: BLE001 - a missing or broken index is reported, not raised
        docs = 0
    local = f"the built-in index {embedded.get('path', '?')} ({docs} listings)"
    if embedded.get("status") != "ok":
        local = f"the built-in index {embedded.get('path', '?')} (empty until the worker has indexed the listings)"
    engine = body.get("engine")
    if engine is None:
        search = f"Search:  {local}; set ELASTICSEARCH_URL or OPENSEARCH_URL for a search engine."
    else:
        name = {"elasticsearch": "Elasticsearch", "opensearch": "OpenSearch"}.get(
            engine["kind"], engine["kind"]
        )
        where = _without_credentials(cfg.get("ELASTICSEARCH_URL") or cfg.get("OPENSEARCH_URL") or "")
        if engine["status"] == "ok" and state.engine is not None:
            search = f"Search:  {name} at {where} ({state.engine.count()} listings); if it fails, {local}."
        else:
            search = (
                f"Search:  {name} at {where} is {engine['status']}: searches use {local} until it answers."
            )
    if cfg.get("MAIL_SERVER"):
        mail = f"Mail:    sent through {cfg['MAIL_SERVER']}:{cfg.get('MAIL_PORT')} by the worker."
    else:
        mail = (
            f"Mail:    no MAIL_SERVER, so the worker writes each mail as a file: {cfg['MAIL_DIR']}/mail-*.eml"
        )
    return [search, mail]


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _echo_logistics() -> None:
    from .logistics import credentials_text

    text = credentials_text()
    if text:
        click.echo(text)

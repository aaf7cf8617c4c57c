"""Shell commands: the first operator, the worker and the outbox, the commune list."""

from __future__ import annotations

import getpass
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import outbox
from .errors import DomainError, ValidationFailed
from .extensions import db
from .models import Commune, Role

users_cli = AppGroup("users", help="Manage accounts.")
communes_cli = AppGroup("communes", help="Manage the commune list (xã, phường, đặc khu).")
outbox_cli = AppGroup("outbox", help="The transactional outbox the worker drains.")


@users_cli.command("create-operator")
@click.argument("email")
@click.option("--name", default="Ban quản lý sàn", show_default=True)
@click.option(
    "--password",
    envvar="OPERATOR_PASSWORD",
    default=None,
    help="Read from OPERATOR_PASSWORD, else asked for.",
)
def create_operator(email: str, name: str, password: str | None) -> None:
    """Create an operator account (or promote an existing one)."""
    from .accounts.services import create_user, get_user_by_email

    user = get_user_by_email(email)
    if user is not None:
        if user.email_confirmed_at is None:
            # Anyone can sign up with an address; only its mailbox owner can confirm it.
            raise click.ClickException(
                f"{user.email} has not confirmed its address: confirm it (or reset its password) first."
            )
        user.role = Role.OPERATOR.value
        db.session.commit()
        click.echo(f"{user.email} is now an operator.")
        return
    if not password:
        if not sys.stdin.isatty():
            raise click.UsageError("Give the password with OPERATOR_PASSWORD or --password.")
        password = getpass.getpass("Password: ")
    try:
        user = create_user(
            email=email, password=password, full_name=name, role=Role.OPERATOR.value, confirmed=True
        )
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(m for ms in exc.field_errors.values() for m in ms)) from None
    db.session.commit()
    click.echo(f"Operator {user.email} created.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due, then exit.")
def worker_command(once: bool) -> None:
    """Drain the transactional outbox: mail, search index, webhooks, platform syncs."""
    if once:
        click.echo(f"processed {outbox.drain()} event(s)")
        return
    stopping = {"flag": False}

    def _stop(_signum, _frame):
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"worker {os.getpid()} draining the outbox (Ctrl+C to stop)")
    outbox.run_worker(current_app.config["WORKER_POLL_S"], stop=lambda: stopping["flag"])


@outbox_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep done events this many days (default OUTBOX_RETENTION_DAYS; 0 keeps all).",
)
def purge_outbox(days: int | None) -> None:
    """Delete done events older than the retention (the worker does it hourly); pending and dead
    events stay."""
    click.echo(f"purged {outbox.purge(days)} done event(s)")


@communes_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_communes(path: str) -> None:
    """Load communes from a CSV with columns name,kind,province[,code]: new ones are added, and
    what the file changes in existing ones is kept as the operator's correction."""
    from .communes import import_csv

    try:
        added, updated = import_csv(path)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{added} added, {updated} updated")


@communes_cli.command("import-official")
@click.option("--province", default=None, help="Only this province, in any spelling ('Hà Nội', 'ha noi').")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A nested-divisions.json to read instead of the installed package's.",
)
def import_official_communes(province: str | None, data_path: str | None) -> None:
    """Load the official list of provinces and communes (package vietnam-provinces). Running it
    again after an update applies the update; the operator's corrections are kept, no row is
    deleted (a unit no longer listed is deactivated)."""
    from .communes import import_official, package_version

    try:
        report = import_official(province, data_path=data_path)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{data_path or package_version()}: {report.summary()}")
    for note in report.notes:
        click.echo(f"  {note}")


@communes_cli.command("list")
@click.option("--province", default=None, help="Only this province.")
def list_communes(province: str | None) -> None:
    """id, kind, name, province, code, and what the operator corrected."""
    from .addresses import province_key

    for commune in db.session.scalars(select(Commune).order_by(Commune.province, Commune.name)):
        if province and province_key(commune.province) != province_key(province):
            continue
        state = "" if commune.active else "\tinactive"
        pinned = f"\tcorrected: {','.join(commune.operator_fields)}" if commune.operator_fields else ""
        click.echo(
            f"{commune.id}\t{commune.kind}\t{commune.name}\t{commune.province}\t{commune.code or ''}{state}{pinned}"
        )

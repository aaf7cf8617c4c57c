"""Shell commands: the first operator, the worker, the commune list."""

from __future__ import annotations

import csv
import getpass
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import outbox
from .errors import ValidationFailed
from .extensions import db
from .models import Commune, Role

users_cli = AppGroup("users", help="Manage accounts.")
communes_cli = AppGroup("communes", help="Manage the commune list (xã, phường, đặc khu).")


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


@communes_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_communes(path: str) -> None:
    """Load communes from a CSV with columns name,kind,province[,code]; existing ones are updated."""
    added = updated = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            name, province = (row.get("name") or "").strip(), (row.get("province") or "").strip()
            kind = (row.get("kind") or "xa").strip()
            if not name or not province or kind not in ("xa", "phuong", "dac_khu"):
                raise click.ClickException(
                    f"line {line}: name, province and kind (xa|phuong|dac_khu) are required"
                )
            commune = db.session.scalar(
                select(Commune).where(Commune.province == province, Commune.name == name)
            )
            if commune is None:
                db.session.add(
                    Commune(name=name, province=province, kind=kind, code=(row.get("code") or None))
                )
                added += 1
            else:
                commune.kind = kind
                updated += 1
    db.session.commit()
    click.echo(f"{added} added, {updated} updated")


@communes_cli.command("list")
def list_communes() -> None:
    for commune in db.session.scalars(select(Commune).order_by(Commune.province, Commune.name)):
        click.echo(f"{commune.id}\t{commune.kind}\t{commune.name}\t{commune.province}")

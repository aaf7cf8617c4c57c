"""flask syndication …: the reconcile the worker runs nightly, and an orders pull by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

syndication_cli = AppGroup("syndication", help="Listings on the national platforms and the feeds.")


@syndication_cli.command("reconcile")
def reconcile_command() -> None:
    """Read each connection's remote items and orders; repair what drifted (the worker runs this
    nightly)."""
    from .engine import reconcile_all

    total = reconcile_all()
    click.echo(
        "connections {connections}, items checked {checked}, drifted {drift}, queued {queued}, "
        "remote order lines {orders}".format(**total)
    )

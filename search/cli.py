"""`flask search reindex` and `flask search status`."""

from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup

from . import service

search_cli = AppGroup("search", help="Search indexes: zero-downtime rebuild, status.")


@search_cli.command("reindex")
@click.option(
    "--target",
    type=click.Choice(["all", "engine", "embedded"]),
    default="all",
    show_default=True,
    help="all = the embedded index, and the engine when one is configured.",
)
def reindex_command(target: str) -> None:
    """Build a new index from the database, swap it in atomically, catch up what changed meanwhile."""
    state = service.state()
    jobs = []
    if target in ("all", "embedded"):
        jobs.append(("embedded", state.embedded))
    if target in ("all", "engine"):
        if state.engine is None:
            if target == "engine":
                raise click.ClickException(
                    "no search engine configured (set ELASTICSEARCH_URL or OPENSEARCH_URL)"
                )
        else:
            jobs.append((state.engine.kind, state.engine))
    for label, backend in jobs:
        started = time.monotonic()
        last = {"at": 0.0}

        def progress(done: int) -> None:
            if time.monotonic() - last["at"] > 2:
                last["at"] = time.monotonic()
                click.echo(
                    f"  {label}: {done} documents ({done / max(time.monotonic() - started, 1e-6):.0f}/s)"
                )

        try:
            result = service.reindex(backend, progress=progress)
        except service.ReindexBusy as exc:
            raise click.ClickException(str(exc))
        click.echo(
            f"{label}: {result['docs']} documents into {result['index']}, "
            f"{result['caught_up']} caught up, {result['seconds']} s"
        )


@search_cli.command("status")
def status_command() -> None:
    """Which backend answers, and how many documents each index holds."""
    body = service.health()
    state = service.state()
    body["embedded"]["docs"] = state.embedded.count()
    if state.engine is not None and body["engine"]["status"] in ("ok", "outdated"):
        body["engine"]["docs"] = state.engine.count()
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))

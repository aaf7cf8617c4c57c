"""`flask search reindex` and `flask search status`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import click
from flask.cli import AppGroup

from . import collections, indexer, service
from .backend import SearchBackend

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
    jobs: list[tuple[str, SearchBackend]] = []
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
        try:
            result = indexer.reindex(backend, progress=_progress(label))
        except indexer.ReindexBusy as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"{label}: {result['docs']} documents into {result['index']}, "
            f"{result['caught_up']} caught up, {result['seconds']} s"
        )
    # The other document kinds (search/collections.py), on the same backends.
    for name in collections.collections():
        for kind, docs in collections.rebuild(name, target).items():
            click.echo(f"{kind}: {docs} {name} documents")


def _progress(label: str) -> Callable[[int], None]:
    """Documents written so far and the rate, every two seconds at most."""
    started = time.monotonic()
    last = 0.0

    def progress(done: int) -> None:
        nonlocal last
        if time.monotonic() - last > 2:
            last = time.monotonic()
            click.echo(f"  {label}: {done} documents ({done / max(last - started, 1e-6):.0f}/s)")

    return progress


@search_cli.command("status")
def status_command() -> None:
    """Which backend answers, and how many documents each index holds."""
    body = service.health()
    state = service.state()
    body["embedded"]["docs"] = state.embedded.count()
    if state.engine is not None and body["engine"]["status"] in ("ok", "outdated"):
        body["engine"]["docs"] = state.engine.count()
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))

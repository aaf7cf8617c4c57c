"""`flask logistics …`: the operator's partner actions from the shell (the same services as the
operator pages; the command line acts as the operator)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.errors import DomainError
from marketplace.extensions import db

from . import services

cli = AppGroup("logistics", help="Logistics partners, their API keys and webhook secrets.")


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.field_errors.items())
    raise click.ClickException(f"{exc.message} {detail}".strip())


@cli.command("partners")
def partners_command() -> None:
    """One partner per line: slug, kind, state, shops, webhook URL, active keys, name."""
    for p in services.partners():
        keys = sum(1 for k in p.keys if k.revoked_at is None)
        shops = "all" if p.all_shops else f"{len(p.shops)} shop(s)"
        webhook = p.webhook_url or "-"
        if p.webhook_disabled_at is not None:
            webhook += " (disabled: 410)"
        click.echo(f"{p.slug}\t{p.kind}\t{p.state}\t{shops}\t{webhook}\tkeys={keys}\t{p.name}")


@cli.command("create-partner")
@click.argument("name")
@click.option("--webhook-url", default=None, help="Where order webhooks are sent.")
@click.option("--shops", default="all", show_default=True, help="all, or shop slugs separated by commas.")
@click.option("--kind", type=click.Choice(["generic", "ghn", "ghtk"]), default="generic", show_default=True)
@click.option("--slug", default=None, help="Defaults to one made from the name.")
def create_partner_command(
    name: str, webhook_url: str | None, shops: str, kind: str, slug: str | None
) -> None:
    """Register a partner; prints its API key (and webhook secret): they are shown only once."""
    try:
        partner, key, secret, token = services.create_partner(
            name, actor=None, kind=kind, slug=slug, webhook_url=webhook_url, shops=shops
        )
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"partner: {partner.slug}")
    click.echo(f"api key: {key}")
    if secret:
        click.echo(f"webhook secret: {secret}")
    if token:
        click.echo(f"callback path: /api/v1/logistics/callbacks/{partner.slug}/{token}")


@cli.command("create-key")
@click.argument("slug")
@click.option("--name", default=None, help="A name to recognise the key by.")
def create_key_command(slug: str, name: str | None) -> None:
    """Print a new API key for the partner (shown only once)."""
    try:
        partner = services.partner_by_slug(slug)
        key = services.create_key(partner, name, actor=None)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(key)


@cli.command("revoke-key")
@click.argument("key_id")
def revoke_key_command(key_id: str) -> None:
    """Revoke a key by its id (the part before the dot, lgk_…)."""
    try:
        key = services.revoke_key(key_id.split(".", 1)[0], actor=None)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"revoked {key.prefix} ({key.partner.slug})")

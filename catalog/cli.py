"""`flask catalog …` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from marketplace.extensions import db

catalog_cli = AppGroup("catalog", help="Catalog tools.")


@catalog_cli.command("import-csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--create-missing",
    is_flag=True,
    help="Create unknown shops (approved households with placeholder contact data) and unknown "
    "top-level categories instead of reporting them as errors.",
)
def import_csv(path: Path, create_missing: bool) -> None:
    """Import listings from a UTF-8 CSV; image paths are relative to the CSV's folder.

    All or nothing: any bad row means nothing is written, and every problem is printed."""
    from .csv_import import ImportFailed, import_listings

    try:
        result = import_listings(path, actor=None, create_missing=create_missing)
    except ImportFailed as exc:
        db.session.rollback()
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"nothing imported: {len(exc.errors)} problem(s) in {path}", err=True)
        raise SystemExit(1) from None
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    for shop in result.created_shops:
        click.echo(f"created shop {shop.slug} (approved; complete its name, phone and address)")
    for category in result.created_categories:
        click.echo(f"created category {category.name} ({category.slug})")
    click.echo(result.summary())


from . import seed  # noqa: E402,F401 - registers `flask catalog seed-categories`

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
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and print what would be imported (each row, and the OCOP claims that "
    "would wait for the operator's check); write nothing.",
)
def import_csv(path: Path, create_missing: bool, dry_run: bool) -> None:
    """Import listings from a UTF-8 CSV; image paths are relative to the CSV's folder.

    All or nothing: any bad row means nothing is written, and every problem is printed. OCOP
    ratings wait in the register until the operator checks them."""
    from .csv_import import ImportFailed, import_listings, preview_listings

    try:
        if dry_run:
            preview = preview_listings(path, actor=None, create_missing=create_missing)
        else:
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
    if dry_run:
        db.session.rollback()  # a preview writes nothing; nothing to keep either
        for line in preview.text_lines():
            click.echo(line)
        click.echo(
            f"dry run: {preview.count} listings would be imported into {preview.shop_count} shops; "
            f"{len(preview.waiting_claims)} OCOP claims would wait for checking; nothing written"
        )
        return
    db.session.commit()
    for shop in result.created_shops:
        click.echo(f"created shop {shop.slug} (approved; complete its name, phone and address)")
    for category in result.created_categories:
        click.echo(f"created category {category.name} ({category.slug})")
    click.echo(result.summary())
    if result.waiting_claims:
        click.echo(
            f"{result.waiting_claims} OCOP claims wait for the operator's check "
            "(the register: /quan-tri/chung-nhan-ocop); their badges show once checked"
        )


from . import seed  # noqa: E402,F401 - registers `flask catalog seed-categories`

"""The Alembic migrations build the schema the models describe, and can be undone and redone.

Runs on SQLite and, under `make test`, on PostgreSQL (the `app` fixture reads TEST_DATABASE_URL)."""
from __future__ import annotations

import pprint

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from marketplace.extensions import db

FOUNDATION_TABLES = {"users", "login_attempts", "outbox_events", "communes", "shops", "shop_members",
                     "shop_invitations", "categories", "listings", "listing_images"}


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def schema_diff() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def script_directory() -> ScriptDirectory:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


def test_one_head_and_the_database_is_at_it(app):
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"migration history has branched: heads {heads}"
    assert current_revision() == heads[0]


def test_upgrade_from_empty_builds_every_table_the_models_declare(app):
    tables = table_names()
    assert FOUNDATION_TABLES <= tables, sorted(FOUNDATION_TABLES - tables)
    assert set(db.metadata.tables) <= tables, sorted(set(db.metadata.tables) - tables)
    assert "alembic_version" in tables


def test_models_and_migrations_agree(app):
    diff = schema_diff()
    assert diff == [], "models and migrations differ (write the missing ops into your migration slot):\n" \
        + pprint.pformat(diff, width=120)


def test_downgrade_to_base_then_upgrade_again(app):
    downgrade(revision="base")
    db.session.remove()
    leftover = table_names() - {"alembic_version"}
    assert leftover == set(), f"downgrade to base left tables behind: {sorted(leftover)}"
    assert current_revision() is None

    upgrade()
    assert set(db.metadata.tables) <= table_names()
    assert current_revision() == script_directory().get_current_head()
    assert schema_diff() == []

"""The Alembic migrations build the schema the models describe, and can be undone and redone.

Runs on SQLite and, under `make test`, on PostgreSQL (TEST_DATABASE_URL). The destructive test
(downgrade to base) works on a database of its own: a fresh SQLite file, or a PostgreSQL schema of
its own, so the session's shared PostgreSQL schema is never touched."""

from __future__ import annotations

import os
import pprint
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.extensions import db

FOUNDATION_TABLES = {
    "users",
    "login_attempts",
    "outbox_events",
    "communes",
    "shops",
    "shop_members",
    "shop_invitations",
    "categories",
    "listings",
    "listing_images",
}


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def schema_diff() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def assert_no_diff() -> None:
    diff = schema_diff()
    assert diff == [], (
        "models and migrations differ (write the missing ops into your migration slot):\n"
        + pprint.pformat(diff, width=120)
    )


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def script_directory() -> ScriptDirectory:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


@pytest.fixture
def empty_app(tmp_path):
    """An app on a database with nothing in it yet, not shared with any other test."""
    base = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if base and base.startswith("postgresql"):
        schema = f"migrations_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    else:
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "MAIL_SERVER": None,
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
        }
    )
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_one_head_and_the_shared_test_database_is_at_it(app):
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"migration history has branched: heads {heads}"
    assert current_revision() == heads[0]


def test_the_shared_test_database_has_every_table_and_matches_the_models(app):
    tables = table_names()
    assert tables >= FOUNDATION_TABLES, sorted(FOUNDATION_TABLES - tables)
    assert set(db.metadata.tables) <= tables, sorted(set(db.metadata.tables) - tables)
    assert_no_diff()


def test_upgrade_from_empty_downgrade_to_base_and_upgrade_again(empty_app):
    assert table_names() == set()

    upgrade()
    tables = table_names()
    assert tables >= FOUNDATION_TABLES, sorted(FOUNDATION_TABLES - tables)
    assert set(db.metadata.tables) <= tables, sorted(set(db.metadata.tables) - tables)
    assert current_revision() == script_directory().get_current_head()
    assert_no_diff()

    downgrade(revision="base")
    db.session.remove()
    leftover = table_names() - {"alembic_version"}
    assert leftover == set(), f"downgrade to base left tables behind: {sorted(leftover)}"
    assert current_revision() is None

    upgrade()
    assert set(db.metadata.tables) <= table_names()
    assert current_revision() == script_directory().get_current_head()
    assert_no_diff()

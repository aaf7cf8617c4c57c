"""Migrations on SQLite with data in the tables: rebuilding a table (how SQLite changes a column)
must not delete or orphan the rows that point at it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_migrate import upgrade

from marketplace.extensions import db
from tests.marketplace.test_migrations import empty_app  # noqa: F401 - the fixture

NOW = datetime(2026, 11, 30, 8, 0)


def _rows(sql: str) -> list:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_rebuilding_tables_loses_no_rows_that_point_at_them(empty_app):  # noqa: F811 - the fixture
    """SQLite rebuilds a table to change a column (copy, DROP, rename); with foreign keys enforced
    the DROP would delete the rows pointing at it (ON DELETE CASCADE: a shop's members when
    `users` is rebuilt) or fail (RESTRICT: orders on `communes`). migrations/env.py switches the
    enforcement off around the migrations and checks the references afterwards."""
    upgrade(revision="0003_orders")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, password_hash, full_name, role, active, created_at) "
                "VALUES (1, 'a@example.vn', 'x', 'A', 'producer', true, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO communes (id, name, kind, province, active) VALUES (1, 'Xã A', 'xa', 'Hà Tĩnh', true)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO shops (id, slug, name, kind, phone, address_line, commune_id, province, story, "
                "status, created_at, updated_at) VALUES (1, 'cam', 'Cam', 'household', '0912345678', "
                "'Thôn 1', 1, 'Hà Tĩnh', '', 'approved', :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO shop_members (id, shop_id, user_id, role, created_at) VALUES (1, 1, 1, 'owner', :now)"
            ),
            {"now": NOW},
        )
    upgrade()
    assert _rows("SELECT shop_id, user_id, role FROM shop_members") == [(1, 1, "owner")]
    assert _rows("SELECT id, commune_id FROM shops") == [(1, 1)]
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:  # the app's connections enforce them again
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

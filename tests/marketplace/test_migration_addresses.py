"""Migration 0008_addresses on a database with data: a shop's shipping rule becomes its
"province" zone with the defaults elsewhere, orders keep their commune's name and the zone
"province", communes count as the operator's rows; and the way back restores the rule."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from marketplace.extensions import db
from tests.marketplace.test_migrations import empty_app  # noqa: F401 - the fixture

NOW = datetime(2026, 11, 30, 8, 0)


def _seed_before() -> None:
    """Rows as the schema before this migration holds them (written in SQL: the models are newer)."""
    statements = [
        (
            "INSERT INTO communes (id, name, kind, province, code, active) "
            "VALUES (1, 'Xã Sơn Kim 1', 'xa', 'Hà Tĩnh', 'DEMO-HT-08', true)"
        ),
        (
            "INSERT INTO users (id, email, password_hash, full_name, role, active, created_at, session_token) "
            "VALUES (1, 'a@example.vn', 'x', 'A', 'producer', true, :now, 'token-1')"
        ),
        (
            "INSERT INTO shops (id, slug, name, kind, phone, address_line, commune_id, province, story, "
            "status, created_at, updated_at) VALUES (1, 'cam', 'Cam', 'household', '0912345678', 'Thôn 1', "
            "1, 'Hà Tĩnh', '', 'approved', :now, :now)"
        ),
        (
            "INSERT INTO shipping_rules (shop_id, flat_fee_vnd, tiers, free_over_vnd, updated_at) "
            "VALUES (1, 18000, '[[3000, 12000]]', 400000, :now)"
        ),
        (
            "INSERT INTO payments (id, code, method, status, amount_vnd, refunded_vnd, email, phone, "
            "created_at, updated_at) VALUES (1, 'DH23456789', 'cod', 'pending', 63000, 0, "
            "'b@example.vn', '0912345678', :now, :now)"
        ),
        (
            "INSERT INTO orders (id, code, payment_id, shop_id, status, payment_method, paid, subtotal_vnd, "
            "shipping_vnd, total_vnd, weight_grams, email, receiver_name, receiver_phone, address_line, "
            "commune_id, province, note, created_at, updated_at) VALUES (1, 'DH23456789-1', 1, 1, 'placed', "
            "'cod', false, 45000, 18000, 63000, 1000, 'b@example.vn', 'B', '0912345678', 'Thôn 2', 1, "
            "'Hà Tĩnh', '', :now, :now)"
        ),
    ]
    with db.engine.begin() as conn:
        for sql in statements:
            conn.execute(sa.text(sql), {"now": NOW})


def _rows(sql: str) -> list:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_existing_rules_orders_and_communes_are_carried_over(empty_app):  # noqa: F811 - the fixture
    upgrade(revision="0004_accounts")
    _seed_before()
    upgrade(revision="0008_addresses")

    zones = {
        zone: (ships, flat, tiers, free)
        for zone, ships, flat, tiers, free in _rows(
            "SELECT zone, ships, flat_fee_vnd, tiers, free_over_vnd FROM shipping_zones WHERE shop_id = 1"
        )
    }
    decode = (lambda t: t) if isinstance(zones["province"][2], list) else __import__("json").loads
    assert {z: (bool(s), f, decode(t), fr) for z, (s, f, t, fr) in zones.items()} == {
        "province": (True, 18_000, [[3000, 12_000]], 400_000),
        "neighbour": (True, 30_000, [[2000, 15_000], [5000, 35_000], [10000, 70_000]], 700_000),
        "country": (True, 40_000, [[1000, 10_000], [2000, 25_000], [5000, 60_000], [10000, 120_000]], None),
    }
    assert _rows("SELECT commune_name, province, shipping_zone FROM orders") == [
        ("Xã Sơn Kim 1", "Hà Tĩnh", "province")
    ]
    source, fields = _rows("SELECT source, operator_fields FROM communes")[0]
    assert source == "operator" and decode(fields) == []

    downgrade(revision="0004_accounts")
    flat, tiers, free = _rows("SELECT flat_fee_vnd, tiers, free_over_vnd FROM shipping_rules")[0]
    assert (flat, decode(tiers), free) == (18_000, [[3000, 12_000]], 400_000)
    assert "shipping_zones" not in sa.inspect(db.engine).get_table_names()

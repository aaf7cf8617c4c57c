"""Migrations on a database with data: 0005_complaints refuses to go back while an order is refunded
in part (the schema before it cannot say so); 0009_fix_money gives imported communes their
official code and answered complaints the buyer's reply deadline, with the event due then."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from marketplace.extensions import db
from tests.marketplace.test_migration_addresses import NOW, _rows, _seed_before
from tests.marketplace.test_migrations import current_revision, empty_app  # noqa: F401 - the fixture


def _when(value: datetime | str) -> datetime:
    """A timestamp read in plain SQL (SQLite answers text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _execute(*statements: str, **params) -> None:
    with db.engine.begin() as conn:
        for sql in statements:
            conn.execute(sa.text(sql), params)


def test_going_back_below_complaints_refuses_while_an_order_is_refunded_in_part(
    empty_app,  # noqa: F811 - the fixture
    caplog,
):
    upgrade(revision="0004_accounts")
    _seed_before()  # one COD order of 63.000 ₫
    upgrade(revision="0005_complaints")
    _execute("UPDATE orders SET status = 'delivered', paid = true, refunded_vnd = 20000")

    caplog.set_level(logging.ERROR)
    with pytest.raises(SystemExit):  # flask_migrate reports the error and exits non-zero
        downgrade(revision="0004_accounts")
    db.session.remove()
    assert "refunded in part (DH23456789-1)" in caplog.text
    assert current_revision() == "0005_complaints"
    assert _rows("SELECT status, refunded_vnd FROM orders") == [("delivered", 20000)]

    # Refunded in full since (a partial refund, then the rest): going back merges the two.
    _execute(
        "UPDATE orders SET status = 'refunded', refunded_vnd = 63000",
        "INSERT INTO ledger_entries (shop_id, order_id, payment_id, kind, amount_vnd, created_at) "
        "VALUES (1, 1, 1, 'partial_refund', -20000, :now), (1, 1, 1, 'refunded', -43000, :now)",
        now=NOW,
    )
    downgrade(revision="0004_accounts")
    assert current_revision() == "0004_accounts"
    assert _rows("SELECT kind, amount_vnd FROM ledger_entries") == [("refunded", -63000)]


def test_official_codes_and_reply_deadlines_are_filled_in_and_taken_back(empty_app):  # noqa: F811
    upgrade(revision="0004_accounts")
    _seed_before()  # commune 1 is the operator's (DEMO-HT-08), shop 1, order 1
    upgrade(revision="0008_addresses")
    answered = datetime(2026, 12, 5, 9, 30)
    _execute(
        "INSERT INTO communes (id, name, kind, province, code, active, source, operator_fields) VALUES "
        "(2, 'Xã Kỳ Xuân', 'xa', 'Hà Tĩnh', '18766', true, 'official', '[\"name\"]'), "
        "(3, 'Xã Kỳ Lạc', 'xa', 'Hà Tĩnh', 'SUA-1', true, 'official', '[\"code\"]')",
        "INSERT INTO complaints (id, order_id, reason, description, photo_keys, status, answer_due_at, "
        "offer, offer_note, refund_vnd, created_at, updated_at) VALUES (1, 1, 'damaged', 'Dập', '[]', "
        "'answered', :now, 'reject', 'Đúng hàng', 0, :now, :answered)",
        now=NOW,
        answered=answered,
    )
    upgrade(revision="0009_fix_money")
    assert _rows("SELECT id, official_code FROM communes ORDER BY id") == [
        (1, None),  # the operator's own row: not from the list
        (2, "18766"),  # imported, its name corrected: the code is the list's
        (3, None),  # its code corrected: the next import recognises it by province and name
    ]
    (due,) = _rows("SELECT reply_due_at FROM complaints")[0]
    assert _when(due) == answered + timedelta(days=7)
    events = _rows("SELECT topic, payload, idempotency_key, status, next_attempt_at FROM outbox_events")
    assert len(events) == 1
    topic, payload, key, status, next_at = events[0]
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert (topic, payload, key, status, _when(next_at)) == (
        "complaint.accept",
        {"complaint_id": 1},
        "complaint.accept:1",
        "pending",
        answered + timedelta(days=7),
    )

    downgrade(revision="0008_addresses")
    assert _rows("SELECT count(*) FROM outbox_events") == [(0,)]  # nothing handles it there
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("communes")}
    assert "official_code" not in columns
    assert "reply_due_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("complaints")}

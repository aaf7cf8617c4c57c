"""What one checkout costs: a fixed number of SQL statements whatever the number of shops (one
conditional stock UPDATE per listing, nothing else per line), and no mail rendered in the request —
the worker renders the checkout's mails (marketplace.mail.register_context, orders.notify), in the
buyer's language, and a mail whose recipient erased the account is never rendered."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import template_rendered
from flask_babel import refresh
from orders_testlib import drain, payment_code
from sqlalchemy import event, select

from marketplace import mail
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from orders.models import Order, Payment, ShippingRule, ShippingZone
from tests.support import read_mails

STOCK_UPDATE = "UPDATE listings SET stock="
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def watching(app):
    """The SQL statements run and the templates rendered inside the block."""
    seen: dict[str, list[str]] = {"sql": [], "templates": []}

    def on_sql(conn, cursor, statement, parameters, context, executemany):
        seen["sql"].append(" ".join(statement.split()))

    def on_render(sender, template, context, **extra):
        seen["templates"].append(template.name)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on_sql)
    template_rendered.connect(on_render, app)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
        template_rendered.disconnect(on_render, app)


def _shops_with_rules(factory, n: int):
    """`n` shops (no shop e-mail: their mail goes to the owner's) with their own shipping fees."""
    shops = [factory.shop(name=f"Cửa hàng {i}") for i in range(n)]
    for shop in shops:
        db.session.add(
            ShippingRule(
                shop_id=shop.id,
                zones=[ShippingZone(zone="province", flat_fee_vnd=20_000, tiers=[], free_over_vnd=None)],
            )
        )
    db.session.commit()
    return shops


def _checkout(app, shopper, listings, method="cod"):
    for listing in listings:
        assert shopper.add(listing, 1).status_code == 302
    data = shopper.checkout_data(method)  # reads the checkout page: outside the measured POST
    with watching(app) as seen:
        response = shopper.client.post("/thanh-toan", data=data)
    return payment_code(response), seen


def _not_stock(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith(STOCK_UPDATE)]


@pytest.mark.parametrize("method", ["cod", "bank_transfer"])
def test_a_checkout_runs_a_fixed_number_of_statements_whatever_its_shops(app, factory, shopper, method):
    shops = _shops_with_rules(factory, 3)
    one = factory.listing(shop=shops[0], title="Cam bù", stock=50)
    three = [factory.listing(shop=shop, title=f"Mật ong {i}", stock=50) for i, shop in enumerate(shops)]
    same_shop = [factory.listing(shop=shops[1], title=f"Kẹo cu đơ {i}", stock=50) for i in range(3)]

    _code, single = _checkout(app, shopper, [one], method)
    _code, across = _checkout(app, shopper, three, method)
    _code, in_one = _checkout(app, shopper, same_shop, method)

    runs = (single, across, in_one)
    # One conditional stock UPDATE per listing, and no other UPDATE or DELETE.
    assert [sum(s.startswith(STOCK_UPDATE) for s in seen["sql"]) for seen in runs] == [1, 3, 3]
    assert not [s for seen in runs for s in _not_stock(seen["sql"]) if not s.startswith(("SELECT", "INSERT"))]
    # The same reads for 1 line, 3 shops or 3 lines of one shop: nothing loaded per line or shop.
    reads = [[s.split(" FROM ")[1][:40] for s in seen["sql"] if s.startswith("SELECT")] for seen in runs]
    assert reads[0] == reads[1] == reads[2] and len(reads[0]) <= 6, reads
    # Each table is written once, all its rows batched (PostgreSQL); SQLite's driver writes the
    # rows the ORM needs ids back from one statement each: one per row, nothing more.
    written = {1: {}, 3: {}}
    for seen, shops in ((single, 1), (across, 3)):
        for table in ("consents", "payments", "orders", "order_lines", "order_events", "outbox_events"):
            written[shops][table] = sum(s.startswith(f"INSERT INTO {table} ") for s in seen["sql"])
    if db.engine.dialect.name == "postgresql":
        assert set(written[1].values()) == set(written[3].values()) == {1}, written
    else:
        rows = {"consents": 1, "payments": 1, "orders": 3, "order_lines": 3, "order_events": 3}
        assert {t: n for t, n in written[3].items() if t != "outbox_events"} == rows
        # Outbox: a stock event per listing, the buyer's mail, a mail per shop or one expiry.
        assert written[3]["outbox_events"] == 3 + 1 + (3 if method == "cod" else 1)
    assert len(_not_stock(single["sql"])) <= 14, single["sql"]


def test_the_request_renders_no_mail_the_worker_does(app, factory, shopper):
    shops = _shops_with_rules(factory, 2)
    owners = {shop.id: next(m.user.email for m in shop.members if m.role == "owner") for shop in shops}
    listings = [
        factory.listing(shop=shops[0], title="Cam bù Hương Sơn", price=45_000, stock=9),
        factory.listing(shop=shops[1], title="Mật ong rừng Vũ Quang", price=250_000, stock=9),
    ]
    code, seen = _checkout(app, shopper, listings)
    assert not [name for name in seen["templates"] if name.startswith("mail/")]

    rows = list(
        db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.topic == mail.TOPIC, OutboxEvent.idempotency_key.startswith("mail:order-")
            )
        )
    )
    assert len(rows) == 3  # the buyer's summary and one per shop
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    for row in rows:
        assert "body" not in row.payload and row.payload["locale"] == "vi"
        assert row.payload["template"] in {"order_placed", "order_new_for_shop"}
        # Ids and the link, not the receiver's name, phone or address.
        text = json.dumps(row.payload, ensure_ascii=False)
        assert "Trần Thị Bình" not in text and "0912345678" not in text and "Thôn 2" not in text
    [placed] = [row for row in rows if row.payload["template"] == "order_placed"]
    assert placed.payload["context"]["payment_id"] == payment.id

    with watching(app) as worker:
        drain()
    assert sorted(worker["templates"]) == [
        "mail/order_new_for_shop.txt",
        "mail/order_new_for_shop.txt",
        "mail/order_placed.txt",
    ]
    mails = {m["to"]: m for m in read_mails(app) if code in m["subject"]}
    buyer = mails["khach@example.vn"]
    assert buyer["subject"] == f"Đã nhận đơn hàng {code}"
    body = buyer["body"]
    assert body.startswith("Xin chào Trần Thị Bình,")
    assert "Cam bù Hương Sơn" in body and "Mật ong rừng Vũ Quang" in body
    assert f"{code}-1" in body and f"{code}-2" in body and "Thôn 2, Xã Sơn Kim 1, Hà Tĩnh" in body
    assert "/don-hang/lien-ket/" in body  # the guest's signed link, made in the request
    for shop in shops:  # no shop e-mail: its owner hears of the order
        order = db.session.scalar(
            select(Order).where(Order.payment_id == payment.id, Order.shop_id == shop.id)
        )
        shop_mail = mails[owners[shop.id]]
        assert shop_mail["subject"] == f"Đơn hàng mới {order.code}"
        assert order.lines[0].title in shop_mail["body"] and "thu hộ khi giao" in shop_mail["body"]
        assert f"/kenh-ban/{shop.slug}/" in shop_mail["body"]


def test_the_worker_writes_in_the_language_the_buyer_used(app, factory, shopper, tmp_path, monkeypatch):
    # The English catalogue as the .po says now (compiled into a temp dir, not the working tree).
    mo_dir = tmp_path / "translations" / "en" / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    with (
        (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po,
        (mo_dir / "messages.mo").open("wb") as mo,
    ):
        write_mo(mo, read_po(po, locale="en"))
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(tmp_path / "translations")])
    listing = factory.listing(title="Cam bù", stock=5)
    refresh()  # the factory ran in the fixture's app context, where Flask-Babel cached "vi"
    with shopper.client.session_transaction() as session:
        session["lang"] = "en"
    code, _seen = _checkout(app, shopper, [listing], "bank_transfer")
    drain()  # the worker has no request: its own language is Vietnamese
    buyer = next(m for m in read_mails(app) if m["to"] == "khach@example.vn")
    assert buyer["subject"] == f"Order {code} is awaiting payment"
    assert buyer["body"].startswith("Hello Trần Thị Bình,")
    assert "Xin chào" not in buyer["body"]


def test_an_erased_recipient_s_pending_mail_is_never_rendered(app, factory, shopper):
    listing = factory.listing(title="Cam bù", stock=5)
    _checkout(app, shopper, [listing])
    assert mail.forget_mails_to("khach@example.vn") == 1
    db.session.commit()
    [row] = [
        r
        for r in db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == mail.TOPIC))
        if "redacted" in r.payload
    ]
    assert row.payload == mail.REDACTED  # no address, no ids, no link
    with watching(app) as worker:
        drain()
    assert "mail/order_placed.txt" not in worker["templates"]
    assert all(m["to"] != "khach@example.vn" for m in read_mails(app))
    assert db.session.get(OutboxEvent, row.id).status == "done"


def test_a_worker_rendered_mail_takes_only_json_safe_context(app, factory):
    with pytest.raises(TypeError, match="JSON-safe"):
        mail.queue_mail("a@example.vn", "s", "order_placed", payment=factory.user())
    db.session.rollback()


def test_a_mail_about_something_gone_is_done_without_sending(app):
    mail.queue_mail("a@example.vn", "s", "order_placed", key="mail:gone", payment_id=987654, link="x")
    db.session.commit()
    drain()
    row = db.session.scalar(select(OutboxEvent).where(OutboxEvent.idempotency_key == "mail:gone"))
    assert row.status == "done" and not mail.mail_file("mail:gone").exists()


def test_templates_without_a_loader_are_still_rendered_when_queued(app, factory):
    user = factory.user(email="ai@example.vn", name="Ai Đó")
    mail.queue_mail(user.email, "Tài khoản", "account_deleted", key="mail:now", user=user)
    row = next(r for r in db.session.new if isinstance(r, OutboxEvent))
    assert set(row.payload) == {"to", "subject", "body"} and row.payload["body"]
    db.session.commit()


def test_a_member_s_checkout_is_as_fixed(app, client, factory, csrf_off):
    """Signed in: the account, its consent and its stored cart add a fixed few statements."""
    from orders_testlib import Shopper

    from tests.support import sign_in

    buyer = factory.user(email="mua@example.vn", name="Lê Văn Mua")
    sign_in(client, buyer)
    shopper = Shopper(client, factory.commune().id)
    shops = _shops_with_rules(factory, 3)
    one = factory.listing(shop=shops[0], title="Cam bù", stock=50)
    three = [factory.listing(shop=shop, title=f"Mật ong {i}", stock=50) for i, shop in enumerate(shops)]

    _checkout(app, shopper, [one])  # the first one records the consent to the privacy policy
    _code, single = _checkout(app, shopper, [one])
    _code, across = _checkout(app, shopper, three)

    reads = [
        [s.split(" FROM ")[1][:40] for s in seen["sql"] if s.startswith("SELECT")]
        for seen in (single, across)
    ]
    assert reads[0] == reads[1] and len(reads[0]) <= 8, reads
    assert "users WHERE" not in str(reads)  # the account is not read again after the commit
    for seen in (single, across):  # the stored cart emptied by one statement
        assert sum(s.startswith("DELETE FROM cart_items") for s in seen["sql"]) == 1
        assert not [s for s in seen["sql"] if s.startswith("UPDATE") and not s.startswith(STOCK_UPDATE)]

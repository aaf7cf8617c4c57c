"""The console's work queues: each count against rows made for it (and rows that must not count),
all counts in one query, and each count linking to the page that works it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from catalog.models import Listing
from dashboards import queues
from govqa import states as qa_states
from govqa.models import Agency, Question
from logistics.models import Partner, Remittance, RemittanceLine, WebhookDelivery
from marketplace.extensions import db
from marketplace.timeutil import local_today, utcnow
from orders.models import BankTransaction, Complaint
from syndication.models import Connection, SyncRecord
from tests.dashboards.floor_fixture import add_order
from tests.support import sign_in


def _question(agency, state: str, due_days: int | None, n: int) -> Question:
    today = local_today()
    question = Question(
        slug=f"cau-hoi-{n}",
        agency_id=agency.id if agency else None,
        topic="thue",
        title=f"Câu hỏi {n}",
        body="Nội dung",
        asker_name="Người hỏi",
        business_name="Công ty A",
        state=state,
        due_on=None if due_days is None else today + timedelta(days=due_days),
    )
    db.session.add(question)
    return question


def make_queues(factory) -> None:
    """Two of each item to count, beside items that must not count."""
    factory.shop(approved=False)
    factory.shop(approved=False)
    shop = factory.shop()
    ocop = {"ocop_certificate_no": "OCOP-1", "ocop_issued_on": "01/06/2025", "ocop_level": "province"}
    factory.listing(shop, "Cam", ocop_stars=3, **ocop)  # waiting
    factory.listing(shop, "Bưởi", ocop_stars=4, **{**ocop, "ocop_certificate_no": "OCOP-2"})  # waiting
    factory.check_ocop(
        factory.listing(shop, "Chè", ocop_stars=4, **{**ocop, "ocop_certificate_no": "OCOP-3"})
    )
    hidden = [factory.listing(shop, "Mực"), factory.listing(shop, "Gạo")]
    for listing in hidden:
        listing.hidden_at, listing.hidden_reason = utcnow(), "Sai thông tin"
    now = utcnow()
    orders = [add_order(shop, [(hidden[0], 1)], at="2026-11-01 08:00", status="delivered") for _ in range(4)]
    for order, status, due in zip(
        orders,
        ("escalated", "refund_due", "open", "open"),
        (now + timedelta(days=2), now + timedelta(days=2), now - timedelta(hours=1), now + timedelta(days=2)),
        strict=True,
    ):  # the third: its shop let the time pass, so it is the floor's now; the fourth waits for the shop
        db.session.add(
            Complaint(
                order_id=order.id,
                reason="damaged",
                description="Hỏng",
                status=status,
                answer_due_at=due,
            )
        )
    agency = Agency(slug="so-cong-thuong", name="Sở Công Thương")
    db.session.add(agency)
    db.session.flush()
    _question(None, "submitted", None, 1)
    _question(None, "not_our_remit", None, 2)
    _question(agency, "awaiting_answer", -1, 3)  # due yesterday: overdue
    _question(agency, "transferred", -30, 4)  # long overdue
    _question(agency, "awaiting_answer", 0, 5)  # due today: still on time
    _question(agency, "answered", -10, 6)  # finished: no clock
    partner = Partner(name="GHN", slug="ghn")
    db.session.add(partner)
    db.session.flush()
    for n, status in enumerate(("failed", "dead", "delivered", "pending")):
        db.session.add(
            WebhookDelivery(
                partner_id=partner.id,
                message_id=f"msg_{n}",
                event_type="order.updated",
                order_code="X",
                payload={},
                status=status,
            )
        )
    remittance = Remittance(partner_id=partner.id, reference="R1", transfer_date=local_today(), total_vnd=0)
    db.session.add(remittance)
    db.session.flush()
    for n, problem in enumerate(("amount_differs", "unknown_order", None)):
        db.session.add(
            RemittanceLine(remittance_id=remittance.id, order_code=f"C{n}", amount_vnd=1000, problem=problem)
        )
    connection = Connection(shop_id=shop.id, platform="shopee", remote_shop_id="1", access_token="t")
    db.session.add(connection)
    db.session.flush()
    for listing, state in zip(
        db.session.query(Listing).order_by(Listing.id).limit(4),
        ("failed", "needs_attention", "synced", "queued"),
        strict=True,
    ):
        db.session.add(SyncRecord(listing_id=listing.id, connection_id=connection.id, state=state))
    for n, outcome in enumerate(("no_code", "amount_mismatch", "matched", "already_paid")):
        db.session.add(BankTransaction(bank_txn_id=f"T{n}", amount_vnd=1000, outcome=outcome))
    db.session.commit()


def test_each_queue_counts_what_waits_for_the_floor(factory):
    make_queues(factory)
    assert queues.counts() == {
        "shops": 2,
        "ocop": 2,
        "hidden_listings": 2,
        "complaints": 3,
        "questions": 2,
        "overdue_answers": 2,
        "webhooks": 2,
        "syndication": 2,
        "transfers": 2,
        "cod": 2,
    }


def test_overdue_agrees_with_govqa_timeliness(factory):
    make_queues(factory)
    questions = db.session.query(Question).all()
    late = [q for q in questions if qa_states.timeliness(q) in (qa_states.OVERDUE, qa_states.LONG_OVERDUE)]
    assert queues.counts()["overdue_answers"] == len(late) == 2


def test_all_counts_in_one_query(app, factory):
    make_queues(factory)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        queues.counts()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1


def test_an_empty_floor_counts_zeros_quietly(client, factory):
    assert set(queues.counts().values()) == {0}
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/").get_data(as_text=True)
    assert html.count('class="count count-zero"') == len(queues.SPECS)


def test_console_links_each_count_to_its_page(client, factory):
    make_queues(factory)
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/").get_data(as_text=True)
    for href, count in (
        ("/quan-tri/cua-hang?status=pending", 2),
        ("/quan-tri/chung-nhan-ocop?status=waiting", 2),
        ("/quan-tri/san-pham?hidden=1", 2),
        ("/quan-tri/khieu-nai", 3),
    ):
        assert f'href="{href}"' in html
        start = html.index(f'href="{href}" data-queue=')
        assert f'<span class="count">{count}</span>' in html[start : start + 120]
    for q in queues.queues():  # every link opens for the operator
        assert client.get(q.url).status_code == 200, q.url

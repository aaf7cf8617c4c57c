"""The producer dashboard's figures against the hand-counted shop of producer_testlib: days at
the Vietnamese midnight, cancelled orders left out, channels, COD outstanding, the settlement
statement, today's work, and every query registered for the benchmark."""

from __future__ import annotations

from datetime import date

from dashboards import producer
from dashboards.periods import Granularity, Period, series
from marketplace.timeutil import local_today
from orders import settlement
from tests.dashboards.producer_testlib import (
    NOVEMBER,
    add_cod,
    add_ledger,
    add_remote_orders,
    add_today_work,
    build_world,
)


def test_sales_per_day_puts_midnight_orders_on_their_local_days(app, factory):
    w = build_world(factory)
    with app.test_request_context():
        per_day = producer.sales_per_day(NOVEMBER, w.shop.id)
        assert per_day == {"2026-11-01": (1, 95_000), "2026-11-30": (1, 100_000)}
        # The order at 00:00 on 1 December and the one at 23:59 on 31 October are outside.
        december = producer.sales_per_day(Period(date(2026, 12, 1), date(2026, 12, 1)), w.shop.id)
        assert december == {"2026-12-01": (1, 45_000)}
        october = producer.sales_per_day(Period(date(2026, 10, 31), date(2026, 10, 31)), w.shop.id)
        assert october == {"2026-10-31": (1, 150_000)}
        weeks = series(NOVEMBER, {d: v[1] for d, v in per_day.items()}, Granularity.WEEK)
        assert weeks[0] == (date(2026, 10, 26), 95_000)  # 1 November is a Sunday
        assert weeks[-1] == (date(2026, 11, 30), 100_000)
        assert sum(v for _d, v in weeks) == 195_000


def test_a_cancelled_order_is_not_a_sale(app, factory):
    w = build_world(factory)
    with app.test_request_context():
        mid_month = producer.sales_per_day(Period(date(2026, 11, 15), date(2026, 11, 15)), w.shop.id)
    assert mid_month == {}  # o5, cancelled on the 15th


def test_top_listings_by_revenue(app, factory):
    w = build_world(factory)
    with app.test_request_context():
        top = producer.top_listings(NOVEMBER, w.shop.id)
    assert [(t.title, t.quantity, t.revenue_vnd) for t in top] == [
        ("Cam bù Hương Sơn", 3, 150_000),
        ("Mật ong Vũ Quang", 1, 45_000),
    ]


def test_revenue_by_channel(app, factory):
    w = build_world(factory)
    add_remote_orders(w)
    with app.test_request_context():
        rows = producer.revenue_by_channel(NOVEMBER, w.shop.id)
        other = producer.revenue_by_channel(NOVEMBER, w.other_shop.id)
    assert [(r.channel, r.orders, r.revenue_vnd) for r in rows] == [
        ("floor", 2, 195_000),
        ("shopee", 1, 110_000),
    ]
    assert rows[1].label == "Shopee"
    assert [(r.channel, r.orders, r.revenue_vnd) for r in other] == [("floor", 1, 40_000)]


def test_cod_outstanding_per_order_and_carrier(app, factory):
    w = build_world(factory)
    add_cod(w)
    with app.test_request_context():
        rows = producer.cod_outstanding(None, w.shop.id)
        assert producer.cod_outstanding(None, w.other_shop.id) == []
    assert [(r.order_code, r.partner, r.collected_vnd, r.remitted_vnd, r.outstanding_vnd) for r in rows] == [
        (w.orders["o1"].code, "GHN Thử", 120_000, 50_000, 70_000)
    ]
    assert producer.cod_by_partner(rows) == [("GHN Thử", 70_000)]


def test_cod_outstanding_agrees_with_the_operators_reconciliation(app, factory):
    from logistics.remittances import ledger

    w = build_world(factory)
    add_cod(w)
    with app.test_request_context():
        ours = sum(r.outstanding_vnd for r in producer.cod_outstanding(None, w.shop.id))
        theirs = sum(r.outstanding_vnd for r in ledger() if r.shop == w.shop.name)
    assert ours == theirs == 70_000


def test_settlement_statement_balances(app, factory):
    w = build_world(factory)
    add_ledger(w)
    with app.test_request_context():
        statement = producer.settlement_statement(NOVEMBER, w.shop.id)
        assert statement.opening_vnd == 20_000
        assert [(line.kind, line.amount_vnd, line.order_code) for line in statement.lines] == [
            ("collected", 115_000, w.orders["o3"].code),
            ("partial_refund", -15_000, w.orders["o3"].code),
            ("payout", -50_000, ""),
        ]
        assert statement.closing_vnd == 70_000
        assert [balance for _line, balance in statement.with_balances()] == [135_000, 120_000, 70_000]
        assert statement.total("collected") == 115_000
        assert statement.total("refunded", "partial_refund") == -15_000
        # Up to today the closing balance is what orders.settlement says the floor owes.
        to_today = producer.settlement_statement(Period(date(2026, 10, 1), local_today()), w.shop.id)
        assert to_today.opening_vnd == 0
        assert to_today.closing_vnd == settlement.owed_to(w.shop.id) == 60_000
        december = producer.settlement_statement(Period(date(2026, 12, 1), date(2026, 12, 31)), w.shop.id)
        assert december.opening_vnd == 70_000 and december.closing_vnd == 60_000


def test_today_work_counts(app, factory):
    w = build_world(factory)
    add_remote_orders(w)
    add_today_work(w, factory)
    with app.test_request_context():
        counts = producer.today_work(None, w.shop.id)
        other = producer.today_work(None, w.other_shop.id)
    assert counts == {
        "to_confirm": 2,
        "to_pack": 1,  # o2, confirmed
        "delivery_problems": 1,
        "complaints": 1,
        "low_stock": 1,  # A: 10 left, threshold 10; the archived listing does not count
        "sync_errors": 1,
        "unanswered_reviews": 1,
    }
    assert other["low_stock"] == 1 and other["to_confirm"] == 0 and other["unanswered_reviews"] == 0


def test_every_producer_query_is_registered_for_the_benchmark(app, factory):
    queries = app.extensions["dashboard_queries"]
    names = {name for name in queries if name.startswith("producer.")}
    assert names == set(producer.QUERIES)
    assert all(queries[name].scope == "shop" for name in names)
    w = build_world(factory)
    with app.test_request_context():
        for name in names:
            queries[name].run(NOVEMBER, w.shop.id)  # each runs with (period, shop_id)
        assert queries["producer.sales_per_day"].run(NOVEMBER, w.shop.id)["2026-11-30"] == (1, 100_000)


def test_a_chart_of_few_orders_has_whole_number_gridlines(app):
    import re

    from dashboards.charts import time_chart

    with app.test_request_context():
        chart = time_chart(
            "so-don", "Số đơn", [(date(2026, 11, 1), 1), (date(2026, 11, 2), 0)], value_label="Số đơn"
        )
    labels = re.findall(
        r'<text class="axis" x="66" y="[\d.]+" text-anchor="end">([^<]*)</text>', str(chart.svg)
    )
    assert labels == ["0", "1", "2", "3", "4"]

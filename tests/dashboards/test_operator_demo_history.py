"""The demo's sales history (demo/sales.py): about 90 days of orders in several provinces, mostly
delivered, some cancelled, written once, so the dashboards look alive on `make run`."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from catalog.models import Listing
from dashboards import operator
from dashboards.periods import Period
from demo.sales import PHONE_PREFIX, load_sales
from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import local_date, local_today
from orders.models import Order
from tests.support import sign_in


def _demo_orders() -> list[Order]:
    db.session.rollback()
    return list(db.session.scalars(select(Order).where(Order.receiver_phone.like(f"{PHONE_PREFIX}%"))))


def test_demo_history_is_alive_idempotent_and_fast(app, runner, client):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    orders = _demo_orders()
    assert len(orders) >= 120
    statuses = {o.status for o in orders}
    assert {"completed", "cancelled"} <= statuses
    assert sum(o.status in ("delivered", "completed") for o in orders) > 0.7 * len(orders)
    assert len({o.province for o in orders}) >= 3 and "Hà Tĩnh" in {o.province for o in orders}
    days = {local_date(o.created_at) for o in orders}
    today = local_today()
    assert min(days) <= today.replace(day=1) and (today - min(days)).days >= 85 and max(days) < today
    # the shelf is left as the catalogue set it: a listing sold out there is still sold out
    assert db.session.scalar(select(func.count()).select_from(Listing).where(Listing.stock == 0)) > 0

    added: Counter = Counter()
    load_sales("Hà Tĩnh", added)
    assert not added
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and len(_demo_orders()) == len(orders)

    totals = operator.totals(Period.last_days(90))
    assert totals.orders > 100 and totals.gmv_vnd > 0 and totals.buyers > 20
    sign_in(client, db.session.scalar(select(User).where(User.email == "operator@demo.vn")), "demo12345")
    page = client.get("/quan-tri/?ky=90")
    assert page.status_code == 200 and "chưa có gì trong khoảng thời gian này" not in page.get_data(
        as_text=True
    )

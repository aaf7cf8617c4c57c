"""The HTTP layer both adapters share, and what any parcel turns into on the wire."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logistics.carriers import Item, adapter_for
from logistics.carriers._http import retry_after_seconds
from tests.logistics.carriers.parcels import make_parcel
from tests.logistics.carriers.standins import GHNStandin, GHTKStandin


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("120", 120.0), ("0", 0.0), ("soon", None), ("-5", None)],
)
def test_retry_after_in_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date():
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert 80 <= (retry_after_seconds(format_datetime(later, usegmt=True)) or 0) <= 91
    past = datetime.now(UTC) - timedelta(hours=1)
    assert retry_after_seconds(format_datetime(past, usegmt=True)) == 0.0


_NAMES = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "Pd")), min_size=1, max_size=40
).filter(str.strip)
_ITEMS = st.lists(
    st.builds(
        Item,
        name=_NAMES,
        sku=st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True),
        quantity=st.integers(1, 50),
        weight_g=st.integers(1, 20_000),
        value_vnd=st.integers(0, 50_000_000),
    ),
    min_size=1,
    max_size=4,
)


_SERIAL = itertools.count(1)  # every example books a new order


@pytest.fixture(scope="module")
def standins():
    with GHNStandin(rate_per_second=10_000) as ghn, GHTKStandin(rate_per_second=10_000) as ghtk:
        yield ghn, ghtk


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=_ITEMS, name=_NAMES, cod=st.integers(0, 50_000_000))
def test_what_the_carriers_receive_is_what_the_parcel_says(standins, items, name, cod):
    ghn, ghtk = standins
    parcel = make_parcel(f"HT-P{next(_SERIAL)}", items=tuple(items), cod_vnd=cod, receiver__name=name)
    parcel = dataclasses.replace(parcel, weight_g=sum(i.weight_g * i.quantity for i in items))

    for standin in (ghn, ghtk):
        credentials = {"token": standin.token, "shop_id": getattr(standin, "shop_id", "")}
        carrier = adapter_for(standin.carrier, base_url=standin.url, credentials=credentials)
        booking = carrier.create_shipment(parcel)
        assert booking.tracking_code == standin.shipments[parcel.order_code].tracking_code

    sent_ghn = ghn.shipments[parcel.order_code].request
    assert sent_ghn["to_name"] == name
    assert sent_ghn["cod_amount"] == cod
    assert [(i["name"], i["quantity"], i["weight"]) for i in sent_ghn["items"]] == [
        (i.name, i.quantity, i.weight_g) for i in items
    ]
    sent_ghtk = ghtk.shipments[parcel.order_code].request
    assert sent_ghtk["order"]["name"] == name
    assert sent_ghtk["order"]["pick_money"] == cod
    assert [(p["name"], round(p["weight"] * 1000)) for p in sent_ghtk["products"]] == [
        (i.name, i.weight_g) for i in items
    ]

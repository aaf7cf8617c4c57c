"""Both adapters: the interface, and booking the same order from several workers at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from logistics.carriers import CARRIER_KINDS, DEFAULT_BASE_URLS, CarrierAdapter, adapter_for
from tests.logistics.carriers.parcels import make_parcel
from tests.logistics.carriers.standins import GHNStandin, GHTKStandin


def test_the_kinds_and_their_production_roots():
    assert CARRIER_KINDS == {"ghn": "Giao Hàng Nhanh", "ghtk": "Giao Hàng Tiết Kiệm"}
    assert set(DEFAULT_BASE_URLS) == set(CARRIER_KINDS)
    assert all(url.startswith("https://") for url in DEFAULT_BASE_URLS.values())
    for kind, url in DEFAULT_BASE_URLS.items():
        carrier = adapter_for(kind, base_url=url, credentials={"token": "t", "shop_id": "1"})
        assert isinstance(carrier, CarrierAdapter)
        assert carrier.kind == kind


@pytest.mark.parametrize("standin_class", [GHNStandin, GHTKStandin])
def test_workers_booking_the_same_order_at_once_book_it_once(standin_class):
    with standin_class() as standin:
        credentials = {"token": standin.token, "shop_id": getattr(standin, "shop_id", "")}
        carrier = adapter_for(standin.carrier, base_url=standin.url, credentials=credentials)
        with ThreadPoolExecutor(max_workers=6) as pool:
            bookings = list(pool.map(lambda _: carrier.create_shipment(make_parcel("HT-RACE")), range(6)))

        assert len(standin.shipments) == 1
        assert {b.tracking_code for b in bookings} == {standin.shipments["HT-RACE"].tracking_code}

"""The GHTK adapter against the GHTK stand-in: GHTK's header, bodies, envelopes and failures."""

from __future__ import annotations

import time
from datetime import UTC

import pytest

from logistics.carriers import (
    CarrierAdapter,
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    CarrierValidationError,
    adapter_for,
)
from tests.logistics.carriers.parcels import make_parcel
from tests.logistics.carriers.standins import GHTKStandin, fee_for


@pytest.fixture
def ghtk():
    with GHTKStandin() as standin:
        yield standin


def adapter(standin: GHTKStandin, *, timeout: float = 5.0, token: str | None = None) -> CarrierAdapter:
    return adapter_for(
        "ghtk", base_url=standin.url, credentials={"token": token or standin.token}, timeout=timeout
    )


def creates(standin: GHTKStandin) -> int:
    return sum(1 for call in standin.calls if call == ("POST", "/services/shipment/order"))


def test_quote_is_a_get_with_the_token_header_and_grams(ghtk):
    quote = adapter(ghtk).quote(make_parcel(declared_value_vnd=2_000_000))

    service, insurance = fee_for(4_900, 2_000_000)
    assert insurance == 10_000
    assert quote.fee_vnd == service + insurance
    request = ghtk.requests[-1]
    assert (request["method"], request["path"]) == ("GET", "/services/shipment/fee")
    assert request["headers"]["token"] == ghtk.token
    assert request["query"]["weight"] == "4900"
    assert request["query"]["province"] == "Hà Tĩnh"
    assert request["query"]["ward"] == "Phường Thành Sen"


def test_create_sends_products_in_kg_and_the_order(ghtk):
    booking = adapter(ghtk).create_shipment(make_parcel("HT-1"))

    stored = ghtk.shipments["HT-1"]
    assert booking.tracking_code == stored.tracking_code
    assert booking.fee_vnd == stored.fee_vnd == 67_000
    assert booking.expected_delivery is not None and booking.expected_delivery.tzinfo is UTC
    assert booking.expected_delivery.hour == 11  # "Chiều <date>": 18:00 in Vietnam
    products, order = stored.request["products"], stored.request["order"]
    assert products[0] == {
        "name": "Cam bù Hương Sơn (hộp 2 kg)",
        "product_code": "CAM-2KG",
        "quantity": 2,
        "weight": 2.1,
        "price": 150_000,
    }
    assert order["id"] == "HT-1"
    assert (order["pick_name"], order["pick_tel"], order["pick_province"]) == (
        "HTX Cam bù Hương Sơn",
        "0912345678",
        "Hà Tĩnh",
    )
    assert (order["name"], order["tel"], order["ward"], order["address"]) == (
        "Nguyễn Thị Lan",
        "0987654321",
        "Phường Thành Sen",
        "12 Trần Phú",
    )
    assert (order["pick_money"], order["value"], order["is_freeship"]) == (385_000, 360_000, 1)
    assert order["note"].startswith("Cho xem hàng")
    assert ghtk.requests[-1]["query"] == {"ver": "1.5"}


def test_forbidding_inspection_is_written_in_the_note(ghtk):
    adapter(ghtk).create_shipment(make_parcel("HT-2", inspection="forbid", note=""))
    assert ghtk.shipments["HT-2"].request["order"]["note"] == "Không cho xem hàng"


def test_a_repeated_create_returns_the_existing_booking(ghtk):
    carrier = adapter(ghtk)
    first = carrier.create_shipment(make_parcel("HT-3"))
    again = carrier.create_shipment(make_parcel("HT-3"))

    assert again.tracking_code == first.tracking_code
    assert again.fee_vnd == first.fee_vnd
    assert len(ghtk.shipments) == 1
    assert creates(ghtk) == 1


def test_order_id_exist_is_read_back(ghtk):
    carrier = adapter(ghtk)
    first = carrier.create_shipment(make_parcel("HT-4"))
    ghtk.fail_next(status=404, path="partner_id:")  # the look-up misses once

    again = carrier.create_shipment(make_parcel("HT-4"))

    assert again.tracking_code == first.tracking_code
    assert creates(ghtk) == 2  # GHTK answered ORDER_ID_EXIST
    assert len(ghtk.shipments) == 1


def test_a_create_whose_answer_was_lost_is_not_booked_twice(ghtk):
    carrier = adapter(ghtk, timeout=0.3)
    ghtk.stall_next(1.0, path="/services/shipment/order")
    with pytest.raises(CarrierUnavailable):
        carrier.create_shipment(make_parcel("HT-5"))
    deadline = time.monotonic() + 5
    while not ghtk.shipments and time.monotonic() < deadline:
        time.sleep(0.05)

    booking = carrier.create_shipment(make_parcel("HT-5"))

    assert booking.tracking_code == ghtk.shipments["HT-5"].tracking_code
    assert len(ghtk.shipments) == 1


def test_cancel_before_pickup_and_again(ghtk):
    carrier = adapter(ghtk)
    booking = carrier.create_shipment(make_parcel("HT-6"))

    carrier.cancel_shipment(booking.tracking_code)
    carrier.cancel_shipment(booking.tracking_code)  # GHTK refuses; the status says it is cancelled

    assert carrier.shipment_status(booking.tracking_code) == "-1"
    assert ("POST", f"/services/shipment/cancel/{booking.tracking_code}") in ghtk.calls


def test_cancel_after_pickup_is_refused(ghtk):
    carrier = adapter(ghtk)
    booking = carrier.create_shipment(make_parcel("HT-7"))
    ghtk.set_status("HT-7", "3")

    with pytest.raises(CarrierError) as caught:
        carrier.cancel_shipment(booking.tracking_code)
    assert not caught.value.retryable
    assert "status 3" in caught.value.message
    assert ghtk.shipments["HT-7"].status == "3"


def test_status_is_ghtks_own_number_as_text(ghtk):
    carrier = adapter(ghtk)
    booking = carrier.create_shipment(make_parcel("HT-8"))
    assert carrier.shipment_status(booking.tracking_code) == "2"
    ghtk.set_status("HT-8", "5")
    assert carrier.shipment_status(booking.tracking_code) == "5"


def test_a_bad_token_is_an_auth_error(ghtk):
    with pytest.raises(CarrierAuthError) as caught:
        adapter(ghtk, token="wrong").create_shipment(make_parcel())
    assert caught.value.status == 401 and not caught.value.retryable
    assert ghtk.shipments == {}


def test_a_bad_token_answered_in_the_envelope_is_an_auth_error():
    with GHTKStandin(auth_errors_as_200=True) as ghtk, pytest.raises(CarrierAuthError) as caught:
        adapter(ghtk, token="wrong").quote(make_parcel())
    assert caught.value.status == 200
    assert "Token không hợp lệ" in caught.value.message


def test_a_missing_ward_names_the_field(ghtk):
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghtk).create_shipment(make_parcel("HT-9", receiver__commune_name=""))
    assert caught.value.field == "order.ward"
    assert ghtk.shipments == {}


def test_a_missing_ward_in_a_quote_names_the_field(ghtk):
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghtk).quote(make_parcel(receiver__commune_name=""))
    assert caught.value.field == "order.ward"


def test_a_bad_phone_names_the_field(ghtk):
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghtk).create_shipment(make_parcel("HT-10", receiver__phone="+84 98"))
    assert caught.value.field == "order.tel"


def test_over_the_call_budget_is_rate_limited_with_retry_after():
    with GHTKStandin(rate_per_second=2) as ghtk:
        carrier = adapter(ghtk)
        carrier.quote(make_parcel())
        carrier.quote(make_parcel())
        with pytest.raises(CarrierRateLimited) as caught:
            carrier.quote(make_parcel())
    assert caught.value.retryable and caught.value.retry_after == 1.0


def test_an_injected_429_carries_its_retry_after(ghtk):
    ghtk.fail_next(status=429, retry_after=12)
    with pytest.raises(CarrierRateLimited) as caught:
        adapter(ghtk).create_shipment(make_parcel())
    assert caught.value.retry_after == 12.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable_and_retryable(ghtk, status):
    ghtk.fail_next(status=status)
    carrier = adapter(ghtk)
    with pytest.raises(CarrierUnavailable) as caught:
        carrier.create_shipment(make_parcel("HT-11"))
    assert caught.value.retryable and caught.value.status == status
    assert (
        carrier.create_shipment(make_parcel("HT-11")).tracking_code == ghtk.shipments["HT-11"].tracking_code
    )


def test_a_slow_answer_is_a_timeout(ghtk):
    ghtk.stall_next(1.0)
    with pytest.raises(CarrierUnavailable, match="no answer within"):
        adapter(ghtk, timeout=0.3).quote(make_parcel())


def test_the_registry():
    with pytest.raises(ValueError, match="token"):
        adapter_for("ghtk", base_url="https://example.test", credentials={})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("<html>maintenance</html>", CarrierUnavailable),
        ({"message": "ok"}, CarrierUnavailable),
        ({"success": True, "message": "", "fee": {"fee": "free"}}, CarrierUnavailable),
        ({"success": True, "message": "", "fee": {"fee": 30000, "delivery": False}}, CarrierValidationError),
        ({"success": False, "message": "Tỉnh người nhận không hợp lệ"}, CarrierValidationError),
    ],
)
def test_answers_outside_ghtks_protocol(ghtk, body, error):
    ghtk.answer_next(body)
    with pytest.raises(error):
        adapter(ghtk).quote(make_parcel())


def test_ghtk_validation_field_from_a_vietnamese_message(ghtk):
    ghtk.answer_next({"success": False, "message": "Tỉnh người nhận không hợp lệ"})
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghtk).quote(make_parcel())
    assert caught.value.field == "order.province"

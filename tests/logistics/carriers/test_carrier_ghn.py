"""The GHN adapter against the GHN stand-in: GHN's headers, bodies, envelopes and failures."""

from __future__ import annotations

import socket
import time
from datetime import UTC

import pytest

from logistics.carriers import (
    Booking,
    CarrierAdapter,
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    CarrierValidationError,
    adapter_for,
)
from tests.logistics.carriers.parcels import make_parcel
from tests.logistics.carriers.standins import GHNStandin, fee_for


@pytest.fixture
def ghn():
    with GHNStandin() as standin:
        yield standin


def adapter(standin: GHNStandin, *, timeout: float = 5.0, **credentials: str) -> CarrierAdapter:
    creds = {"token": standin.token, "shop_id": standin.shop_id, **credentials}
    return adapter_for("ghn", base_url=standin.url, credentials=creds, timeout=timeout)


def creates(standin: GHNStandin) -> int:
    return sum(1 for call in standin.calls if call == ("POST", "/shiip/public-api/v2/shipping-order/create"))


def test_quote_sends_ghn_headers_and_reads_the_total(ghn):
    quote = adapter(ghn).quote(make_parcel())

    service, insurance = fee_for(4_900, 360_000)
    assert quote.fee_vnd == service + insurance == 67_000
    assert quote.expected_delivery is None
    request = ghn.requests[-1]
    assert request["path"].endswith("/shipping-order/fee")
    assert request["headers"]["token"] == ghn.token
    assert request["headers"]["shopid"] == ghn.shop_id
    assert request["body"]["to_ward_code"] == "18070"
    assert request["body"]["weight"] == 4_900


def test_create_sends_the_contract_fields_and_returns_the_booking(ghn):
    booking = adapter(ghn).create_shipment(make_parcel("HT-1"))

    stored = ghn.shipments["HT-1"]
    assert booking.tracking_code == stored.tracking_code == stored["tracking_code"]
    assert booking.fee_vnd == stored.fee_vnd == 67_000
    assert booking.expected_delivery is not None and booking.expected_delivery.tzinfo is UTC
    sent = stored.request
    assert sent["payment_type_id"] == 1
    assert sent["required_note"] == "CHOXEMHANGKHONGTHU"
    assert sent["client_order_code"] == "HT-1"
    assert (sent["to_name"], sent["to_phone"], sent["to_ward_code"]) == (
        "Nguyễn Thị Lan",
        "0987654321",
        "18070",
    )
    assert sent["to_address"] == "12 Trần Phú, Phường Thành Sen, Hà Tĩnh"
    assert sent["cod_amount"] == 385_000
    assert (sent["weight"], sent["length"], sent["width"], sent["height"]) == (4_900, 40, 30, 20)
    assert sent["items"][0] == {
        "name": "Cam bù Hương Sơn (hộp 2 kg)",
        "code": "CAM-2KG",
        "quantity": 2,
        "price": 150_000,
        "weight": 2_100,
    }


def test_forbidding_inspection_asks_ghn_not_to_let_the_parcel_be_opened(ghn):
    adapter(ghn).create_shipment(make_parcel("HT-2", inspection="forbid"))
    assert ghn.shipments["HT-2"].request["required_note"] == "KHONGCHOXEMHANG"


def test_an_unknown_inspection_rule_is_refused_before_any_call(ghn):
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghn).create_shipment(make_parcel("HT-3", inspection="try"))
    assert caught.value.field == "required_note"
    assert ghn.calls == []


def test_a_repeated_create_returns_the_existing_booking(ghn):
    carrier = adapter(ghn)
    first = carrier.create_shipment(make_parcel("HT-4"))
    again = carrier.create_shipment(make_parcel("HT-4"))

    assert again == first
    assert len(ghn.shipments) == 1
    assert creates(ghn) == 1


def test_a_create_whose_answer_was_lost_is_not_booked_twice(ghn):
    carrier = adapter(ghn, timeout=0.3)
    ghn.stall_next(1.0, path="shipping-order/create")
    with pytest.raises(CarrierUnavailable):
        carrier.create_shipment(make_parcel("HT-5"))
    deadline = time.monotonic() + 5
    while not ghn.shipments and time.monotonic() < deadline:
        time.sleep(0.05)  # GHN finishes booking after the adapter gave up waiting

    booking = carrier.create_shipment(make_parcel("HT-5"))

    assert booking.tracking_code == ghn.shipments["HT-5"].tracking_code
    assert len(ghn.shipments) == 1


def test_a_duplicate_refused_by_ghn_is_read_back(ghn):
    carrier = adapter(ghn)
    first = carrier.create_shipment(make_parcel("HT-6"))
    ghn.fail_next(status=400, path="detail-by-client-code")  # the look-up misses once

    again = carrier.create_shipment(make_parcel("HT-6"))

    assert again.tracking_code == first.tracking_code
    assert creates(ghn) == 2  # GHN refused the second create as a duplicate
    assert len(ghn.shipments) == 1


def test_cancel_before_pickup_and_again(ghn):
    carrier = adapter(ghn)
    booking = carrier.create_shipment(make_parcel("HT-7"))

    carrier.cancel_shipment(booking.tracking_code)
    assert carrier.shipment_status(booking.tracking_code) == "cancel"
    carrier.cancel_shipment(booking.tracking_code)  # already cancelled: still a success
    assert ghn.shipments["HT-7"].status == "cancel"
    cancels = [r["body"] for r in ghn.requests if r["path"].endswith("/switch-status/cancel")]
    assert cancels == [{"order_codes": [booking.tracking_code]}] * 2


def test_cancel_after_pickup_is_refused(ghn):
    carrier = adapter(ghn)
    booking = carrier.create_shipment(make_parcel("HT-8"))
    ghn.set_status("HT-8", "picked")

    with pytest.raises(CarrierError) as caught:
        carrier.cancel_shipment(booking.tracking_code)
    assert not caught.value.retryable
    assert "picked" in caught.value.message
    assert ghn.shipments["HT-8"].status == "picked"


def test_status_is_ghns_own_word(ghn):
    carrier = adapter(ghn)
    booking = carrier.create_shipment(make_parcel("HT-9"))
    assert carrier.shipment_status(booking.tracking_code) == "ready_to_pick"
    ghn.set_status(booking.tracking_code, "delivering")
    assert carrier.shipment_status(booking.tracking_code) == "delivering"


def test_status_of_an_unknown_code_is_a_validation_error(ghn):
    with pytest.raises(CarrierValidationError):
        adapter(ghn).shipment_status("LNOSUCH1")


def test_a_bad_token_is_an_auth_error(ghn):
    with pytest.raises(CarrierAuthError) as caught:
        adapter(ghn, token="expired-token").create_shipment(make_parcel())
    assert caught.value.status == 401
    assert not caught.value.retryable
    assert ghn.shipments == {}


def test_a_wrong_shop_id_is_an_auth_error_read_from_the_envelope(ghn):
    with pytest.raises(CarrierAuthError) as caught:
        adapter(ghn, shop_id="1").quote(make_parcel())
    assert caught.value.status == 400
    assert "Lỗi lấy thông tin shop" in caught.value.message


def test_a_missing_ward_names_the_field(ghn):
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghn).create_shipment(make_parcel("HT-10", receiver__commune_code=""))
    assert caught.value.field == "to_ward_code"
    assert not caught.value.retryable
    assert ghn.shipments == {}


def test_a_bad_phone_names_the_field(ghn):
    with pytest.raises(CarrierValidationError) as caught:
        adapter(ghn).create_shipment(make_parcel("HT-11", receiver__phone="12345"))
    assert caught.value.field == "to_phone"


def test_over_the_call_budget_is_rate_limited_with_retry_after():
    with GHNStandin(rate_per_second=2) as ghn:
        carrier = adapter(ghn)
        carrier.quote(make_parcel())
        carrier.quote(make_parcel())
        with pytest.raises(CarrierRateLimited) as caught:
            carrier.quote(make_parcel())
    assert caught.value.retryable
    assert caught.value.retry_after == 1.0


def test_an_injected_429_carries_its_retry_after(ghn):
    ghn.fail_next(status=429, retry_after=7)
    with pytest.raises(CarrierRateLimited) as caught:
        adapter(ghn).create_shipment(make_parcel())
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_retryable(ghn, status):
    ghn.fail_next(status=status, times=2, retry_after=30)
    carrier = adapter(ghn)
    for _ in range(2):
        with pytest.raises(CarrierUnavailable) as caught:
            carrier.quote(make_parcel())
        assert caught.value.retryable and caught.value.status == status
        assert caught.value.retry_after == 30.0
    assert carrier.quote(make_parcel()).fee_vnd == 67_000  # then GHN is back


def test_a_slow_answer_is_a_timeout(ghn):
    ghn.stall_next(1.0)
    started = time.monotonic()
    with pytest.raises(CarrierUnavailable) as caught:
        adapter(ghn, timeout=0.3).quote(make_parcel())
    assert time.monotonic() - started < 0.9
    assert "0.3 s" in caught.value.message


def test_a_refused_connection_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    carrier = adapter_for(
        "ghn", base_url=f"http://127.0.0.1:{port}/v2", credentials={"token": "t", "shop_id": "1"}
    )
    with pytest.raises(CarrierUnavailable) as caught:
        carrier.quote(make_parcel())
    assert caught.value.retryable


def test_the_registry():
    assert isinstance(
        adapter_for("ghn", base_url="https://example.test/v2", credentials={"token": "t", "shop_id": "1"}),
        CarrierAdapter,
    )
    with pytest.raises(KeyError):
        adapter_for("vnpost", base_url="https://example.test", credentials={})
    with pytest.raises(ValueError, match="shop_id"):
        adapter_for("ghn", base_url="https://example.test", credentials={"token": "t"})
    with pytest.raises(ValueError, match="http"):
        adapter_for("ghn", base_url="file:///etc/passwd", credentials={"token": "t", "shop_id": "1"})
    with pytest.raises(ValueError, match="timeout"):
        adapter_for(
            "ghn", base_url="https://example.test", credentials={"token": "t", "shop_id": "1"}, timeout=0
        )


def test_booking_is_a_value():
    assert Booking("L1", 1, None) == Booking("L1", 1, None)


@pytest.mark.parametrize(
    ("status", "body", "error", "retryable"),
    [
        (200, "<html>maintenance</html>", CarrierUnavailable, True),  # a gateway page, not GHN
        (200, {"message": "ok"}, CarrierUnavailable, True),  # no code: not GHN's envelope
        (200, {"code": 401, "message": "Token is not valid!", "data": None}, CarrierAuthError, False),
        (200, {"code": 500, "message": "Internal error", "data": None}, CarrierUnavailable, True),
        (200, {"code": 200, "message": "Success", "data": {"total": 1.5}}, CarrierUnavailable, True),
        (200, {"code": 200, "message": "Success", "data": {"total": -1}}, CarrierUnavailable, True),
        (400, "Bad Request", CarrierError, False),
        (302, "", CarrierError, False),  # redirects are not followed (the Token would go along)
    ],
)
def test_answers_outside_ghns_protocol(ghn, status, body, error, retryable):
    headers = {"Location": "http://127.0.0.2:9/steal"} if status == 302 else None
    ghn.answer_next(body, status=status, headers=headers)
    with pytest.raises(error) as caught:
        adapter(ghn).quote(make_parcel())
    assert caught.value.retryable is retryable
    assert type(caught.value) is error or error is CarrierError


def test_an_envelope_rate_limit_reads_retry_after(ghn):
    ghn.answer_next({"code": 429, "message": "Too many requests"}, status=200, headers={"Retry-After": "3"})
    with pytest.raises(CarrierRateLimited) as caught:
        adapter(ghn).quote(make_parcel())
    assert caught.value.retry_after == 3.0

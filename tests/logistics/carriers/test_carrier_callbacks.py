"""Carriers' callback bodies read into InboundEvents; the default status maps; tracking pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics.carriers import (
    DEFAULT_STATUS_MAPS,
    FLOOR_STATUSES,
    TRACKING_URLS,
    CallbackError,
    InboundEvent,
    adapter_for,
    parse_callback,
)
from logistics.carriers.callbacks import tracking_url
from tests.logistics.carriers.parcels import make_parcel
from tests.logistics.carriers.standins import GHNStandin, GHTKStandin

# As GHN posts it (field names and shapes of GHN's callback documentation).
GHN_BODY = {
    "CODAmount": 385000,
    "CODTransferDate": None,
    "ClientOrderCode": "HT-250801-0001",
    "ConvertedWeight": 4900,
    "Description": "Giao hàng thành công",
    "Fee": {"CODFailedFee": 0, "CODFee": 0, "Coupon": 0, "Insurance": 0, "MainService": 67000, "Return": 0},
    "Height": 20,
    "IsPartialReturn": False,
    "Length": 40,
    "OrderCode": "LK7XA3QN",
    "PartialReturnCode": "",
    "PaymentType": 1,
    "Reason": "",
    "ReasonCode": "",
    "ShopID": 885,
    "Status": "delivered",
    "Time": "2025-08-04T03:52:50.158Z",
    "TotalFee": 67000,
    "Type": "switch_status",
    "Warehouse": "Bưu Cục 12 Trần Phú-Hà Tĩnh",
    "Weight": 4900,
    "Width": 30,
}

# As GHTK posts it.
GHTK_BODY = {
    "label_id": "S1000001.HT12.123456789",
    "partner_id": "HT-250801-0001",
    "status_id": 5,
    "action_time": "2025-08-04T10:52:50+07:00",
    "reason_code": "",
    "reason": "",
    "weight": 4.9,
    "fee": 67000,
    "pick_money": 385000,
    "return_part_package": 0,
}

# Every status domain.md (and the issue) names, and what the floor makes of it.
GHN_EXPECTED = {
    "ready_to_pick": None,
    "picking": None,
    "picked": "picked_up",
    "storing": "in_transit",
    "transporting": "in_transit",
    "delivering": "out_for_delivery",
    "delivered": "delivered",
    "delivery_fail": "delivery_failed",
    "waiting_to_return": "delivery_failed",
    "return": "returning",
    "returning": "returning",
    "returned": "returned",
    "cancel": None,
    "lost": "lost",
    "damage": "damaged",
}
GHTK_EXPECTED = {
    "1": None,
    "2": None,
    "3": "picked_up",
    "4": "out_for_delivery",
    "5": "delivered",
    "6": "delivered",
    "9": "delivery_failed",
    "20": "returning",
    "21": "returned",
    "-1": None,
}


def test_a_ghn_callback():
    event = parse_callback("ghn", GHN_BODY)

    assert event == InboundEvent(
        event_id=event.event_id,
        order_code="HT-250801-0001",
        carrier_status="delivered",
        occurred_at=datetime(2025, 8, 4, 3, 52, 50, 158000, tzinfo=UTC),
        tracking_code="LK7XA3QN",
        reason=None,
        cod_collected_vnd=385_000,
    )
    assert event.event_id.startswith("ghn-")


def test_a_ghn_retry_has_the_same_event_id_and_another_event_another():
    first = parse_callback("ghn", GHN_BODY)
    retried = parse_callback("ghn", json.loads(json.dumps(GHN_BODY)))
    assert retried.event_id == first.event_id
    assert parse_callback("ghn", {**GHN_BODY, "Status": "returned"}).event_id != first.event_id
    assert parse_callback("ghn", {**GHN_BODY, "Time": "2025-08-04T03:52:51Z"}).event_id != first.event_id
    # the same moment written with an offset is the same event
    assert (
        parse_callback("ghn", {**GHN_BODY, "Time": "2025-08-04T10:52:50.158+07:00"}).event_id
        == first.event_id
    )


def test_ghn_cod_counts_as_collected_only_on_delivery_and_the_reason_keeps_its_code():
    event = parse_callback(
        "ghn",
        {**GHN_BODY, "Status": "delivery_fail", "Reason": "Khách hẹn giao lại", "ReasonCode": "GHN-DFC1A0"},
    )
    assert event.cod_collected_vnd is None
    assert event.reason == "[GHN-DFC1A0] Khách hẹn giao lại"
    assert DEFAULT_STATUS_MAPS["ghn"][event.carrier_status] == "delivery_failed"


def test_the_ghn_standin_builds_callbacks_the_parser_reads():
    with GHNStandin() as ghn:
        carrier = adapter_for(
            "ghn", base_url=ghn.url, credentials={"token": ghn.token, "shop_id": ghn.shop_id}
        )
        booking = carrier.create_shipment(make_parcel("HT-42"))
        body = ghn.callback_body("HT-42", "picked", time=datetime(2025, 8, 2, 1, 0, tzinfo=UTC))
    event = parse_callback("ghn", body)
    assert (event.order_code, event.tracking_code, event.carrier_status) == (
        "HT-42",
        booking.tracking_code,
        "picked",
    )
    assert event.occurred_at == datetime(2025, 8, 2, 1, 0, tzinfo=UTC)


def test_a_ghtk_callback():
    event = parse_callback("ghtk", GHTK_BODY)

    assert (event.order_code, event.tracking_code, event.carrier_status) == (
        "HT-250801-0001",
        "S1000001.HT12.123456789",
        "5",
    )
    assert event.occurred_at == datetime(2025, 8, 4, 3, 52, 50, tzinfo=UTC)
    assert event.cod_collected_vnd == 385_000
    assert event.event_id.startswith("ghtk-")


def test_a_form_encoded_ghtk_callback_is_the_same_event():
    as_form = {key: str(value) for key, value in GHTK_BODY.items()}
    assert parse_callback("ghtk", as_form) == parse_callback("ghtk", GHTK_BODY)


def test_ghtk_amounts_written_with_thousands_separators():
    assert parse_callback("ghtk", {**GHTK_BODY, "pick_money": "385.000"}).cod_collected_vnd == 385_000
    assert parse_callback("ghtk", {**GHTK_BODY, "pick_money": "385,000"}).cod_collected_vnd == 385_000


def test_ghtk_local_time_without_offset_and_a_cancel():
    event = parse_callback("ghtk", {**GHTK_BODY, "status_id": -1, "action_time": "2025-08-04 10:52:50"})
    assert event.carrier_status == "-1"
    assert event.occurred_at == datetime(2025, 8, 4, 3, 52, 50, tzinfo=UTC)
    assert event.cod_collected_vnd is None


def test_the_ghtk_standin_builds_callbacks_the_parser_reads():
    with GHTKStandin() as ghtk:
        adapter_for("ghtk", base_url=ghtk.url, credentials={"token": ghtk.token}).create_shipment(
            make_parcel("HT-43")
        )
        body = ghtk.callback_body("HT-43", 3, time=datetime(2025, 8, 2, 1, 0, tzinfo=UTC), reason_code="")
    event = parse_callback("ghtk", body)
    assert (event.order_code, event.carrier_status) == ("HT-43", "3")
    assert event.occurred_at == datetime(2025, 8, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "body", "names"),
    [
        ("ghn", {k: v for k, v in GHN_BODY.items() if k != "ClientOrderCode"}, "ClientOrderCode"),
        ("ghn", {**GHN_BODY, "Status": ""}, "Status"),
        ("ghn", {**GHN_BODY, "Time": "hôm qua"}, "Time"),
        ("ghn", {**GHN_BODY, "Time": 12}, "Time"),
        ("ghn", {**GHN_BODY, "CODAmount": -5}, "CODAmount"),
        ("ghn", {**GHN_BODY, "CODAmount": "ba trăm"}, "CODAmount"),
        ("ghn", {**GHN_BODY, "ClientOrderCode": ["HT-1"]}, "ClientOrderCode"),
        ("ghn", {**GHN_BODY, "OrderCode": "LK7 XA3"}, "OrderCode"),
        ("ghtk", {**GHTK_BODY, "status_id": "giao rồi"}, "status_id"),
        ("ghtk", {**GHTK_BODY, "status_id": True}, "status_id"),
        ("ghtk", {k: v for k, v in GHTK_BODY.items() if k != "partner_id"}, "partner_id"),
        ("ghtk", {k: v for k, v in GHTK_BODY.items() if k != "action_time"}, "action_time"),
        ("ghtk", {**GHTK_BODY, "pick_money": 1.5}, "pick_money"),
        ("ghtk", {**GHTK_BODY, "pick_money": "1.5"}, "pick_money"),
        ("ghtk", {**GHTK_BODY, "pick_money": "385.000,5"}, "pick_money"),
    ],
)
def test_a_malformed_body_says_which_field(kind, body, names):
    with pytest.raises(CallbackError, match=names):
        parse_callback(kind, body)


@pytest.mark.parametrize("body", [[], "Status=delivered", None, 5])
def test_a_body_that_is_not_an_object(body):
    with pytest.raises(CallbackError, match="JSON object"):
        parse_callback("ghn", body)


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(KeyError):
        parse_callback("vnpost", GHN_BODY)


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_GHN_KEYS = st.sampled_from(sorted(GHN_BODY))
_GHTK_KEYS = st.sampled_from(sorted(GHTK_BODY))


@given(
    kind=st.sampled_from(["ghn", "ghtk"]),
    base=st.booleans(),
    changes=st.dictionaries(_GHN_KEYS | _GHTK_KEYS | st.text(max_size=8), _JSONISH, max_size=6),
)
def test_parse_raises_nothing_but_callback_error(kind, base, changes):
    body = {**(GHN_BODY if kind == "ghn" else GHTK_BODY), **changes} if base else changes
    try:
        event = parse_callback(kind, body)
    except CallbackError as exc:
        assert str(exc)
    else:
        assert event.occurred_at.tzinfo is UTC
        assert event.order_code and event.carrier_status and event.event_id
        assert event.cod_collected_vnd is None or event.cod_collected_vnd >= 0


@given(st.text(max_size=30), st.datetimes(timezones=st.just(UTC), min_value=datetime(2001, 1, 1)))
def test_ghn_event_ids_are_stable_and_distinct(status, moment):
    body = {**GHN_BODY, "Status": status or "picked", "Time": moment.isoformat()}
    try:
        first = parse_callback("ghn", body)
    except CallbackError:
        return
    assert parse_callback("ghn", dict(body)).event_id == first.event_id
    later = {**body, "Time": moment.replace(year=moment.year - 1 if moment.year > 2001 else 2002).isoformat()}
    assert parse_callback("ghn", later).event_id != first.event_id


@pytest.mark.parametrize(("kind", "expected"), [("ghn", GHN_EXPECTED), ("ghtk", GHTK_EXPECTED)])
def test_every_status_domain_md_names_maps(kind, expected):
    table = DEFAULT_STATUS_MAPS[kind]
    for status, floor in expected.items():
        assert table[status] == floor, status
    assert set(table.values()) <= {*FLOOR_STATUSES, None}


def test_every_floor_status_a_carrier_can_reach():
    for kind in ("ghn", "ghtk"):
        reached = {v for v in DEFAULT_STATUS_MAPS[kind].values() if v}
        assert {
            "picked_up",
            "out_for_delivery",
            "delivered",
            "delivery_failed",
            "returning",
            "returned",
        } <= reached
    assert {"lost", "damaged", "in_transit"} <= {v for v in DEFAULT_STATUS_MAPS["ghn"].values() if v}


def test_tracking_pages():
    assert set(TRACKING_URLS) == {"ghn", "ghtk"}
    assert all("{code}" in url and url.startswith("https://") for url in TRACKING_URLS.values())
    assert tracking_url("ghn", "LK7XA3QN") == "https://donhang.ghn.vn/?order_code=LK7XA3QN"
    assert tracking_url("ghtk", "S1.HT12.1") == "https://i.ghtk.vn/S1.HT12.1"
    assert tracking_url("generic", "X") is None

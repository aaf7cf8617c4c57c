"""marketplace.money and marketplace.numbers: examples, then properties (Hypothesis).

The properties: whatever is formatted parses back to the same amount; no input is ever silently
scaled (a parse refuses, or returns exactly the number its digits spell); every accepted amount is
inside its bounds."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import example, given
from hypothesis import strategies as st

from marketplace import money, numbers
from marketplace.money import MAX_PRICE_VND, MAX_TOTAL_VND, format_vnd, parse_statement_amount, parse_vnd
from marketplace.numbers import DB_INT_MAX, NumberError, coerce_id, page_arg, parse_int, query_int


@pytest.fixture(scope="module", autouse=True)
def _babel():
    """Messages are translated with gettext: a bare app with Babel is enough (no database)."""
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


# --- examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("45000", 45000),
        ("45.000", 45000),
        ("45.000 ₫", 45000),
        ("45.000\u00a0₫", 45000),  # what format_vnd writes
        ("45000đ", 45000),
        ("45.000 VND", 45000),
        ("45.000 vnđ", 45000),
        ("45000 đồng", 45000),
        ("₫45,000", 45000),  # the English locale's way
        ("45,000", 45000),  # thousands with "," as the CSV import always accepted
        ("1.250.000", 1_250_000),
        ("1 250 000", 1_250_000),
        ("0", 0),
        (45000, 45000),
    ],
)
def test_amounts_people_type(raw, expected):
    assert parse_vnd(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["45000.5", "45,5", "1.000,5", "45,000.000", "45.00", "4.5000", "1E5", "abc", "٤٥", "+45", 45000.0, None],
)
def test_anything_but_a_whole_amount_is_refused_with_a_message(raw):
    with pytest.raises(NumberError) as caught:
        parse_vnd(raw)
    assert "số nguyên" in caught.value.message


def test_the_listing_form_bug_is_gone():
    """It read "45000.5" as 450 005 đồng and "45,5" as 455."""
    for raw in ("45000.5", "45,5"):
        with pytest.raises(NumberError):
            parse_vnd(raw, maximum=MAX_PRICE_VND)


def test_bounds_and_their_messages():
    with pytest.raises(NumberError, match="âm"):
        parse_vnd("-45.000")
    with pytest.raises(NumberError, match=re.escape("Tối đa 500.000.000")):
        parse_vnd("9000000000000000000", maximum=MAX_PRICE_VND)
    with pytest.raises(NumberError, match="lớn hơn 0"):
        parse_vnd("0", minimum=1)
    with pytest.raises(NumberError, match="nhập số tiền"):
        parse_vnd(" ₫ ")
    assert parse_vnd(str(MAX_TOTAL_VND)) == MAX_TOTAL_VND
    assert MAX_TOTAL_VND < DB_INT_MAX  # every amount fits the 32-bit column


def test_bank_statement_amounts():
    for raw in (
        "1.943.000",
        "1,943,000",
        "1943000",
        "1943000.00",
        "1.943.000,00",
        "1,943,000.00",
        "+1.943.000 VND",
    ):
        assert parse_statement_amount(raw) == 1_943_000, raw
    assert parse_statement_amount("") is None and parse_statement_amount("-50.000") is None  # debit
    for raw in ("1943000.50", "1.943.000,5", "1943000.5", "abc"):
        with pytest.raises(NumberError):
            parse_statement_amount(raw)


def test_the_money_filter_is_the_money_module():
    from marketplace.i18n import money as money_filter

    assert money_filter is format_vnd
    assert format_vnd(150000) == "150.000\u00a0₫" and format_vnd(None) == ""


def test_whole_numbers_and_ids():
    assert parse_int("1.500") == 1500 and parse_int("1500") == 1500
    with pytest.raises(NumberError):
        parse_int("1,5")
    with pytest.raises(NumberError, match="Tối đa"):
        parse_int("99999999999999999999")
    assert [coerce_id(v) for v in ("12", 12, "99999999999999999999", "abc", "-3", None, True, "")] == [
        12,
        12,
        0,
        0,
        0,
        0,
        0,
        0,
    ]
    assert page_arg({"page": "99999999999999999999"}) == numbers.MAX_PAGE
    assert page_arg({"page": "abc"}) == 1 and page_arg({}) == 1 and page_arg({"page": "0"}) == 1


@pytest.mark.parametrize("raw", ["1.0", "1,0", "100000.9", " 1", "+1", "1e3", "", "٣"])
def test_query_strings_take_plain_digits_only(raw):
    with pytest.raises(NumberError):
        query_int({"page": raw}, "page", minimum=1, maximum=10)
    assert query_int({"page": "7"}, "page", minimum=1, maximum=10) == 7
    assert query_int({"page": ""}, "page", minimum=1, maximum=10, blank_ok=True) is None


# --- properties -------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=MAX_TOTAL_VND)


def _renderings(amount: int) -> list[str]:
    dotted = f"{amount:,}".replace(",", ".")
    return [
        format_vnd(amount),
        str(amount),
        dotted,
        f"{amount:,}",
        f"{amount:,}".replace(",", " "),
        f"{dotted} ₫",
        f"{dotted}đ",
        f"{amount} VND",
    ]


@given(amounts)
@example(0)
@example(MAX_TOTAL_VND)
@example(1000)
def test_format_then_parse_gives_the_amount_back(amount):
    for text in _renderings(amount):
        assert parse_vnd(text) == amount, text


# Text made of what an amount is typed with: digits, both separators, spaces, signs, a decimal
# tail, currency words. Most of it is nonsense; the point is what the parser does with it.
typed = st.text(alphabet="0123456789.,  \u00a0-+₫đ", max_size=24) | st.builds(
    lambda a, tail: f"{a}{tail}",
    amounts,
    st.sampled_from(["", ".5", ",5", ".00", ",00", ".000", ",50", " ₫"]),
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit()).lstrip("0") or "0"


@given(typed)
@example("45000.5")
@example("45,5")
@example("1.000,5")
def test_nothing_is_silently_scaled(text):
    """A parse refuses, or returns the number the digits spell: never 450005 for "45000.5"."""
    try:
        value = parse_vnd(text)
    except NumberError as exc:
        assert exc.message
        return
    assert str(value) == _digits(text)
    assert 0 <= value <= MAX_TOTAL_VND


@given(typed)
@example("1943000.50")
@example("1.943.000,00")
def test_statement_amounts_are_never_scaled_either(text):
    """Bank statements: the digits, or the digits without an all-zero cents part."""
    try:
        value = parse_statement_amount(text)
    except NumberError:
        return
    if value is None:
        return
    digits = _digits(text)
    assert digits in (str(value), str(value * 100) if value else "0")
    assert re.search(r"[.,]00\s*(₫|đ)?\s*$", text) or digits == str(value)


@given(st.text(max_size=12) | st.integers().map(str))
def test_whole_numbers_are_refused_or_exact_and_bounded(text):
    try:
        value = parse_int(text, minimum=1, maximum=10_000)
    except NumberError:
        return
    assert str(value) == _digits(text) and 1 <= value <= 10_000


@given(st.text(max_size=25))
@example("99999999999999999999")
def test_ids_from_forms_stay_in_the_database_range(text):
    assert 0 <= coerce_id(text) <= DB_INT_MAX


@given(st.integers(min_value=0, max_value=MAX_PRICE_VND))
def test_prices_round_trip_with_the_price_bound(price):
    assert money.parse_optional_vnd(format_vnd(price), maximum=MAX_PRICE_VND) == price

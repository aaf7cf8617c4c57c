"""Money: integer đồng everywhere. One parser, one formatter, the bounds every amount keeps.

Parsing follows Babel's Vietnamese rules (`marketplace.numbers`): "45.000", "45000", "45.000 ₫",
"45000đ", "45.000 VND" are all 45000. "45,000" and "45 000" are 45000 too (whole groups of three:
how spreadsheets on English systems and the CSV import write thousands). A decimal part is refused
("45000.5", "45,5"): đồng has no minor unit, and a parser must never turn 45000.5 into 450005. Bank
statements print "1.943.000,00" or "1,943,000.00": `parse_statement_amount` accepts an all-zero
decimal part, nothing else.

Bounds: a listing's price at most MAX_PRICE_VND; an order, a checkout, a payout or any other total
at most MAX_TOTAL_VND, which keeps every amount inside a 32-bit INTEGER column (2 147 483 647) with
room to spare. Nothing is negative."""

from __future__ import annotations

import re
import unicodedata

from babel.numbers import format_currency, get_currency_symbol
from flask_babel import gettext as _

from .numbers import NumberError, check_range, digits_of, not_whole_message

LOCALE = "vi_VN"
CURRENCY = "VND"
MIN_VND = 0
MAX_PRICE_VND = 500_000_000  # 500 triệu đồng for one unit: far above any product sold here
MAX_TOTAL_VND = 2_000_000_000  # 2 tỷ đồng: one checkout, one order, one payout, one shipping rule

# What may follow (or, as the en locale writes it, precede) the digits: Babel's symbol for the
# currency ("₫"), the letter people type for it ("đ"), and the words.
_SYMBOL = get_currency_symbol(CURRENCY, locale=LOCALE)
_CURRENCY_WORDS = sorted({_SYMBOL, "đ", "đồng", "vnd", "vnđ"}, key=len, reverse=True)
_CURRENCY = re.compile(
    r"^\s*(?:"
    + "|".join(map(re.escape, _CURRENCY_WORDS))
    + r")?\s*(.*?)\s*(?:"
    + "|".join(map(re.escape, _CURRENCY_WORDS))
    + r")?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def format_vnd(amount: int | None) -> str:
    """150000 -> '150.000 ₫' (Vietnamese grouping in both languages: the currency is đồng)."""
    if amount is None:
        return ""
    return format_currency(int(amount), CURRENCY, locale=LOCALE)


def _show(amount: int) -> str:
    return format_vnd(amount)


def _strip_currency(text: str) -> str:
    match = _CURRENCY.fullmatch(unicodedata.normalize("NFC", text))
    return match.group(1) if match else text


def parse_vnd(raw: object, *, maximum: int = MAX_TOTAL_VND, minimum: int = MIN_VND) -> int:
    """An amount of đồng a person typed, within [minimum, maximum]. Raises NumberError with a
    message fit for the form or the CSV report. Python ints (from code, the API, tests) are only
    range-checked; floats are refused: money never passes through a float."""
    if isinstance(raw, (bool, float)) or raw is None:
        raise NumberError(_money_message())
    if isinstance(raw, int):
        return check_range(raw, minimum, maximum, show=_show)
    text = _strip_currency(str(raw))
    if not text.strip():
        raise NumberError(_("Vui lòng nhập số tiền."))
    try:
        digits = digits_of(text)
    except NumberError as exc:
        if exc.message == not_whole_message():
            raise NumberError(_money_message()) from None
        raise
    if len(digits.lstrip("0")) > len(str(maximum)):
        raise NumberError(_("Tối đa %(max)s.", max=_show(maximum)))
    return check_range(int(digits), minimum, maximum, show=_show)


def parse_optional_vnd(raw: object, *, maximum: int = MAX_TOTAL_VND, minimum: int = MIN_VND) -> int | None:
    """parse_vnd, with a blank value (None, "", spaces) meaning None."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse_vnd(raw, maximum=maximum, minimum=minimum)


def parse_statement_amount(raw: str) -> int | None:
    """A credit amount in a bank statement: '1.943.000', '1,943,000', '1943000', '1943000.00',
    '1.943.000,00', '+1.943.000 VND' -> 1943000. None for a blank cell or a debit (negative);
    NumberError for anything else ('1943000.50' is not 194300050)."""
    text = _strip_currency((raw or "").strip()).strip()
    if not text or text.startswith(("-", "\u2212")):
        return None
    try:
        digits = digits_of(text.removeprefix("+").strip(), zero_cents=True)
    except NumberError:
        raise NumberError(_money_message()) from None
    if len(digits.lstrip("0")) > len(str(MAX_TOTAL_VND)):
        raise NumberError(_("Tối đa %(max)s.", max=_show(MAX_TOTAL_VND)))
    return check_range(int(digits), MIN_VND, MAX_TOTAL_VND, show=_show)


def _money_message() -> str:
    return _("Số tiền phải là số nguyên đồng, không có phần thập phân (ví dụ 45000 hoặc 45.000 ₫).")

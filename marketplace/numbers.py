"""Whole numbers at the edge: what people type (forms, CSV), what query strings carry, ids in URLs.

Every id, count and amount is stored in an INTEGER column, 32 bits on PostgreSQL (2 147 483 647)
and 64 on SQLite. A number outside that range must be refused where it enters, with a message
(or a 404 for a path), and never reach a query: SQLite raises OverflowError and PostgreSQL
"integer out of range", both a 500. So every way a number comes in goes through here:

* `parse_int` — typed by a person: Babel's Vietnamese rules (group separator ".", so "1.500" is
  1500), plus the groupings people also type ("1,500", "1 500": whole groups of three only).
  A decimal part ("1,5", "1500.5") is refused, never dropped or scaled.
* `query_int` — query strings read by machines and links: plain ASCII digits only, so
  `page=1.0` or `per_page=1,0` is an error instead of another number.
* `page_arg` — the page number of an HTML list: a person following a bad link gets page 1 or the
  deepest page allowed, not an error page.
* `coerce_id` — an id posted by a form (a select, a hidden field): anything that cannot be a
  row id becomes 0, which matches no row, so the form says "please choose".
* `format_weight` — the other way: grams shown to people, the Vietnamese way ("850 g", "2,0 kg").
* `BoundedIntConverter` — replaces Flask's `int` URL converter app-wide: `<int:…>` matches only
  ASCII digits up to DB_INT_MAX; anything larger is a 404.
"""

from __future__ import annotations

import builtins
import re
import unicodedata
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, Map, ValidationError

DB_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; SQLite's is wider
LOCALE = "vi"  # the rules numbers are typed by, in both languages of the site
GROUP = get_group_symbol(LOCALE)  # "."
DECIMAL = get_decimal_symbol(LOCALE)  # ","

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_ALLOWED = re.compile(r"[0-9.,\u00a0\u202f ]+", re.ASCII)
# Groupings Babel's Vietnamese rules do not know but people type: thousands separated by "," (as
# in English and the CSV files Excel writes on English systems) or by spaces. Whole groups only.
_OTHER_GROUPINGS = (
    re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+"),
    re.compile(r"[0-9]{1,3}(?: [0-9]{3})+"),
)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MAX_DIGITS = 18  # far beyond any bound here; stops int() on a megabyte of digits


class NumberError(ValueError):
    """A number that cannot be accepted; `message` is fit to show the user (Vietnamese first)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def not_whole_message() -> str:
    return _("Phải là số nguyên, không có phần thập phân (ví dụ 45000 hoặc 45.000).")


def grouped(value: int) -> str:
    """1500 -> '1.500': how messages show a bound."""
    return f"{value:,}".replace(",", GROUP)


def digits_of(raw: str, *, zero_cents: bool = False) -> str:
    """The digits a typed whole number says, separators removed; NumberError when it is not one.

    `zero_cents` also accepts an all-zero decimal part written either way ("1.943.000,00",
    "1,943,000.00"), as bank statements print amounts; any other decimal part is refused."""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = _SPACES.sub(" ", text)
    if text.startswith(("-", "\u2212")) and len(text) > 1:
        raise NumberError(_("Không được là số âm."))
    if not text or not _ALLOWED.fullmatch(text):
        raise NumberError(not_whole_message())
    if zero_cents and len(text) > 3 and text[-3] in ".," and text.endswith("00"):
        return digits_of(text[:-3])
    if any(pattern.fullmatch(text) for pattern in _OTHER_GROUPINGS):
        return re.sub(r"[ ,]", "", text)
    if " " in text:
        raise NumberError(not_whole_message())
    try:
        value = parse_decimal(text, locale=LOCALE, strict=True)
    except (NumberFormatError, ArithmeticError):
        raise NumberError(not_whole_message()) from None
    if DECIMAL in text or not value.is_finite() or value != value.to_integral_value():
        raise NumberError(not_whole_message())
    return text.replace(GROUP, "")


def format_weight(grams: int | None) -> str:
    """850 -> '850 g', 2000 -> '2,0 kg', 1250 -> '1,3 kg' (half up), 1250000 -> '1.250,0 kg': under a
    kilogram in grams, from one kilogram in kilograms with one decimal, in Vietnamese notation in
    both languages of the site (as amounts of money are); a no-break space keeps the number and
    its unit on one line. None -> ''."""
    if grams is None:
        return ""
    grams = int(grams)
    if abs(grams) < 1000:
        return f"{format_decimal(grams, format='#,##0', locale=LOCALE)}\u00a0g"
    kilograms = (Decimal(grams) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{format_decimal(kilograms, format='#,##0.0', locale=LOCALE, decimal_quantization=False)}\u00a0kg"


def check_range(value: int, minimum: int, maximum: int, *, show=grouped) -> int:
    if value < minimum:
        if minimum == 1:
            raise NumberError(_("Phải lớn hơn 0."))
        raise NumberError(_("Phải từ %(min)s trở lên.", min=show(minimum)))
    if value > maximum:
        raise NumberError(_("Tối đa %(max)s.", max=show(maximum)))
    return value


def parse_int(raw: object, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int:
    """A whole number a person typed ("1.500", "1500", "1,500", "1 500" -> 1500), within
    [minimum, maximum]. Raises NumberError with the reason. Python ints are only range-checked."""
    if isinstance(raw, bool):
        raise NumberError(not_whole_message())
    if isinstance(raw, int):
        return check_range(raw, minimum, maximum)
    if raw is None or isinstance(raw, float):
        raise NumberError(not_whole_message())
    digits = digits_of(str(raw))
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        raise NumberError(_("Tối đa %(max)s.", max=grouped(maximum)))
    return check_range(int(digits), minimum, maximum)


def parse_optional_int(raw: object, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int | None:
    """parse_int, with blank (None, "", spaces) meaning None."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse_int(raw, minimum=minimum, maximum=maximum)


def query_int(
    args: Mapping[str, str], name: str, *, minimum: int, maximum: int, blank_ok: bool = False
) -> int | None:
    """A whole number from the query string: plain ASCII digits, within [minimum, maximum]; None
    when absent (or empty, with `blank_ok`: an HTML form sends its empty fields). Raises
    NumberError (the API answers 400) for anything else, `per_page=` included."""
    raw = args.get(name)
    if raw is None or (raw == "" and blank_ok):
        return None
    if not _DIGITS.fullmatch(raw):
        raise NumberError(_("Tham số %(name)s phải là số nguyên.", name=name))
    if len(raw.lstrip("0")) > _MAX_DIGITS or not minimum <= int(raw) <= maximum:
        raise NumberError(_("Tham số %(name)s phải từ %(lo)s đến %(hi)s.", name=name, lo=minimum, hi=maximum))
    return int(raw)


MAX_PAGE = 10_000


def page_arg(args: Mapping[str, str], name: str = "page", *, maximum: int = MAX_PAGE) -> int:
    """The page of an HTML list: missing or not a number -> 1; beyond `maximum` -> `maximum`
    (the page then shows that nothing is there, as any page past the last does)."""
    raw = args.get(name) or ""
    if not _DIGITS.fullmatch(raw):
        return 1
    if len(raw.lstrip("0")) > _MAX_DIGITS:
        return maximum
    return min(max(int(raw), 1), maximum)


def coerce_id(value: object) -> int:
    """A row id from a form field (SelectField(coerce=…), hidden inputs): anything that is not a
    plain id in the database's range becomes 0, which no row has."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if 0 <= value <= DB_INT_MAX else 0
    text = str(value if value is not None else "").strip()
    if not _DIGITS.fullmatch(text) or len(text.lstrip("0")) > 10:
        return 0
    number = int(text)
    return number if number <= DB_INT_MAX else 0


def id_arg(value: str) -> int:
    """`request.args.get("shop", type=id_arg)`: a bad id raises ValueError, which the mapping's
    get() turns into its default."""
    number = coerce_id(value)
    if number <= 0:
        raise ValueError(value)
    return number


class BoundedIntConverter(IntegerConverter):
    """Flask's `int` converter, bounded: only ASCII digits (not "٤٢"), and at most DB_INT_MAX unless
    a rule asks for less. A larger id is a 404 before the view runs, for every `<int:…>` route."""

    regex = r"[0-9]+"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        bound = DB_INT_MAX if max is None else builtins.min(max, DB_INT_MAX)
        super().__init__(map, fixed_digits, min, bound, signed)

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-0")) > 10:  # no int() of a thousand digits
            raise ValidationError()
        return super().to_python(value)

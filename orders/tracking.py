"""The carriers' public tracking pages, in one place: a shop types the carrier's name when it hands
a parcel over (free text, suggested from a list), and its inbox links the tracking number there.

The URL patterns are the carriers' public look-up pages as their sites showed them; they are not
part of any API contract (the GHN and GHTK ones match logistics/carriers' UNCONFIRMED tables).
Correct a pattern here. A carrier not in the table (a shop that delivers itself, a local bus
company) gets no link: the number shows as plain text."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# (the carrier's name as shops write it, other spellings, the tracking page with {code})
CARRIERS: list[tuple[str, tuple[str, ...], str]] = [
    ("GHN", ("giao hang nhanh",), "https://donhang.ghn.vn/?order_code={code}"),
    ("GHTK", ("giao hang tiet kiem",), "https://i.ghtk.vn/{code}"),
    (
        "VNPost",
        ("vietnam post", "buu dien", "buu dien viet nam", "vnp"),
        "https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key={code}",
    ),
    ("Viettel Post", ("viettelpost", "vtp"), "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?key={code}"),
    (
        "J&T Express",
        ("j&t", "jt", "jnt", "jt express"),
        "https://jtexpress.vn/vi/tracking?type=track&billcode={code}",
    ),
]

# The names the ship form suggests, then "the shop delivers itself".
SUGGESTED = [name for name, _aliases, _url in CARRIERS]


def _key(name: str) -> str:
    """'Giao Hàng Nhanh' -> 'giaohangnhanh', 'J&T' -> 'jt': letters and digits, no accents."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", folded.casefold())


_PATTERNS = {_key(alias): url for name, aliases, url in CARRIERS for alias in (name, *aliases)}


def tracking_url(carrier: str | None, tracking_number: str | None) -> str | None:
    """The carrier's tracking page for this number, or None (no number, or a carrier not listed)."""
    number = (tracking_number or "").strip()
    pattern = _PATTERNS.get(_key(carrier or ""))
    if not number or pattern is None:
        return None
    return pattern.format(code=quote(number, safe=""))

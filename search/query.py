"""What a search asks and what it answers, independent of the backend; request parsing and cursors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup

from marketplace.errors import DomainError
from marketplace.money import MAX_PRICE_VND
from marketplace.numbers import NumberError, query_int
from marketplace.timeutil import local_today

from . import text as vi

SORTS = ("relevance", "price_asc", "price_desc", "newest")
# Price facet buckets in đồng: [from, to) — the last one open-ended.
PRICE_BUCKETS: list[tuple[int, int | None]] = [
    (0, 50_000),
    (50_000, 100_000),
    (100_000, 200_000),
    (200_000, 500_000),
    (500_000, None),
]
MAX_PER_PAGE = 100
MAX_WINDOW = 10_000  # page * per_page beyond this needs the cursor (search_after / keyset)
MAX_QUERY_CHARS = 200
IN_STOCK_VALUES = ("1", "0", "true", "false", "on", "off", "yes", "no")  # the API: the first four
MAX_PRICE = MAX_PRICE_VND

# Relevance boosts, the same on every backend: score x (1 + IN_STOCK + OCOP x stars + SALES x ln(1 + sales)).
BOOST_IN_STOCK = 0.3
BOOST_OCOP_PER_STAR = 0.06
BOOST_SALES = 0.1


@dataclass
class SearchQuery:
    text: str = ""
    category_id: int | None = None
    origin: str | None = None
    shop_id: int | None = None
    ocop_min: int | None = None
    cert: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24
    cursor: list | None = None
    facets: bool = True
    count_total: bool = True  # suggestions need no total
    highlight: bool = True
    match_any: bool = False  # any word instead of every word: the "nearest" results after zero hits
    understand: bool = True  # read Telex/VNI, run-together words and slips (search/understand.py)
    synonyms: list[list[tuple[str, ...]]] = field(
        default_factory=list
    )  # folded groups, filled by the service
    today: date = field(default_factory=local_today)

    @property
    def folded(self) -> str:
        return " ".join(vi.folded_tokens(self.text))

    @property
    def origin_key(self) -> str | None:
        return " ".join(vi.folded_tokens(self.origin)) or None if self.origin else None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def highlight_terms(self) -> tuple[set[str], str | None]:
        """Folded words to mark (synonym alternatives included) and the last word as a prefix."""
        words = vi.folded_tokens(self.text)
        terms = set(words)
        for span in vi.expand_synonyms(words, self.synonyms):
            for alternative in span:
                terms.update(alternative)
        return terms, (words[-1] if words else None)


@dataclass
class Hit:
    id: int
    title: str
    slug: str
    price_vnd: int
    unit: str
    shop_id: int
    shop_slug: str
    shop_name: str
    origin: str | None
    in_stock: bool
    ocop_stars: int | None  # only while the rating is valid
    image_key: str | None
    image_w: int | None
    image_h: int | None
    title_html: Markup
    snippet_html: Markup | None = None


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    backend: str
    facets: dict[str, Any] = field(default_factory=dict)
    next_cursor: str | None = None
    fallback: bool = False
    did_you_mean: str | None = None
    nearest: list[Hit] = field(default_factory=list)
    understood: str | None = None  # what was searched instead of the typed text ("gạo nếp")


def hit_from_document(
    d: Mapping[str, Any], query: SearchQuery, terms: set[str], prefix: str | None, *, fuzzy: bool
) -> Hit:
    """A hit from a stored document: both backends store the same fields (search.documents).
    `fuzzy`: also mark title words within the typo tolerance (the engine forgives typos; its typo
    branch never looks at descriptions, so snippets are never fuzzy)."""
    marks = query.highlight and bool(terms)
    return Hit(
        id=d["id"],
        title=d["title"],
        slug=d["slug"],
        price_vnd=d["price_vnd"],
        unit=d["unit"],
        shop_id=d["shop_id"],
        shop_slug=d["shop_slug"],
        shop_name=d["shop_name"],
        origin=d.get("origin"),
        in_stock=bool(d["in_stock"]),
        ocop_stars=valid_stars(d.get("ocop_stars"), d.get("ocop_expires_on"), query.today),
        image_key=d.get("image_key"),
        image_w=d.get("image_w"),
        image_h=d.get("image_h"),
        title_html=vi.highlight(
            d["title"], terms if marks else set(), prefix if marks else None, fuzzy=fuzzy
        ),
        snippet_html=vi.snippet(d.get("description"), terms, prefix) if marks else None,
    )


def valid_stars(stars: int | None, expires_on: str | None, today: date) -> int | None:
    if not stars or not expires_on:
        return None
    return stars if today.isoformat() < expires_on[:10] else None


CURSOR_SALT = "search.cursor"


def _cursor_signer() -> URLSafeSerializer:
    """Cursors are signed with the app's SECRET_KEY: a search only ever receives the sort values
    of a hit it returned itself (every web process shares the key, so any of them accepts it)."""
    key = current_app.secret_key
    assert key, "SECRET_KEY is always set (generated into instance/ when not configured)"
    return URLSafeSerializer(key, salt=CURSOR_SALT)


def encode_cursor(backend: str, sort: str, values: list) -> str:
    return _cursor_signer().dumps({"b": backend, "s": sort, "v": values})


def _cursor_value(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def decode_cursor(token: str, backend: str, sort: str) -> list | None:
    """The sort values of the last hit seen, or None when the cursor came from another backend
    or sort (the page number is used instead). A cursor the server did not sign, or whose values
    are not two sort values, is a 400."""
    try:
        data = _cursor_signer().loads(token)
        values = data["v"]
        if not (
            isinstance(values, list)
            and len(values) == 2
            and all(_cursor_value(v) for v in values)
            and isinstance(data["b"], str)
            and data["s"] in SORTS
        ):
            raise ValueError
    except (BadData, ValueError, KeyError, TypeError):
        raise DomainError(_("Tham số cursor không hợp lệ."), field_errors={"cursor": ["invalid"]}) from None
    if data["b"] != backend or data["s"] != sort:
        return None
    return values


def check_window(query: SearchQuery) -> None:
    """Without a cursor in use, a page lies within the first MAX_WINDOW hits (the engine refuses
    `from` beyond its max_result_window, and offsets cost what they skip). Applied once the
    backend answering is known: a cursor of another backend or sort is not used, so its page
    number must be within the window too."""
    if query.cursor is None and query.page * query.per_page > MAX_WINDOW:
        message = _("Trang quá sâu: hãy dùng tham số cursor (next_cursor của trang trước).")
        raise DomainError(message, field_errors={"page": [message]})


# --- request parsing -------------------------------------------------------------------------


def _int(args, name: str, lo: int, hi: int, errors: dict, blank_ok: bool) -> int | None:
    """Plain digits within [lo, hi] (marketplace.numbers.query_int): "1.0", "1,0" and
    "100000.9" are errors, not other numbers."""
    try:
        return query_int(args, name, minimum=lo, maximum=hi, blank_ok=blank_ok)
    except NumberError as exc:
        errors[name] = [exc.message]
        return None


def parse_args(
    args, *, default_per_page: int = 24, from_form: bool = False
) -> tuple[SearchQuery, dict[str, str]]:
    """Validate the public parameters. Returns the query and the slugs still to resolve
    (category, shop). Every problem is reported at once as a 400 with field errors.
    `from_form`: the results page, whose form sends its empty number fields as ""."""
    errors: dict[str, list[str]] = {}
    text = (args.get("q") or "").strip()
    if len(args.get("q") or "") > MAX_QUERY_CHARS:  # as sent: the documented maxLength
        errors["q"] = [_("Từ khoá tối đa %(n)d ký tự.", n=MAX_QUERY_CHARS)]
    sort = args.get("sort", "relevance")
    if from_form:
        sort = sort.strip() or "relevance"
    if sort not in SORTS:
        errors["sort"] = [_("Cách sắp xếp không hợp lệ; chọn một trong: %(s)s.", s=", ".join(SORTS))]
    page = _int(args, "page", 1, MAX_WINDOW, errors, from_form) or 1
    per_page = _int(args, "per_page", 1, MAX_PER_PAGE, errors, from_form) or default_per_page
    ocop_min = _int(args, "ocop_min", 1, 5, errors, from_form)
    price_min = _int(args, "price_min", 0, MAX_PRICE, errors, from_form)
    price_max = _int(args, "price_max", 0, MAX_PRICE, errors, from_form)
    if price_min is not None and price_max is not None and price_min > price_max:
        errors["price_max"] = [_("Giá tối đa phải lớn hơn hoặc bằng giá tối thiểu.")]
    in_stock_raw = args.get("in_stock", "0")
    if from_form:  # the page is lenient with letter case and on/off, yes/no
        in_stock_raw = in_stock_raw.strip().lower() or "0"
    if in_stock_raw not in IN_STOCK_VALUES or (in_stock_raw in ("on", "off", "yes", "no") and not from_form):
        errors["in_stock"] = [_("Tham số in_stock phải là 1 hoặc 0.")]
    exact_raw = args.get("chinh_xac", "0")
    if from_form:
        exact_raw = exact_raw.strip().lower() or "0"
    if exact_raw not in IN_STOCK_VALUES or (exact_raw in ("on", "off", "yes", "no") and not from_form):
        errors["chinh_xac"] = [_("Tham số chinh_xac phải là 1 hoặc 0.")]
    cursor_raw = (args.get("cursor") or "").strip()
    if not cursor_raw and page * per_page > MAX_WINDOW:
        errors["page"] = [_("Trang quá sâu: hãy dùng tham số cursor (next_cursor của trang trước).")]
    for name in ("origin", "cert", "category", "shop"):
        if len(args.get(name) or "") > 200:
            errors[name] = [_("Giá trị quá dài.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, field_errors=errors)
    query = SearchQuery(
        text=text,
        origin=(args.get("origin") or "").strip() or None,
        cert=(args.get("cert") or "").strip() or None,
        ocop_min=ocop_min,
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock_raw in ("1", "true", "on", "yes"),
        understand=exact_raw not in ("1", "true", "on", "yes"),
        sort=sort,
        page=page,
        per_page=per_page,
    )
    slugs = {
        "category": (args.get("category") or "").strip(),
        "shop": (args.get("shop") or "").strip(),
        "cursor": cursor_raw,
    }
    return query, slugs

"""The embedded backend's fast paths give what the plain paths give.

- "did you mean" from the in-memory vocabulary (search/embedded/vocabulary.py) chooses what a pass
  over every indexed word chooses, never corrects a word written after the vocabulary was read,
  and offers it once the vocabulary is read again;
- the first hits of many matches read off a sort's order of every document (Columns.order) are
  the hits ranking the matches gives, for every sort, also after writes patched the order."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from search import text as vi
from search.embedded import EmbeddedBackend, runner, vocabulary
from search.query import SearchQuery

SYLLABLES = vi.folded_tokens(
    "cam bu buoi phuc trach mat ong rung nuoc mam keo cu do che xanh gao nep tam thom muc kho tom "
    "thit lon den bo gac bep nam huong meo khoai lang tim mit say chuoi tieu dau lac vung thanh long "
    "ruot dua hau nhan long vai thieu huong son khe vu quang nghi xuan can loc thach ha ky anh cam "
    "xuyen duc tho loc ha hop tui chai loai dac biet huu co sach qua bieu"
)
TITLE_WORDS = [
    "Cam",
    "Bưởi",
    "Mật",
    "ong",
    "Nấm",
    "hương",
    "Chè",
    "xanh",
    "Gạo",
    "nếp",
    "Khoai",
    "lang",
    "Tôm",
]


def document(i: int, rnd: random.Random, **overrides) -> dict:
    """A listing document as search/documents.py makes it."""
    title = " ".join(rnd.sample(TITLE_WORDS, rnd.randint(2, 4)))
    stars = rnd.choice([None, None, None, 3, 4, 5])
    doc = {
        "id": i,
        "title": title,
        "slug": f"sp-{i}",
        "description": " ".join(rnd.choices(SYLLABLES, k=rnd.randint(5, 30))),
        "price_vnd": rnd.choice([20000, 35000, 35000, 50000, 120000, 600000]),
        "unit": "kg",
        "in_stock": rnd.random() < 0.7,
        "shop_id": rnd.randint(1, 9),
        "shop_slug": "shop",
        "shop_name": f"HTX {rnd.choice(SYLLABLES)} {rnd.choice(SYLLABLES)}",
        "category_id": rnd.randint(1, 4),
        "category_ids": [1],
        "category_names": rnd.choice(["Trái cây", "Đặc sản", "Thực phẩm"]),
        "origin": rnd.choice(["Hương Sơn", "Huong Son", "Vũ Quang", None]),
        "origin_key": None,
        "ocop_stars": stars,
        "ocop_expires_on": (date.today() + timedelta(days=rnd.choice([-30, 300]))).isoformat()
        if stars
        else None,
        "certifications": rnd.sample(["VietGAP", "Hữu cơ"], rnd.randint(0, 1)),
        "sales_count": rnd.choice([0, 0, 1, 3, 10, 40]),
        # Many equal dates and prices: ties must break by id exactly as ranking breaks them.
        "published_at": datetime(2026, 1, 1 + rnd.randint(0, 5), tzinfo=UTC).replace(tzinfo=None).isoformat(),
        "image_key": None,
        "image_w": None,
        "image_h": None,
    }
    doc.update(overrides)
    doc["origin_key"] = " ".join(vi.folded_tokens(doc["origin"])) or None
    return doc


@pytest.fixture
def embedded(tmp_path):
    backend = EmbeddedBackend(str(tmp_path / "fast.sqlite"))
    rnd = random.Random(16)
    g = backend.create_index()
    backend.bulk_write(g, [document(i, rnd) for i in range(1, 601)])
    backend.finish_index(g)
    backend.activate(g)
    yield backend, rnd
    backend.close()


def _search(backend: EmbeddedBackend, **kw) -> list[int]:
    return [hit.id for hit in backend.search(SearchQuery(facets=False, **kw)).hits]


def test_did_you_mean_chooses_what_a_pass_over_every_word_chooses(embedded):
    """Vocabulary.closest against the plain definition: every indexed word with the same first
    letter within vi.max_edits, fewest edits, then most documents, then alphabetical."""
    backend, rnd = embedded
    opened = backend.store.open_current("BEGIN")
    assert opened is not None
    with opened[1] as conn:
        words = vocabulary.read_vocabulary(conn)
        counts = dict(
            conn.execute(
                "SELECT term, sum(doc) FROM vocab WHERE col IN ('t_fold','o_fold','s_fold') GROUP BY term"
            ).fetchall()
        )
    assert words.counts == counts

    def plain(word: str) -> str | None:
        limit = vi.max_edits(word) + 1
        found = [
            (d, -counts[t], t)
            for t in counts
            if t[0] == word[0] and (d := vi.edit_distance(word, t, limit)) < limit
        ]
        return min(found)[2] if found else None

    letters = "abcdeghiklmnopqrstuvxy"
    tried = 0
    for term in [t for t in counts if len(t) >= 3]:
        for _ in range(6):
            w = list(term + rnd.choice(["", "", "g", "nh"]))
            at = rnd.randrange(1, len(w))
            kind = rnd.randrange(4)
            if kind == 0:
                w[at] = rnd.choice(letters)
            elif kind == 1:
                del w[at]
            elif kind == 2:
                w.insert(at, rnd.choice(letters))
            elif at + 1 < len(w):
                w[at], w[at + 1] = w[at + 1], w[at]
            word = "".join(w)
            if vi.max_edits(word):
                tried += 1
                assert words.closest(word) == plain(word), word
    assert tried > 100


def test_did_you_mean_never_corrects_a_word_written_since(embedded, monkeypatch):
    backend, rnd = embedded
    assert backend.did_you_mean(SearchQuery(text="nam huongg")) == "nam huong"
    backend.write([document(900, rnd, title="Nấm hương Thuyền Nguyên", shop_name="HTX Khuyến Nông")], [])
    read_before = backend.vocabulary._cached[1]
    assert "thuyen" not in read_before and "khuyen" not in read_before
    # New words (title, shop name) are asked of SQLite before any correction: found, kept.
    assert backend.did_you_mean(SearchQuery(text="nam thuyen khuyen nong")) is None
    assert backend.did_you_mean(SearchQuery(text="nam thuy")) is None  # the last word as a prefix
    assert backend.did_you_mean(SearchQuery(text="thuyenn")) is None  # not offered yet: a minute old
    assert backend.vocabulary._cached[1] is read_before
    monkeypatch.setattr(vocabulary, "REFRESH_SECONDS", 0.0)
    assert backend.did_you_mean(SearchQuery(text="thuyenn")) == "thuyen"  # read again: offered
    assert backend.did_you_mean(SearchQuery(text="khuyenn nong")) == "khuyen nong"


@pytest.mark.parametrize("sort", ["relevance", "price_asc", "price_desc", "newest"])
def test_first_hits_read_off_the_orders_are_the_ranked_ones(embedded, monkeypatch, sort):
    backend, rnd = embedded
    queries = [
        {},
        {"text": "cam"},  # title matches and others
        {"text": "cam mat ong nam gao", "match_any": True},  # tiers (bm25 limit 0 below)
        {"in_stock": True},
        {"text": "huong", "price_max": 100000},
    ]

    def both(**kw) -> tuple[list[int], list[int]]:
        monkeypatch.setattr(runner, "ORDER_FROM", 10**9)
        ranked = _search(backend, sort=sort, per_page=30, **kw)
        monkeypatch.setattr(runner, "ORDER_FROM", 1)
        return ranked, _search(backend, sort=sort, per_page=30, **kw)

    backend.bm25_limit = 0  # relevance by tiers x boost, where the order applies
    for round_ in range(3):
        for kw in queries:
            ranked, ordered = both(**kw)
            assert ranked == ordered, (round_, kw)
            assert ranked or kw.get("price_max")
        # Browsing everything lists the documents of this state (kept in memory, patched by writes).
        everything = backend.search(SearchQuery(facets=False, per_page=2000, sort=sort))
        assert everything.total == backend.count() and {h.id for h in everything.hits} == backend.doc_ids()
        # Writes patch the orders (the columns of the next sequence): changed prices, stock,
        # sales and dates, a deleted document and a new one.
        changed = rnd.sample(range(1, 601), 25)
        backend.write([document(i, rnd) for i in changed] + [document(700 + round_, rnd)], [changed[0]])
    assert any(backend.columns._columns[g][-1]._patch_from for g in backend.columns._columns)

"""Search benchmark: 100 000 generated listings, both backends, a table of figures against targets.

    .venv/bin/python bench/search_bench.py [--listings 100000] [--rounds 5] [--warmup 3]
                                           [--warmup-seconds 60] [--engines opensearch,elasticsearch]
                                           [--no-engine] [--no-embedded] [--keep]

Generates a catalogue straight into a temporary SQLite database (SQLAlchemy core, bulk inserts),
starts its own engine nodes through tools/search_node.py (OpenSearch and Elasticsearch), rebuilds
every index with the real `reindex` code (peak RSS delta measured around each), warms each backend
up with untimed passes for a minute (a fresh JVM goes on compiling its hot code for that long;
a node in service is warm; the passes per minute tell how busy the machine was), then times a
mix of queries by kind, with facets, and the suggestions, end to end through the JSON API (Flask
test client, no network hop), with the engine's own `took` and round trip beside them: p50/p95
per kind and overall. The kinds: the project's first 20 queries, words with and without marks,
prefixes, synonyms, typos (long and short words), queries that find nothing (nonsense, products
nobody sells here), Telex and VNI residue and words run together (issue 16), a few thousand
matches, tens of thousands. The catalogue has brand names in titles, varied shop names and
descriptions of 20 to 160 words over a vocabulary of thousands, so the "did you mean" path and
scoring work on a vocabulary and on documents of a real catalogue's size. The node's request
cache is off (SEARCH_ENGINE_REQUEST_CACHE=0): the figures are for counting, not for remembering.
Not part of `make test`: run it by hand (`make bench-search`)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The project's first mix (20 queries) stays in, as "project mix"; the other kinds broaden it to
# what people really type (issue 16): each query is (kind, parameters).
PROJECT_MIX = [
    {"q": "cam bù hương sơn"},
    {"q": "cam bu"},
    {"q": "mật ong"},
    {"q": "mat ong rung"},
    {"q": "bưởi phúc trạch"},
    {"q": "nuoc mam"},
    {"q": "kẹo cu đơ"},
    {"q": "chè xanh hương sơn"},
    {"q": "gạo", "sort": "price_asc"},
    {"q": "mực khô", "in_stock": "1"},
    {"q": "dac san", "ocop_min": "3"},
    {"category": "trai-cay"},
    {"q": "trái cây"},
    {"q": "thịt heo"},
    {"q": "cam", "price_min": "30000", "price_max": "100000"},
    {"q": "nhung huou"},
    {"q": "mat"},
    {"q": "rau hữu cơ", "cert": "Hữu cơ"},
    {"q": "tôm khô cẩm nhượng", "sort": "price_desc"},
    {"sort": "newest", "origin": "Hương Khê"},
]
MORE_QUERIES: list[tuple[str, dict]] = [
    # with the right marks
    ("marked", {"q": "nấm hương"}),
    ("marked", {"q": "thanh long ruột đỏ"}),
    ("marked", {"q": "khoai lang tím"}),
    ("marked", {"q": "cá thu một nắng"}),
    ("marked", {"q": "mít sấy"}),
    # without marks
    ("unmarked", {"q": "nam huong"}),
    ("unmarked", {"q": "thanh long ruot do"}),
    ("unmarked", {"q": "ga doi"}),
    ("unmarked", {"q": "thit bo gac bep"}),
    ("unmarked", {"q": "ot bot"}),
    # the last word being typed
    ("prefix", {"q": "bưởi phúc tr"}),
    ("prefix", {"q": "mat o"}),
    ("prefix", {"q": "gao nep c"}),
    ("prefix", {"q": "thanh long ru"}),
    ("prefix", {"q": "nấm m"}),
    # through the seeded synonyms (trái/quả, heo/lợn, bắp/ngô, vừng/mè, chè/trà, bánh đa/bánh tráng)
    ("synonym", {"q": "trái bưởi"}),
    ("synonym", {"q": "bắp nếp"}),
    ("synonym", {"q": "bánh tráng mè"}),
    ("synonym", {"q": "trà xanh"}),
    ("synonym", {"q": "thit heo den"}),
    # a slip in a word of four letters or more (the engine forgives it; the embedded index finds
    # nothing and offers "did you mean")
    ("typo", {"q": "buoi phuc trahc"}),
    ("typo", {"q": "thanhh long"}),
    ("typo", {"q": "khaoi lang"}),
    ("typo", {"q": "chuooi tieu"}),
    ("typo", {"q": "nuoc mamm"}),
    # a slip in a short word (exact today on every backend: nothing found)
    ("short typo", {"q": "boi"}),
    ("short typo", {"q": "boi da xanh"}),
    ("short typo", {"q": "mat ogn"}),
    ("short typo", {"q": "ca thi mot nang"}),
    # nonsense and products nobody sells here: the zero-result path ("did you mean", nearest listings)
    ("zero", {"q": "xyzqw"}),
    ("zero", {"q": "iphone 15 pro max"}),
    ("zero", {"q": "máy giặt"}),
    ("zero", {"q": "xe may honda"}),
    ("zero", {"q": "laptop dell cu"}),
    ("zero", {"q": "sầu riêng ri6"}),
    # Telex residue, VNI residue, words run together (issue 16: zero-result searches until the
    # understanding step converts them)
    ("telex", {"q": "gaoj neeps"}),
    ("telex", {"q": "chef xanh"}),
    ("telex", {"q": "maatj ong rungf"}),
    ("telex", {"q": "buwowir phucs trachj"}),
    ("vni", {"q": "gao5 ne61p"}),
    ("vni", {"q": "che2 xanh"}),
    ("vni", {"q": "ma65t ong"}),
    ("run together", {"q": "gaonep"}),
    ("run together", {"q": "chexanh"}),
    ("run together", {"q": "banhda"}),
    ("run together", {"q": "matong"}),
    # a few thousand matches: scoring and facets over thousands of hits
    ("mid-breadth", {"q": "cam chanh"}),
    ("mid-breadth", {"q": "nuoc mam"}),
    ("mid-breadth", {"q": "quà biếu"}),
    ("mid-breadth", {"q": "nấm"}),
    ("mid-breadth", {"q": "gạo nếp"}),
    ("mid-breadth", {"q": "huong son", "in_stock": "1"}),
    # tens of thousands of matches, browsing
    ("broad", {"q": "ca"}),
    ("broad", {"q": "hop"}),
    ("broad", {"q": "trai cay", "sort": "newest"}),
    ("broad", {"category": "thuc-pham", "sort": "price_desc"}),
    ("broad", {}),
]
QUERIES: list[tuple[str, dict]] = [("project mix", q) for q in PROJECT_MIX] + MORE_QUERIES
SUGGEST_MIX = [
    "ca",
    "cam",
    "cam b",
    "cam bu",
    "cam bù h",
    "mat o",
    "mật ong r",
    "buoi p",
    "bưởi phúc",
    "nuoc m",
    "keo c",
    "che x",
    "gao t",
    "muc k",
    "nhung",
    "tom kh",
    "dac s",
    "thit h",
    "huong s",
    "gao",
]
SUGGEST: list[tuple[str, str]] = [("project mix", s) for s in SUGGEST_MIX] + [
    ("marked", "nấm h"),
    ("marked", "thanh long ruột"),
    ("marked", "khoai l"),
    ("unmarked", "nam h"),
    ("unmarked", "ot b"),
    ("unmarked", "mit s"),
    ("short", "n"),
    ("short", "th"),
    ("short", "kh"),
    ("typo", "thanhh l"),
    ("typo", "boi da"),
    ("typo", "chuooi"),
    ("zero", "xyzq"),
    ("zero", "iphone"),
    ("zero", "may gi"),
    ("telex", "gaoj n"),
    ("telex", "chef x"),
    ("vni", "gao5 ne"),
    ("vni", "che2 x"),
    ("run together", "gaone"),
    ("run together", "chexa"),
]

PRODUCTS = [  # (title stem, category slug, typical price)
    ("Cam bù", "cam-quyt", 45000),
    ("Cam Khe Mây", "cam-quyt", 40000),
    ("Cam chanh", "cam-quyt", 35000),
    ("Bưởi Phúc Trạch", "buoi", 60000),
    ("Bưởi da xanh", "buoi", 55000),
    ("Quýt hồng", "cam-quyt", 50000),
    ("Mật ong rừng", "mat-ong", 250000),
    ("Mật ong hoa nhãn", "mat-ong", 180000),
    ("Sáp ong", "mat-ong", 90000),
    ("Nhung hươu", "duoc-lieu", 1500000),
    ("Cao hươu", "duoc-lieu", 900000),
    ("Tinh dầu bưởi", "duoc-lieu", 120000),
    ("Kẹo cu đơ", "banh-keo", 50000),
    ("Kẹo lạc", "banh-keo", 30000),
    ("Bánh đa vừng", "banh-keo", 25000),
    ("Nước mắm", "nuoc-mam", 70000),
    ("Nước mắm nhĩ", "nuoc-mam", 150000),
    ("Ruốc", "nuoc-mam", 60000),
    ("Chè xanh", "che", 80000),
    ("Trà thảo mộc", "che", 95000),
    ("Chè búp khô", "che", 200000),
    ("Gạo tám thơm", "gao", 25000),
    ("Gạo nếp cái hoa vàng", "gao", 35000),
    ("Gạo lứt", "gao", 40000),
    ("Mực khô", "hai-san-kho", 900000),
    ("Tôm khô", "hai-san-kho", 600000),
    ("Cá thu một nắng", "hai-san-kho", 350000),
    ("Thịt lợn đen", "thit", 180000),
    ("Thịt bò gác bếp", "thit", 700000),
    ("Gà đồi", "thit", 150000),
    ("Rau cải", "rau", 20000),
    ("Rau muống", "rau", 15000),
    ("Ngô nếp", "rau", 20000),
    ("Khoai lang", "rau", 25000),
    ("Dưa hấu", "trai-cay", 20000),
    ("Thanh long ruột đỏ", "trai-cay", 35000),
    ("Chuối tiêu", "trai-cay", 30000),
    ("Nấm hương", "nam", 250000),
    ("Nấm mèo", "nam", 150000),
    ("Nấm linh chi", "duoc-lieu", 800000),
    ("Khoai lang tím", "rau", 30000),
    ("Bí đỏ", "rau", 20000),
    ("Củ đậu", "rau", 15000),
    ("Mít sấy", "banh-keo", 90000),
    ("Chuối sấy dẻo", "banh-keo", 70000),
    ("Ớt bột", "gia-vi", 60000),
    ("Tiêu đen", "gia-vi", 200000),
    ("Tinh bột nghệ", "duoc-lieu", 300000),
    ("Sắn dây", "duoc-lieu", 120000),
    ("Lạc nhân", "hat", 60000),
    ("Đậu xanh", "hat", 50000),
    ("Vừng đen", "hat", 80000),
    ("Mận hậu", "trai-cay", 40000),
    ("Na dai", "trai-cay", 60000),
    ("Nhãn lồng", "trai-cay", 45000),
    ("Rượu nếp", "do-uong", 100000),
    ("Rượu ngô", "do-uong", 120000),
]
CATEGORIES = [  # (slug, name, parent slug)
    ("trai-cay", "Trái cây", None),
    ("cam-quyt", "Cam quýt", "trai-cay"),
    ("buoi", "Bưởi", "trai-cay"),
    ("dac-san", "Đặc sản", None),
    ("mat-ong", "Mật ong", "dac-san"),
    ("banh-keo", "Bánh kẹo", "dac-san"),
    ("nuoc-mam", "Nước mắm", "dac-san"),
    ("duoc-lieu", "Dược liệu", None),
    ("che", "Chè và trà", None),
    ("thuc-pham", "Thực phẩm", None),
    ("gao", "Gạo", "thuc-pham"),
    ("hai-san-kho", "Hải sản khô", "thuc-pham"),
    ("thit", "Thịt", "thuc-pham"),
    ("rau", "Rau củ", "thuc-pham"),
    ("nam", "Nấm", "thuc-pham"),
    ("hat", "Hạt và đậu", "thuc-pham"),
    ("gia-vi", "Gia vị", "thuc-pham"),
    ("do-uong", "Đồ uống", None),
]
ORIGINS = [
    "Hương Sơn",
    "Hương Khê",
    "Vũ Quang",
    "Nghi Xuân",
    "Can Lộc",
    "Thạch Hà",
    "Kỳ Anh",
    "Cẩm Xuyên",
    "Đức Thọ",
    "Lộc Hà",
    "Thạch Kim",
    "Cẩm Nhượng",
    "Huong Son",
    None,
    None,
]
QUALIFIERS = [
    "loại 1",
    "loại đặc biệt",
    "hữu cơ",
    "sạch",
    "đóng hộp",
    "quà biếu",
    "tươi",
    "nhà làm",
    "thủ công",
    "chính gốc",
    "vụ mới",
    "túi 1kg",
    "hộp 500g",
    "chai 500ml",
    "",
    "",
    "",
]
WORDS = [
    "sản",
    "phẩm",
    "được",
    "trồng",
    "và",
    "chế",
    "biến",
    "tại",
    "vùng",
    "nguyên",
    "liệu",
    "của",
    "tỉnh",
    "theo",
    "quy",
    "trình",
    "an",
    "toàn",
    "thơm",
    "ngon",
    "đậm",
    "đà",
    "giao",
    "hàng",
    "tận",
    "nơi",
    "bảo",
    "quản",
    "nơi",
    "khô",
    "ráo",
    "thoáng",
    "mát",
    "hợp",
    "tác",
    "xã",
    "nông",
    "dân",
    "địa",
    "phương",
    "mùa",
    "vụ",
]
CERTS = ["VietGAP", "Hữu cơ", "HACCP", "Chỉ dẫn địa lý", "GlobalGAP"]
# Syllables for the words a real catalogue has beyond the products' names: brand and variety
# names in titles, shop names, and descriptions of a few dozen to a few hundred words with a
# vocabulary of thousands (a Zipf-like frequency: a few words everywhere, most of them rare).
# Without them the index knows a few hundred words and every description is short, which made
# the "did you mean" path and bm25 over thousands of matches look far cheaper than on real data.
ONSETS = [
    *[
        "b",
        "c",
        "ch",
        "d",
        "đ",
        "g",
        "gi",
        "h",
        "k",
        "kh",
        "l",
        "m",
        "n",
        "ng",
        "nh",
        "ph",
        "qu",
        "r",
        "s",
        "t",
        "th",
        "tr",
        "v",
        "x",
    ],
    "",
]
RHYMES = [
    "a",
    "ai",
    "am",
    "an",
    "ang",
    "anh",
    "ao",
    "au",
    "ay",
    "ăm",
    "ăn",
    "ăng",
    "âm",
    "ân",
    "âng",
    "âu",
    "ây",
    "e",
    "em",
    "en",
    "eo",
    "ê",
    "êm",
    "ên",
    "ênh",
    "êu",
    "i",
    "ia",
    "im",
    "in",
    "inh",
    "iu",
    "iêm",
    "iên",
    "iêng",
    "iêu",
    "o",
    "oa",
    "oai",
    "oan",
    "oang",
    "oanh",
    "oe",
    "oi",
    "om",
    "on",
    "ong",
    "ô",
    "ôi",
    "ôm",
    "ôn",
    "ông",
    "ơ",
    "ơi",
    "ơm",
    "ơn",
    "u",
    "ua",
    "uân",
    "ui",
    "um",
    "un",
    "ung",
    "uôi",
    "uôn",
    "uông",
    "uy",
    "ư",
    "ưa",
    "ưi",
    "ưng",
    "ươi",
    "ươn",
    "ương",
    "ưu",
]
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]


def syllables(rnd: random.Random, n: int) -> list[str]:
    """n distinct Vietnamese-looking syllables with tone marks (on the rhyme's last vowel when it
    ends in a consonant, else on its first: close enough to the spelling rules for a benchmark)."""
    import unicodedata

    out: dict[str, None] = {}
    while len(out) < n:
        rhyme = rnd.choice(RHYMES)
        vowels = [i for i, c in enumerate(rhyme) if c in "aăâeêioôơuưy"]
        at = vowels[-1] if rhyme[-1] not in "aăâeêioôơuưy" else vowels[0]
        marked = rhyme[: at + 1] + rnd.choice(TONES) + rhyme[at + 1 :]
        out[unicodedata.normalize("NFC", rnd.choice(ONSETS) + marked)] = None
    return list(out)


def rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def generate(app, n_listings: int, seed: int = 7) -> None:
    """Users, communes, categories, shops and listings by bulk inserts (SQLAlchemy core)."""
    from sqlalchemy import insert

    from catalog.models import Category, ListingImage
    from marketplace.extensions import db
    from marketplace.models import Commune, User
    from marketplace.timeutil import utcnow
    from sellers.models import Shop

    rnd = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    vocabulary = WORDS + syllables(rnd, 4000)
    weights = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(vocabulary))))
    names = [w.capitalize() for w in syllables(rnd, 300)]
    with db.engine.begin() as conn:
        conn.execute(
            insert(User.__table__),
            [
                {
                    "email": "bench@example.vn",
                    "password_hash": "x",
                    "full_name": "Bench",
                    "role": "producer",
                    "active": True,
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(Commune.__table__),
            [{"name": f"Xã {i}", "kind": "xa", "province": "Hà Tĩnh", "active": True} for i in range(1, 51)],
        )
        slug_ids: dict[str, int] = {}
        for position, (slug, name, parent) in enumerate(CATEGORIES):
            result = conn.execute(
                insert(Category.__table__).values(
                    name=name, slug=slug, parent_id=slug_ids.get(parent), position=position, description=""
                )
            )
            slug_ids[slug] = result.inserted_primary_key[0]
        n_shops = max(20, n_listings // 50)
        conn.execute(
            insert(Shop.__table__),
            [
                {
                    "slug": f"cua-hang-{i}",
                    "name": f"{rnd.choice(['HTX', 'Cơ sở', 'Hộ kinh doanh', 'Công ty'])} "
                    f"{rnd.choice(names)} {rnd.choice(names)} {rnd.choice(ORIGINS[:12])} {i}",
                    "kind": "cooperative",
                    "phone": "0912345678",
                    "address_line": "Thôn 1",
                    "commune_id": rnd.randint(1, 50),
                    "province": "Hà Tĩnh",
                    "story": "",
                    "status": "suspended" if i % 97 == 0 else "approved",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, n_shops + 1)
            ],
        )
        batch, images, certificates, certificate_id = [], [], [], 0
        for i in range(1, n_listings + 1):
            stem, category, price = rnd.choice(PRODUCTS)
            origin = rnd.choice(ORIGINS)
            brand = f"{rnd.choice(names)} {rnd.choice(names)}" if rnd.random() < 0.3 else ""
            title = " ".join(x for x in (stem, brand, rnd.choice(QUALIFIERS), origin or "") if x)
            words = rnd.choices(vocabulary, cum_weights=weights, k=rnd.randint(20, 160))
            words[rnd.randrange(len(words))] = f"{stem.lower()} {origin or ''}"
            stars = rnd.choice([3, 4, 4, 5]) if rnd.random() < 0.12 else None
            issued = (date.today() - timedelta(days=rnd.randint(10, 1600))) if stars else None
            published = now - timedelta(minutes=rnd.randint(0, 600000))
            status = "active" if rnd.random() < 0.94 else rnd.choice(["draft", "archived"])
            shop_id = rnd.randint(1, n_shops)
            if stars:  # a rating in the register, checked by the operator (else it would not count)
                certificate_id += 1
                certificates.append(
                    {
                        "id": certificate_id,
                        "shop_id": shop_id,
                        "certificate_no": f"OCOP-{i}",
                        "stars": stars,
                        "level": "province",
                        "issued_on": issued,
                        "product_name": title[:160],
                        "status": "checked",
                        "decided_at": now,
                        "created_at": now,
                    }
                )
            batch.append(
                {
                    "shop_id": shop_id,
                    "category_id": slug_ids[category],
                    "slug": f"sp-{i}",
                    "title": title[:160],
                    "description": "<p>" + " ".join(words) + "</p>",
                    "unit": rnd.choice(["kg", "hộp", "chai", "túi"]),
                    "price_vnd": int(price * rnd.uniform(0.6, 1.8)) // 1000 * 1000,
                    "stock": rnd.choice([0, 3, 10, 50, 200]),
                    "min_order_qty": 1,
                    "origin": origin,
                    "ocop_stars": stars,
                    "ocop_certificate_no": f"OCOP-{i}" if stars else None,
                    "ocop_level": "province" if stars else None,
                    "ocop_issued_on": issued,
                    "ocop_certificate_id": certificate_id if stars else None,
                    "certifications": rnd.sample(CERTS, rnd.choice([0, 0, 1, 2])),
                    "status": status,
                    "hidden_at": now if rnd.random() < 0.01 else None,
                    "featured": False,
                    "sales_count": int(rnd.paretovariate(1.5)) - 1,
                    "created_at": published,
                    "updated_at": published,
                    "published_at": published if status == "active" else None,
                }
            )
            if rnd.random() < 0.5:
                images.append(
                    {
                        "listing_id": i,
                        "key": f"{i:064x}",
                        "position": 0,
                        "width": 1200,
                        "height": 900,
                        "alt": title[:160],
                    }
                )
            if len(batch) == 5000:
                _insert_listings(conn, batch, certificates)
                batch, certificates = [], []
        if batch:
            _insert_listings(conn, batch, certificates)
        for start in range(0, len(images), 5000):
            conn.execute(insert(ListingImage.__table__), images[start : start + 5000])


def _insert_listings(conn, listings: list[dict], certificates: list[dict]) -> None:
    from sqlalchemy import insert

    from catalog.models import Listing, OcopCertificate

    if certificates:
        conn.execute(insert(OcopCertificate.__table__), certificates)
    conn.execute(insert(Listing.__table__), listings)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_requests(
    client, path: str, labelled: list[tuple[str, dict]], rounds: int
) -> list[tuple[str, str, float]]:
    """(kind, query, milliseconds) for `rounds` passes over the queries, after one untimed pass;
    the totals of the untimed pass are kept in TOTALS (by query) for the breadth figures."""
    for _kind, params in labelled:  # warm up caches once
        response = client.get(path, query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        if "total" in response.json:
            TOTALS[str(params)] = response.json["total"]
    samples = []
    for _ in range(rounds):
        for kind, params in labelled:
            started = time.perf_counter()
            response = client.get(path, query_string=params)
            samples.append((kind, str(params), (time.perf_counter() - started) * 1000))
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return samples


TOTALS: dict[str, int] = {}


def understanding_overhead(client, suggestions: list[tuple[str, dict]], rounds: int) -> list[tuple]:
    """The cost of the query understanding step (search/understand.py) in this run: the same
    searches and suggestions with it and without it (search.service._understood replaced by a
    no-op), interleaved query by query so both see the same machine. Its cost includes the wider
    query the backend then runs (the understood words beside the typed ones)."""
    from search import service

    understood = service._understood
    out = []
    for path, labelled, label in (
        ("/api/v1/search", QUERIES, "search"),
        ("/api/v1/search/suggest", suggestions, "suggest"),
    ):
        on: list[float] = []
        off: list[float] = []
        for _ in range(rounds):
            for _kind, params in labelled:
                for switch, times in ((understood, on), (lambda query: None, off)):
                    service._understood = switch  # type: ignore[assignment]
                    try:
                        started = time.perf_counter()
                        response = client.get(path, query_string=params)
                        times.append((time.perf_counter() - started) * 1000)
                    finally:
                        service._understood = understood  # type: ignore[assignment]
                    assert response.status_code == 200, response.get_data(as_text=True)[:300]
        added = percentile(on, 95) - percentile(off, 95)
        out.append(
            (
                f"  understanding adds to {label} p95",
                f"{added:+.1f} ms ({percentile(off, 95):.1f} -> {percentile(on, 95):.1f})",
                "<= 2 ms",
                added <= 2.0,
            )
        )
    return out


def by_kind(samples: list[tuple[str, str, float]]) -> dict[str, list[float]]:
    kinds: dict[str, list[float]] = {}
    for kind, _key, ms in samples:
        kinds.setdefault(kind, []).append(ms)
    return kinds


def understanding_available() -> bool:
    """Whether the query understanding step of issue 16 (search/understand.py) is in this tree."""
    return importlib.util.find_spec("search.understand") is not None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--warmup-seconds",
        type=float,
        default=60.0,
        help="keep warming up until this long has passed (a JVM goes on compiling for a while: "
        "figures after 3 passes were a third higher than after a minute)",
    )
    ap.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="untimed passes over the queries before timing (a fresh JVM is not yet compiled)",
    )
    ap.add_argument(
        "--engines",
        default=None,
        help="comma-separated engines to start (default: tools/search_node.py SUPPORTED_ENGINES)",
    )
    ap.add_argument("--no-engine", action="store_true")
    ap.add_argument(
        "--no-embedded", action="store_true", help="time the engines only (the index is still built)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated data and node files")
    args = ap.parse_args()

    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    node, nodes, engines = None, {}, []
    if not args.no_engine:
        spec = importlib.util.spec_from_file_location("search_node", ROOT / "tools" / "search_node.py")
        node = importlib.util.module_from_spec(spec)
        sys.modules["search_node"] = node
        spec.loader.exec_module(node)
        os.environ.setdefault("SEARCH_NODE_HEAP", "1g")
        engines = args.engines.split(",") if args.engines else list(node.SUPPORTED_ENGINES)

    def start(engine: str) -> None:
        """One node at a time: an idle JVM beside the one measured would take memory and CPU."""
        started = time.monotonic()
        url, proc = node.start_node(engine, workdir / f"node-{engine}")
        nodes[engine] = (url, proc)
        print(f"{engine} node at {url} ({time.monotonic() - started:.1f} s)", file=sys.stderr)

    url_keys = {"opensearch": "OPENSEARCH_URL", "elasticsearch": "ELASTICSEARCH_URL"}
    rows: list[tuple[str, str, str, bool | None]] = []
    try:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SERVER_NAME": "localhost",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
                "MEDIA_ROOT": str(workdir / "media"),
                "MAIL_DIR": str(workdir / "mail"),
                "SEARCH_EMBEDDED_PATH": str(workdir / "search.sqlite"),
                "SEARCH_INDEX_PREFIX": "bench-",
                "RATELIMIT_ENABLED": False,  # the benchmark is one client asking as fast as it can
                "OPENSEARCH_URL": None,
                "ELASTICSEARCH_URL": None,
                # Every timed search is a repeat of a warm-up one: the node's request
                # cache would answer the facet counts from memory. Measure the work.
                "SEARCH_ENGINE_REQUEST_CACHE": False,
                # As in production: the understanding vocabulary is rebuilt in the background every
                # ten minutes (TESTING would rebuild it on every search).
                "SEARCH_VOCABULARY_TTL": 600.0,
            }
        )
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("search").setLevel(logging.WARNING)
        with app.app_context():
            upgrade()
            started = time.monotonic()
            generate(app, args.listings)
            print(
                f"generated {args.listings} listings in {time.monotonic() - started:.1f} s", file=sys.stderr
            )
            from sqlalchemy import func, select

            from catalog.services import public_listings_query
            from search import indexer, service

            public = db.session.scalar(select(func.count()).select_from(public_listings_query().subquery()))
            rows.append(("listings generated / public", f"{args.listings} / {public}", "", None))
            client = app.test_client()

            def use(label: str):
                for engine, key in url_keys.items():
                    app.config[key] = nodes[engine][0] if engine == label and engine in nodes else None
                return service.reset_state(app)

            for label in [*([] if args.no_embedded else ["embedded"]), *engines]:
                for engine, (_, proc) in list(nodes.items()):  # the previous engine's node
                    node.stop_node(proc)
                    del nodes[engine]
                if label != "embedded":
                    start(label)
                state = use(label)
                backend, target = (state.embedded, None) if label == "embedded" else (state.engine, 60.0)
                reset_peak()
                base = rss_kb()
                result = indexer.reindex(backend)
                delta_mb = (rss_kb("VmHWM") - base) / 1024
                rows.append(
                    (
                        f"full reindex, {label} ({result['docs']} docs)",
                        f"{result['seconds']:.1f} s",
                        f"< {target:.0f} s" if target else "",
                        result["seconds"] < target if target else None,
                    )
                )
                rows.append(("  peak RSS delta during it", f"{delta_mb:.0f} MB", "bounded (streamed)", None))
                if understanding_available():  # the vocabulary of what was just indexed, before timing
                    from search import vocabulary

                    vocabulary.reset(app)
                    app.config["SEARCH_VOCABULARY_TTL"] = 0.0
                    vocabulary.current()
                    app.config["SEARCH_VOCABULARY_TTL"] = 600.0

                # The engine's own time ("took") and the client's round trip, beside the end-to-end
                # figure: what the node costs, and what the app adds (Flask, highlighting, facet names).
                engine_times: list[tuple[float, float]] = []
                if state.engine is not None:
                    transport, plain = state.engine.transport, state.engine.transport.request

                    def timed(method, path, body=None, _plain=plain, _times=engine_times, **kw):
                        t0 = time.perf_counter()
                        response = _plain(method, path, body, **kw)
                        if isinstance(response, dict) and "took" in response:
                            _times.append((float(response["took"]), (time.perf_counter() - t0) * 1000))
                        return response

                    transport.request = timed
                target = 50.0 if label == "embedded" else 30.0
                suggestions = [(kind, {"q": text}) for kind, text in SUGGEST]
                warm_start = time.monotonic()
                passes = 0
                while passes < args.warmup or time.monotonic() < warm_start + args.warmup_seconds:
                    passes += 1
                    time_requests(client, "/api/v1/search", QUERIES, 0)
                    time_requests(client, "/api/v1/search/suggest", suggestions, 0)
                warm_seconds = time.monotonic() - warm_start
                rows.append(
                    (
                        f"  warm-up, {label}: untimed passes over both lists",
                        f"{passes} in {warm_seconds:.0f} s ({passes * 60 / warm_seconds:.0f}/min)",
                        "",
                        None,
                    )
                )
                engine_times.clear()
                samples = time_requests(client, "/api/v1/search", QUERIES, args.rounds)
                body = client.get("/api/v1/search", query_string=QUERIES[0][1]).json
                assert body["backend"] == label, body["backend"]
                everything = [ms for *_, ms in samples]
                p50, p95 = percentile(everything, 50), percentile(everything, 95)
                rows.append(
                    (
                        f"search p95, {label} ({len(QUERIES)} queries with facets x {args.rounds})",
                        f"{p95:.1f} ms",
                        f"< {target:.0f} ms",
                        p95 < target,
                    )
                )
                rows.append(("  p50 / max", f"{p50:.1f} / {max(everything):.1f} ms", "", None))
                if engine_times:
                    took, trip = [t for t, _ in engine_times], [r for _, r in engine_times]
                    rows.append(
                        (
                            "  engine alone: took p95 / round trip p95",
                            f"{percentile(took, 95):.0f} / {percentile(trip, 95):.1f} ms",
                            "",
                            None,
                        )
                    )
                for kind, times in by_kind(samples).items():
                    found = [TOTALS[str(params)] for k, params in QUERIES if k == kind]
                    rows.append(
                        (
                            f"  {kind} ({len(found)}, {min(found)}-{max(found)} hits): p50 / p95",
                            f"{percentile(times, 50):.1f} / {percentile(times, 95):.1f} ms",
                            "",
                            None,
                        )
                    )
                slowest = max(
                    {key: ms for *_, key, ms in sorted(samples, key=lambda x: x[2])}.items(),
                    key=lambda kv: kv[1],
                )
                rows.append((f"  slowest: {slowest[0]}", f"{slowest[1]:.1f} ms", "", None))
                engine_times.clear()
                samples = time_requests(client, "/api/v1/search/suggest", suggestions, args.rounds)
                everything = [ms for *_, ms in samples]
                p95 = percentile(everything, 95)
                rows.append(
                    (
                        f"suggest p95, {label} ({len(SUGGEST)} prefixes x {args.rounds})",
                        f"{p95:.1f} ms",
                        "< 15 ms",
                        p95 < 15.0,
                    )
                )
                rows.append(("  p50", f"{percentile(everything, 50):.1f} ms", "", None))
                if engine_times:
                    took, trip = [t for t, _ in engine_times], [r for _, r in engine_times]
                    rows.append(
                        (
                            "  engine alone: took p95 / round trip p95",
                            f"{percentile(took, 95):.0f} / {percentile(trip, 95):.1f} ms",
                            "",
                            None,
                        )
                    )
                for kind, times in by_kind(samples).items():
                    rows.append(
                        (
                            f"  {kind} ({len(times) // args.rounds}): p50 / p95",
                            f"{percentile(times, 50):.1f} / {percentile(times, 95):.1f} ms",
                            "",
                            None,
                        )
                    )
                if understanding_available():
                    rows.extend(understanding_overhead(client, suggestions, args.rounds))
                deep = client.get("/api/v1/search", query_string={"q": "cam", "per_page": 50}).json
                cursor, pages, started = deep["next_cursor"], 1, time.perf_counter()
                while cursor and pages < 40:
                    deep = client.get(
                        "/api/v1/search",
                        query_string={"q": "cam", "per_page": 50, "cursor": cursor, "page": pages + 1},
                    ).json
                    cursor, pages = deep["next_cursor"], pages + 1
                rows.append(
                    (
                        f"  deep paging, {label}: {pages} pages of 50 by cursor",
                        f"{(time.perf_counter() - started) * 1000 / max(pages - 1, 1):.1f} ms/page",
                        "",
                        None,
                    )
                )
            state.embedded.close()
    finally:
        for _, proc in nodes.values():
            node.stop_node(proc)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'figure'.ljust(width)}  {'measured':>18}  {'target':>20}  ok")
    print("-" * (width + 48))
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name.ljust(width)}  {value:>18}  {target:>20}  {mark}")
    print(
        f"\nmachine: {os.cpu_count()} cores, load average {load_before} before, "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} after (shared with other work); "
        f"data and node {'kept under ' + str(workdir) if args.keep else 'removed'}"
    )
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

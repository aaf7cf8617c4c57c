"""Micro-benchmark of the query understanding step alone (search/understand.py) on the vocabulary of
a 100 000-listing catalogue: what it adds to every search and suggestion, whatever the backend.

    make bench-understand            # or: .venv/bin/python bench/understand_bench.py [--listings N]

The catalogue is generated (seeded): product names of the province, qualifiers, origins, shop names
and a long tail of rarer words (brands, varieties), as the vocabulary of a real catalogue has. The
queries are the relevance set's (telex, VNI, run together, slips, synonyms, prefixes, plain)
plus as many generated ones: unknown words, typos of catalogue words, run-together pairs. Each is
timed as run_search does it (the synonym words as `known`, the vocabulary's cache), cold (first
time the text is seen: the cache is cleared before each) and warm (seen before). Target: p95 of the
step <= 2 ms, so that it adds no more than that to search and suggestion p95."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "search"))

TARGET_MS = 2.0

PRODUCTS = [
    "Cam bù",
    "Cam Khe Mây",
    "Cam chanh",
    "Bưởi Phúc Trạch",
    "Bưởi da xanh",
    "Mật ong rừng",
    "Mật ong hoa cam",
    "Kẹo cu đơ",
    "Bánh đa vừng",
    "Nước mắm cá cơm",
    "Mắm ruốc",
    "Mực khô",
    "Cá chỉ vàng khô",
    "Tôm khô",
    "Chè xanh",
    "Chè búp khô",
    "Gạo nếp cái hoa vàng",
    "Gạo lứt đỏ",
    "Gạo ST25",
    "Lạc đỏ",
    "Đậu xanh",
    "Trà cà gai leo",
    "Nấm linh chi",
    "Nhung hươu",
    "Rượu nếp",
    "Khoai lang",
    "Nón lá",
    "Mộc nhĩ rừng",
    "Nấm hương khô",
    "Cá tràu đồng",
    "Giò lụa",
    "Thịt lợn đen",
    "Dưa hấu",
    "Thanh long ruột đỏ",
    "Tinh dầu sả chanh",
    "Ngô nếp",
    "Chanh leo",
    "Sắn dây",
    "Bí đỏ",
    "Mướp đắng",
]
QUALIFIERS = [
    "loại 1",
    "loại 2",
    "hộp quà",
    "túi 500 g",
    "hũ 1 kg",
    "hữu cơ",
    "sấy khô",
    "tươi",
    "đặc biệt",
    "",
]
ORIGINS = [
    "Hương Sơn",
    "Hương Khê",
    "Vũ Quang",
    "Đức Thọ",
    "Can Lộc",
    "Thạch Hà",
    "Cẩm Xuyên",
    "Kỳ Anh",
    "Nghi Xuân",
    "Lộc Hà",
    "Hồng Lĩnh",
    "Phúc Trạch",
]
ONSETS = [
    "b",
    "c",
    "ch",
    "d",
    "đ",
    "g",
    "gi",
    "h",
    "kh",
    "l",
    "m",
    "n",
    "ng",
    "nh",
    "ph",
    "qu",
    "s",
    "t",
    "th",
    "tr",
    "v",
    "x",
]
RHYMES = [
    "a",
    "ai",
    "am",
    "an",
    "ang",
    "anh",
    "ao",
    "at",
    "au",
    "ay",
    "âm",
    "ân",
    "âu",
    "ê",
    "ênh",
    "i",
    "im",
    "in",
    "inh",
    "iêu",
    "o",
    "oa",
    "oai",
    "oan",
    "oc",
    "oi",
    "om",
    "on",
    "ong",
    "ô",
    "ôi",
    "ông",
    "ơ",
    "ơi",
    "u",
    "ui",
    "un",
    "ung",
    "uôi",
    "ương",
    "ươi",
    "ưa",
]


def catalogue(n: int, seed: int = 7):
    rnd = random.Random(seed)
    tail = [rnd.choice(ONSETS) + rnd.choice(RHYMES) for _ in range(4000)]
    brands = [
        "".join(rnd.choice("bcdghklmnprstvx") + rnd.choice("aeiou") for _ in range(rnd.randint(2, 4)))
        for _ in range(20000)
    ]
    shops = [
        f"{rnd.choice(['HTX', 'Cơ sở', 'Hộ', 'Công ty'])} {rnd.choice(tail)} {rnd.choice(ORIGINS)}"
        for _ in range(2000)
    ]
    for _ in range(n):
        extra = " ".join(rnd.choice(tail) for _ in range(rnd.randint(0, 2)))
        brand = rnd.choice(brands) if rnd.random() < 0.3 else ""
        title = " ".join(
            x for x in (rnd.choice(PRODUCTS), rnd.choice(QUALIFIERS), brand, extra, rnd.choice(ORIGINS)) if x
        )
        yield [title, rnd.choice(ORIGINS), rnd.choice(shops), "Thực phẩm"]


def queries(vocabulary, seed: int = 11) -> list[str]:
    from relevance_data import QUERIES

    rnd = random.Random(seed)
    out = [q for _, q, _ in QUERIES]
    words = [w for w in vocabulary.terms if w.isalpha() and len(w) >= 3]
    letters = "abcdeghiklmnopqrstuvxy"
    for _ in range(len(out)):
        kind = rnd.randrange(4)
        a, b = rnd.choice(words), rnd.choice(words)
        if kind == 0:  # a typo: one letter changed
            k = rnd.randrange(len(a))
            out.append(f"{b} {a[:k]}{rnd.choice(letters)}{a[k + 1 :]}")
        elif kind == 1:  # run together
            out.append(a + b)
        elif kind == 2:  # nothing like the catalogue
            out.append("".join(rnd.choice(letters) for _ in range(rnd.randint(5, 9))))
        else:
            out.append(f"{a} {b}")
    return out


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from search import text as vi
    from search.models import DEFAULT_SYNONYMS, REGIONAL_SYNONYMS
    from search.understand import Vocabulary

    documents = list(catalogue(args.listings))
    started = time.perf_counter()
    vocabulary = Vocabulary.from_documents(documents)
    build_s = time.perf_counter() - started
    groups = vi.folded_synonym_groups(vi.parse_synonym_group(g) for g in DEFAULT_SYNONYMS + REGIONAL_SYNONYMS)
    mix = queries(vocabulary)

    def step(text: str) -> None:  # what run_search and suggest do per request
        known = frozenset(word for group in groups for term in group for word in term)
        vocabulary.understand(text, known=known)

    cold: list[float] = []
    warm: list[float] = []
    for _ in range(args.rounds):
        for text in mix:
            vocabulary._cache.clear()
            t = time.perf_counter()
            step(text)
            cold.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            step(text)
            warm.append((time.perf_counter() - t) * 1000)
    understood = sum(1 for text in mix if vocabulary.understand(text) is not None)

    print(
        f"query understanding on a {args.listings:,}-listing vocabulary ({len(vocabulary):,} words), "
        f"{len(mix)} queries x {args.rounds} rounds; {understood} of them changed by understanding"
    )
    print(f"vocabulary build (every SEARCH_VOCABULARY_TTL, in the background): {build_s:.2f} s")
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'target p95':>12}")
    for name, samples in (("cold (new text)", cold), ("warm (cached text)", warm)):
        p95 = pct(samples, 95)
        verdict = "ok" if p95 <= TARGET_MS else "OVER"
        print(
            f"{name:<24}{statistics.median(samples):>10.3f}{p95:>10.3f}{max(samples):>10.3f}"
            f"{'<= ' + str(TARGET_MS):>12} {verdict}"
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if pct(cold, 95) <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())

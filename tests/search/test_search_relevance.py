"""The relevance set (relevance_data.py) on every backend: the demo province's public listings and
a fixture catalogue of regional product names, at least 150 queries of eight kinds, each naming the
listing(s) one of which must be in the top three. Prints hit@1 and hit@3 per kind and overall (and,
for comparison, the same queries searched exactly as typed, `chinh_xac=1`); fails below hit@3 0.9
overall on any backend."""

from __future__ import annotations

from collections import defaultdict

from relevance_data import FIXTURE_SHOPS, QUERIES, demo_catalogue
from search_testlib import People, drain

MIN_HIT3 = 0.9
KINDS = ("plain", "marked", "prefix", "synonym", "typo", "telex", "vni", "run_together")


def _build(factory) -> int:
    from sqlalchemy import select

    from catalog.models import Category
    from catalog.seed import seed_categories
    from marketplace.extensions import db

    seed_categories()
    db.session.commit()
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    people = People(factory)
    count = 0
    for shop_name, items in demo_catalogue():
        shop = people.shop(shop_name)
        for item in items:
            factory.listing(
                shop=shop,
                title=item["title"],
                category=categories[item["category"]],
                price=item["price_vnd"],
                stock=item["stock"],
                origin=item.get("origin"),
                description=item.get("description") or "",
            )
            count += 1
    for shop_name, rows in FIXTURE_SHOPS:
        shop = people.shop(shop_name)
        for title, origin, category in rows:
            factory.listing(shop=shop, title=title, category=categories[category], origin=origin, stock=20)
            count += 1
    drain()
    return count


def _measure(client, exact: bool) -> tuple[dict[str, list[int]], dict[str, list[int]], list[str]]:
    hit1: dict[str, list[int]] = defaultdict(list)
    hit3: dict[str, list[int]] = defaultdict(list)
    misses = []
    for kind, q, expected in QUERIES:
        params = {"q": q, "per_page": 3, **({"chinh_xac": "1"} if exact else {})}
        response = client.get("/api/v1/search", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        titles = [hit["title"] for hit in response.json["hits"]]
        hit1[kind].append(int(bool(titles) and titles[0] in expected))
        hit3[kind].append(int(any(t in expected for t in titles)))
        if not hit3[kind][-1]:
            misses.append(
                f"  {kind:<12} {q!r} -> {titles} (understood {response.json['query']['understood']!r})"
            )
    return hit1, hit3, misses


def _rate(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _pick(results: dict[str, list[int]], kind: str) -> list[int]:
    return [v for vs in results.values() for v in vs] if kind == "overall" else results[kind]


def test_relevance_set(backend, factory, client):
    assert len(QUERIES) >= 150 and {kind for kind, _, _ in QUERIES} == set(KINDS)
    listings = _build(factory)
    understood = _measure(client, exact=False)
    typed = _measure(client, exact=True)
    lines = [f"\nrelevance set on {backend}: {len(QUERIES)} queries, {listings} listings"]
    lines.append(f"  {'kind':<14}{'n':>4}{'hit@1':>8}{'hit@3':>8}   exact as typed: hit@1 / hit@3")
    for kind in (*KINDS, "overall"):
        u1, u3, t1, t3 = (_pick(d, kind) for d in (understood[0], understood[1], typed[0], typed[1]))
        lines.append(
            f"  {kind:<14}{len(u3):>4}{_rate(u1):>8.2f}{_rate(u3):>8.2f}   {_rate(t1):>14.2f} / {_rate(t3):.2f}"
        )
    if understood[2]:
        lines.append("  not in the top three:")
        lines.extend(understood[2])
    print("\n".join(lines))
    overall = _rate([v for vs in understood[1].values() for v in vs])
    assert overall >= MIN_HIT3, "\n".join(lines)

"""Uncached render cost of the public pages, in process: application time and SQL statements.

    .venv/bin/python bench/render_bench.py [--requests 200] [--listings 0]

Builds the demo province (the real `demo load`) in a temporary SQLite database, warms each page
up, then times `--requests` anonymous GETs of home, a category page, a listing page, a shop page,
the trace page, the search page, the sitemap and /api/v1/listings through the Flask test client
(no server, no network: the figure is the application's own time) and prints the median, p95 and
the statements each page ran, beside the issue's targets (home, category, listing ≤ 10 ms).
With `--listings N` it then adds N generated listings (bench/search_bench.py's generator) and
times the category page again: it must stay within 1.5× of the demo's.
Not part of `make test`: run it by hand."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = {"home": 10.0, "category": 10.0, "listing": 10.0}


def _app(workdir: Path):
    from marketplace import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SERVER_NAME": "localhost",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
            "MEDIA_ROOT": str(workdir / "media"),
            "MAIL_DIR": str(workdir / "mail"),
            "SEARCH_EMBEDDED_PATH": str(workdir / "search.sqlite"),
            "RATELIMIT_ENABLED": False,
            "OPENSEARCH_URL": None,
            "ELASTICSEARCH_URL": None,
        }
    )


class StatementCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs) -> None:
        self.count += 1


def time_page(client, counter: StatementCounter, path: str, n: int) -> tuple[float, float, float, int]:
    """(median CPU ms, p95 CPU ms, median wall ms, statements per request). CPU time of this
    thread (the test client runs the app in it): on a shared, loaded machine the wall clock
    measures the neighbours too."""
    for _ in range(max(5, n // 10)):  # warm: templates compiled, caches filled
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    cpu, wall = [], []
    before = counter.count
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.thread_time()
        client.get(path)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    statements = (counter.count - before) // n
    cpu.sort()
    return statistics.median(cpu), cpu[int(len(cpu) * 0.95) - 1], statistics.median(wall), statements


def pages(app) -> dict[str, str]:
    from sqlalchemy import func

    from catalog.models import Category, Listing
    from catalog.services import public_listings_query
    from marketplace.extensions import db
    from sellers.models import Shop

    with app.app_context():
        listing = db.session.scalars(public_listings_query().order_by(Listing.id).limit(1)).first()
        # The category with the most public listings (a full page of cards).
        category_id = db.session.execute(
            public_listings_query()
            .with_only_columns(Listing.category_id, func.count())
            .group_by(Listing.category_id)
            .order_by(func.count().desc())
            .limit(1)
        ).first()[0]
        category = db.session.get(Category, category_id)
        top = category.parent or category
        shop = db.session.get(Shop, listing.shop_id)
        return {
            "home": "/",
            "category": f"/danh-muc/{top.slug}",
            "listing": f"/san-pham/{listing.slug}",
            "shop": f"/cua-hang/{shop.slug}",
            "trace": f"/truy-xuat/{listing.slug}",
            "search": "/tim-kiem?q=cam",
            "sitemap": "/sitemap.xml",
            "api listings": "/api/v1/listings",
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--listings", type=int, default=0, help="then add this many generated listings")
    ap.add_argument("--only", default="", help="comma-separated page names")
    ap.add_argument("--keep", action="store_true", help="keep the generated database (its folder is printed)")
    args = ap.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from flask_migrate import upgrade

    from demo.loader import load_demo
    from marketplace import outbox
    from marketplace.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="render-bench-"))
    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        app = _app(workdir)
        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()
            outbox.drain()
            counter = StatementCounter(db.engine)
        client = app.test_client()
        paths = pages(app)
        only = [p for p in args.only.split(",") if p]
        rows = []
        for name, path in paths.items():
            if only and name not in only:
                continue
            median, p95, wall, statements = time_page(client, counter, path, args.requests)
            rows.append((name, path, median, p95, wall, statements))
        big = None
        if args.listings:
            big = _big_catalogue(app, counter, paths["category"], args.listings, args.requests)
        print(f"\nUncached render, in process (Flask test client, SQLite), {args.requests} requests each")
        print(
            f"{'page':<14}{'CPU ms':>8}{'p95':>7}{'wall ms':>9}{'SQL':>5}  {'target (CPU median)':<21} path"
        )
        for name, path, median, p95, wall, statements in rows:
            target = TARGET_MS.get(name)
            verdict = (
                "" if target is None else (f"≤ {target:.0f} ms " + ("ok" if median <= target else "MISSED"))
            )
            print(f"{name:<14}{median:>8.2f}{p95:>7.2f}{wall:>9.2f}{statements:>5}  {verdict:<21} {path}")
        if big is not None:
            demo_median = (
                next(r[2] for r in rows if r[0] == "category")
                if any(r[0] == "category" for r in rows)
                else None
            )
            median, p95, wall, statements, total = big
            ratio = f"{median / demo_median:.2f}×" if demo_median else "—"
            ok = demo_median is not None and median <= 1.5 * demo_median
            print(
                f"{'category big':<14}{median:>8.2f}{p95:>7.2f}{wall:>9.2f}{statements:>5}  "
                f"≤ 1.5× demo: {ratio} {'ok' if ok else 'MISSED'} ({total} listings)"
            )
        load_after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}")
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _big_catalogue(app, counter, path: str, n: int, requests: int):
    """Add `n` generated listings beside the demo's, in the demo's category tree."""
    from sqlalchemy import func, insert, select

    from catalog.models import Category, Listing, ListingImage, OcopCertificate
    from marketplace.extensions import db
    from sellers.models import Shop

    spec = importlib.util.spec_from_file_location("search_bench", ROOT / "bench" / "search_bench.py")
    search_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(search_bench)
    import random

    rnd = random.Random(7)
    with app.app_context():
        categories = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
        shops = list(db.session.scalars(select(Shop.id).where(Shop.status == "approved")))
        base = db.session.scalar(select(func.max(Listing.id))) or 0
        now = db.session.scalar(select(func.max(Listing.published_at)))
        from datetime import timedelta

        with db.engine.begin() as conn:
            rows, images = [], []
            for i in range(1, n + 1):
                stem, _category, price = rnd.choice(search_bench.PRODUCTS)
                published = now - timedelta(minutes=rnd.randint(1, 600000))
                status = "active" if rnd.random() < 0.94 else "draft"
                rows.append(
                    {
                        "id": base + i,
                        "shop_id": rnd.choice(shops),
                        "category_id": rnd.choice(categories),
                        "slug": f"sp-bench-{i}",
                        "title": f"{stem} {i}",
                        "description": "",
                        "unit": "kg",
                        "price_vnd": price,
                        "stock": rnd.choice([0, 3, 10, 50]),
                        "min_order_qty": 1,
                        "certifications": [],
                        "status": status,
                        "featured": False,
                        "sales_count": 0,
                        "created_at": published,
                        "updated_at": published,
                        "published_at": published if status == "active" else None,
                    }
                )
                if rnd.random() < 0.5:
                    images.append(
                        {
                            "listing_id": base + i,
                            "key": f"{base + i:064x}",
                            "position": 0,
                            "width": 1200,
                            "height": 900,
                        }
                    )
                if len(rows) == 5000:
                    conn.execute(insert(Listing.__table__), rows)
                    rows = []
            if rows:
                conn.execute(insert(Listing.__table__), rows)
            for start in range(0, len(images), 5000):
                conn.execute(insert(ListingImage.__table__), images[start : start + 5000])
        del OcopCertificate
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Listing))
        # Category pages are searches within the category: index the new listings (the real
        # rebuild, as `flask search reindex` does).
        from search import indexer, service

        started = time.monotonic()
        indexer.reindex(service.state().embedded)
        print(f"reindexed {total} listings in {time.monotonic() - started:.0f} s", file=sys.stderr)
    median, p95, wall, statements = time_page(app.test_client(), counter, path, requests)
    return median, p95, wall, statements, total


if __name__ == "__main__":
    raise SystemExit(main())

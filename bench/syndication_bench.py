"""Syndication benchmark: the Google feed streamed for many listings, and changed listings pushed
to a platform stand-in, calls counted per listing.

    .venv/bin/python bench/syndication_bench.py [--feed 100000] [--push 10000]

Part 1 (feed): FEED listings opted in to the feeds (SQLite file, rows inserted in bulk, a photo
each), then GET /feeds/google-merchant.xml through the real view, read to the end as a fetcher
would. Timed without tracing; the peak of Python allocations is then measured in a second run
with tracemalloc, for FEED and for FEED/10 listings (flat memory: about the same peak), beside
the process's peak RSS.

Part 2 (push): PUSH listings already on Shopee (the stand-in of tests/syndication/platforms,
signature check, envelopes and all; its rate limit raised so the benchmark measures us), then
the listings change — 40 % price, 30 % stock, 10 % title, 20 % nothing — every one of them
announced (`listing.changed`), and the outbox drained through the real engine and adapter. The
calls each listing caused are counted by what it changed. Shopee's price and stock calls carry
one item each (the platform's documented shape), so one call per changed field group is the
floor. Not part of `make test`."""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_app(folder: Path):
    os.environ.setdefault("MARKETPLACE_ENV", "local")
    from marketplace import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "SECRET_KEY": "bench",
            "TESTING": False,
            "SERVER_NAME": "sanhatinh.vn",
            "PREFERRED_URL_SCHEME": "https",
            "MEDIA_ROOT": str(folder / "media"),
            "MAIL_DIR": str(folder / "mail"),
            "MAIL_SERVER": None,
            "SEARCH_EMBEDDED_PATH": str(folder / "search.sqlite"),
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
            "RATELIMIT_ENABLED": False,
        }
    )


def seed(app, n: int, channel: str) -> list[int]:
    """n active listings in 50 approved shops, a photo each, the shops opted in to `channel`."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from catalog.models import Category, Listing, ListingImage
    from marketplace.extensions import db
    from marketplace.models import Commune
    from marketplace.timeutil import utcnow
    from sellers.models import Shop
    from syndication.models import ShopChannel

    upgrade()
    commune = Commune(name="Xã Sơn Kim 1", province="Hà Tĩnh", kind="xa")
    category = Category(name="Trái cây", slug="trai-cay")
    db.session.add_all([commune, category])
    db.session.flush()
    shops = []
    for i in range(50):
        shop = Shop(
            slug=f"htx-{i}",
            name=f"HTX Hương Sơn {i}",
            kind="cooperative",
            phone="0912345678",
            address_line="Thôn 1",
            commune_id=commune.id,
            province="Hà Tĩnh",
            status="approved",
        )
        db.session.add(shop)
        shops.append(shop)
    db.session.flush()
    db.session.execute(
        insert(ShopChannel), [{"shop_id": s.id, "channel": channel, "enabled": True} for s in shops]
    )
    now = utcnow()
    rng = random.Random(13)
    batch = 5000
    for start in range(0, n, batch):
        rows = [
            {
                "shop_id": shops[i % 50].id,
                "category_id": category.id,
                "slug": f"cam-bu-huong-son-{i}",
                "title": f"Cam bù Hương Sơn loại {i % 3 + 1} — lô {i}",
                "description": "<p>Cam bù chín cây, vỏ mỏng, ngọt thanh. Thu hái tại Hương Sơn, Hà Tĩnh.</p>"
                * 3,
                "unit": "kg",
                "price_vnd": rng.randrange(20, 200) * 1000,
                "stock": rng.randrange(0, 50),
                "status": "active",
                "published_at": now,
                "weight_grams": 1000,
            }
            for i in range(start, min(start + batch, n))
        ]
        db.session.execute(insert(Listing), rows)
    ids = list(db.session.scalars(select(Listing.id).order_by(Listing.id)))
    for start in range(0, len(ids), batch):
        db.session.execute(
            insert(ListingImage),
            [
                {"listing_id": lid, "key": f"{lid:040x}", "position": 0, "width": 1200, "height": 900}
                for lid in ids[start : start + batch]
            ],
        )
    db.session.commit()
    return ids


def stream_feed(app) -> tuple[int, int]:
    client = app.test_client()
    response = client.get("/feeds/google-merchant.xml", buffered=False)
    assert response.status_code == 200
    size = items = 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        items += data.count(b"<item>")
    response.close()
    return size, items


def bench_feed(n: int) -> list[tuple[str, str, str]]:
    rows = []
    peaks = {}
    for count in (n // 10, n):
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(Path(tmp))
            with app.app_context():
                t0 = time.perf_counter()
                seed(app, count, "feeds")
                seeded = time.perf_counter() - t0
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                t0 = time.perf_counter()
                size, items = stream_feed(app)
                elapsed = time.perf_counter() - t0
                rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                tracemalloc.start()
                stream_feed(app)
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                peaks[count] = peak
                from marketplace.extensions import db

                db.session.remove()
                db.engine.dispose()
        rows.append(
            (f"feed: listings in the feed ({count} seeded in {seeded:.0f} s)", f"{items}", f"{count}")
        )
        rows.append(
            (f"feed: time to stream {count} items", f"{elapsed:.2f} s", "< 10 s" if count == n else "")
        )
        rows.append((f"feed: size for {count} items", f"{size / 1e6:.1f} MB", ""))
        rows.append(
            (
                f"feed: Python allocation peak while streaming {count}",
                f"{peak / 1e6:.1f} MB",
                "flat (≈ same as 1/10)",
            )
        )
        rows.append(
            (
                f"feed: process peak RSS growth while streaming {count}",
                f"{(rss_after - rss_before) / 1024:.1f} MB",
                "",
            )
        )
    small, big = peaks[n // 10], peaks[n]
    rows.append(("feed: peak ratio (n / n÷10)", f"{big / max(small, 1):.2f}", "≈ 1 (flat)"))
    return rows


def bench_push(n: int, platform: str = "shopee") -> list[tuple[str, str, str]]:
    from sqlalchemy import select, update

    from catalog.models import Listing
    from marketplace import outbox
    from marketplace.extensions import db
    from marketplace.timeutil import utcnow
    from syndication import engine, hooks, topics
    from syndication.models import CategoryMapping, Connection, SyncRecord, UploadedImage
    from tests.syndication.platforms.standins import LazadaStandin, ShopeeStandin

    standin_class = {"shopee": ShopeeStandin, "lazada": LazadaStandin}[platform]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, standin_class(rate_per_second=10**9) as standin:
        app = make_app(Path(tmp))
        with app.app_context():
            creds, key = standin.credentials, platform.upper()
            app.config.update(
                {
                    f"SYNDICATION_{key}_APP_ID": creds.app_id,
                    f"SYNDICATION_{key}_SECRET": creds.secret,
                    f"SYNDICATION_{key}_BASE_URL": creds.base_url,
                }
            )
            ids = seed(app, n, platform)
            token = standin.issue_token("101")
            connection = Connection(
                shop_id=None,
                platform=platform,
                remote_shop_id="101",
                access_token=token.access_token,
                refresh_token=token.refresh_token,
                expires_at=token.expires_at.replace(tzinfo=None),
            )
            category_id = db.session.scalar(select(Listing.category_id).limit(1))
            db.session.add(connection)
            shopee = platform == "shopee"
            db.session.add(
                CategoryMapping(
                    platform=platform,
                    category_id=category_id,
                    remote_category_id="100636" if shopee else sorted(standin.categories)[0],
                    attributes={"brand_id": "0", "brand_name": "NoBrand"} if shopee else {},
                )
            )
            db.session.flush()
            # Already on the platform: the stand-in holds each item, the records what was sent.
            for listing in db.session.scalars(select(Listing).order_by(Listing.id)):
                want = engine.desired(listing, connection)
                item_id, sku_id = 1_000_000 + listing.id, 5_000_000 + listing.id
                standin.items[str(item_id)] = {
                    "shop": "101",
                    "sku": f"HT-{listing.id}",
                    "sku_id": sku_id,
                    "price": listing.price_vnd,
                    "stock": listing.stock,
                    "status": "normal",
                    "payload": {"item_name": listing.title},
                }
                for image in listing.images:  # its photo went with it
                    image_id = (
                        f"vn-{image.key[:12]}" if shopee else f"https://vn-live.slatic.net/p/{image.key}.jpg"
                    )
                    standin.images[image_id] = b"jpeg"
                    db.session.add(
                        UploadedImage(
                            connection_id=connection.id, content_hash=image.key, remote_image_id=image_id
                        )
                    )
                db.session.add(
                    SyncRecord(
                        listing_id=listing.id,
                        connection_id=connection.id,
                        state="synced",
                        remote_id=str(item_id) if shopee else f"{item_id}:{sku_id}",
                        hashes=want.hashes,
                        last_success_at=utcnow(),
                    )
                )
            db.session.commit()
            rng = random.Random(7)
            shuffled = ids[:]
            rng.shuffle(shuffled)
            cut = [int(n * f) for f in (0.4, 0.7, 0.8)]
            groups = {
                "price": shuffled[: cut[0]],
                "stock": shuffled[cut[0] : cut[1]],
                "content": shuffled[cut[1] : cut[2]],
                "unchanged": shuffled[cut[2] :],
            }
            changes = {
                "price": {"price_vnd": Listing.price_vnd + 1000},
                "stock": {"stock": Listing.stock + 5},
                "content": {"title": Listing.title + " (mới)"},
            }
            for kind, values in changes.items():
                for chunk in range(0, len(groups[kind]), 900):
                    part = groups[kind][chunk : chunk + 900]
                    db.session.execute(update(Listing).where(Listing.id.in_(part)).values(**values))
            for lid in ids:  # every listing announced, changed or not
                outbox.record("listing.changed", {"listing_id": lid, "action": "updated"})
            db.session.commit()

            # Calls per listing: a push's own calls count 1 each; a batch call counts 1/len(batch)
            # for each SKU it carried.
            calls_by_listing: Counter[int] = Counter()
            listing_of: dict[str, int] = {
                row.remote_id: row.listing_id
                for row in db.session.execute(select(SyncRecord.remote_id, SyncRecord.listing_id))
            }
            real_push, real_batch_call = engine.push, engine._batch_call

            def counting(payload, event):
                lid = int(payload["listing_id"])
                calls = real_push(lid, int(payload["connection_id"]), single=bool(payload.get("single")))
                calls_by_listing[lid] += len(calls)

            def counting_batch(adapter, *, changes):
                real_batch_call(adapter, changes=changes)
                for change in changes:
                    calls_by_listing[listing_of[change.remote_id]] += 1 / len(changes)

            engine._batch_call = counting_batch
            outbox.register_handler(app, topics.PUSH, counting)
            # search's indexer is not what we measure: only syndication's part of the event.
            outbox.register_handler(app, "listing.changed", hooks.on_listing_changed)
            standin.calls.clear()
            t0 = time.perf_counter()
            outbox.drain(batch=500)
            while db.session.scalar(
                select(db.func.count()).select_from(SyncRecord).where(SyncRecord.state == "queued")
            ):
                time.sleep(0.5)  # the batches wait BATCH_DELAY_S for the pushes to gather
                outbox.drain(batch=500)
            elapsed = time.perf_counter() - t0
            engine._batch_call = real_batch_call
            http_calls = len(standin.calls)
            failures = db.session.scalar(
                select(db.func.count()).select_from(SyncRecord).where(SyncRecord.state != "synced")
            )
            first_error = db.session.scalar(
                select(SyncRecord.last_error).where(SyncRecord.state != "synced").limit(1)
            )
            if first_error:
                print("first error:", first_error)
    batch = "1" if platform == "shopee" else "50"
    for kind in ("price", "stock", "content", "unchanged"):
        lids = groups[kind]
        total = sum(calls_by_listing[lid] for lid in lids)
        worst = max((calls_by_listing[lid] for lid in lids), default=0)
        target = "0" if kind == "unchanged" else ("1" if kind == "content" else f"1/{batch}")
        rows.append(
            (
                f"push {platform}: calls per {kind} listing ({len(lids)}), mean / max",
                f"{total / max(len(lids), 1):.3f} / {worst:.3f}",
                target,
            )
        )
    rows.append((f"push {platform}: HTTP calls the stand-in accepted ({n} listings)", str(http_calls), ""))
    rows.append((f"push {platform}: records not synced afterwards", str(failures), "0"))
    rows.append((f"push {platform}: time to drain ({n} listing events + pushes)", f"{elapsed:.1f} s", ""))
    rows.append((f"push {platform}: throughput", f"{n / elapsed:.0f} listings/s", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feed", type=int, default=100_000)
    parser.add_argument("--push", type=int, default=10_000)
    parser.add_argument("--platforms", default="shopee,lazada")
    args = parser.parse_args()
    rows = []
    if args.feed:
        rows += bench_feed(args.feed)
    if args.push:
        for platform in args.platforms.split(","):
            rows += bench_push(args.push, platform)
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)} | {'value':>16} | target")
    print("-" * (width + 32))
    for name, value, target in rows:
        print(f"{name.ljust(width)} | {value:>16} | {target}")


if __name__ == "__main__":
    main()

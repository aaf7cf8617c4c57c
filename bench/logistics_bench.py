"""Logistics benchmark on PostgreSQL: webhook dispatch, paging the order feed, ingesting events.

    .venv/bin/python bench/logistics_bench.py [--orders 100000] [--webhooks 10000] [--events 10000]

Database: BENCH_DATABASE_URL (its public schema is dropped and rebuilt by the migrations), else a
throwaway PostgreSQL started with tools/pg.py. Seeds one shop, one generic partner and `--orders`
packed COD orders handed to it (bulk inserts, with their feed changes), then measures:

1. webhook dispatch: `--webhooks` `order.updated` messages queued in the outbox, sent by 4 worker
   processes (outbox.drain, FOR UPDATE SKIP LOCKED) to a loopback receiver in its own process,
   signed per Standard Webhooks — deliveries per second (target ≥ 200/s on 2 cores);
2. paging the whole feed with limit=500 through the real view (Flask test client: no network hop)
   — p50/p95/max per page (target p95 < 100 ms) and the resident memory growth between the 10th
   and the last page (flat: a few MB at most);
3. ingesting `--events` `picked_up` events through POST /api/v1/logistics/orders/{code}/events
   from 4 processes — events per second (target ≥ 300/s).
Not part of `make test`."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

KEY = "lgk_be000001.bench-key-not-a-secret-000000000000000000000000"
SECRET = "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMzItYnl0ZXMhIQ=="
PROCESSES = 4
BATCH = 5000


def make_app(url: str):
    os.environ.setdefault("MARKETPLACE_ENV", "local")
    from marketplace import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": False,
            "SECRET_KEY": "bench",
            "MAIL_SERVER": None,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False, "pool_size": 2},
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
            "RATELIMIT_ENABLED": False,
            "LOGISTICS_WEBHOOK_TIMEOUT_S": 5,
        }
    )


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed(url: str, orders: int, webhook_url: str) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, insert, text, update

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = make_app(url)
    with app.app_context():
        upgrade()
        from logistics.models import ApiKey, FeedChange, FeedCounter, Partner, Shipment, WebhookSecret
        from logistics.secrets import digest
        from logistics.services import default_status_map
        from marketplace.extensions import db
        from marketplace.models import Commune, User
        from orders.models import Order, OrderLine, Payment
        from sellers.models import Shop, ShopMember

        commune = Commune(name="Phường Thành Sen", province="Hà Tĩnh", kind="phuong")
        db.session.add(commune)
        db.session.flush()
        owner = User(email="shop@bench.vn", password_hash="x", full_name="Chủ", role="producer")
        shop = Shop(
            slug="cua-hang",
            name="Cửa hàng",
            kind="household",
            phone="0912345678",
            email="shop@bench.vn",
            address_line="Thôn 1",
            commune_id=commune.id,
            province="Hà Tĩnh",
            status="approved",
        )
        db.session.add_all([owner, shop])
        db.session.flush()
        db.session.add(ShopMember(shop_id=shop.id, user_id=owner.id, role="owner"))
        partner = Partner(
            name="Bench",
            slug="bench",
            kind="generic",
            all_shops=True,
            webhook_url=webhook_url,
            status_map=default_status_map("generic"),
        )
        db.session.add(partner)
        db.session.flush()
        db.session.add(
            ApiKey(partner_id=partner.id, name="bench", prefix=KEY.split(".")[0], key_hash=digest(KEY))
        )
        db.session.add(WebhookSecret(partner_id=partner.id, secret=SECRET))
        db.session.commit()
        now = datetime.now(UTC).replace(tzinfo=None)
        conn = db.session.connection()
        for start in range(0, orders, BATCH):
            ids = range(start + 1, min(orders, start + BATCH) + 1)
            conn.execute(
                insert(Payment),
                [
                    {
                        "id": i,
                        "code": f"DHB{i:07d}",
                        "method": "cod",
                        "status": "pending",
                        "amount_vnd": 95000,
                        "refunded_vnd": 0,
                        "email": "",
                        "phone": "0912345678",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(Order),
                [
                    {
                        "id": i,
                        "code": f"DHB{i:07d}-1",
                        "payment_id": i,
                        "shop_id": shop.id,
                        "status": "packed",
                        "payment_method": "cod",
                        "paid": False,
                        "subtotal_vnd": 75000,
                        "shipping_vnd": 20000,
                        "total_vnd": 95000,
                        "weight_grams": 800,
                        "email": "",
                        "receiver_name": "Trần Thị Bình",
                        "receiver_phone": "0912345678",
                        "address_line": f"Thôn {i % 20}",
                        "commune_id": commune.id,
                        "commune_name": commune.name,
                        "province": "Hà Tĩnh",
                        "shipping_zone": "province",
                        "note": "",
                        "refunded_vnd": 0,
                        "parcel_weight_grams": 800,
                        "parcel_size": "30x20x10",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(OrderLine),
                [
                    {
                        "order_id": i,
                        "title": "Cam bù Hương Sơn",
                        "unit": "kg",
                        "sku": "CAM",
                        "unit_price_vnd": 75000,
                        "quantity": 1,
                        "line_total_vnd": 75000,
                        "weight_grams": 800,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(Shipment),
                [
                    {
                        "order_id": i,
                        "partner_id": partner.id,
                        "weight_g": 800,
                        "length_cm": 30,
                        "width_cm": 20,
                        "height_cm": 10,
                        "status": "ready_for_pickup",
                        "booking": "none",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(FeedChange),
                [
                    {
                        "seq": i,
                        "partner_id": partner.id,
                        "order_id": i,
                        "kind": "order.ready_for_pickup",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
        conn.execute(update(FeedCounter).where(FeedCounter.id == 1).values(value=orders))
        for table in ("payments", "orders", "order_lines", "logistics_shipments"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
        db.session.commit()
        conn = None
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        info = {"partner_id": partner.id}
        db.session.remove()
        db.engine.dispose()
    return info


# --- 1. webhook dispatch --------------------------------------------------------------------------


def receiver_process(port_queue, count) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with count.get_lock():
                count.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def queue_webhooks(url: str, n: int) -> None:
    app = make_app(url)
    with app.app_context():
        from sqlalchemy import select

        from logistics import feed
        from logistics.models import Partner
        from marketplace.extensions import db
        from orders.models import Order

        partner = db.session.scalar(select(Partner))
        orders = list(db.session.scalars(select(Order).order_by(Order.id).limit(min(n, 2000))))
        loaded = feed.load_orders([o.id for o in orders])
        for i in range(n):
            feed.queue_webhook(partner, "order.updated", loaded[orders[i % len(orders)].id])
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def drain_process(url: str, ready, go, out) -> None:
    app = make_app(url)
    with app.app_context():
        from marketplace import outbox

        ready.release()
        go.wait()
        while outbox.drain(batch=50):
            pass
        out.put(time.time())


def bench_webhooks(url: str, n: int, count) -> dict:
    queue_webhooks(url, n)
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=drain_process, args=(url, ready, go, out)) for _ in range(PROCESSES)]
    for w in workers:
        w.start()
    for _ in workers:  # every worker has its app and connection: start the clock
        ready.acquire(timeout=120)
    started = time.time()
    go.set()
    ended = max(out.get(timeout=3600) for _ in workers)
    for w in workers:
        w.join()
    elapsed = ended - started
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        delivered = conn.execute(
            text("SELECT count(*) FROM logistics_webhook_deliveries WHERE status='delivered'")
        ).scalar()
    engine.dispose()
    return {
        "queued": n,
        "delivered": delivered,
        "received": count.value,
        "seconds": elapsed,
        "rate": delivered / elapsed,
    }


# --- 2. paging the feed ---------------------------------------------------------------------------


def bench_paging(url: str) -> dict:
    app = make_app(url)
    with app.app_context():
        client = app.test_client()
        headers = {"Authorization": f"Bearer {KEY}"}
        client.get("/api/v1/logistics/orders?limit=10", headers=headers)  # warm-up
        cursor, times, seen, rss_10 = "", [], 0, None
        while True:
            t0 = time.perf_counter()
            response = client.get(f"/api/v1/logistics/orders?limit=500&cursor={cursor}", headers=headers)
            times.append(time.perf_counter() - t0)
            page = response.get_json()
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            seen += len(page["data"])
            cursor = page["next_cursor"]
            if len(times) == 10:
                rss_10 = rss_mb()
            if not page["has_more"]:
                break
        rss_end = rss_mb()
    times.sort()
    return {
        "pages": len(times),
        "orders": seen,
        "p50": times[len(times) // 2] * 1000,
        "p95": times[int(0.95 * (len(times) - 1))] * 1000,
        "max": times[-1] * 1000,
        "rss_growth": rss_end - (rss_10 or rss_end),
        "rss_end": rss_end,
    }


# --- 3. ingesting events --------------------------------------------------------------------------


def ingest_process(url: str, codes: list[str], ready, go, out) -> None:
    app = make_app(url)
    with app.app_context():
        client = app.test_client()
        ready.release()
        go.wait()
        headers = {"Authorization": f"Bearer {KEY}"}
        when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        ok = 0
        for code in codes:
            response = client.post(
                f"/api/v1/logistics/orders/{code}/events",
                json={
                    "event_id": f"bench-{code}",
                    "status": "picked_up",
                    "occurred_at": when,
                    "tracking_code": "B" + code[-9:],
                },
                headers=headers,
            )
            ok += response.status_code == 201
        out.put((ok, time.time()))


def bench_ingest(url: str, n: int, first_order: int) -> dict:
    codes = [f"DHB{i:07d}-1" for i in range(first_order, first_order + n)]
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    chunks = [codes[p::PROCESSES] for p in range(PROCESSES)]
    workers = [ctx.Process(target=ingest_process, args=(url, chunk, ready, go, out)) for chunk in chunks]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire(timeout=120)
    started = time.time()
    go.set()
    results = [out.get(timeout=3600) for _ in workers]
    for w in workers:
        w.join()
    ok = sum(r[0] for r in results)
    elapsed = max(r[1] for r in results) - started
    return {"events": n, "accepted": ok, "seconds": elapsed, "rate": ok / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    port_queue, count = ctx.Queue(), ctx.Value("i", 0)
    receiver = ctx.Process(target=receiver_process, args=(port_queue, count), daemon=True)
    receiver.start()
    webhook_url = f"http://127.0.0.1:{port_queue.get(timeout=30)}/hooks"
    server = None
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        import pg

        server = pg.TempPostgres(shared_buffers="128MB").start()
        url = server.create_database("logistics_bench")
    try:
        t0 = time.time()
        seed(url, args.orders, webhook_url)
        print(f"seeded {args.orders} packed orders with their feed in {time.time() - t0:.1f}s", flush=True)
        paging = bench_paging(url)
        print("paged the feed", flush=True)
        hooks = bench_webhooks(url, args.webhooks, count)
        print("sent the webhooks", flush=True)
        ingest = bench_ingest(url, min(args.events, args.orders), 1)
    finally:
        receiver.terminate()
        if server is not None:
            server.stop()
    rows = [
        (
            "webhook dispatch",
            f"{hooks['rate']:.0f} deliveries/s ({hooks['delivered']}/{hooks['queued']} in {hooks['seconds']:.1f}s)",
            "≥ 200/s",
        ),
        (
            "feed paging: pages × 500",
            f"{paging['pages']} pages, {paging['orders']} orders",
            f"{args.orders} orders",
        ),
        (
            "feed page p50 / p95 / max",
            f"{paging['p50']:.0f} / {paging['p95']:.0f} / {paging['max']:.0f} ms",
            "p95 < 100 ms",
        ),
        (
            "memory growth, page 10 → last",
            f"{paging['rss_growth']:+.1f} MB (RSS {paging['rss_end']:.0f} MB)",
            "flat",
        ),
        (
            "event ingest",
            f"{ingest['rate']:.0f} events/s ({ingest['accepted']}/{ingest['events']} in {ingest['seconds']:.1f}s)",
            "≥ 300/s",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"\n| {'measure'.ljust(width)} | {'measured'.ljust(vwidth)} | target |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|--------|")
    for name, value, target in rows:
        print(f"| {name.ljust(width)} | {value.ljust(vwidth)} | {target} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

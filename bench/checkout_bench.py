"""Checkout benchmark on PostgreSQL: sustained throughput with concurrent buyers, latency, and a
final stock audit (nothing oversold, nothing lost).

    .venv/bin/python bench/checkout_bench.py [--buyers 16] [--processes 4] [--seconds 30]

Database: BENCH_DATABASE_URL (its public schema is dropped and rebuilt by the migrations), else a
throwaway PostgreSQL started with tools/pg.py. Buyers are threads spread over a few processes
(one app and connection pool per process, one connection per buyer), each looping: put a cart in its session (1–3 products from random shops, one in ten
with the scarce "hot" product), then POST /thanh-toan through the real view, service, conditional
stock UPDATEs and commit (Flask test client: no network hop; CSRF off). Only the POST is timed.
Payment methods: 60 % COD, 40 % bank transfer (which also schedules its expiry in the outbox).
The outbox is not drained while measuring. Not part of `make test`.

Before the concurrent run, one buyer checks out alone in this process (--solo checkouts, after a
warm-up): the median CPU time of one checkout (time.process_time around the POST: the app's own
cost, what the code changes reduce; PostgreSQL's work is in its own processes) and the SQL
statements it runs. During the concurrent run each buyer also measures its thread's CPU time per
checkout (time.thread_time), which GIL and cache contention inflate. The load average is printed
at the start and the end: the machine may be shared."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

SHOPS = 20
LISTINGS_PER_SHOP = 10
STOCK = 1_000_000
HOT_STOCK = 100


def make_app(url: str, pool_size: int = 2):
    os.environ.setdefault("MARKETPLACE_ENV", "local")
    from marketplace import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "TESTING": False,
            "SECRET_KEY": "bench",
            "SESSION_COOKIE_SECURE": False,
            "MAIL_SERVER": None,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False, "pool_size": pool_size},
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
            "STRIPE_SECRET_KEY": None,
            "STRIPE_PUBLISHABLE_KEY": None,
        }
    )


def seed(url: str) -> dict:
    """A fresh schema (the real migrations) and a catalogue: SHOPS shops × LISTINGS_PER_SHOP."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = make_app(url)
    with app.app_context():
        upgrade()
        from catalog.models import Category, Listing
        from marketplace.accounts.services import hash_password
        from marketplace.extensions import db
        from marketplace.models import Commune, User
        from sellers.models import Shop, ShopMember

        commune = Commune(name="Phường Thành Sen", province="Hà Tĩnh", kind="phuong")
        category = Category(name="Đặc sản", slug="dac-san")
        db.session.add_all([commune, category])
        db.session.flush()
        password = hash_password("bench-password")
        listing_ids, hot_id = [], None
        for s in range(SHOPS):
            owner = User(
                email=f"shop{s}@bench.vn", password_hash=password, full_name=f"Chủ {s}", role="producer"
            )
            shop = Shop(
                slug=f"cua-hang-{s}",
                name=f"Cửa hàng {s}",
                kind="household",
                phone="0912345678",
                email=f"shop{s}@bench.vn",
                address_line="Thôn 1",
                commune_id=commune.id,
                province="Hà Tĩnh",
                status="approved",
            )
            db.session.add_all([owner, shop])
            db.session.flush()
            db.session.add(ShopMember(shop_id=shop.id, user_id=owner.id, role="owner"))
            for n in range(LISTINGS_PER_SHOP):
                listing = Listing(
                    shop_id=shop.id,
                    category_id=category.id,
                    slug=f"sp-{s}-{n}",
                    title=f"Sản phẩm {s}-{n}",
                    unit="kg",
                    price_vnd=random.randrange(20, 300) * 1000,
                    stock=STOCK,
                    weight_grams=random.choice([300, 500, 1000, 2000]),
                    status="active",
                    certifications=[],
                )
                db.session.add(listing)
                db.session.flush()
                listing_ids.append(listing.id)
        hot = Listing(
            shop_id=shop.id,
            category_id=category.id,
            slug="hang-hiem",
            title="Hàng hiếm",
            unit="hộp",
            price_vnd=99_000,
            stock=HOT_STOCK,
            weight_grams=500,
            status="active",
            certifications=[],
        )
        db.session.add(hot)
        # The privacy policy in force, as on a real floor: each guest checkout records consent to it.
        from marketplace.legal import services as legal

        operator = User(
            email="bql@bench.vn", password_hash=password, full_name="Ban quản lý", role="operator"
        )
        db.session.add(operator)
        db.session.flush()
        policy = (ROOT / "demo" / "data" / "legal" / "privacy.md").read_text(encoding="utf-8")
        legal.publish_version(
            legal.PRIVACY,
            {"body": policy.replace("{site}", "Sàn").replace("{province}", "Hà Tĩnh")},
            actor=operator,
        )
        db.session.commit()
        hot_id = hot.id
        info = {"commune_id": commune.id, "listings": listing_ids, "hot": hot_id}
        db.session.remove()
        db.engine.dispose()
    return info


def prepare(client, catalogue: dict, info: dict, rng: random.Random, name: str, *, hot: bool = True):
    """Put a random cart (1–3 products from random shops, one in ten with the scarce item when
    `hot`) in the client's session; return the checkout form's data and the number of shops."""
    from orders import pricing
    from orders.cart import SESSION_KEY

    picks = rng.sample(info["listings"], rng.randint(1, 3))
    items = {listing_id: rng.randint(1, 2) for listing_id in picks}
    if hot and rng.random() < 0.1:
        items[info["hot"]] = 1
    with client.session_transaction() as session:
        session[SESSION_KEY] = {str(k): [q, catalogue[k][0]] for k, q in items.items()}
    # What the checkout page shows the buyer, priced by the same pure function (no DB needed:
    # prices, weights and the shops' default shipping rules are known from the seed).
    lines = [
        pricing.Line(k, catalogue[k][1], catalogue[k][0], q, catalogue[k][2])
        for k, q in sorted(items.items())
    ]
    quote = pricing.quote(lines, {})
    data = {
        "email": f"{name}@bench.vn",
        "receiver_name": "Người mua",
        "receiver_phone": "0912345678",
        "address_line": "12 Nguyễn Du",
        "commune_id": info["commune_id"],
        "note": "",
        "payment_method": "cod" if rng.random() < 0.6 else "bank_transfer",
        "quote": quote.fingerprint(),
        "privacy_consent": "y",  # a guest agrees to the privacy policy (marketplace/legal)
    }
    return data, len(quote.shops)


def load_catalogue(app) -> dict:
    """listing id -> (price, shop id, weight), read once: what a buyer's checkout page would show."""
    with app.app_context():
        from sqlalchemy import select

        from catalog.models import Listing
        from marketplace.extensions import db

        catalogue = {
            row[0]: (row[1], row[2], row[3])
            for row in db.session.execute(
                select(Listing.id, Listing.price_vnd, Listing.shop_id, Listing.weight_grams)
            )
        }
        db.session.remove()
    return catalogue


def solo(url: str, info: dict, checkouts: int, warmup: int = 30) -> dict:
    """One buyer alone, in this process: the median CPU time and SQL statements of a checkout."""
    from sqlalchemy import event

    app = make_app(url)
    catalogue = load_catalogue(app)
    statements = [0]
    with app.app_context():
        from marketplace.extensions import db

        engine = db.engine

    def count(*_args):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    client, rng = app.test_client(), random.Random(12345)
    cpu, wall, sql = [], [], []
    for n in range(warmup + checkouts):
        data, _shops = prepare(client, catalogue, info, rng, f"solo-{n}", hot=False)
        statements[0] = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        response = client.post("/thanh-toan", data=data)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        if response.status_code != 302:
            raise SystemExit(f"solo checkout: HTTP {response.status_code}")
        if n >= warmup:
            cpu.append((cpu1 - cpu0) * 1000)
            wall.append((wall1 - wall0) * 1000)
            sql.append(statements[0])
    event.remove(engine, "before_cursor_execute", count)
    with app.app_context():
        db.engine.dispose()
    return {
        "cpu_ms": statistics.median(cpu),
        "wall_ms": statistics.median(wall),
        "statements": statistics.median(sql),
        "n": checkouts,
    }


def buyer(app, catalogue: dict, info: dict, barrier, window, seed_: int) -> dict:
    """One buyer: once every buyer is ready, loop checkouts until the window closes; report the
    latencies (and the thread's CPU time) of those that started after the warm-up."""
    rng = random.Random(seed_)
    latencies, cpu, ok, sold_out, errors, orders = [], [], 0, 0, 0, 0
    client = app.test_client()
    barrier.wait()  # the parent sets the window, then lets everyone go at once
    start_at, stop_at = window[0], window[1]
    n = 0
    while time.time() < stop_at:
        n += 1
        data, shops = prepare(client, catalogue, info, rng, f"b{seed_}-{n}")
        began, cpu_began = time.perf_counter(), time.thread_time()
        response = client.post("/thanh-toan", data=data)
        elapsed, cpu_used = time.perf_counter() - began, time.thread_time() - cpu_began
        measured = time.time() >= start_at
        if response.status_code == 302:
            if measured:
                ok += 1
                orders += shops
                latencies.append(elapsed)
                cpu.append(cpu_used)
        elif response.status_code == 409 and "hết hàng" in response.get_data(as_text=True):
            if measured:
                sold_out += 1
                latencies.append(elapsed)
        else:
            errors += 1
            if errors < 3:
                print(f"buyer {seed_}: HTTP {response.status_code}", file=sys.stderr)
    return {
        "latencies": latencies,
        "cpu": cpu,
        "ok": ok,
        "sold_out": sold_out,
        "errors": errors,
        "orders": orders,
    }


def worker_process(url: str, info: dict, barrier, window, seeds: list[int], out) -> None:
    """One process: one app (and connection pool), one thread per buyer."""
    app = make_app(url, pool_size=len(seeds) + 1)
    catalogue = load_catalogue(app)
    results = [None] * len(seeds)

    def run(i):
        try:
            results[i] = buyer(app, catalogue, info, barrier, window, seeds[i])
        except Exception as exc:  # report instead of hanging the others at the barrier
            barrier.abort()
            results[i] = {
                "latencies": [],
                "cpu": [],
                "ok": 0,
                "sold_out": 0,
                "errors": 1,
                "orders": 0,
                "crash": repr(exc),
            }

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        out.put(result)


def audit(url: str, info: dict) -> dict:
    """Stock left + units in live orders must equal the stock we started with, for every listing."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        negative = conn.execute(text("SELECT count(*) FROM listings WHERE stock < 0")).scalar()
        rows = conn.execute(
            text(
                "SELECT l.id, l.stock, COALESCE(SUM(ol.quantity) FILTER (WHERE o.status <> 'cancelled'), 0) "
                "FROM listings l LEFT JOIN order_lines ol ON ol.listing_id = l.id "
                "LEFT JOIN orders o ON o.id = ol.order_id GROUP BY l.id, l.stock"
            )
        ).all()
        mismatched = [r for r in rows if r[1] + r[2] != (HOT_STOCK if r[0] == info["hot"] else STOCK)]
        hot_left, hot_sold = next((r[1], r[2]) for r in rows if r[0] == info["hot"])
        totals = conn.execute(text("SELECT count(*), COALESCE(sum(total_vnd), 0) FROM orders")).one()
        payments = conn.execute(text("SELECT count(*), COALESCE(sum(amount_vnd), 0) FROM payments")).one()
    engine.dispose()
    return {
        "negative": negative,
        "mismatched": len(mismatched),
        "hot_left": hot_left,
        "hot_sold": hot_sold,
        "orders": totals[0],
        "money_agrees": totals[1] == payments[1],
        "payments": payments[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--processes",
        type=int,
        default=4,
        help="buyers are spread over this many processes, one thread each (GIL)",
    )
    parser.add_argument(
        "--solo", type=int, default=300, help="checkouts of one buyer alone, for the CPU time per checkout"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)

    server = None
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        import pg

        server = pg.TempPostgres(shared_buffers="128MB").start()
        url = server.create_database("checkout_bench")
    try:
        started = time.time()
        info = seed(url)
        print(
            f"seeded {SHOPS} shops × {LISTINGS_PER_SHOP} listings + 1 scarce listing "
            f"({HOT_STOCK} units) in {time.time() - started:.1f}s",
            flush=True,
        )
        alone = solo(url, info, args.solo)
        print(f"one buyer alone: {alone['n']} checkouts measured", flush=True)
        ctx = mp.get_context("spawn")
        queue, barrier, window = ctx.Queue(), ctx.Barrier(args.buyers + 1), ctx.Array("d", 2)
        processes = max(1, min(args.processes, args.buyers))
        seeds = [list(range(args.buyers))[p::processes] for p in range(processes)]
        workers = [
            ctx.Process(target=worker_process, args=(url, info, barrier, window, chunk, queue))
            for chunk in seeds
        ]
        for w in workers:
            w.start()
        # Every buyer has its app and connection when it reaches the barrier; then the window opens.
        while barrier.n_waiting < args.buyers:
            if not all(w.is_alive() for w in workers):
                raise SystemExit("a buyer process died while starting")
            time.sleep(0.2)
        window[0] = time.time() + args.warmup
        window[1] = window[0] + args.seconds
        barrier.wait(timeout=60)
        results = [queue.get(timeout=args.warmup + args.seconds + 300) for _ in range(args.buyers)]
        for w in workers:
            w.join(30)
        load_after = os.getloadavg()
        check = audit(url, info)
    finally:
        if server is not None:
            server.stop()

    for crash in {r["crash"] for r in results if "crash" in r}:
        print(f"a buyer crashed: {crash}", file=sys.stderr)
    latencies = sorted(x for r in results for x in r["latencies"])
    ok = sum(r["ok"] for r in results)
    orders = sum(r["orders"] for r in results)
    sold_out = sum(r["sold_out"] for r in results)
    errors = sum(r["errors"] for r in results)

    def pct(p):
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    rate = ok / args.seconds
    thread_cpu = sorted(x for r in results for x in r.get("cpu", []))
    cpu_loaded = statistics.median(thread_cpu) * 1000 if thread_cpu else float("nan")
    rows = [
        ("buyers (concurrent)", f"{args.buyers} threads in {min(args.processes, args.buyers)} processes", ""),
        ("measured window", f"{args.seconds:.0f} s (after {args.warmup:.0f} s warm-up)", ""),
        ("CPU cores", str(os.cpu_count()), ""),
        ("checkouts completed", str(ok), ""),
        ("orders created (one per shop)", str(orders), ""),
        ("sold-out answers (scarce item)", str(sold_out), ""),
        ("errors", str(errors), "0"),
        ("load average (1 min) before / after", f"{load_before[0]:.2f} / {load_after[0]:.2f}", ""),
        (
            "CPU per checkout, alone (median)",
            f"{alone['cpu_ms']:.1f} ms ({alone['wall_ms']:.1f} ms wall)",
            "",
        ),
        ("SQL statements per checkout (median)", f"{alone['statements']:.0f}", ""),
        ("CPU per checkout, under load (median)", f"{cpu_loaded:.1f} ms (thread time)", ""),
        ("checkout throughput", f"{rate:.1f} checkouts/s", "≥ 100/s"),
        ("order throughput", f"{orders / args.seconds:.1f} orders/s", ""),
        ("latency p50", f"{pct(0.50):.0f} ms", ""),
        ("latency p95", f"{pct(0.95):.0f} ms", "< 250 ms"),
        ("latency p99", f"{pct(0.99):.0f} ms", ""),
        ("listings with stock < 0", str(check["negative"]), "0"),
        ("listings where left + sold ≠ start", str(check["mismatched"]), "0"),
        (
            "scarce item: sold / left",
            f"{check['hot_sold']} / {check['hot_left']} of {HOT_STOCK}",
            f"sold ≤ {HOT_STOCK}",
        ),
        ("orders total = payments total", "yes" if check["money_agrees"] else "NO", "yes"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'metric':<{width}}  {'value':<34} target")
    print(f"{'-' * width}  {'-' * 34} ------")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<34} {target}")
    good = (
        check["negative"] == 0
        and check["mismatched"] == 0
        and errors == 0
        and check["money_agrees"]
        and check["hot_sold"] <= HOT_STOCK
    )
    fast = rate >= 100 and pct(0.95) < 250
    print(
        f"\nzero oversell: {'yes' if good else 'NO'}; "
        f"throughput and p95 targets {'met' if fast else 'NOT met'} "
        f"(load average {load_before[0]:.2f} before, {load_after[0]:.2f} after)"
    )
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

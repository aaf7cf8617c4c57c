"""Dashboards benchmark on PostgreSQL: every query a dashboard or report runs, on a floor with
1 000 000 orders, timed beside its target (< 200 ms).

    .venv/bin/python bench/dashboards_bench.py [--scale 1.0] [--reps 5] [--no-cache]

Database: BENCH_DATABASE_URL (its public schema is dropped and rebuilt), else a throwaway
PostgreSQL started with tools/pg.py. The schema comes from the real migrations (`flask db
upgrade`), so the indexes are the ones production has. The floor is then generated in SQL
(`INSERT … SELECT … FROM generate_series`, never row by row), at --scale 1.0:

    1 000 000 orders (≈2 lines each, ≈2 000 000 order_lines) and their payments, over the last
    two years, statuses like a real floor (≈8 % cancelled, a few failed or returned, the last
    days' still moving, the rest delivered or completed), shops' popularity a power law (Zipf,
    exponent 1.2: the biggest has ≈165 000 orders, the smallest a few dozen); 2 000 shops (household, cooperative,
    enterprise), 20 000 listings (one in ten OCOP-rated, most certificates checked), 200 000
    buyers, 300 communes in six provinces (buyers mostly in the floor's own); reviews,
    complaints, ledger entries (collected per paid order, monthly payouts), logistics shipments
    and weekly COD remittances with their lines, syndication connections and remote orders, Q&A
    agencies and questions, and 200 000 audit-log entries. ANALYZE after loading.

The generated database is kept as a pg_dump in .cache/dashboards_bench/ keyed by the generator's
version and SQL, the scale and the migrations' text, and restored on the next run (never
committed).

Then every query in app.extensions["dashboard_queries"] (dashboards.register_query) is timed:
shop ones for the biggest shop and a small one, floor ones once, each for the last 30 and the
last 365 local days; one untimed run to warm the cache, then --reps timed runs; p50 and max
printed beside the target. The bench names no query: it iterates the registry, and stops with a
message if the registry is empty. The load average is printed at the start and the end: the
machine may be shared. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from checkout_bench import make_app  # noqa: E402 - the benches' one app for a database URL

GENERATOR_VERSION = 2  # the cached dump is keyed by it and by the SQL itself
TARGET_MS = 200.0
CACHE_DIR = ROOT / ".cache" / "dashboards_bench"

PROVINCES = (
    ("Hà Tĩnh", 120),  # the floor's own province first: most buyers live there
    ("Nghệ An", 40),
    ("Quảng Trị", 30),
    ("Thành phố Hà Nội", 40),
    ("Thành phố Hồ Chí Minh", 40),
    ("Thành phố Đà Nẵng", 30),
)


def sizes(scale: float) -> dict[str, int]:
    def n(value: int, least: int = 1) -> int:
        return max(least, round(value * scale))

    return {
        "orders": n(1_000_000, 1000),
        "shops": n(2_000, 20),
        "buyers": n(200_000, 100),
        "questions": n(20_000, 20),
        "audit": n(200_000, 200),
        "remote_orders": n(50_000, 50),
        "communes": sum(count for _name, count in PROVINCES),
        "listings_per_shop": 10,
        "staff": 50,
    }


def generation_sql(s: dict[str, int]) -> list[tuple[str, str]]:
    """(what, SQL) in order. Ids are given explicitly so rows can point at each other by
    arithmetic; the sequences are moved past them at the end."""
    buyers, shops, orders = s["buyers"], s["shops"], s["orders"]
    per_shop = s["listings_per_shop"]
    listings = shops * per_shop
    producers_from = buyers + 1
    staff_from = buyers + shops + 1
    hatinh = PROVINCES[0][1]
    communes = s["communes"]
    province_cases = []
    first = 1
    for name, count in PROVINCES:
        province_cases.append(f"WHEN g < {first + count} THEN '{name}'")
        first += count
    province_case = "CASE " + " ".join(province_cases) + " END"
    neighbour_to = PROVINCES[0][1] + PROVINCES[1][1] + PROVINCES[2][1]  # Nghệ An, Quảng Trị
    span = "interval '730 days'"
    now = "(now() AT TIME ZONE 'UTC')"
    return [
        (
            "communes",
            f"""INSERT INTO communes (id, name, kind, province, code, active, source, operator_fields)
            SELECT g, 'Xã Thử ' || g, 'xa', {province_case}, 'B' || g, true, 'operator', '[]'
            FROM generate_series(1, {communes}) g""",
        ),
        (
            "users",
            f"""INSERT INTO users (id, email, password_hash, full_name, role, active, created_at,
                session_token, email_confirmed_at)
            SELECT g, 'u' || g || '@bench.vn', 'not-a-hash', 'Người dùng ' || g,
                CASE WHEN g < {producers_from} THEN 'buyer'
                     WHEN g < {staff_from} THEN 'producer'
                     WHEN g < {staff_from + 20} THEN 'operator' ELSE 'agency' END,
                true, {now} - random() * interval '760 days', md5(g::text), {now}
            FROM generate_series(1, {staff_from + s["staff"] - 1}) g""",
        ),
        (
            "categories",
            """INSERT INTO categories (id, parent_id, name, slug, position, description)
            SELECT g, CASE WHEN g > 5 THEN 1 + g % 5 END, 'Nhóm ' || g, 'nhom-' || g, g, ''
            FROM generate_series(1, 25) g""",
        ),
        (
            "shops",
            f"""INSERT INTO shops (id, slug, name, kind, phone, address_line, commune_id, province,
                story, status, status_changed_at, created_at, updated_at, tax_code)
            SELECT g, 'cua-hang-' || g, 'Cửa hàng ' || g,
                CASE WHEN g % 10 < 6 THEN 'household' WHEN g % 10 < 9 THEN 'cooperative' ELSE 'enterprise' END,
                '0912345678', 'Thôn ' || g % 9, 1 + g % {hatinh}, '{PROVINCES[0][0]}', '',
                CASE WHEN g % 50 = 0 THEN 'pending' WHEN g % 97 = 0 THEN 'suspended' ELSE 'approved' END,
                {now} - {span} - interval '30 days', {now} - {span} - interval '30 days' + g * interval '5 minutes',
                {now} - interval '1 day', CASE WHEN g % 10 >= 6 THEN '30' || lpad(g::text, 8, '0') END
            FROM generate_series(1, {shops}) g""",
        ),
        (
            "shop_members",
            f"""INSERT INTO shop_members (shop_id, user_id, role, created_at)
            SELECT g, {producers_from - 1} + g, 'owner', {now} - {span}
            FROM generate_series(1, {shops}) g""",
        ),
        (
            "ocop_certificates",
            f"""INSERT INTO ocop_certificates (id, shop_id, certificate_no, stars, level, issued_on,
                product_name, status, decided_by_id, decided_at, created_at)
            SELECT c, 1 + (c * 10 - 1) / {per_shop}, 'OCOP-' || c, 3 + c % 3,
                CASE WHEN c % 3 = 2 THEN 'national' ELSE 'province' END, current_date - 400,
                'Sản phẩm ' || c * 10,
                CASE WHEN c % 8 = 0 THEN 'waiting' ELSE 'checked' END,
                CASE WHEN c % 8 <> 0 THEN {staff_from} END, CASE WHEN c % 8 <> 0 THEN {now} - interval '300 days' END,
                {now} - interval '400 days'
            FROM generate_series(1, {listings // 10}) c""",
        ),
        (
            "listings",
            f"""INSERT INTO listings (id, shop_id, category_id, slug, title, description, unit, price_vnd,
                stock, min_order_qty, weight_grams, ocop_stars, ocop_certificate_no, ocop_level,
                ocop_issued_on, ocop_certificate_id, certifications, status, featured, sales_count,
                created_at, updated_at, published_at)
            SELECT g, 1 + (g - 1) / {per_shop}, 6 + g % 20, 'san-pham-' || g, 'Sản phẩm ' || g, '', 'kg',
                (20 + (g * 7919) % 480) * 1000, 1000, 1, 250 + (g % 8) * 250,
                CASE WHEN g % 10 = 0 THEN 3 + (g / 10) % 3 END,
                CASE WHEN g % 10 = 0 THEN 'OCOP-' || g / 10 END,
                CASE WHEN g % 10 = 0 THEN CASE WHEN (g / 10) % 3 = 2 THEN 'national' ELSE 'province' END END,
                CASE WHEN g % 10 = 0 THEN current_date - 400 END,
                CASE WHEN g % 10 = 0 THEN g / 10 END,
                '[]', CASE WHEN g % 40 = 0 THEN 'archived' WHEN g % 41 = 0 THEN 'draft' ELSE 'active' END,
                false, 0, {now} - {span} - interval '20 days' + (g % 700) * interval '1 day',
                {now} - interval '2 days', {now} - {span}
            FROM generate_series(1, {listings}) g""",
        ),
        (
            "draws (one row per order, dropped at the end)",
            f"""CREATE UNLOGGED TABLE bench_orders AS
            SELECT g AS id,
                least({shops}, floor(power(1 - (1 - power({shops}, -0.2)) * random(), -5))::int) AS shop_id,
                CASE WHEN random() < 0.9 THEN 1 + floor(random() * {buyers})::int END AS buyer_id,
                -- ids grow with time, as a serial key does on a real floor
                {now} - {span} * (1.0 - g::float8 / {orders}) AS created_at,
                random() AS r, random() AS r2,
                CASE WHEN random() < 0.6 THEN 1 + floor(random() * {hatinh})::int
                     ELSE {hatinh + 1} + floor(random() * {communes - hatinh})::int END AS commune_id,
                1 + floor(random() * 3)::int AS lines
            FROM generate_series(1, {orders}) g""",
        ),
        (
            "statuses",
            f"""CREATE UNLOGGED TABLE bench_status AS
            SELECT o.id,
                CASE WHEN o.r < 0.08 THEN 'cancelled'
                     WHEN o.r < 0.09 THEN 'delivery_failed'
                     WHEN o.r < 0.095 THEN 'returned'
                     WHEN o.created_at > {now} - interval '4 days'
                        THEN (ARRAY['placed','confirmed','packed','shipped'])[1 + floor(o.r2 * 4)::int]
                     WHEN o.r < 0.55 THEN 'completed' ELSE 'delivered' END AS status,
                CASE WHEN o.r2 < 0.6 THEN 'cod' WHEN o.r2 < 0.9 THEN 'bank_transfer' ELSE 'card' END AS method
            FROM bench_orders o""",
        ),
        (
            "line draws",
            f"""CREATE UNLOGGED TABLE bench_lines AS
            SELECT o.id AS order_id, l.id AS listing_id, l.title, l.price_vnd, l.weight_grams,
                1 + (o.id + k) % 3 AS quantity
            FROM bench_orders o
            CROSS JOIN LATERAL generate_series(1, o.lines) k
            JOIN listings l ON l.id = (o.shop_id - 1) * {per_shop} + 1 + (o.id + k * 3) % {per_shop}""",
        ),
        (
            "totals",
            """CREATE UNLOGGED TABLE bench_totals AS
            SELECT order_id, sum(price_vnd * quantity)::int AS subtotal, sum(weight_grams * quantity)::int AS weight
            FROM bench_lines GROUP BY order_id""",
        ),
        (
            "payments",
            """INSERT INTO payments (id, code, method, status, amount_vnd, refunded_vnd, buyer_id, email,
                phone, paid_at, created_at, updated_at)
            SELECT o.id, 'P' || o.id, s.method,
                CASE WHEN s.status = 'cancelled' THEN 'cancelled'
                     WHEN s.status IN ('delivered','completed') OR s.method <> 'cod' THEN 'paid'
                     ELSE 'pending' END,
                t.subtotal + 30000, 0, o.buyer_id, 'khach' || o.id || '@bench.vn', '0987654321',
                CASE WHEN s.status IN ('delivered','completed') OR (s.method <> 'cod' AND s.status <> 'cancelled')
                     THEN o.created_at + interval '3 days' END,
                o.created_at, o.created_at + interval '3 days'
            FROM bench_orders o JOIN bench_status s USING (id) JOIN bench_totals t ON t.order_id = o.id""",
        ),
        (
            "orders",
            f"""INSERT INTO orders (id, code, payment_id, shop_id, buyer_id, status, payment_method, paid,
                subtotal_vnd, shipping_vnd, total_vnd, weight_grams, email, receiver_name, receiver_phone,
                address_line, commune_id, province, commune_name, shipping_zone, note, created_at,
                updated_at, refunded_vnd, carrier, tracking_number)
            SELECT o.id, 'B' || lpad(o.id::text, 8, '0') || '-1', o.id, o.shop_id, o.buyer_id, s.status,
                s.method,
                s.status IN ('delivered','completed') OR (s.method <> 'cod' AND s.status <> 'cancelled'),
                t.subtotal, 30000, t.subtotal + 30000, t.weight, 'khach' || o.id || '@bench.vn',
                'Khách ' || o.id, '0987654321', 'Thôn ' || o.id % 12, c.id, c.province, c.name,
                CASE WHEN c.id <= {hatinh} THEN 'province' WHEN c.id <= {neighbour_to} THEN 'neighbour'
                     ELSE 'country' END,
                '', o.created_at, o.created_at + interval '3 days', 0,
                CASE WHEN s.status NOT IN ('placed','confirmed','packed','cancelled') THEN 'GHN' END,
                CASE WHEN s.status NOT IN ('placed','confirmed','packed','cancelled') THEN 'G' || o.id END
            FROM bench_orders o JOIN bench_status s USING (id) JOIN bench_totals t ON t.order_id = o.id
            JOIN communes c ON c.id = o.commune_id""",
        ),
        (
            "order_lines",
            """INSERT INTO order_lines (order_id, listing_id, title, unit, unit_price_vnd, quantity,
                line_total_vnd, weight_grams)
            SELECT order_id, listing_id, title, 'kg', price_vnd, quantity, price_vnd * quantity,
                weight_grams * quantity
            FROM bench_lines""",
        ),
        (
            "reviews",
            """INSERT INTO reviews (order_line_id, listing_id, shop_id, author_id, author_name, stars, body,
                created_at)
            SELECT ol.id, ol.listing_id, o.shop_id, o.buyer_id, 'Người mua', 3 + ol.id % 3,
                'Hàng tốt', o.created_at + interval '6 days'
            FROM order_lines ol JOIN orders o ON o.id = ol.order_id
            WHERE o.status IN ('delivered','completed') AND ol.id % 7 = 0""",
        ),
        (
            "complaints",
            f"""INSERT INTO complaints (order_id, opened_by_id, reason, description, photo_keys, status,
                answer_due_at, refund_vnd, created_at, updated_at)
            SELECT o.id, o.buyer_id, (ARRAY['not_received','wrong_item','damaged','other'])[1 + o.id % 4],
                'Hàng không như mô tả', '[]',
                CASE WHEN o.created_at > {now} - interval '10 days'
                     THEN (ARRAY['open','answered','escalated'])[1 + o.id % 3]
                     ELSE (ARRAY['refunded','replaced','rejected'])[1 + o.id % 3] END,
                o.created_at + interval '8 days', 0, o.created_at + interval '5 days',
                o.created_at + interval '7 days'
            FROM orders o WHERE o.status IN ('delivered','completed','returned') AND o.id % 97 = 0""",
        ),
        (
            "ledger_entries (collected)",
            """INSERT INTO ledger_entries (shop_id, order_id, payment_id, kind, amount_vnd, created_at)
            SELECT o.shop_id, o.id, o.payment_id, 'collected', o.total_vnd, o.created_at + interval '3 days'
            FROM orders o WHERE o.paid""",
        ),
        (
            "ledger_entries (payouts)",
            f"""INSERT INTO ledger_entries (shop_id, kind, amount_vnd, reference, created_by_id, created_at)
            SELECT sh.id, 'payout', -(1000000 + (sh.id * m) % 9000000), 'CK-' || sh.id || '-' || m,
                {staff_from}, date_trunc('month', {now}) - m * interval '1 month' + interval '5 days'
            FROM shops sh CROSS JOIN generate_series(1, 24) m""",
        ),
        (
            "logistics_partners",
            """INSERT INTO logistics_partners (id, name, slug, kind, state, all_shops, status_map,
                credentials, created_at, updated_at)
            VALUES (1, 'Giao Hàng Nhanh', 'ghn', 'ghn', 'active', true, '{}', '{}', now(), now()),
                   (2, 'Giao Hàng Tiết Kiệm', 'ghtk', 'ghtk', 'active', true, '{}', '{}', now(), now()),
                   (3, 'Bưu điện tỉnh', 'buu-dien', 'generic', 'active', true, '{}', '{}', now(), now())""",
        ),
        (
            "logistics_shipments",
            f"""INSERT INTO logistics_shipments (order_id, partner_id, tracking_code, fee_vnd, weight_g,
                length_cm, width_cm, height_cm, status, booking, last_event_at, created_at, updated_at)
            SELECT o.id, 1 + o.id % 3, 'T' || o.id, 30000, o.weight_grams, 30, 20, 15,
                CASE WHEN o.status IN ('delivered','completed') THEN 'delivered'
                     WHEN o.status = 'shipped' THEN 'in_transit' ELSE o.status END,
                'booked', o.created_at + interval '3 days', o.created_at + interval '1 day',
                o.created_at + interval '3 days'
            FROM orders o
            WHERE o.status NOT IN ('placed','confirmed','packed','cancelled') AND o.id % 2 = 0
              AND o.created_at > {now} - {span}""",
        ),
        (
            "logistics_remittances",
            f"""INSERT INTO logistics_remittances (id, partner_id, reference, transfer_date, total_vnd, created_at)
            SELECT p * 1000 + w, p, 'DS-' || p || '-' || w, (({now} - {span})::date + w * 7 + 10),
                0, ({now} - {span}) + (w * 7 + 10) * interval '1 day'
            FROM generate_series(1, 3) p CROSS JOIN generate_series(0, 105) w""",
        ),
        (
            "logistics_remittance_lines",
            f"""INSERT INTO logistics_remittance_lines (remittance_id, order_code, order_id, shop_id, amount_vnd,
                problem)
            SELECT sh.partner_id * 1000 + floor(extract(epoch FROM (o.created_at - ({now} - {span}))) / 604800)::int,
                o.code, o.id, o.shop_id, o.total_vnd, CASE WHEN o.id % 211 = 0 THEN 'amount_mismatch' END
            FROM logistics_shipments sh JOIN orders o ON o.id = sh.order_id
            WHERE o.payment_method = 'cod' AND sh.status = 'delivered'
              AND o.created_at < {now} - interval '14 days'""",
        ),
        (
            "syndication_connections",
            f"""INSERT INTO syndication_connections (id, shop_id, platform, remote_shop_id, access_token,
                state, orders_pulled_at, created_at, updated_at)
            SELECT g, g, (ARRAY['shopee','lazada','tiki'])[1 + g % 3], 'R' || g, 'bench-token',
                CASE WHEN g % 17 = 0 THEN 'needs_reconnecting' ELSE 'active' END, {now}, {now} - {span}, {now}
            FROM generate_series(1, {max(1, shops // 7)}) g""",
        ),
        (
            "syndication_remote_orders",
            f"""INSERT INTO syndication_remote_orders (connection_id, shop_id, listing_id, platform,
                remote_order_id, remote_item_id, remote_status, quantity, price_vnd, title, state,
                placed_at, created_at)
            SELECT c.id, c.shop_id, (c.shop_id - 1) * {per_shop} + 1 + g % {per_shop}, c.platform,
                'RO' || g, 'RI' || g % {per_shop}, 'COMPLETED', 1 + g % 3, 50000 + (g % 40) * 5000,
                'Sản phẩm', CASE WHEN g % 50 = 0 THEN 'no_stock' WHEN g % 23 = 0 THEN 'cancelled' ELSE 'taken' END,
                {now} - random() * {span}, {now} - random() * {span}
            FROM generate_series(1, {s["remote_orders"]}) g
            JOIN syndication_connections c ON c.id = 1 + g % {max(1, shops // 7)}""",
        ),
        (
            "qa_agencies",
            """INSERT INTO qa_agencies (id, slug, name, description, working_days, transfer_restarts_clock,
                active, created_at)
            SELECT g, 'so-' || g, 'Sở ngành ' || g, '', 15, false, true, now() - interval '800 days'
            FROM generate_series(1, 12) g""",
        ),
        (
            "qa_questions",
            f"""INSERT INTO qa_questions (slug, agency_id, topic, title, body, asker_id, asker_name,
                business_name, show_asker_name, state, submitted_at, clock_started_on, working_days_allowed,
                due_on, answered_at, hidden, created_at, updated_at)
            SELECT 'cau-hoi-' || g, 1 + g % 12, 'thue', 'Câu hỏi ' || g, 'Nội dung', 1 + g % {buyers},
                'Người hỏi', 'Doanh nghiệp ' || g, true,
                CASE WHEN g % 10 < 7 THEN 'answered' WHEN g % 10 < 9 THEN 'awaiting_answer' ELSE 'rejected' END,
                t, t::date, 15, t::date + 21, CASE WHEN g % 10 < 7 THEN t + interval '9 days' END,
                false, t, t
            FROM (SELECT g, {now} - random() * {span} AS t FROM generate_series(1, {s["questions"]}) g) q""",
        ),
        (
            "audit_log",
            f"""INSERT INTO audit_log (created_at, actor_id, actor_name, actor_role, action, operation,
                entity_type, entity_id, label, changes, ip, request_id)
            SELECT {now} - random() * {span}, {staff_from} + g % {s["staff"]}, 'Cán bộ ' || g % {s["staff"]},
                CASE WHEN g % {s["staff"]} < 20 THEN 'operator' ELSE 'agency' END,
                (ARRAY['sellers_admin.review_shop','catalog_admin.moderate_listing','orders_admin.show_order',
                       'govqa_agency.answer','complaints_admin.decide'])[1 + g % 5],
                'update', (ARRAY['shops','listings','orders','qa_questions','complaints'])[1 + g % 5],
                (1 + g % 5000)::text, 'Đối tượng ' || g,
                '{{"status": ["pending", "approved"]}}', '10.0.0.' || g % 250, md5(g::text)
            FROM generate_series(1, {s["audit"]}) g""",
        ),
        (
            "sequences, scratch tables",
            """DO $$
            DECLARE t text;
            BEGIN
                FOREACH t IN ARRAY ARRAY['communes','users','categories','shops','shop_members',
                    'ocop_certificates','listings','payments','orders','order_lines','reviews','complaints',
                    'ledger_entries','logistics_partners','logistics_shipments','logistics_remittances',
                    'logistics_remittance_lines','syndication_connections','syndication_remote_orders',
                    'qa_agencies','qa_questions','audit_log'] LOOP
                    EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), '
                                   'coalesce((SELECT max(id) FROM %I), 1))', t, t);
                END LOOP;
            END $$;
            DROP TABLE bench_orders, bench_status, bench_lines, bench_totals""",
        ),
    ]


def reset_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = make_app(url)
    with app.app_context():
        upgrade()
        from marketplace.extensions import db

        db.engine.dispose()


def generate(url: str, s: dict[str, int]) -> float:
    from sqlalchemy import create_engine, text

    started = time.time()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for what, sql in generation_sql(s):
            step = time.time()
            result = conn.execute(text(sql))
            rows = result.rowcount if result.rowcount and result.rowcount > 0 else ""
            print(f"  {what:<46} {rows!s:>10} {time.time() - step:6.1f}s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        step = time.time()
        conn.execute(text("VACUUM ANALYZE"))
        print(f"  {'VACUUM ANALYZE':<46} {'':>10} {time.time() - step:6.1f}s", flush=True)
    engine.dispose()
    return time.time() - started


def cache_key(scale: float) -> str:
    digest = hashlib.sha256(f"{GENERATOR_VERSION}:{scale}".encode())
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for _what, sql in generation_sql(sizes(scale)):
        digest.update(sql.encode())
    return digest.hexdigest()[:16]


def pg_tool(server, name: str) -> str:
    if server is not None:
        return server._bin(name)
    return name


def connection_args(url: str) -> list[str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    args = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    return [*args, "-d", parsed.database or "postgres"]


def env_for(url: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    password = make_url(url).password
    return {**os.environ, **({"PGPASSWORD": password} if password else {})}


def prepare(url: str, server, scale: float, use_cache: bool) -> None:
    s = sizes(scale)
    dump = CACHE_DIR / f"floor-x{scale:g}-{cache_key(scale)}.dump"
    reset_schema(url)
    if use_cache and dump.exists():
        started = time.time()
        subprocess.run(
            [pg_tool(server, "pg_restore"), "--no-owner", "-j", "2", *connection_args(url), str(dump)],
            check=True,
            env=env_for(url),
        )
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()
        print(f"restored the generated floor from {dump.relative_to(ROOT)} in {time.time() - started:.1f}s")
        return
    migrate(url)
    print(f"generating: {s['orders']:,} orders, {s['shops']:,} shops, {s['buyers']:,} buyers …", flush=True)
    took = generate(url, s)
    print(f"generated in {took:.1f}s (target < 300 s)", flush=True)
    if use_cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        for old in CACHE_DIR.glob(f"floor-x{scale:g}-*.dump"):
            old.unlink()
        started = time.time()
        subprocess.run(
            [pg_tool(server, "pg_dump"), "-Fc", "-Z", "1", *connection_args(url), "-f", str(dump)],
            check=True,
            env=env_for(url),
        )
        print(
            f"kept as {dump.relative_to(ROOT)} ({dump.stat().st_size / 1e6:.0f} MB) in {time.time() - started:.1f}s"
        )


def counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in ("orders", "order_lines", "shops", "listings", "users", "reviews", "audit_log"):
            out[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return out


def measure(url: str, reps: int) -> list[dict]:
    from sqlalchemy import text

    app = make_app(url)
    with app.app_context():
        from dashboards.periods import Period
        from marketplace.extensions import db

        queries = app.extensions.get("dashboard_queries") or {}
        if not queries:
            raise SystemExit(
                "no dashboard query is registered (app.extensions['dashboard_queries'] is empty): "
                "register each with dashboards.register_query(app, name, scope, run)"
            )
        big, big_orders = db.session.execute(
            text(
                "SELECT shop_id, count(*) FROM orders GROUP BY shop_id ORDER BY count(*) DESC, shop_id LIMIT 1"
            )
        ).one()
        small, small_orders = db.session.execute(
            text(
                "SELECT shop_id, count(*) FROM orders GROUP BY shop_id HAVING count(*) >= 5 "
                "ORDER BY count(*), shop_id LIMIT 1"
            )
        ).one()
        db.session.rollback()
        print(f"big shop #{big} ({big_orders:,} orders), small shop #{small} ({small_orders:,} orders)")
        periods = [("30 days", Period.last_days(30)), ("365 days", Period.last_days(365))]
        rows = []
        for name in sorted(queries):
            query = queries[name]
            targets = (
                [(f"big #{big}", big), (f"small #{small}", small)]
                if query.scope == "shop"
                else [("floor", None)]
            )
            for who, shop_id in targets:
                for label, period in periods:
                    times = []
                    error = None
                    for rep in range(reps + 1):
                        started = time.perf_counter()
                        try:
                            query.run(period, shop_id)
                        except Exception as exc:
                            error = f"{type(exc).__name__}: {exc}"[:80]
                            db.session.rollback()
                            break
                        elapsed = (time.perf_counter() - started) * 1000
                        db.session.rollback()
                        if rep:  # the first run warms the caches
                            times.append(elapsed)
                    rows.append(
                        {
                            "name": name,
                            "scope": query.scope,
                            "who": who,
                            "period": label,
                            "p50": statistics.median(times) if times else None,
                            "max": max(times) if times else None,
                            "error": error,
                        }
                    )
        db.engine.dispose()
    return rows


def print_table(rows: list[dict]) -> int:
    width = max(len(r["name"]) for r in rows)
    header = f"{'query':<{width}}  {'scope':<5}  {'for':<13}  {'period':<8}  {'p50 ms':>8}  {'max ms':>8}  target   result"
    print(header)
    print("-" * len(header))
    missed = 0
    for r in rows:
        if r["error"]:
            missed += 1
            print(
                f"{r['name']:<{width}}  {r['scope']:<5}  {r['who']:<13}  {r['period']:<8}  failed: {r['error']}"
            )
            continue
        met = r["max"] < TARGET_MS
        missed += not met
        print(
            f"{r['name']:<{width}}  {r['scope']:<5}  {r['who']:<13}  {r['period']:<8}  {r['p50']:8.1f}  "
            f"{r['max']:8.1f}  <{TARGET_MS:.0f} ms  {'met' if met else 'NOT MET'}"
        )
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1 000 000 orders")
    parser.add_argument("--reps", type=int, default=5, help="timed runs of each query (after one warm-up)")
    parser.add_argument("--no-cache", action="store_true", help="generate again, keep no dump")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)

    server = None
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        import pg

        server = pg.TempPostgres(shared_buffers="256MB").start()
        url = server.create_database("dashboards_bench")
    try:
        prepare(url, server, args.scale, use_cache=not args.no_cache)
        print("rows: " + ", ".join(f"{table} {n:,}" for table, n in counts(url).items()), flush=True)
        rows = measure(url, args.reps)
    finally:
        if server is not None:
            server.stop()
    print()
    missed = print_table(rows)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared)")
    print(f"{len(rows) - missed} of {len(rows)} measurements under {TARGET_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Government Q&A benchmark (SQLite, embedded search): the figures that matter as the archive grows.

    .venv/bin/python bench/govqa_bench.py [--questions 5000]

Builds a throwaway database with the real migrations, 8 agencies and N answered or waiting
questions (rows written directly, texts with phone numbers to redact), then measures: working-day
due dates, the search collection's rebuild, search latency without diacritics, the agencies'
figures (GET /api/v1/qa/agencies), a public question page and the API list. Prints a table of
measured figures beside targets. Not part of `make test`."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "hoàn",
    "thuế",
    "giá",
    "trị",
    "gia",
    "tăng",
    "hóa",
    "đơn",
    "điện",
    "tử",
    "an",
    "toàn",
    "thực",
    "phẩm",
    "nhãn",
    "hàng",
    "hóa",
    "xuất",
    "khẩu",
    "cam",
    "bù",
    "mật",
    "ong",
    "nước",
    "mắm",
    "OCOP",
    "đất",
    "đai",
    "hải",
    "quan",
    "kiểm",
    "dịch",
    "bảo",
    "hiểm",
    "lao",
    "động",
    "thương",
    "mại",
    "điện",
    "tử",
    "khuyến",
    "mại",
]


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="govqa-bench-"))
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "SECRET_KEY": "bench",
            "SEARCH_EMBEDDED_PATH": str(folder / "search.sqlite"),
            "MAIL_DIR": str(folder / "mail"),
            "MAIL_SERVER": None,
            "ELASTICSEARCH_URL": None,
            "OPENSEARCH_URL": None,
            "SERVER_NAME": "localhost",
            "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        }
    )
    rows: list[tuple[str, str, str]] = []
    with app.app_context():
        upgrade()
        from govqa.calendar import Calendar
        from govqa.models import Agency, Message, Question
        from marketplace.accounts.services import create_user
        from search import collections

        rng = random.Random(7)
        user = create_user(
            email="bench@example.vn", password="cam-bu-ht9-bench", full_name="Bench", confirmed=True
        )
        agencies = [Agency(slug=f"co-quan-{i}", name=f"Cơ quan {i}", working_days=20) for i in range(8)]
        db.session.add_all(agencies)
        db.session.flush()
        calendar = Calendar()
        today = date.today()
        for n in range(args.questions):
            start = today - timedelta(days=rng.randint(1, 365))
            answered = rng.random() < 0.8
            words = " ".join(rng.choice(WORDS) for _ in range(8))
            q = Question(
                slug=f"cau-hoi-{n}",
                agency_id=agencies[n % 8].id,
                topic=rng.choice(["tax", "food_safety", "ocop", "customs"]),
                title=f"Câu hỏi {n}: {words}",
                body=f"<p>{words} — gọi 0912 345 {n % 1000:03d}</p>",
                asker_id=user.id,
                asker_name="Bench",
                business_name=f"Công ty {n}",
                state="answered" if answered else "awaiting_answer",
                submitted_at=datetime.combine(start, datetime.min.time()),
                clock_started_on=start,
                working_days_allowed=20,
                due_on=calendar.add_working_days(start, 20),
                long_due_on=calendar.add_working_days(start, 40),
                answered_at=datetime.combine(start + timedelta(days=rng.randint(1, 40)), datetime.min.time())
                if answered
                else None,
            )
            db.session.add(q)
            if n % 500 == 0:
                db.session.flush()
        db.session.flush()
        for q in db.session.query(Question).filter(Question.state == "answered"):
            db.session.add(
                Message(
                    question_id=q.id,
                    kind="answer",
                    agency_id=q.agency_id,
                    body_html="<p>Trả lời theo quy định hiện hành.</p>",
                )
            )
        db.session.commit()

        due = timed(lambda: calendar.add_working_days(today, 20), 2000)
        rows.append(("due date, 20 working days (p50)", f"{p(due, 0.5):.3f} ms", "≤ 1 ms"))

        start = time.perf_counter()
        built = collections.rebuild("qa_questions")
        seconds = time.perf_counter() - start
        rows.append(
            (
                "collection rebuild (embedded)",
                f"{built['embedded']} docs in {seconds:.1f} s ({built['embedded'] / seconds:.0f}/s)",
                "≥ 500 docs/s",
            )
        )

        queries = ["hoan thue", "an toan thuc pham", "cam bu xuat khau", "nhan hang hoa", "khuyen mai"]
        lat = timed(lambda: collections.search("qa_questions", rng.choice(queries), {}), 200)
        rows.append(
            (
                "search without diacritics p50 / p95",
                f"{p(lat, 0.5):.1f} / {p(lat, 0.95):.1f} ms",
                "p95 ≤ 50 ms",
            )
        )

        client = app.test_client()
        figures = timed(lambda: client.get("/api/v1/qa/agencies"), 10)
        rows.append(("GET /api/v1/qa/agencies p50", f"{p(figures, 0.5):.0f} ms", "≤ 500 ms"))
        listing = timed(lambda: client.get("/api/v1/qa/questions?q=hoan+thue"), 30)
        rows.append(
            (
                "GET /api/v1/qa/questions?q= p50 / p95",
                f"{p(listing, 0.5):.0f} / {p(listing, 0.95):.0f} ms",
                "p95 ≤ 200 ms",
            )
        )
        page = timed(lambda: client.get(f"/hoi-dap/cau-hoi-{rng.randint(0, args.questions - 1)}"), 50)
        rows.append(
            ("public question page p50 / p95", f"{p(page, 0.5):.0f} / {p(page, 0.95):.0f} ms", "p95 ≤ 200 ms")
        )
        agency_page = timed(lambda: client.get("/hoi-dap/co-quan/co-quan-1"), 10)
        rows.append(("agency statistics page p50", f"{statistics.median(agency_page):.0f} ms", "≤ 500 ms"))

    width = max(len(r[0]) for r in rows)
    print(f"Government Q&A benchmark: {args.questions} questions, SQLite, embedded search")
    print(f"{'measure'.ljust(width)}  {'measured'.ljust(34)}  target")
    for name, measured, target in rows:
        print(f"{name.ljust(width)}  {measured.ljust(34)}  {target}")


if __name__ == "__main__":
    main()

"""The cursor trap, proved: writers whose transactions overlap and would commit out of order (one
holds its transaction open while later ones want to commit) while a partner pages through its
feed. The union of the pages holds every committed change, no page repeats one, and sequence
numbers follow commit order. Runs on the `app` fixture's database: SQLite, and PostgreSQL in
`make test`'s second pass (where the out-of-order commits are real concurrent transactions)."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import select, update

from logistics import feed
from logistics.models import FeedChange, Partner
from marketplace.extensions import db
from orders.models import Order

WRITERS = 24
SLOW_HOLD_S = 1.0


def _writer(app, partner_id, order_id, hold_s, results, index, started, errors):
    try:
        with app.app_context():
            partner = db.session.get(Partner, partner_id)
            order = db.session.get(Order, order_id)
            # what a real writer does first: change the order (row lock), then log the change
            db.session.execute(update(Order).where(Order.id == order_id).values(note=f"sửa {index}"))
            change = feed.record_change(order, partner, "order.updated")
            db.session.flush()
            seq = change.seq
            started.set()
            time.sleep(hold_s)  # the transaction stays open
            committing = time.monotonic()
            db.session.commit()
            results[index] = (seq, committing, time.monotonic())
            db.session.remove()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_pages_lose_and_repeat_nothing_when_commits_come_out_of_order(app, setup):
    orders = [setup.packed_order() for _ in range(4)]
    partner_id = setup.partner.id
    before = set(db.session.scalars(select(FeedChange.seq)))
    db.session.commit()

    results: list[tuple[int, float, float] | None] = [None] * WRITERS
    errors: list[Exception] = []
    pages: list[list[int]] = []
    done = threading.Event()

    def reader():
        with app.app_context():
            client = app.test_client()
            cursor = ""
            while True:
                finished = done.is_set()
                page = client.get(
                    f"/api/v1/logistics/orders?limit=3&cursor={cursor}", headers=setup.auth()
                ).get_json()
                seqs = [feed.decode_cursor(e["change_id"]) for e in page["data"]]
                if seqs:
                    pages.append(seqs)
                cursor = page["next_cursor"]
                if finished and not page["has_more"]:
                    return
                time.sleep(0.005)

    read = threading.Thread(target=reader)
    read.start()
    # The first writer takes its number and holds its transaction open; the others start after
    # it and would commit long before it without the counter's lock.
    slow_started = threading.Event()
    threads = [
        threading.Thread(
            target=_writer,
            args=(app, partner_id, orders[0].id, SLOW_HOLD_S, results, 0, slow_started, errors),
        )
    ]
    threads[0].start()
    assert slow_started.wait(10)
    rng = random.Random(12)
    for i in range(1, WRITERS):
        t = threading.Thread(
            target=_writer,
            args=(
                app,
                partner_id,
                orders[i % 4].id,
                rng.uniform(0, 0.03),
                results,
                i,
                threading.Event(),
                errors,
            ),
        )
        threads.append(t)
        t.start()
    for t in threads:
        t.join(60)
    done.set()
    read.join(60)
    assert not errors, errors
    assert not read.is_alive() and not any(t.is_alive() for t in threads)

    committed = {r[0] for r in results if r is not None}
    assert len(committed) == WRITERS
    seen = [seq for page in pages for seq in page]
    new = [s for s in seen if s not in before]
    assert len(new) == len(set(new)), "a change was served twice"
    assert set(new) == committed, f"lost: {sorted(committed - set(new))}"
    assert seen == sorted(seen), "pages go oldest change first"
    # the slow writer took the first number and committed before any later number was given:
    # the others waited at the counter instead of committing ahead of it
    assert results[0] is not None and results[0][0] == min(committed)
    assert all(r[2] >= results[0][1] for r in results if r is not None)

"""The operator's work queues at the top of /quan-tri/: what waits for the floor, with counts.

Each queue is a count and the page that works it. All counts come back in ONE round trip: a
single SELECT of scalar subqueries, each served by an index of its table (shops by status, OCOP
certificates by status, complaints by status, questions by state and due date, deliveries by
partner and status, sync records by state). The conditions are the owning packages' own where
they exist (`orders.complaints.for_operator`, `catalog.ocop.waiting_count`'s rule,
`govqa.states.WITH_AGENCY` and `timeliness`'s "overdue": today after the due date), so the count
and the page it links to agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, func, select

from catalog.models import Listing, OcopCertificate, OcopStatus
from govqa import states as qa_states
from govqa.models import Question, QuestionState
from logistics.models import RemittanceLine, WebhookDelivery
from marketplace.extensions import db
from marketplace.timeutil import local_today, utcnow
from orders.complaints import for_operator
from orders.models import BankTransaction, Complaint
from sellers.models import Shop, ShopStatus
from syndication.models import SyncRecord, SyncState

# Bank lines the operator still has to act on: no order code found, a code that is no order, an
# amount that differs, or money for an order already expired or cancelled (to send back). A
# "matched" line confirmed its payment; "already_paid" is a statement line for a payment the
# operator had confirmed by hand.
TRANSFER_OUTCOMES_TO_RECONCILE = ("no_code", "unknown_code", "amount_mismatch", "not_pending")
FAILING_DELIVERIES = ("failed", "dead")
SYNC_PROBLEMS = (SyncState.FAILED.value, SyncState.NEEDS_ATTENTION.value)
QUESTIONS_TO_MODERATE = (QuestionState.SUBMITTED.value, QuestionState.NOT_OUR_REMIT.value)


@dataclass(frozen=True)
class QueueSpec:
    key: str
    label: object  # a lazy string: translated when the page renders
    count: Callable[[datetime, date], ColumnElement[int]]  # a scalar subquery: now (UTC), today (local)
    endpoint: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    count: int
    url: str


def _count(table, *where) -> Callable[[datetime, date], ColumnElement[int]]:
    def build(now: datetime, today: date) -> ColumnElement[int]:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    return build


def _complaints(now: datetime, today: date) -> ColumnElement[int]:
    return select(func.count()).select_from(Complaint).where(for_operator(now)).scalar_subquery()


def _overdue_answers(now: datetime, today: date) -> ColumnElement[int]:
    # govqa.states.timeliness: overdue (or long overdue) when today is after the due date while an
    # agency holds the question.
    return (
        select(func.count())
        .select_from(Question)
        .where(Question.state.in_(qa_states.WITH_AGENCY), Question.due_on < today)
        .scalar_subquery()
    )


SPECS: tuple[QueueSpec, ...] = (
    QueueSpec(
        "shops",
        _l("Cửa hàng chờ duyệt"),
        _count(Shop, Shop.status == ShopStatus.PENDING.value),
        "sellers_admin.shops",
        {"status": "pending"},
    ),
    QueueSpec(
        "ocop",
        _l("Chứng nhận OCOP cần xác minh"),
        # catalog.ocop.waiting_count: waiting claims that a listing still cites.
        _count(
            OcopCertificate,
            OcopCertificate.status == OcopStatus.WAITING.value,
            exists().where(Listing.ocop_certificate_id == OcopCertificate.id),
        ),
        "catalog_admin.ocop_register",
        {"status": "waiting"},
    ),
    QueueSpec(
        "hidden_listings",
        _l("Sản phẩm đang bị ẩn"),
        _count(Listing, Listing.hidden_at.is_not(None)),
        "catalog_admin.moderate_listings",
        {"hidden": "1"},
    ),
    QueueSpec("complaints", _l("Khiếu nại chờ sàn xử lý"), _complaints, "complaints_admin.queue", {}),
    QueueSpec(
        "questions",
        _l("Câu hỏi chờ kiểm duyệt"),
        _count(Question, Question.state.in_(QUESTIONS_TO_MODERATE)),
        "govqa_operator.queue",
        {"state": "moderation"},
    ),
    QueueSpec(
        "overdue_answers",
        _l("Câu trả lời của cơ quan quá hạn"),
        _overdue_answers,
        "govqa_operator.queue",
        {"state": QuestionState.AWAITING_ANSWER.value},
    ),
    QueueSpec(
        "webhooks",
        _l("Webhook gửi đối tác bị lỗi"),
        _count(WebhookDelivery, WebhookDelivery.status.in_(FAILING_DELIVERIES)),
        "logistics_admin.partners",
        {},
    ),
    QueueSpec(
        "syndication",
        _l("Lỗi đồng bộ kênh bán"),
        _count(SyncRecord, SyncRecord.state.in_(SYNC_PROBLEMS)),
        "syndication_admin.board",
        {"state": SyncState.NEEDS_ATTENTION.value},
    ),
    QueueSpec(
        "transfers",
        _l("Giao dịch chuyển khoản cần đối soát"),
        _count(BankTransaction, BankTransaction.outcome.in_(TRANSFER_OUTCOMES_TO_RECONCILE)),
        "orders_admin.import_statement",
        {},
    ),
    QueueSpec(
        "cod",
        _l("Chênh lệch tiền thu hộ (COD)"),
        _count(RemittanceLine, RemittanceLine.problem.is_not(None)),
        "logistics_admin.ledger",
        {},
    ),
)


def counts_query(now: datetime | None = None, today: date | None = None) -> Select:
    """The one SELECT that counts every queue (a column per queue, named by its key)."""
    now, today = now or utcnow(), today or local_today()
    return select(*(spec.count(now, today).label(spec.key) for spec in SPECS))


def counts(now: datetime | None = None, today: date | None = None) -> dict[str, int]:
    row = db.session.execute(counts_query(now, today)).one()
    return {spec.key: int(row._mapping[spec.key] or 0) for spec in SPECS}


def queues(now: datetime | None = None, today: date | None = None) -> list[Queue]:
    """Every queue with its count and link, in the order the console shows them."""
    numbers = counts(now, today)
    return [
        Queue(spec.key, str(spec.label), numbers[spec.key], url_for(spec.endpoint, **spec.args))
        for spec in SPECS
    ]

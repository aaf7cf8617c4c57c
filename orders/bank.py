"""Bank-statement import: match credit lines to bank-transfer payments.

A line matches when its description carries a payment code (DH + 8 characters; banks often
drop the spaces and dashes, so we search the description with those removed) and its amount
is exactly the payment's amount. Each line is stored by the bank's transaction id, so
importing the same statement again changes nothing and reports the lines as already seen.

The CSV needs a header row; columns are found by name (Vietnamese or English), in any order:
transaction id (ma_giao_dich, so_tham_chieu, transaction_id, id, ref), amount (so_tien,
so_tien_ghi_co, credit, amount), description (noi_dung, dien_giai, description), and
optionally the date (ngay, ngay_giao_dich, date)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import money
from marketplace.errors import DomainError, Forbidden
from marketplace.extensions import db
from marketplace.models import User
from marketplace.numbers import NumberError
from marketplace.permissions import is_operator

from . import payments
from .models import BankTransaction, Payment, PaymentMethod, PaymentStatus
from .services import CODE_ALPHABET, CODE_PREFIX

COLUMNS = {
    "id": ("ma_giao_dich", "so_tham_chieu", "ma_gd", "transaction_id", "txn_id", "reference", "ref", "id"),
    "amount": ("so_tien_ghi_co", "ghi_co", "so_tien", "credit", "amount"),
    "description": ("noi_dung", "dien_giai", "mo_ta", "description", "details"),
    "date": ("ngay_giao_dich", "ngay", "date", "booking_date"),
}
CODE_RE = re.compile(CODE_PREFIX + "[" + CODE_ALPHABET + "]{8}")
MAX_ROWS = 20_000


def _key(name: str) -> str:
    text = unicodedata.normalize("NFD", name or "").encode("ascii", "ignore").decode().lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def codes_in(description: str) -> list[str]:
    squeezed = re.sub(r"[^A-Z0-9]", "", (description or "").upper())
    found = []
    for i in range(len(squeezed)):
        match = CODE_RE.match(squeezed, i)
        if match and match.group() not in found:
            found.append(match.group())
    return found


@dataclass
class Report:
    matched: list[dict] = field(default_factory=list)
    unmatched: list[dict] = field(default_factory=list)
    duplicates: int = 0
    skipped: int = 0  # debit or blank lines


def read_rows(text: str) -> list[dict]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise DomainError(_("Tệp sao kê trống."))
    keys = [_key(h) for h in header]
    index = {}
    for name, candidates in COLUMNS.items():
        for candidate in candidates:
            if candidate in keys:
                index[name] = keys.index(candidate)
                break
    missing = [n for n in ("id", "amount", "description") if n not in index]
    if missing:
        raise DomainError(
            _(
                "Tệp sao kê thiếu cột: %(cols)s. Cần có mã giao dịch, số tiền và nội dung.",
                cols=", ".join(missing),
            )
        )
    rows = []
    bad: list[str] = []
    for number, cells in enumerate(reader, start=2):
        if number > MAX_ROWS:
            raise DomainError(_("Tệp sao kê quá dài (tối đa %(n)d dòng).", n=MAX_ROWS))
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            i = index.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        try:
            # Blank or a debit (negative): None, skipped. "1943000.50" is an error, not 194300050.
            amount = money.parse_statement_amount(cell("amount"))
        except NumberError as exc:
            bad.append(
                _("dòng %(n)d: “%(raw)s”: %(why)s", n=number, raw=cell("amount")[:40], why=exc.message)
            )
            continue
        rows.append(
            {
                "line": number,
                "id": cell("id"),
                "amount": amount,
                "description": cell("description"),
                "date": cell("date") or None,
            }
        )
    if bad:
        raise DomainError(
            _(
                "Tệp sao kê có số tiền không đọc được, chưa nhập dòng nào: %(lines)s",
                lines="; ".join(bad[:10]),
            )
        )
    return rows


def import_statement(text: str, *, actor: User) -> Report:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn được nhập sao kê."))
    report = Report()
    for row in read_rows(text):
        if not row["id"] or not row["amount"]:
            report.skipped += 1
            continue
        if db.session.scalar(select(BankTransaction.id).where(BankTransaction.bank_txn_id == row["id"][:80])):
            report.duplicates += 1
            continue
        outcome, payment = _match(row)
        db.session.add(
            BankTransaction(
                bank_txn_id=row["id"][:80],
                amount_vnd=row["amount"],
                description=row["description"][:2000],
                booked_on=row["date"],
                payment_id=payment.id if payment else None,
                outcome=outcome,
                imported_by_id=actor.id,
            )
        )
        db.session.flush()
        info = {
            "line": row["line"],
            "id": row["id"],
            "amount": row["amount"],
            "description": row["description"],
            "payment": payment.code if payment else None,
            "outcome": outcome,
        }
        if outcome == "matched" and payment is not None:
            payments.mark_paid(payment, actor=actor, actor_role="bank", reference=row["id"][:120])
            report.matched.append(info)
        else:
            report.unmatched.append(info)
    return report


def _match(row: dict) -> tuple[str, Payment | None]:
    codes = codes_in(row["description"])
    if not codes:
        return "no_code", None
    candidates = list(
        db.session.scalars(
            select(Payment).where(
                Payment.code.in_(codes), Payment.method == PaymentMethod.BANK_TRANSFER.value
            )
        )
    )
    if not candidates:
        return "unknown_code", None
    exact = [p for p in candidates if p.amount_vnd == row["amount"]]
    if not exact:
        return "amount_mismatch", candidates[0]
    payment = exact[0]
    if payment.status != PaymentStatus.PENDING.value:
        return ("already_paid" if payment.status == PaymentStatus.PAID.value else "not_pending"), payment
    return "matched", payment


OUTCOME_LABELS = {
    "matched": _l("Khớp, đã xác nhận thanh toán"),
    "no_code": _l("Không thấy mã đơn trong nội dung"),
    "unknown_code": _l("Mã đơn không tồn tại hoặc không phải chuyển khoản"),
    "amount_mismatch": _l("Số tiền không khớp với đơn"),
    "already_paid": _l("Đơn đã được xác nhận thanh toán trước đó"),
    "not_pending": _l("Đơn đã hết hạn hoặc bị hủy: cần hoàn tiền cho người mua"),
}

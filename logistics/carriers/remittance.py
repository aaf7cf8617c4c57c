"""Carriers' COD remittance files: which orders' cash on delivery a transfer pays, and how much.

`parse_remittance_csv` reads one remittance (one reference, one transfer date, its lines) from a
CSV file as a carrier exports it or as the operator writes it (the generic layout: columns
reference, transfer_date, order_code, amount_vnd). UTF-8 with or without a BOM, comma or
semicolon separated (Excel on Vietnamese Windows writes ";"), dates dd/mm/yyyy or ISO, amounts
"150.000", "150000", "150.000 ₫". An order code listed twice is kept twice: the settlement
ledger flags it as remitted twice. Anything unreadable raises RemittanceFormatError saying which
row (as a spreadsheet numbers it: the header is row 1) and which column."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from marketplace.money import parse_statement_amount
from marketplace.numbers import NumberError

MAX_LINES = 50_000
MAX_CODE = 64
_CODE = re.compile(r"[^\s,;]{1,64}")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")

# Column headers per layout: our field -> the headers that carry it (compared without case and
# surrounding spaces). "generic" is ours. The GHN and GHTK export layouts are UNCONFIRMED: the
# headers below are what their merchant portals' COD reconciliation exports are believed to use;
# correct them here against a real export file.
LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {
        "reference": ("reference",),
        "transfer_date": ("transfer_date",),
        "order_code": ("order_code",),
        "amount_vnd": ("amount_vnd",),
    },
    "ghn": {
        "reference": ("mã phiên đối soát", "mã đối soát", "reference"),
        "transfer_date": ("ngày chuyển tiền", "ngày đối soát", "transfer_date"),
        "order_code": ("mã đơn khách hàng", "client_order_code", "order_code"),
        "amount_vnd": ("tiền thu hộ", "tiền cod", "cod_amount", "amount_vnd"),
    },
    "ghtk": {
        "reference": ("mã phiên đối soát", "mã đối soát", "reference"),
        "transfer_date": ("ngày chuyển tiền", "ngày đối soát", "transfer_date"),
        "order_code": ("mã đơn hàng shop", "mã đơn hàng", "partner_id", "order_code"),
        "amount_vnd": ("tiền thu hộ", "tiền cod", "pick_money", "amount_vnd"),
    },
}


@dataclass(frozen=True)
class RemittanceLine:
    order_code: str
    amount_vnd: int


@dataclass(frozen=True)
class Remittance:
    reference: str
    transfer_date: date
    lines: tuple[RemittanceLine, ...]

    @property
    def total_vnd(self) -> int:
        return sum(line.amount_vnd for line in self.lines)


class RemittanceFormatError(ValueError):
    """A remittance file that cannot be read; `message` (Vietnamese first) names the row and
    column when the problem is in one cell; `row` and `column` say which, when they apply."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


def _cell_error(row: int, column: str, problem: str) -> RemittanceFormatError:
    return RemittanceFormatError(
        _("Dòng %(row)d, cột %(column)s: %(problem)s", row=row, column=column, problem=problem),
        row=row,
        column=column,
    )


def parse_remittance_csv(data: bytes, *, kind: str = "generic") -> Remittance:
    """One remittance from a CSV file. ValueError for a layout that does not exist (a programming
    error); RemittanceFormatError for a file that cannot be read."""
    if kind not in LAYOUTS:
        raise ValueError(f"no remittance layout {kind!r}; known: {', '.join(LAYOUTS)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RemittanceFormatError(
            _("Tệp không phải mã UTF-8. Trong Excel hãy chọn “Lưu thành” → “CSV UTF-8 (Comma delimited)”.")
        ) from None
    if "\x00" in text:  # not a text file; PostgreSQL text could not hold it either
        raise RemittanceFormatError(_("Tệp có ký tự NUL: đây không phải tệp CSV văn bản."))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first_line = next((line for line in text.split("\n") if line.strip()), "")
    if not first_line:
        raise RemittanceFormatError(_("Tệp trống."))
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] = []
    for header in reader:
        if any(cell.strip() for cell in header):
            break
    columns = _columns(header, LAYOUTS[kind])

    reference: tuple[str, int] | None = None
    transfer: tuple[date, int] | None = None
    lines: list[RemittanceLine] = []
    for cells in reader:
        row = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(lines) >= MAX_LINES:
            raise RemittanceFormatError(_("Tệp có hơn %(max)d dòng.", max=MAX_LINES))

        def cell(field: str, cells: list[str] = cells) -> tuple[str, str]:
            index, name = columns[field]
            return (cells[index].strip() if index < len(cells) else ""), name

        value, name = cell("reference")
        if not value:
            raise _cell_error(row, name, _("Trống."))
        if reference is None:
            reference = (value, row)
        elif value != reference[0]:
            raise _cell_error(row, name, _different(reference[1], reference[0]))

        value, name = cell("transfer_date")
        day = _date(value)
        if day is None:
            raise _cell_error(row, name, _("Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)."))
        if transfer is None:
            transfer = (day, row)
        elif day != transfer[0]:
            raise _cell_error(row, name, _different(transfer[1], transfer[0].strftime("%d/%m/%Y")))

        value, name = cell("order_code")
        if not value:
            raise _cell_error(row, name, _("Trống."))
        if not _CODE.fullmatch(value):
            raise _cell_error(row, name, _("Mã đơn không hợp lệ."))

        amount_text, amount_name = cell("amount_vnd")
        if not amount_text:
            raise _cell_error(row, amount_name, _("Trống."))
        try:
            amount = parse_statement_amount(amount_text)
        except NumberError as exc:
            raise _cell_error(row, amount_name, exc.message) from None
        if amount is None:
            raise _cell_error(row, amount_name, _("Số tiền không được âm."))
        lines.append(RemittanceLine(order_code=value, amount_vnd=amount))

    if reference is None or transfer is None:
        raise RemittanceFormatError(_("Tệp không có dòng nào."))
    return Remittance(reference=reference[0], transfer_date=transfer[0], lines=tuple(lines))


def _columns(header: list[str], layout: dict[str, tuple[str, ...]]) -> dict[str, tuple[int, str]]:
    """Our field -> (index, the header as written) for each field of the layout."""
    found: dict[str, tuple[int, str]] = {}
    normalised = [" ".join(cell.split()).lower() for cell in header]
    for field, names in layout.items():
        for name in names:
            if name in normalised:
                index = normalised.index(name)
                found[field] = (index, header[index].strip())
                break
    missing = [layout[field][0] for field in layout if field not in found]
    if missing:
        raise RemittanceFormatError(
            _("Thiếu cột bắt buộc: %(columns)s.", columns=", ".join(missing)), row=1, column=missing[0]
        )
    return found


def _date(value: str) -> date | None:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _different(first_row: int, first_value: str) -> str:
    return _(
        "Khác với dòng %(row)d (%(value)s): mỗi tệp là một lần chuyển tiền.", row=first_row, value=first_value
    )

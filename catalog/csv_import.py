"""CSV import of listings: read the whole file, check every row, then write all of it or nothing.

Two phases. The first reads and checks every row with the listing form's own rules
(`validate_listing_data`) plus the CSV's own (columns, shops, numbers, image paths) and writes
nothing at all: its result is the preview (`preview_listings`: every row as it will be written,
every OCOP claim and whether it will wait for the operator's check, and a fingerprint of it all).
Only when no row has a problem does the second phase create the missing communes/shops/categories,
store the images and insert the listings, with the same slugs, OCOP register rows and outbox
events as `create_listing`. The caller owns the transaction: on `ImportFailed` it rolls back, on
success it commits once. The upload page keeps the checked file (`keep_upload`) and imports it
when its producer confirms, only if it still reads as previewed (`expect=` the fingerprint)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path, PureWindowsPath
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from marketplace import outbox, slugs
from marketplace.cleantext import multi_line, single_line
from marketplace.csv_writer import csv_text
from marketplace.errors import DomainError, Errors, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.images import StoredImage, image_dir, image_problem, process_image
from marketplace.models import Commune, User
from marketplace.permissions import is_operator
from marketplace.timeutil import local_today, utcnow
from sellers.models import Shop, ShopKind, ShopStatus
from sellers.permissions import can_manage_listings
from sellers.services import shop_event

from . import ocop, services
from .models import (
    OCOP_VALID_MONTHS,
    Category,
    CsvImportPreview,
    Listing,
    ListingStatus,
    OcopCertificate,
    OcopStatus,
    add_months,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000

REQUIRED_COLUMNS = ("shop", "title", "category", "unit", "price_vnd", "stock", "description")
OPTIONAL_COLUMNS = (
    "sku",
    "origin",
    "ocop_stars",
    "ocop_certificate_no",
    "ocop_level",
    "ocop_issued_on",
    "certifications",
    "image_path",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Shops made by --create-missing. They are created directly (not through sellers.register_shop):
# the system has no owner account to register them with, and the placeholder phone below is
# deliberately not a valid phone number, so the operator sees at once what to complete.
PLACEHOLDER_COMMUNE = "Chưa xác định"
PLACEHOLDER_PHONE = "0000000000"
PLACEHOLDER_ADDRESS = "Chưa cập nhật"

# validate_listing_data's field names that are not CSV column names.
_FIELD_TO_COLUMN = {"category_id": "category"}


@dataclass(frozen=True)
class RowError:
    """One problem. `line` counts like a spreadsheet: the header is line 1 (0 = the file itself)."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.column + ': ' if self.column else ''}{self.message}"


@dataclass(frozen=True)
class ClaimPreview:
    """An OCOP claim the file makes, once however many rows cite it, and what the register
    says of it now: "new" (it will wait for the operator's check), "waiting", "checked",
    "refused" (with the operator's reason)."""

    shop: str
    certificate_no: str
    stars: int
    level: str
    issued_on: date
    state: str
    lines: tuple[int, ...]
    refusal_reason: str | None = None
    expired: bool = False

    @property
    def waits(self) -> bool:
        return self.state in ("new", OcopStatus.WAITING.value)

    def __str__(self) -> str:
        level = f" {self.level}" if self.level else ""
        return f"{self.certificate_no} {self.stars}★{level} {self.issued_on:%d/%m/%Y}"


@dataclass
class PreviewRow:
    """One product line as it will be written (`price_vnd`, `stock` as read), or as typed when
    it has `problems`."""

    line: int
    shop: str
    title: str
    category: str
    price_vnd: int | str
    stock: int | str
    status: str | None = None
    claim: ClaimPreview | None = None
    ocop_typed: str = ""  # the rating cells of a row with problems
    problems: list[RowError] = field(default_factory=list)


@dataclass
class ImportPreview:
    """What an import will write, before anything is: shown by the upload page and `--dry-run`."""

    rows: list[PreviewRow]
    claims: list[ClaimPreview]
    new_shops: list[str]
    new_categories: list[str]
    fingerprint: str

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def shop_count(self) -> int:
        return len({row.shop for row in self.rows})

    @property
    def waiting_claims(self) -> list[ClaimPreview]:
        return [claim for claim in self.claims if claim.waits]

    def text_lines(self) -> list[str]:
        """The preview for the command line (English, like the command's other output)."""
        out = []
        for row in self.rows:
            claim = row.claim
            ocop_text = f"OCOP {claim}: {_CLAIM_STATES_CLI[claim.state]}" if claim else "no OCOP"
            out.append(
                f"line {row.line}: {row.title} | {row.category} | {row.price_vnd} VND | stock {row.stock} | "
                f"{row.status} | shop {row.shop} | {ocop_text}"
            )
        out.extend(f"would create shop {slug}" for slug in self.new_shops)
        out.extend(f"would create category {name}" for name in self.new_categories)
        waiting = self.waiting_claims
        out.append(f"OCOP claims that will wait for the operator's check: {len(waiting)}")
        for claim in waiting:
            lines = ", ".join(str(n) for n in claim.lines)
            out.append(f"  {claim} (shop {claim.shop}; line{'s' if len(claim.lines) > 1 else ''} {lines})")
        for claim in self.claims:
            if claim.state == OcopStatus.REFUSED.value:
                out.append(f"  refused earlier, no badge: {claim} ({claim.refusal_reason})")
        return out


_CLAIM_STATES_CLI = {
    "new": "waits for checking",
    OcopStatus.WAITING.value: "waits for checking (claimed before)",
    OcopStatus.CHECKED.value: "checked already",
    OcopStatus.REFUSED.value: "refused earlier",
}


class ImportFailed(DomainError):
    """The file has problems; nothing was written. `errors` lists every one, in line order;
    `rows` the product lines read, each with its own problems (empty when the file itself could
    not be read)."""

    def __init__(self, errors: list[RowError], rows: list[PreviewRow] | None = None):
        self.errors = sorted(errors, key=lambda e: e.line)
        self.rows = rows or []
        super().__init__(
            _(
                "Tệp CSV có %(n)d lỗi nên chưa nhập sản phẩm nào. Vui lòng sửa rồi tải lên lại.",
                n=len(self.errors),
            )
        )


class PreviewChanged(DomainError):
    """The file no longer reads as it was previewed (a category or the shop changed meanwhile):
    nothing was written; `preview` is the new reading, to be confirmed again."""

    def __init__(self, preview: ImportPreview):
        self.preview = preview
        super().__init__(
            _(
                "Dữ liệu trên sàn đã thay đổi từ lúc xem trước (danh mục hoặc cửa hàng) nên tệp được đọc "
                "khác đi. Chưa nhập sản phẩm nào: hãy xem lại bản xem trước mới rồi xác nhận."
            )
        )


@dataclass
class ImportResult:
    listings: list[Listing] = field(default_factory=list)
    shops: list[Shop] = field(default_factory=list)
    created_shops: list[Shop] = field(default_factory=list)
    created_categories: list[Category] = field(default_factory=list)
    preview: ImportPreview | None = None

    @property
    def count(self) -> int:
        return len(self.listings)

    @property
    def waiting_claims(self) -> int:
        return len(self.preview.waiting_claims) if self.preview else 0

    def summary(self) -> str:
        return f"imported {self.count} listings into {len(self.shops)} shops"


@dataclass
class _NewShop:
    slug: str
    shop: Shop | None = None


@dataclass
class _NewCategory:
    name: str
    category: Category | None = None


@dataclass
class _Row:
    line: int
    shop: Shop | _NewShop
    clean: dict
    images: list[Path]
    shown: PreviewRow
    slug_base: str = ""

    @property
    def shop_slug(self) -> str:
        return self.shop.slug


def _category_name(category: Category | _NewCategory) -> str:
    return category.name


def _fingerprint(rows: list[_Row]) -> str:
    """Of everything the import will write, in order: two readings of the same bytes agree
    unless the floor changed in between (a category renamed or gone, the shop's approval)."""

    def plain(value: object) -> object:
        if isinstance(value, Category):
            return ["category", value.id]
        if isinstance(value, _NewCategory):
            return ["new category", value.name]
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Path):
            return str(value)
        return value

    data = [
        [
            row.line,
            ["shop", row.shop.id] if isinstance(row.shop, Shop) else ["new shop", row.shop.slug],
            sorted((key, plain(value)) for key, value in row.clean.items()),
            [str(path) for path in row.images],
        ]
        for row in rows
    ]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str).encode()).hexdigest()


def import_listings(
    rows_source: bytes | BinaryIO | str | os.PathLike,
    *,
    actor: User | None,
    shop: Shop | None = None,
    base_dir: str | os.PathLike | None = None,
    create_missing: bool = False,
    expect: str | None = None,
) -> ImportResult:
    """Import listings from a CSV (bytes, a binary file object, or a path).

    `actor=None` is the system (the CLI). With `shop`, every row goes into that shop: a row's
    `shop` cell must be blank or that shop's slug, and the column may be left out. `base_dir` is
    the folder image paths are relative to (default: the CSV's folder when given a path; none
    for bytes, so any image_path is an error). `create_missing` creates unknown shops and
    top-level categories; only the system or an operator may ask for it. `expect`: the
    fingerprint of the preview the user confirmed; the file must still read exactly so.
    Raises ImportFailed (nothing written), PreviewChanged or Forbidden; the caller commits or
    rolls back."""
    rows, preview = _check(rows_source, actor, shop, base_dir, create_missing)
    if expect is not None and preview.fingerprint != expect:
        raise PreviewChanged(preview)
    result = _write(rows)
    result.preview = preview
    return result


def preview_listings(
    rows_source: bytes | BinaryIO | str | os.PathLike,
    *,
    actor: User | None,
    shop: Shop | None = None,
    base_dir: str | os.PathLike | None = None,
    create_missing: bool = False,
) -> ImportPreview:
    """What import_listings would write, writing nothing (same arguments, same ImportFailed)."""
    return _check(rows_source, actor, shop, base_dir, create_missing)[1]


def _check(
    rows_source: bytes | BinaryIO | str | os.PathLike,
    actor: User | None,
    shop: Shop | None,
    base_dir: str | os.PathLike | None,
    create_missing: bool,
) -> tuple[list[_Row], ImportPreview]:
    if (
        shop is not None
        and actor is not None
        and not (can_manage_listings(actor, shop) or is_operator(actor))
    ):
        raise Forbidden(_("Bạn không có quyền thêm sản phẩm cho cửa hàng này."))
    if create_missing and actor is not None and not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới tạo được cửa hàng và danh mục mới khi nhập CSV."))
    data, default_dir = _read_source(rows_source)
    folder = Path(base_dir) if base_dir is not None else default_dir
    checker = _Checker(actor=actor, shop=shop, base_dir=folder, create_missing=create_missing)
    rows = checker.check(data)
    return rows, checker.preview(rows)


# --- phase 1: read and check, write nothing -------------------------------------------------------


def _read_source(rows_source) -> tuple[bytes, Path | None]:
    too_big = ImportFailed(
        [
            RowError(
                0,
                None,
                _(
                    "Tệp CSV quá lớn (tối đa %(mb)d MB). Hãy chia thành nhiều tệp.",
                    mb=MAX_BYTES // (1024 * 1024),
                ),
            )
        ]
    )
    if isinstance(rows_source, (str, os.PathLike)):
        path = Path(rows_source)
        if path.stat().st_size > MAX_BYTES:
            raise too_big
        return path.read_bytes(), path.resolve().parent
    data = rows_source if isinstance(rows_source, bytes) else rows_source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise too_big
    return data, None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFailed(
            [
                RowError(
                    0,
                    None,
                    _(
                        "Tệp đang ở dạng UTF-16 (“Unicode Text”). Hãy lưu lại với định dạng “CSV UTF-8 (Comma delimited)”."
                    ),
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError:
        raise ImportFailed(
            [
                RowError(
                    0,
                    None,
                    _(
                        "Tệp không phải mã UTF-8. Trong Excel hãy chọn “Lưu thành” → “CSV UTF-8 (Comma delimited)”."
                    ),
                )
            ]
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet line, cells): a quoted cell spanning several physical lines is still one line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            yield line, cells
    except csv.Error as exc:
        raise ImportFailed(
            [
                RowError(
                    line + 1,
                    None,
                    _("Không đọc được dòng này (%(detail)s). Kiểm tra dấu ngoặc kép.", detail=str(exc)),
                )
            ]
        ) from None


class _Checker:
    def __init__(self, *, actor: User | None, shop: Shop | None, base_dir: Path | None, create_missing: bool):
        self.actor, self.shop, self.create_missing = actor, shop, create_missing
        self.base_dir = base_dir.resolve() if base_dir is not None else None
        self.errors: list[RowError] = []
        self.shown: list[PreviewRow] = []  # every product line read, good or not
        self._shops: dict[str, Shop | _NewShop | None] = {}
        self._categories: dict[str, Category | _NewCategory | None] = {}
        self._images: dict[Path, str | None] = {}  # resolved path -> problem or None

    def fail(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def check(self, data: bytes) -> list[_Row]:
        records = _records(_decode(data))
        first = next(records, None)
        if first is None or not any(c.strip() for c in first[1]):
            raise ImportFailed([RowError(1, None, _("Tệp trống: dòng đầu tiên phải là dòng tiêu đề cột."))])
        header = self._header(first[1])
        rows: list[_Row] = []
        count = 0
        for line, cells in records:
            if not any(c.strip() for c in cells):
                continue  # blank spreadsheet rows are harmless
            count += 1
            if count > MAX_ROWS:
                raise ImportFailed(
                    [
                        RowError(
                            line,
                            None,
                            _("Tệp có quá %(n)d dòng sản phẩm. Hãy chia thành nhiều tệp.", n=MAX_ROWS),
                        )
                    ]
                )
            row = self._row(line, header, cells)
            if row is not None:
                rows.append(row)
        if count == 0:
            self.fail(2, None, _("Tệp không có dòng sản phẩm nào dưới dòng tiêu đề."))
        if self.errors:
            by_line: dict[int, list[RowError]] = {}
            for error in self.errors:
                by_line.setdefault(error.line, []).append(error)
            for shown in self.shown:
                shown.problems = by_line.get(shown.line, [])
            raise ImportFailed(self.errors, rows=self.shown)
        return rows

    def preview(self, rows: list[_Row]) -> ImportPreview:
        """The good rows as they will be written, and their OCOP claims as the register has them."""
        claims: dict[tuple, list[_Row]] = {}
        for row in rows:
            clean = row.clean
            if clean.get("ocop_stars") and clean.get("ocop_certificate_no") and clean.get("ocop_issued_on"):
                key = (
                    row.shop_slug,
                    clean["ocop_certificate_no"],
                    clean["ocop_stars"],
                    clean.get("ocop_level") or "",
                    clean["ocop_issued_on"],
                )
                claims.setdefault(key, []).append(row)
        today = local_today()
        found: list[ClaimPreview] = []
        for (slug, number, stars, level, issued), citing in claims.items():
            shop = citing[0].shop
            registered = (
                ocop.find_claim(ocop.ClaimKey(shop.id, number, stars, level, issued))
                if isinstance(shop, Shop)
                else None
            )
            claim = ClaimPreview(
                shop=slug,
                certificate_no=number,
                stars=stars,
                level=level,
                issued_on=issued,
                state=registered.status if registered is not None else "new",
                lines=tuple(row.line for row in citing),
                refusal_reason=registered.refusal_reason if registered is not None else None,
                expired=today >= add_months(issued, OCOP_VALID_MONTHS),
            )
            found.append(claim)
            for row in citing:
                row.shown.claim = claim
        new_shops = list(dict.fromkeys(row.shop.slug for row in rows if isinstance(row.shop, _NewShop)))
        new_categories = list(
            dict.fromkeys(
                row.clean["category"].name for row in rows if isinstance(row.clean["category"], _NewCategory)
            )
        )
        return ImportPreview(
            rows=[row.shown for row in rows],
            claims=found,
            new_shops=new_shops,
            new_categories=new_categories,
            fingerprint=_fingerprint(rows),
        )

    def _header(self, cells: list[str]) -> list[str | None]:
        names = [c.strip().lower() for c in cells]
        if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
            raise ImportFailed(
                [
                    RowError(
                        1,
                        None,
                        _(
                            "Các cột phải ngăn cách bằng dấu phẩy (,). Tệp này có vẻ dùng dấu chấm phẩy hoặc tab: "
                            "hãy lưu lại với định dạng “CSV UTF-8 (Comma delimited)”."
                        ),
                    )
                ]
            )
        problems: list[RowError] = []
        seen: set[str] = set()
        header: list[str | None] = []
        for position, name in enumerate(names, start=1):
            if not name:
                header.append(None)  # a nameless column must stay empty (checked per row)
                continue
            if name not in COLUMNS:
                problems.append(
                    RowError(
                        1,
                        name,
                        _(
                            "Cột “%(name)s” không được hỗ trợ. Các cột hợp lệ: %(columns)s.",
                            name=cells[position - 1].strip(),
                            columns=", ".join(COLUMNS),
                        ),
                    )
                )
            elif name in seen:
                problems.append(RowError(1, name, _("Cột “%(name)s” xuất hiện hai lần.", name=name)))
            seen.add(name)
            header.append(name)
        required = [c for c in REQUIRED_COLUMNS if not (c == "shop" and self.shop is not None)]
        missing = [c for c in required if c not in seen]
        if missing:
            problems.append(
                RowError(1, None, _("Thiếu cột bắt buộc: %(columns)s.", columns=", ".join(missing)))
            )
        if problems:
            raise ImportFailed(problems)
        return header

    def _row(self, line: int, header: list[str | None], cells: list[str]) -> _Row | None:
        before = len(self.errors)
        values = dict.fromkeys(COLUMNS, "")
        for position, cell in enumerate(cells):
            name = header[position] if position < len(header) else None
            if name is None:
                if cell.strip():
                    self.fail(
                        line,
                        None,
                        _(
                            "Ô thứ %(n)d không thuộc cột nào (dòng tiêu đề không có tên cột ở vị trí này). "
                            "Có dấu phẩy nào chưa đặt trong ngoặc kép không?",
                            n=position + 1,
                        ),
                    )
                continue
            # Control characters out, as in every form: descriptions keep their lines.
            values[name] = (multi_line if name == "description" else single_line)(cell).strip()
        shop = self._shop_of(line, values["shop"])
        status = (
            ListingStatus.ACTIVE.value
            if (isinstance(shop, _NewShop) or (shop is not None and shop.status == ShopStatus.APPROVED.value))
            else ListingStatus.DRAFT.value
        )
        data: dict[str, Any] = {
            key: values[key]
            for key in (
                "title",
                "unit",
                "description",
                "sku",
                "origin",
                "ocop_certificate_no",
                "ocop_level",
                "ocop_issued_on",
                "certifications",
            )
        }
        data["status"] = status
        data["category"] = self._category_of(line, values["category"])
        # Whole numbers as people type them ("45.000 ₫"), checked with the form's rules
        # (marketplace.money, marketplace.numbers): a blank stock is 0, a decimal part an error.
        data["price_vnd"], data["stock"] = values["price_vnd"], values["stock"]
        data["ocop_stars"] = self._stars(line, values["ocop_stars"])
        errors = Errors()
        clean = services.validate_listing_data(data, errors)
        for name, messages in errors.fields.items():
            column = _FIELD_TO_COLUMN.get(name, name)
            if column == "category" and data["category"] is None:
                continue  # already explained by _category_of
            for message in messages:
                if name == "ocop_certificate_no" and data["ocop_stars"]:
                    message = _(
                        "Có hạng OCOP thì cần cả số giấy chứng nhận (cột ocop_certificate_no) và ngày công "
                        "nhận (cột ocop_issued_on, dd/mm/yyyy). Nếu chưa có, để trống ocop_stars và nhập "
                        "chứng nhận sau trong trang sửa sản phẩm."
                    )
                self.fail(line, column, message)
        images = self._images_of(line, values["image_path"])
        shown = PreviewRow(
            line=line,
            shop=values["shop"] or (self.shop.slug if self.shop is not None else ""),
            title=values["title"],
            category=values["category"],
            price_vnd=values["price_vnd"],
            stock=values["stock"],
            ocop_typed=" · ".join(
                v
                for v in (values["ocop_stars"], values["ocop_certificate_no"], values["ocop_issued_on"])
                if v
            ),
        )
        self.shown.append(shown)
        if len(self.errors) > before or shop is None:
            return None
        shown.shop, shown.title = shop.slug, clean["title"]
        shown.category = _category_name(clean["category"])
        shown.price_vnd, shown.stock, shown.status = clean["price_vnd"], clean["stock"], clean["status"]
        return _Row(line=line, shop=shop, clean=clean, images=images, shown=shown)

    def _shop_of(self, line: int, slug: str) -> Shop | _NewShop | None:
        if self.shop is not None:
            if slug and slug != self.shop.slug:
                self.fail(
                    line,
                    "shop",
                    _(
                        "Dòng này ghi cửa hàng “%(other)s”, nhưng bạn đang nhập vào cửa hàng "
                        "“%(slug)s”. Để trống cột shop hoặc ghi đúng “%(slug)s”.",
                        other=slug,
                        slug=self.shop.slug,
                    ),
                )
                return None
            return self.shop
        if not slug:
            self.fail(line, "shop", _("Vui lòng ghi đường dẫn (slug) của cửa hàng."))
            return None
        if slug not in self._shops:
            found: Shop | _NewShop | None = db.session.scalar(select(Shop).where(Shop.slug == slug))
            if found is None and self.create_missing and slugs.is_slug(slug, Shop):
                found = _NewShop(slug)
            self._shops[slug] = found
        found = self._shops[slug]
        if found is None:
            if self.create_missing:
                self.fail(
                    line,
                    "shop",
                    _(
                        "“%(slug)s” không dùng được làm đường dẫn cửa hàng: chỉ gồm chữ thường "
                        "không dấu, số và dấu gạch ngang (tối đa 80 ký tự).",
                        slug=slug,
                    ),
                )
            else:
                self.fail(
                    line,
                    "shop",
                    _(
                        "Không có cửa hàng nào có đường dẫn “%(slug)s”. Kiểm tra lại, hoặc chạy "
                        "lệnh với --create-missing để tạo cửa hàng mới.",
                        slug=slug,
                    ),
                )
            return None
        if (
            self.actor is not None
            and isinstance(found, Shop)
            and not (can_manage_listings(self.actor, found) or is_operator(self.actor))
        ):
            self.fail(line, "shop", _("Bạn không có quyền thêm sản phẩm cho cửa hàng “%(slug)s”.", slug=slug))
            return None
        return found

    def _category_of(self, line: int, value: str) -> Category | _NewCategory | None:
        if not value:
            self.fail(line, "category", _("Vui lòng ghi danh mục (tên hoặc đường dẫn)."))
            return None
        key = " ".join(value.split()).casefold()
        if key not in self._categories:
            found: Category | _NewCategory | None = services.find_category(value)
            if found is None and self.create_missing:
                if len(value) > 120:
                    self.fail(line, "category", _("Tên danh mục tối đa 120 ký tự."))
                    return None
                found = _NewCategory(" ".join(value.split()))
            self._categories[key] = found
        found = self._categories[key]
        if found is None:
            self.fail(
                line,
                "category",
                _(
                    "Không có danh mục “%(name)s”. Ghi đúng tên hoặc đường dẫn của một danh mục trên sàn.",
                    name=value,
                ),
            )
        return found

    def _stars(self, line: int, raw: str) -> int | None:
        if raw in ("", "0"):
            return None
        if re.fullmatch(r"[1-5]", raw):
            return int(raw)
        self.fail(line, "ocop_stars", _("Hạng OCOP là một số từ 1 đến 5 (để trống nếu không có)."))
        return None

    def _images_of(self, line: int, raw: str) -> list[Path]:
        paths = [p.strip() for p in raw.split(";") if p.strip()]
        if not paths:
            return []
        if self.base_dir is None:
            self.fail(
                line,
                "image_path",
                _(
                    "Khi tải tệp lên trang web không kèm được ảnh: hãy để trống cột "
                    "image_path, rồi thêm ảnh trong trang sửa sản phẩm."
                ),
            )
            return []
        if len(paths) > services.MAX_IMAGES:
            self.fail(line, "image_path", _("Tối đa %(n)d ảnh cho mỗi sản phẩm.", n=services.MAX_IMAGES))
            return []
        found: list[Path] = []
        for raw_path in paths:
            path = self._image_path(line, raw_path)
            if path is not None:
                found.append(path)
        return found

    def _image_path(self, line: int, raw: str) -> Path | None:
        if "://" in raw:
            self.fail(
                line,
                "image_path",
                _("“%(path)s”: chỉ nhận tệp ảnh nằm cạnh tệp CSV; sàn không tải ảnh từ mạng.", path=raw),
            )
            return None
        relative = raw.replace("\\", "/")
        if relative.startswith("/") or PureWindowsPath(raw).drive or Path(relative).is_absolute():
            self.fail(
                line,
                "image_path",
                _(
                    "“%(path)s”: đường dẫn ảnh phải tính từ thư mục chứa tệp CSV, "
                    "không phải đường dẫn tuyệt đối.",
                    path=raw,
                ),
            )
            return None
        base = self.base_dir
        assert base is not None  # _images_of refused image paths without a folder
        path = (base / relative).resolve()
        if not path.is_relative_to(base):  # "../x.jpg", or a symlink leading out
            self.fail(line, "image_path", _("“%(path)s”: ảnh phải nằm trong thư mục chứa tệp CSV.", path=raw))
            return None
        if path not in self._images:
            self._images[path] = _check_image(path)
        problem = self._images[path]
        if problem:
            self.fail(line, "image_path", f"“{raw}”: {problem}")
            return None
        return path


def _check_image(path: Path) -> str | None:
    """The cheap checks of the image pipeline (size, format, declared pixels, structure), so a bad
    picture is reported in phase 1 before any picture is stored."""
    if not path.is_file():
        return _("Không tìm thấy tệp ảnh.")
    cfg = current_app.config
    size = path.stat().st_size
    if size > cfg["MAX_IMAGE_BYTES"]:
        return _("Ảnh quá lớn (tối đa %(mb)d MB).", mb=cfg["MAX_IMAGE_BYTES"] // (1024 * 1024))
    return image_problem(path.read_bytes())


# --- phase 2: every row is good, write them all ------------------------------------------------------


def _placeholder_commune() -> Commune:
    province = current_app.config["PROVINCE_NAME"]
    commune = db.session.scalar(
        select(Commune).where(Commune.province == province, Commune.name == PLACEHOLDER_COMMUNE)
    )
    if commune is None:
        # Inactive: it must not be offered in the registration form's commune list.
        commune = Commune(name=PLACEHOLDER_COMMUNE, kind="xa", province=province, active=False)
        db.session.add(commune)
        db.session.flush()
    return commune


def _create_shop(slug: str, commune: Commune) -> Shop:
    shop = Shop(
        slug=slug,
        name=slug.replace("-", " ").title()[:120],
        kind=ShopKind.HOUSEHOLD.value,
        phone=PLACEHOLDER_PHONE,
        address_line=PLACEHOLDER_ADDRESS,
        commune_id=commune.id,
        province=commune.province,
        story="",
        status=ShopStatus.APPROVED.value,
        status_changed_at=utcnow(),
    )
    db.session.add(shop)
    db.session.flush()
    shop_event(shop, "created")
    return shop


def _create_category(name: str) -> Category:
    category = Category(name=name, slug=slugs.unique_slug(Category, name), parent_id=None, description="")
    db.session.add(category)
    db.session.flush()
    outbox.record("category.changed", {"category_id": category.id})
    return category


def _store_images(rows: list[_Row], new_folders: list[Path]) -> dict[Path, StoredImage]:
    stored: dict[Path, StoredImage] = {}
    for row in rows:
        for path in row.images:
            if path in stored:
                continue
            blob = path.read_bytes()
            folder = image_dir(hashlib.sha256(blob).hexdigest()[:40])
            existed = folder.exists()
            try:
                stored[path] = process_image(blob, field="image_path")
            except ValidationFailed as exc:
                raise ImportFailed(
                    [RowError(row.line, "image_path", f"“{path.name}”: {exc.message}")]
                ) from None
            if not existed and image_dir(stored[path].key) == folder:
                new_folders.append(folder)
    return stored


FLUSH_EVERY = 250


def _write(rows: list[_Row]) -> ImportResult:
    result = ImportResult()
    new_folders: list[Path] = []
    try:
        images = _store_images(rows, new_folders)
        commune = None
        shops: dict[int, Shop] = {}
        for row in rows:
            row.slug_base = slugs.slug_of(row.clean["title"], Listing)  # slugify is slow: once per row
        taken = slugs.taken_slugs(Listing, [row.slug_base for row in rows])
        pending: list[Listing] = []
        claims: dict[ocop.ClaimKey, OcopCertificate] = {}
        # Listings are flushed in batches (their outbox events need ids); no autoflush in between.
        with db.session.no_autoflush:
            for row in rows:
                if isinstance(row.shop, _NewShop):
                    if row.shop.shop is None:
                        commune = commune or _placeholder_commune()
                        row.shop.shop = _create_shop(row.shop.slug, commune)
                        result.created_shops.append(row.shop.shop)
                    shop = row.shop.shop
                else:
                    shop = row.shop
                shops.setdefault(shop.id, shop)
                clean = dict(row.clean)
                category = clean.pop("category")
                if isinstance(category, _NewCategory):
                    if category.category is None:
                        category.category = _create_category(category.name)
                        result.created_categories.append(category.category)
                    category = category.category
                # The OCOP claim's register row (found, or new and waiting), as create_listing does.
                key = ocop.claim_key(shop.id, clean)
                if key is not None:
                    if key not in claims:
                        claims[key] = ocop.claim_for(key, clean["title"])
                    clean["ocop_certificate"] = claims[key]
                pending.append(
                    services.build_listing(
                        shop,
                        category,
                        clean,
                        [images[p] for p in row.images],
                        slugs.free_slug(row.slug_base, taken),
                    )
                )
                if len(pending) >= FLUSH_EVERY:
                    result.listings.extend(_flush_listings(pending))
                    pending = []
            result.listings.extend(_flush_listings(pending))
        result.shops = list(shops.values())
    except BaseException:
        # Nothing of a failed import may stay behind: the caller rolls the rows back, and the
        # picture folders this import created (content-addressed, so not shared yet) go too.
        for folder in new_folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return result


def _flush_listings(listings: list[Listing]) -> list[Listing]:
    db.session.flush()
    for listing in listings:
        services.listing_event(listing, "created")  # needs the id: after the flush
    return listings


# --- an upload kept between its preview and its confirmation ------------------------------------------

PREVIEW_MAX_AGE = timedelta(minutes=30)
MAX_KEPT_PER_USER = 3  # a producer may have a few previews open in tabs; older ones go


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep_upload(data: bytes, preview: ImportPreview, *, shop: Shop, user: User) -> str:
    """Keep a checked upload for its confirmation: the file's bytes (never what a form sends back
    later), bound to this shop and user, for PREVIEW_MAX_AGE. Returns the random token the page
    carries (only its hash is stored). Expired uploads of everyone go at the same time."""
    now = utcnow()
    db.session.execute(delete(CsvImportPreview).where(CsvImportPreview.expires_at <= now))
    older = list(
        db.session.scalars(
            select(CsvImportPreview.id)
            .where(CsvImportPreview.user_id == user.id)
            .order_by(CsvImportPreview.created_at.desc(), CsvImportPreview.id.desc())
            .offset(MAX_KEPT_PER_USER - 1)
        )
    )
    if older:
        db.session.execute(delete(CsvImportPreview).where(CsvImportPreview.id.in_(older)))
    token = secrets.token_urlsafe(32)
    db.session.add(
        CsvImportPreview(
            token_hash=_token_hash(token),
            shop_id=shop.id,
            user_id=user.id,
            data=data,
            fingerprint=preview.fingerprint,
            created_at=now,
            expires_at=now + PREVIEW_MAX_AGE,
        )
    )
    db.session.flush()
    return token


def take_upload(token: str | None, *, shop: Shop, user: User) -> tuple[bytes, str] | None:
    """The kept upload of `token` (its bytes and the fingerprint of its preview), removed in the
    same statement so it is imported at most once (a second confirmation, even at the same moment,
    finds nothing); None when the token is unknown, expired, or another user's or shop's. The
    caller's rollback puts it back."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        delete(CsvImportPreview)
        .where(
            CsvImportPreview.token_hash == _token_hash(token),
            CsvImportPreview.shop_id == shop.id,
            CsvImportPreview.user_id == user.id,
            CsvImportPreview.expires_at > utcnow(),
        )
        .returning(CsvImportPreview.data, CsvImportPreview.fingerprint)
    ).first()
    return (bytes(row.data), row.fingerprint) if row is not None else None


# --- the sample file ---------------------------------------------------------------------------

SAMPLE_ROWS = [
    {
        "title": "Cam bù Hương Sơn",
        "category": "Trái cây",
        "unit": "kg",
        "price_vnd": "45000",
        "stock": "200",
        "description": "Cam bù trồng trên đồi Hương Sơn, vỏ mỏng, múi mọng, vị ngọt thanh. "
        "Thu hoạch tháng 10 đến tháng 1.",
        "sku": "CAM-BU-01",
        "origin": "Hương Sơn",
        "ocop_stars": "4",
        "ocop_certificate_no": "1234/QĐ-UBND",
        "ocop_level": "province",
        "ocop_issued_on": "15/03/2024",
        "certifications": "VietGAP; Chỉ dẫn địa lý",
        "image_path": "",
    },
    {
        "title": "Mật ong rừng Hương Sơn",
        "category": "Đặc sản",
        "unit": "chai",
        "price_vnd": "250.000",
        "stock": "40",
        "description": "Mật ong hoa rừng khai thác tự nhiên, chai 500 ml.",
        "sku": "MAT-ONG-500",
        "origin": "Hương Sơn",
        "ocop_stars": "",
        "ocop_certificate_no": "",
        "ocop_level": "",
        "ocop_issued_on": "",
        "certifications": "",
        "image_path": "",
    },
]


def sample_csv(shop_slug: str) -> str:
    """The header and two example rows, with a BOM so Excel opens the Vietnamese text correctly.
    Example categories are swapped for the floor's own when those names do not exist."""
    existing = [c.name for c in services.category_tree()]
    rows = []
    for index, row in enumerate(SAMPLE_ROWS):
        row = {**row, "shop": shop_slug}
        if existing and services.find_category(row["category"]) is None:
            row["category"] = existing[index % len(existing)]
        rows.append([row.get(column, "") for column in COLUMNS])
    return csv_text(list(COLUMNS), rows)

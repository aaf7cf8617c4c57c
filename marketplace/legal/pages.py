"""The floor's public legal pages: which there are, their Vietnamese addresses and titles.

The set of pages is code (the rules for floors name them: Decree 52/2013 as amended by Decree
85/2021, and Decree 13/2023 for personal data); their text is data the operator publishes as
dated versions (models.LegalPageVersion)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

PRIVACY = "privacy"


@dataclass(frozen=True)
class LegalPage:
    key: str  # stored with each version; never changes
    slug: str  # the public address, /<slug>
    title: LazyString


PAGES: tuple[LegalPage, ...] = (
    LegalPage("regulations", "quy-che-hoat-dong", _l("Quy chế hoạt động")),
    LegalPage(PRIVACY, "chinh-sach-bao-mat", _l("Chính sách bảo mật thông tin")),
    LegalPage("returns", "chinh-sach-doi-tra-hoan-tien", _l("Chính sách đổi trả và hoàn tiền")),
    LegalPage("shipping", "chinh-sach-van-chuyen", _l("Chính sách vận chuyển và giao nhận")),
    LegalPage("payment", "chinh-sach-thanh-toan", _l("Chính sách thanh toán")),
    LegalPage("complaints", "giai-quyet-khieu-nai", _l("Cơ chế giải quyết khiếu nại, tranh chấp")),
)
BY_KEY = {page.key: page for page in PAGES}
BY_SLUG = {page.slug: page for page in PAGES}

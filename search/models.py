"""Operator-editable synonym groups and the reindex lease of each backend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import Model
from marketplace.timeutil import utcnow

# The starting list, seeded by migration 0002 (which keeps its own copy, as migrations must).
DEFAULT_SYNONYMS = [
    "quả, trái",
    "heo, lợn",
    "bắp, ngô",
    "cam bù, cam bu",
    "vừng, mè",
    "dứa, thơm, khóm",
    "lạc, đậu phộng",
    "chè, trà",
    "mì, mỳ",
    "bánh tráng, bánh đa",
]

# Regional names of farm products and food (North / Centre / South), seeded by migration
# 0014_understand (its own copy) without touching the operator's groups. Reviewed for ambiguity:
# words that mean different things by region are left out or kept to the unambiguous compound —
# "củ sắn" (jicama in the South, cassava tuber in the North and Centre) is in no group: jicama is
# "củ đậu, sắn nước", cassava "sắn, khoai mì"; "ruốc" (meat floss in the North, tiny shrimp here
# and in the South: "ruốc biển", "mắm ruốc") and "bạc hà" (mint; Alocasia stems in the South) are
# in none. "mận" is kept with "roi" (the South's word for wax apple), though in the North it also
# names the plum. Groups match folded words, so "sắn" also widens "sản": harmless beside the
# other words of "đặc sản" or "nông sản", which must match too.
REGIONAL_SYNONYMS = [
    # fruits
    "roi, mận",
    "na, mãng cầu, mãng cầu ta, mãng cầu dai",
    "mãng cầu xiêm, na xiêm",
    "chanh leo, chanh dây",
    "quất, tắc",
    "hồng xiêm, sapôchê, xa pô chê",
    "trám, cà na",
    "trái cây, hoa quả",
    # vegetables and herbs
    "bí đỏ, bí ngô, bí rợ",
    "bí xanh, bí đao",
    "dưa chuột, dưa leo",
    "mướp đắng, khổ qua",
    "súp lơ, bông cải",
    "bắp cải, cải bắp",
    "cải cúc, tần ô",
    "rau ngót, bồ ngót",
    "rau diếp, xà lách",
    "rau mùi, ngò rí",
    "mùi tàu, ngò gai",
    "hành hoa, hành lá",
    "húng quế, rau quế",
    "thì là, thìa là",
    "cà tím, cà dái dê",
    "đậu đũa, đậu dải",
    # tubers
    "sắn, khoai mì",
    "củ đậu, sắn nước",
    "khoai sọ, khoai môn",
    "củ từ, khoai từ",
    "củ năng, mã thầy",
    # beans, nuts, grains
    "đỗ xanh, đậu xanh",
    "đỗ đen, đậu đen",
    "đỗ đỏ, đậu đỏ",
    "đậu nành, đậu tương, đỗ tương",
    "đậu phụ, đậu hũ, tàu hũ",
    "hạt điều, hột điều",
    "gạo lứt, gạo lức",
    "hạt tiêu, hồ tiêu",
    # mushrooms
    "mộc nhĩ, nấm mèo, nấm tai mèo",
    "nấm hương, nấm đông cô",
    "nấm sò, nấm bào ngư",
    # fish, meat, eggs
    "cá quả, cá lóc, cá chuối, cá tràu",
    "ngan, vịt xiêm",
    "thịt ba chỉ, thịt ba rọi",
    "trứng gà, hột gà",
    "trứng vịt, hột vịt",
    "giò lụa, chả lụa",
    "nem rán, chả giò",
    "lạp xưởng, lạp xường",
    # sauces, condiments, dry goods
    "xì dầu, nước tương",
    "mì chính, bột ngọt",
    "miến, bún tàu",
    "hủ tiếu, hủ tíu",
    "ô mai, xí muội",
    "sữa chua, da ua",
    "cà phê, cafe",
]


class SearchSynonym(Model):
    """One group of equivalent words, comma separated: "quả, trái" or "cam bù, cam bu"."""

    __tablename__ = "search_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SearchIndexState(Model):
    """Bookkeeping per backend ("engine:<alias>", "embedded:<path>"): who is rebuilding, until when
    (a lease taken by a conditional UPDATE, so two reindexes never run at once on any machine),
    and what the last rebuild produced."""

    __tablename__ = "search_index_state"

    backend: Mapped[str] = mapped_column(String(200), primary_key=True)
    building: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    current_index: Mapped[str | None] = mapped_column(String(200))
    last_reindex_at: Mapped[datetime | None]
    last_docs: Mapped[int | None]
    last_seconds: Mapped[float | None]
    last_error: Mapped[str | None] = mapped_column(Text)

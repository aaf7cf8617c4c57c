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

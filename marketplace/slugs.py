"""Slugs, the one rule: the readable part of a URL for shops, listings and categories.

A slug is what python-slugify makes of a name: lower-case ASCII letters and digits joined by
single hyphens, Vietnamese folded ("Cam bù Hương Sơn" -> "cam-bu-huong-son"), at most as long as
the model's `slug` column. A name that leaves nothing ("???") becomes "muc". A slug made from a
name and already taken gets -2, -3…, and leaves room for that suffix. A slug a person typed (a
shop's own address, a shop column in the CSV import) is used only if it is one already."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from slugify import slugify
from sqlalchemy import select

from .extensions import db

FALLBACK = "muc"  # "mục": an item
SUFFIX_ROOM = 4  # a name's slug leaves room for "-999"
_BATCH = 500  # slugs per IN (…) query


def max_length(model: Any) -> int:
    """The length of `model`'s slug column (Shop 80, Category 120, Listing 160)."""
    return int(model.__table__.c.slug.type.length)


def slug_of(name: str, model: Any) -> str:
    """The slug a name gives before any suffix: "Cam bù Hương Sơn" -> "cam-bu-huong-son"."""
    return slugify(name, max_length=max_length(model) - SUFFIX_ROOM) or FALLBACK


def typed_slug(text: str, model: Any) -> str:
    """A slug a person typed, normalised the same way ("Cam-Bù" -> "cam-bu"); "" when nothing is
    left of it."""
    return slugify(text or "", max_length=max_length(model))


def is_slug(text: str, model: Any) -> bool:
    """`text` is already a slug for `model`, as it would be written, within the column."""
    return bool(text) and typed_slug(text, model) == text


def suffixed(base: str, n: int) -> str:
    """The n-th candidate for `base`: base, base-2, base-3…"""
    return base if n == 1 else f"{base}-{n}"


def is_taken(model: Any, slug: str, *, exclude_id: int | None = None) -> bool:
    query = select(model.id).where(model.slug == slug)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return db.session.scalar(query) is not None


def unique_slug(model: Any, name: str, *, exclude_id: int | None = None) -> str:
    """A free slug for a new row of `model` named `name` (one query per candidate)."""
    base, n = slug_of(name, model), 1
    while is_taken(model, suffixed(base, n), exclude_id=exclude_id):
        n += 1
    return suffixed(base, n)


def _existing(model: Any, candidates: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(candidates), _BATCH):
        batch = candidates[start : start + _BATCH]
        found.update(db.session.scalars(select(model.slug).where(model.slug.in_(batch))))
    return found


def taken_slugs(model: Any, bases: Iterable[str]) -> set[str]:
    """For many new rows at once (the CSV import): the existing slugs that `free_slug` must avoid
    to give each of `bases` (one per new row, repeats allowed) a slug of its own. A few IN queries
    on the unique index instead of one query per candidate: first every base, then, for bases
    taken or repeated, windows of -2…-21, -22…-41… until each row has a free candidate."""
    wanted = Counter(bases)
    taken = _existing(model, sorted(wanted))
    short = {base: n - (base not in taken) for base, n in wanted.items()}  # rows still without one
    short = {base: n for base, n in short.items() if n > 0}
    first = 2
    while short:
        window = range(first, first + 20)
        found = _existing(model, [suffixed(base, i) for base in sorted(short) for i in window])
        taken |= found
        short = {base: n - sum(suffixed(base, i) not in found for i in window) for base, n in short.items()}
        short = {base: n for base, n in short.items() if n > 0}
        first += 20
    return taken


def free_slug(base: str, taken: set[str]) -> str:
    """The first candidate for `base` not in `taken` (from `taken_slugs`), which it joins, so the
    next row with the same base gets the next one."""
    n = 1
    while suffixed(base, n) in taken:
        n += 1
    slug = suffixed(base, n)
    taken.add(slug)
    return slug

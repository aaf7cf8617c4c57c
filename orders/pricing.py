"""The one place totals are computed: a pure function over cart lines and shops' shipping rules.

No database, no Flask: the cart page, the checkout page, the order rows and the tests all call
`quote()`, so what the buyer sees is what is stored and charged. Integer VND throughout."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from marketplace.money import MAX_TOTAL_VND

# Defaults for shops that never set their own rule (editable per shop under /kenh-ban/…/van-chuyen).
DEFAULT_FLAT_FEE_VND = 25_000
DEFAULT_TIERS: tuple[tuple[int, int], ...] = ((2_000, 10_000), (5_000, 25_000), (10_000, 50_000))
DEFAULT_FREE_OVER_VND: int | None = 500_000
# One checkout is one payment: its total at most MAX_TOTAL_VND (marketplace.money), each parcel at
# most 100 tonnes. Both keep the stored figures far inside their integer columns.
MAX_PARCEL_GRAMS = 100_000_000


@dataclass(frozen=True)
class Rule:
    flat_fee_vnd: int = DEFAULT_FLAT_FEE_VND
    tiers: tuple[tuple[int, int], ...] = DEFAULT_TIERS  # (from_grams, surcharge_vnd), any order
    free_over_vnd: int | None = DEFAULT_FREE_OVER_VND


@dataclass(frozen=True)
class Line:
    listing_id: int
    shop_id: int
    unit_price_vnd: int
    quantity: int
    weight_grams: int  # per unit

    @property
    def total_vnd(self) -> int:
        return self.unit_price_vnd * self.quantity


@dataclass(frozen=True)
class ShopQuote:
    shop_id: int
    lines: tuple[Line, ...]
    subtotal_vnd: int
    weight_grams: int
    shipping_vnd: int
    free_shipping: bool

    @property
    def total_vnd(self) -> int:
        return self.subtotal_vnd + self.shipping_vnd


@dataclass(frozen=True)
class Quote:
    shops: tuple[ShopQuote, ...] = field(default_factory=tuple)

    @property
    def subtotal_vnd(self) -> int:
        return sum(s.subtotal_vnd for s in self.shops)

    @property
    def shipping_vnd(self) -> int:
        return sum(s.shipping_vnd for s in self.shops)

    @property
    def total_vnd(self) -> int:
        return sum(s.total_vnd for s in self.shops)

    @property
    def within_limits(self) -> bool:
        """False when this cart is too large for one checkout (its total or a parcel's weight)."""
        return self.total_vnd <= MAX_TOTAL_VND and all(s.weight_grams <= MAX_PARCEL_GRAMS for s in self.shops)

    def fingerprint(self) -> str:
        """Changes whenever anything the buyer agreed to changes: a line's price or quantity, a
        shipping fee, the total. The checkout form carries it; a mismatch means 'look again'."""
        parts = [
            f"{line.listing_id}:{line.quantity}:{line.unit_price_vnd}" for s in self.shops for line in s.lines
        ]
        parts += [f"s{s.shop_id}:{s.shipping_vnd}" for s in self.shops]
        parts.append(f"t:{self.total_vnd}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def shipping_fee(rule: Rule, subtotal_vnd: int, weight_grams: int) -> tuple[int, bool]:
    """(fee, free?) for one shop's parcel: the flat fee plus the surcharge of the heaviest tier
    the parcel reaches; nothing when the subtotal reaches the shop's free-shipping threshold."""
    if rule.free_over_vnd is not None and subtotal_vnd >= rule.free_over_vnd:
        return 0, True
    surcharge = 0
    for from_grams, extra in sorted(rule.tiers):
        if weight_grams >= from_grams:
            surcharge = extra
    return rule.flat_fee_vnd + surcharge, False


def quote(lines: Iterable[Line], rules: Mapping[int, Rule], default: Rule = Rule()) -> Quote:
    """Group lines by shop (shops in id order, lines in listing order) and price each parcel."""
    by_shop: dict[int, list[Line]] = {}
    for line in lines:
        if line.quantity <= 0 or line.unit_price_vnd < 0 or line.weight_grams < 0:
            raise ValueError(f"bad line {line!r}")
        by_shop.setdefault(line.shop_id, []).append(line)
    shops = []
    for shop_id in sorted(by_shop):
        shop_lines = tuple(sorted(by_shop[shop_id], key=lambda ln: ln.listing_id))
        subtotal = sum(ln.total_vnd for ln in shop_lines)
        weight = sum(ln.weight_grams * ln.quantity for ln in shop_lines)
        fee, free = shipping_fee(rules.get(shop_id, default), subtotal, weight)
        shops.append(ShopQuote(shop_id, shop_lines, subtotal, weight, fee, free))
    return Quote(tuple(shops))

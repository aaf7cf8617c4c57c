"""The one place totals are computed: a pure function over cart lines, the shops' shipping rules
and the zone each parcel travels to.

No database, no Flask: the cart page, the checkout page, the order rows and the tests all call
`quote()`, so what the buyer sees is what is stored and charged. Integer VND throughout."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from marketplace.money import MAX_TOTAL_VND


class Zone(enum.StrEnum):
    """Where a parcel goes, seen from the shop: its own province, a neighbouring province (a land
    border: marketplace/data/province_neighbours.csv), or the rest of the country."""

    PROVINCE = "province"
    NEIGHBOUR = "neighbour"
    COUNTRY = "country"


ZONES: tuple[Zone, ...] = (Zone.PROVINCE, Zone.NEIGHBOUR, Zone.COUNTRY)

# One checkout is one payment: its total at most MAX_TOTAL_VND (marketplace.money), each parcel at
# most 100 tonnes. Both keep the stored figures far inside their integer columns.
MAX_PARCEL_GRAMS = 100_000_000


@dataclass(frozen=True)
class Rule:
    """A shop's fee for one zone: the flat fee plus the surcharge of the heaviest weight tier
    reached, nothing from `free_over_vnd` (if set); `ships=False`: the shop does not deliver there."""

    flat_fee_vnd: int = 25_000
    tiers: tuple[tuple[int, int], ...] = ((2_000, 10_000), (5_000, 25_000), (10_000, 50_000))
    free_over_vnd: int | None = 500_000
    ships: bool = True


# Defaults for shops that never set their own (editable per shop under /kenh-ban/…/van-chuyen),
# shaped like carriers' public tariffs: a parcel to a neighbouring province costs a little more
# than within the province, one across the country more again, and each extra kilo much more
# (README, "Shipping zones").
DEFAULT_RULES: dict[Zone, Rule] = {
    Zone.PROVINCE: Rule(25_000, ((2_000, 10_000), (5_000, 25_000), (10_000, 50_000)), 500_000),
    Zone.NEIGHBOUR: Rule(30_000, ((2_000, 15_000), (5_000, 35_000), (10_000, 70_000)), 700_000),
    Zone.COUNTRY: Rule(40_000, ((1_000, 10_000), (2_000, 25_000), (5_000, 60_000), (10_000, 120_000)), None),
}


@dataclass(frozen=True)
class ShopRule:
    """A shop's shipping: one Rule per zone. The shop's own province is always served."""

    province: Rule = DEFAULT_RULES[Zone.PROVINCE]
    neighbour: Rule = DEFAULT_RULES[Zone.NEIGHBOUR]
    country: Rule = DEFAULT_RULES[Zone.COUNTRY]

    def for_zone(self, zone: Zone) -> Rule:
        return {Zone.PROVINCE: self.province, Zone.NEIGHBOUR: self.neighbour, Zone.COUNTRY: self.country}[
            zone
        ]

    def ships_to(self, zone: Zone) -> bool:
        return zone is Zone.PROVINCE or self.for_zone(zone).ships


def zone_of(origin: str | None, destination: str | None, neighbours: Mapping[str, frozenset[str]]) -> Zone:
    """The zone of a parcel from the province `origin` to `destination` (province keys, as
    marketplace.addresses.province_key makes them). No destination yet (the cart): the province."""
    if not destination or not origin or destination == origin:
        return Zone.PROVINCE
    if destination in neighbours.get(origin, frozenset()):
        return Zone.NEIGHBOUR
    return Zone.COUNTRY


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
    zone: Zone = Zone.PROVINCE
    ships: bool = True  # False: the shop does not deliver to this zone (nothing can be placed)

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
    def deliverable(self) -> bool:
        """False when a shop does not deliver to the zone of the address: nothing may be placed."""
        return all(s.ships for s in self.shops)

    @property
    def refused(self) -> tuple[ShopQuote, ...]:
        return tuple(s for s in self.shops if not s.ships)

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
        parts += [f"s{s.shop_id}:{s.zone}:{int(s.ships)}:{s.shipping_vnd}" for s in self.shops]
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


def quote(
    lines: Iterable[Line],
    rules: Mapping[int, ShopRule],
    zones: Mapping[int, Zone] | None = None,
    default: ShopRule = ShopRule(),
) -> Quote:
    """Group lines by shop (shops in id order, lines in listing order) and price each parcel with
    its shop's rule for the zone it goes to (`zones`, by shop id; missing: the shop's province).
    A shop that does not deliver to its zone is priced at nothing and marked `ships=False`."""
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
        zone = (zones or {}).get(shop_id, Zone.PROVINCE)
        rule = rules.get(shop_id, default)
        if rule.ships_to(zone):
            fee, free = shipping_fee(rule.for_zone(zone), subtotal, weight)
            shops.append(ShopQuote(shop_id, shop_lines, subtotal, weight, fee, free, zone, True))
        else:
            shops.append(ShopQuote(shop_id, shop_lines, subtotal, weight, 0, False, zone, False))
    return Quote(tuple(shops))

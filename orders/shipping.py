"""Shipping rules and zones: each shop's fees per zone (its province, the neighbouring provinces,
the rest of the country), which zone an address is in for a shop, and what a shop's listings say
about where they go. The arithmetic is orders/pricing.py's; this module reads and writes rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace import money, numbers
from marketplace.addresses import neighbour_table, neighbours_of, province_key, province_phrase
from marketplace.errors import Errors, Forbidden
from marketplace.extensions import db
from marketplace.models import User
from marketplace.numbers import NumberError
from marketplace.permissions import is_operator
from sellers.models import Shop
from sellers.permissions import can_edit_shipping

from . import pricing
from .models import ShippingRule, ShippingZone
from .pricing import ZONES, Zone

MAX_SHIPPING_FEE_VND = 10_000_000  # a flat fee or a weight surcharge
MAX_TIER_GRAMS = 1_000_000
TIERS_PER_ZONE = 5


def _zone_rule(row: ShippingZone | None, zone: Zone) -> pricing.Rule:
    if row is None:
        return pricing.DEFAULT_RULES[zone]
    return pricing.Rule(
        row.flat_fee_vnd,
        tuple((int(a), int(b)) for a, b in row.tiers or []),
        row.free_over_vnd,
        row.ships or zone is Zone.PROVINCE,
    )


def _rule_of(row: ShippingRule | None) -> pricing.ShopRule:
    if row is None:
        return pricing.ShopRule()
    by_zone = {z.zone: z for z in row.zones}
    return pricing.ShopRule(*(_zone_rule(by_zone.get(zone.value), zone) for zone in ZONES))


def rules_for(shop_ids: Iterable[int]) -> dict[int, pricing.ShopRule]:
    ids = list(shop_ids)
    # The zones in the same query (one round trip, however many shops).
    query = select(ShippingRule).where(ShippingRule.shop_id.in_(ids)).options(joinedload(ShippingRule.zones))
    rows = list(db.session.scalars(query).unique()) if ids else []
    found = {row.shop_id: _rule_of(row) for row in rows}
    return {shop_id: found.get(shop_id, pricing.ShopRule()) for shop_id in ids}


def rule_for(shop: Shop) -> pricing.ShopRule:
    return rules_for([shop.id])[shop.id]


@lru_cache(maxsize=1)
def _neighbours() -> dict[str, frozenset[str]]:
    """The neighbour table (a data file read once), built once per process, not once per shop."""
    return neighbour_table()


@lru_cache(maxsize=256)
def _province_key(name: str) -> str:
    return province_key(name)


def zone_for(shop: Shop, destination_province: str | None) -> Zone:
    """The zone an address in `destination_province` is in for `shop` (None: not chosen yet)."""
    return pricing.zone_of(
        _province_key(shop.province or ""),
        _province_key(destination_province) if destination_province else None,
        _neighbours(),
    )


def zones_for(shops: Mapping[int, Shop], destination_province: str | None) -> dict[int, Zone]:
    return {shop_id: zone_for(shop, destination_province) for shop_id, shop in shops.items()}


ZONE_LABELS = {
    Zone.PROVINCE: lambda: _("Nội tỉnh"),
    Zone.NEIGHBOUR: lambda: _("Tỉnh lân cận"),
    Zone.COUNTRY: lambda: _("Các tỉnh khác"),
}


def zone_label(zone: str) -> str:
    """ "Nội tỉnh", "Tỉnh lân cận", "Các tỉnh khác"."""
    try:
        return ZONE_LABELS[Zone(zone)]()
    except ValueError:
        return zone


def delivery_note(shop: Shop) -> str | None:
    """What a listing page says when the shop does not deliver everywhere, e.g. "Chỉ giao trong
    tỉnh Hà Tĩnh"; None when it delivers to the whole country."""
    rule = rule_for(shop)
    if rule.ships_to(Zone.NEIGHBOUR) and rule.ships_to(Zone.COUNTRY):
        return None
    home = province_phrase(shop.province)
    if not rule.ships_to(Zone.NEIGHBOUR):
        return _("Chỉ giao trong %(province)s.", province=home)
    return _(
        "Chỉ giao trong %(province)s và các tỉnh lân cận (%(neighbours)s).",
        province=home,
        neighbours=", ".join(neighbours_of(shop.province)),
    )


def refusal_message(shop: Shop, titles: Iterable[str], destination_province: str) -> str:
    """Why some items cannot go to an address, for the checkout page."""
    return _(
        "%(shop)s không giao tới %(province)s: %(items)s. Vui lòng bỏ các sản phẩm này khỏi giỏ "
        "hoặc chọn địa chỉ khác.",
        shop=shop.name,
        province=province_phrase(destination_province),
        items=", ".join(f"“{t}”" for t in titles),
    )


# --- editing a shop's rule ----------------------------------------------------------------------


def read_amount(errors: Errors, field: str, raw, *, required: bool, maximum: int) -> int | None:
    """An amount of đồng typed in a form (marketplace.money: "18.000" is 18000, "18000.5" an error)."""
    try:
        value = money.parse_optional_vnd(raw, maximum=maximum)
    except NumberError as exc:
        errors.add(field, exc.message)
        return None
    if value is None and required:
        errors.add(field, _("Vui lòng nhập số tiền."))
    return value


def read_count(
    errors: Errors, field: str, raw, *, required: bool, minimum: int = 0, maximum: int
) -> int | None:
    """A whole number typed in a form (grams…), within its bounds (marketplace.numbers)."""
    try:
        value = numbers.parse_optional_int(raw, minimum=minimum, maximum=maximum)
    except NumberError as exc:
        errors.add(field, exc.message)
        return None
    if value is None and required:
        errors.add(field, _("Vui lòng nhập số."))
    return value


def _zone_from_form(zone: Zone, data: Mapping, errors: Errors) -> pricing.Rule | None:
    """One zone's fields: `<zone>_ships` (a checkbox; the province is always served),
    `<zone>_flat_fee_vnd`, `<zone>_free_over_vnd` (blank: never free), `<zone>_tier_grams_N` /
    `<zone>_tier_fee_N`. A zone the shop does not serve may leave its fee blank."""
    p = f"{zone.value}_"
    ships = zone is Zone.PROVINCE or bool(data.get(f"{p}ships"))
    before = sum(len(m) for m in errors.fields.values())
    flat = read_amount(
        errors, f"{p}flat_fee_vnd", data.get(f"{p}flat_fee_vnd"), required=ships, maximum=MAX_SHIPPING_FEE_VND
    )
    free_over = read_amount(
        errors,
        f"{p}free_over_vnd",
        data.get(f"{p}free_over_vnd"),
        required=False,
        maximum=money.MAX_TOTAL_VND,
    )
    tiers: list[tuple[int, int]] = []
    for i in range(TIERS_PER_ZONE):
        grams_field, fee_field = f"{p}tier_grams_{i}", f"{p}tier_fee_{i}"
        grams = read_count(errors, grams_field, data.get(grams_field), required=False, maximum=MAX_TIER_GRAMS)
        fee = read_amount(
            errors, fee_field, data.get(fee_field), required=False, maximum=MAX_SHIPPING_FEE_VND
        )
        if grams is None and fee is None:
            continue
        if grams is None or fee is None:
            errors.add(grams_field, _("Nhập cả khối lượng và phụ phí, hoặc để trống cả hai."))
            continue
        tiers.append((grams, fee))
    if len({g for g, _fee in tiers}) != len(tiers):
        errors.add(f"{p}tier_grams_0", _("Mỗi mốc khối lượng chỉ được nhập một lần."))
    if sum(len(m) for m in errors.fields.values()) > before:
        return None
    default = pricing.DEFAULT_RULES[zone]
    return pricing.Rule(
        default.flat_fee_vnd if flat is None else flat, tuple(sorted(tiers)), free_over, ships
    )


def save_shipping_rule(shop: Shop, data: Mapping, *, actor: User) -> ShippingRule:
    """The shop's fees for every zone at once (see `_zone_from_form` for the fields)."""
    if not (can_edit_shipping(actor, shop) or is_operator(actor)):
        raise Forbidden(_("Bạn không có quyền sửa phí vận chuyển của cửa hàng này."))
    errors = Errors()
    rules = {zone: _zone_from_form(zone, data, errors) for zone in ZONES}
    neighbour, country = rules[Zone.NEIGHBOUR], rules[Zone.COUNTRY]
    if neighbour is not None and country is not None and country.ships and not neighbour.ships:
        errors.add(
            "neighbour_ships", _("Cửa hàng giao đi các tỉnh khác thì cũng cần giao tới các tỉnh lân cận.")
        )
    errors.raise_if_any()
    row = db.session.get(ShippingRule, shop.id)
    if row is None:
        row = ShippingRule(shop_id=shop.id, zones=[])
        db.session.add(row)
    by_zone = {z.zone: z for z in row.zones}
    for zone, rule in rules.items():
        assert rule is not None  # raise_if_any() refused the zones that did not read
        stored = by_zone.get(zone.value)
        if stored is None:
            stored = ShippingZone(zone=zone.value)
            row.zones.append(stored)
        stored.ships = rule.ships
        stored.flat_fee_vnd = rule.flat_fee_vnd
        stored.tiers = [list(t) for t in rule.tiers]
        stored.free_over_vnd = rule.free_over_vnd
    row.updated_by_id = actor.id
    db.session.flush()
    return row

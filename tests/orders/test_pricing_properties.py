"""orders.pricing for any cart (Hypothesis): totals are the sums of their parts, nothing is negative,
each shop's shipping rule for the parcel's zone is honoured (a refused zone is priced at nothing and
blocks the quote), and the quote does not depend on the order of the lines."""

from __future__ import annotations

from operator import attrgetter

from hypothesis import given
from hypothesis import strategies as st

from catalog.services import MAX_QUANTITY, MAX_WEIGHT_GRAMS
from marketplace.money import MAX_PRICE_VND, MAX_TOTAL_VND
from orders import pricing
from orders.pricing import ZONES, Line, Rule, ShopRule, Zone, quote, shipping_fee, zone_of

SHOPS = st.integers(min_value=1, max_value=4)


def zone_rules(ships=None):
    return st.builds(
        Rule,
        flat_fee_vnd=st.integers(min_value=0, max_value=10_000_000),
        tiers=st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=1_000_000), st.integers(min_value=0, max_value=10_000_000)
            ),
            max_size=5,
            unique_by=lambda tier: tier[0],
        ).map(tuple),
        free_over_vnd=st.none() | st.integers(min_value=0, max_value=MAX_TOTAL_VND),
        ships=st.booleans() if ships is None else ships,
    )


rules = zone_rules(st.just(True))
shop_rule = st.builds(ShopRule, province=zone_rules(), neighbour=zone_rules(), country=zone_rules())


@st.composite
def carts(draw):
    count = draw(st.integers(min_value=0, max_value=12))
    ids = draw(
        st.lists(st.integers(min_value=1, max_value=10_000), min_size=count, max_size=count, unique=True)
    )
    # Ordinary carts mostly; now and then prices and quantities at their bounds.
    price = st.integers(min_value=0, max_value=500_000) | st.integers(min_value=0, max_value=MAX_PRICE_VND)
    quantity = st.integers(min_value=1, max_value=20) | st.integers(min_value=1, max_value=MAX_QUANTITY)
    weight = st.integers(min_value=0, max_value=5_000) | st.integers(min_value=0, max_value=MAX_WEIGHT_GRAMS)
    return [Line(i, draw(SHOPS), draw(price), draw(quantity), draw(weight)) for i in ids]


shop_rules = st.dictionaries(SHOPS, shop_rule, max_size=4)
zones = st.none() | st.dictionaries(SHOPS, st.sampled_from(ZONES), max_size=4)


def _expected_fee(rule: Rule, subtotal: int, weight: int) -> tuple[int, bool]:
    if rule.free_over_vnd is not None and subtotal >= rule.free_over_vnd:
        return 0, True
    reached = [extra for grams, extra in rule.tiers if weight >= grams]
    heaviest = max((grams for grams, _extra in rule.tiers if weight >= grams), default=None)
    surcharge = dict(rule.tiers)[heaviest] if heaviest is not None else 0
    assert surcharge in [*reached, 0]
    return rule.flat_fee_vnd + surcharge, False


@given(carts(), shop_rules, zones)
def test_totals_are_sums_of_their_parts_and_never_negative(lines, rules_by_shop, zones_by_shop):
    q = quote(lines, rules_by_shop, zones_by_shop)
    by_id = attrgetter("listing_id")
    assert sorted((ln for s in q.shops for ln in s.lines), key=by_id) == sorted(lines, key=by_id)  # each once
    assert [s.shop_id for s in q.shops] == sorted({ln.shop_id for ln in lines})
    for s in q.shops:
        assert all(ln.shop_id == s.shop_id for ln in s.lines)
        assert s.subtotal_vnd == sum(ln.unit_price_vnd * ln.quantity for ln in s.lines)
        assert s.weight_grams == sum(ln.weight_grams * ln.quantity for ln in s.lines)
        assert s.total_vnd == s.subtotal_vnd + s.shipping_vnd
        assert min(s.subtotal_vnd, s.shipping_vnd, s.total_vnd, s.weight_grams) >= 0
    assert q.subtotal_vnd == sum(s.subtotal_vnd for s in q.shops)
    assert q.shipping_vnd == sum(s.shipping_vnd for s in q.shops)
    assert q.total_vnd == q.subtotal_vnd + q.shipping_vnd == sum(s.total_vnd for s in q.shops)
    assert q.total_vnd >= 0


@given(carts(), shop_rules, zones)
def test_each_shop_rule_for_its_zone_is_honoured(lines, rules_by_shop, zones_by_shop):
    q = quote(lines, rules_by_shop, zones_by_shop)
    for s in q.shops:
        shop = rules_by_shop.get(s.shop_id, ShopRule())
        zone = (zones_by_shop or {}).get(s.shop_id, Zone.PROVINCE)
        rule = shop.for_zone(zone)
        assert s.zone is zone
        if zone is not Zone.PROVINCE and not rule.ships:
            # Refused: nothing to pay for it, and nothing of the quote may be placed.
            assert (s.ships, s.shipping_vnd, s.free_shipping) == (False, 0, False)
            assert not q.deliverable and s in q.refused
            continue
        assert s.ships  # the shop's own province is always served
        assert (s.shipping_vnd, s.free_shipping) == _expected_fee(rule, s.subtotal_vnd, s.weight_grams)
        if s.free_shipping:
            assert rule.free_over_vnd is not None and s.subtotal_vnd >= rule.free_over_vnd
        else:
            assert s.shipping_vnd >= rule.flat_fee_vnd
    assert q.deliverable == all(s.ships for s in q.shops)


@given(carts(), shop_rules, zones, st.randoms(use_true_random=False))
def test_the_quote_does_not_depend_on_line_order(lines, rules_by_shop, zones_by_shop, rnd):
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert quote(shuffled, rules_by_shop, zones_by_shop) == quote(lines, rules_by_shop, zones_by_shop)
    assert (
        quote(shuffled, rules_by_shop, zones_by_shop).fingerprint()
        == quote(lines, rules_by_shop, zones_by_shop).fingerprint()
    )


@given(carts(), shop_rules, st.dictionaries(SHOPS, st.sampled_from(ZONES)), st.sampled_from(ZONES))
def test_the_fingerprint_changes_with_the_zone(lines, rules_by_shop, zones_by_shop, other):
    """The buyer agreed to a fee for one zone: an address in another zone must be looked at again."""
    q = quote(lines, rules_by_shop, zones_by_shop)
    for s in q.shops:
        if s.zone is other:
            continue
        moved = quote(lines, rules_by_shop, {**zones_by_shop, s.shop_id: other})
        assert moved.fingerprint() != q.fingerprint()


@given(carts(), shop_rules)
def test_without_zones_every_parcel_is_priced_within_the_province(lines, rules_by_shop):
    q = quote(lines, rules_by_shop)
    assert q == quote(lines, rules_by_shop, {s.shop_id: Zone.PROVINCE for s in q.shops})
    assert q.deliverable and all(s.zone is Zone.PROVINCE for s in q.shops)


@given(carts(), shop_rules, zones)
def test_the_limits_say_whether_a_cart_fits_one_checkout(lines, rules_by_shop, zones_by_shop):
    q = quote(lines, rules_by_shop, zones_by_shop)
    fits = q.total_vnd <= MAX_TOTAL_VND and all(s.weight_grams <= pricing.MAX_PARCEL_GRAMS for s in q.shops)
    assert q.within_limits == fits


@given(rules, st.integers(min_value=0, max_value=10**9))
def test_free_shipping_starts_exactly_at_the_threshold(rule, weight):
    if rule.free_over_vnd is None:
        assert shipping_fee(rule, MAX_TOTAL_VND, weight)[1] is False
        return
    assert shipping_fee(rule, rule.free_over_vnd, weight) == (0, True)
    if rule.free_over_vnd > 0:
        fee, free = shipping_fee(rule, rule.free_over_vnd - 1, weight)
        assert not free and fee >= rule.flat_fee_vnd


PROVINCES = st.sampled_from(["ha tinh", "nghe an", "quang tri", "ha noi", "ho chi minh", "ca mau"])


@st.composite
def neighbour_tables(draw):
    """A symmetric adjacency over a few provinces, as the data file is."""
    names = ["ha tinh", "nghe an", "quang tri", "ha noi", "ho chi minh", "ca mau"]
    edges = draw(st.sets(st.tuples(st.sampled_from(names), st.sampled_from(names))))
    table: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            table.setdefault(a, set()).add(b)
            table.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in table.items()}


@given(PROVINCES, st.none() | PROVINCES, neighbour_tables())
def test_the_zone_of_an_address(origin, destination, table):
    zone = zone_of(origin, destination, table)
    if destination is None or destination == origin:
        assert zone is Zone.PROVINCE
    elif destination in table.get(origin, frozenset()):
        assert zone is Zone.NEIGHBOUR
        assert zone_of(destination, origin, table) is Zone.NEIGHBOUR  # neighbours both ways
    else:
        assert zone is Zone.COUNTRY


def test_default_fees_rise_with_distance():
    """A new shop's defaults: within the province 25.000 ₫, neighbours 30.000 ₫, the rest 40.000 ₫,
    and a heavy parcel costs more the farther it goes."""
    defaults = ShopRule()
    flat = [defaults.for_zone(z).flat_fee_vnd for z in ZONES]
    assert flat == [25_000, 30_000, 40_000]
    for weight in (500, 1_500, 3_000, 6_000, 12_000):
        fees = [shipping_fee(defaults.for_zone(z), 0, weight)[0] for z in ZONES]
        assert fees == sorted(fees) and len(set(fees)) == 3, (weight, fees)
    assert all(defaults.ships_to(z) for z in ZONES)
    assert pricing.DEFAULT_RULES[Zone.COUNTRY].free_over_vnd is None

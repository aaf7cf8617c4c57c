"""orders.pricing for any cart (Hypothesis): totals are the sums of their parts, nothing is negative,
each shop's shipping rule is honoured, and the quote does not depend on the order of the lines."""

from __future__ import annotations

from operator import attrgetter

from hypothesis import given
from hypothesis import strategies as st

from catalog.services import MAX_QUANTITY, MAX_WEIGHT_GRAMS
from marketplace.money import MAX_PRICE_VND, MAX_TOTAL_VND
from orders import pricing
from orders.pricing import Line, Rule, quote, shipping_fee

SHOPS = st.integers(min_value=1, max_value=4)

rules = st.builds(
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
)


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


shop_rules = st.dictionaries(SHOPS, rules, max_size=4)


def _expected_fee(rule: Rule, subtotal: int, weight: int) -> tuple[int, bool]:
    if rule.free_over_vnd is not None and subtotal >= rule.free_over_vnd:
        return 0, True
    reached = [extra for grams, extra in rule.tiers if weight >= grams]
    heaviest = max((grams for grams, _extra in rule.tiers if weight >= grams), default=None)
    surcharge = dict(rule.tiers)[heaviest] if heaviest is not None else 0
    assert surcharge in [*reached, 0]
    return rule.flat_fee_vnd + surcharge, False


@given(carts(), shop_rules)
def test_totals_are_sums_of_their_parts_and_never_negative(lines, rules_by_shop):
    q = quote(lines, rules_by_shop)
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


@given(carts(), shop_rules)
def test_each_shop_rule_is_honoured(lines, rules_by_shop):
    q = quote(lines, rules_by_shop)
    for s in q.shops:
        rule = rules_by_shop.get(s.shop_id, Rule())
        assert (s.shipping_vnd, s.free_shipping) == _expected_fee(rule, s.subtotal_vnd, s.weight_grams)
        if s.free_shipping:
            assert rule.free_over_vnd is not None and s.subtotal_vnd >= rule.free_over_vnd
        else:
            assert s.shipping_vnd >= rule.flat_fee_vnd


@given(carts(), shop_rules, st.randoms(use_true_random=False))
def test_the_quote_does_not_depend_on_line_order(lines, rules_by_shop, rnd):
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert quote(shuffled, rules_by_shop) == quote(lines, rules_by_shop)
    assert quote(shuffled, rules_by_shop).fingerprint() == quote(lines, rules_by_shop).fingerprint()


@given(carts(), shop_rules)
def test_the_limits_say_whether_a_cart_fits_one_checkout(lines, rules_by_shop):
    q = quote(lines, rules_by_shop)
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

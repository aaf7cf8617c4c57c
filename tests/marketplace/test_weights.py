"""Weights shown to people: one helper (marketplace.numbers.format_weight), the `weight` filter."""

from __future__ import annotations

import pytest
from flask import render_template_string

from marketplace.numbers import format_weight


@pytest.mark.parametrize(
    ("grams", "shown"),
    [
        (0, "0 g"),
        (850, "850 g"),
        (999, "999 g"),
        (1000, "1,0 kg"),
        (1049, "1,0 kg"),
        (1050, "1,1 kg"),  # half up, as a scale reads
        (2000, "2,0 kg"),
        (12_345, "12,3 kg"),
        (1_250_000, "1.250,0 kg"),
        (None, ""),
    ],
)
def test_grams_under_a_kilogram_then_kilograms_with_one_decimal(grams, shown):
    # A no-break space between the number and its unit: "4,0 kg" never breaks across two lines.
    assert format_weight(grams) == shown.replace(" ", "\u00a0")


def test_the_filter_writes_vietnamese_notation_in_both_languages(app):
    for lang in ("vi", "en"):
        with app.test_request_context():
            from flask import session

            session["lang"] = lang
            assert (
                render_template_string("{{ 2000|weight }} · {{ 850|weight }}") == "2,0\u00a0kg · 850\u00a0g"
            )

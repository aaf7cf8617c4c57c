"""The producer's sample CSV goes through the one CSV writer: an operator-typed category name that
looks like a formula is written as text (issue 9, finding 8)."""

from __future__ import annotations

import csv
import io

from tests.support import sign_in


def test_sample_csv_neutralises_formula_category_names(client, factory):
    # Neither example category exists, so the sample uses the floor's own category names.
    factory.category("=cmd|' /C calc'!A0")
    shop = factory.shop()
    sign_in(client, shop.members[0].user)
    response = client.get(f"/kenh-ban/{shop.slug}/san-pham/nhap-csv/mau.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    records = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert [r["category"] for r in records] == ["'=cmd|' /C calc'!A0"] * 2
    assert records[0]["title"] == "Cam bù Hương Sơn" and records[0]["shop"] == shop.slug

"""The buyer's pages as a phone shows them: the cart a card per product with its picture and the
parcel's weight; "my orders" names each order's products with their pictures, in a fixed number
of queries however many orders there are."""

from __future__ import annotations

import re
from contextlib import contextmanager

from orders_testlib import payment_code
from sqlalchemy import event

from marketplace.extensions import db
from tests.support import image_bytes, sign_in


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_cart_is_a_card_per_line_with_picture_quantity_removal_and_weight(client, factory, shopper):
    sign_in(client, factory.user(email="mai@example.vn"))
    shop = factory.shop()
    honey = factory.listing(
        shop=shop, title="Mật ong rừng Vũ Quang", weight_grams=850, images=[image_bytes()]
    )
    candy = factory.listing(shop=shop, title="Kẹo cu đơ", weight_grams=300)
    shopper.add(honey, 2)
    shopper.add(candy, 1)

    page = client.get("/gio-hang").get_data(as_text=True)
    assert "<table" not in page
    assert page.count('class="cart-line"') == 2
    honey_card = re.search(r'<li class="cart-line">(?:(?!</li>).)*Mật ong rừng Vũ Quang.*?</li>', page, re.S)
    assert honey_card and re.search(r'<img src="/media/[^"]+" [^>]*alt=""', honey_card.group(0))
    assert f'name="qty_{honey.id}"' in honey_card.group(0)
    assert 'aria-label="Xóa Mật ong rừng Vũ Quang"' in honey_card.group(0)
    # 2 × 850 g + 300 g in one shop's parcel, the Vietnamese way.
    assert "(ước tính, 2,0\u00a0kg)" in page

    # Quantities and removal are plain form posts (no JavaScript).
    assert (
        client.post("/gio-hang/cap-nhat", data={f"qty_{honey.id}": "1", f"qty_{candy.id}": "1"}).status_code
        == 302
    )
    assert "(ước tính, 1,2\u00a0kg)" in client.get("/gio-hang").get_data(as_text=True)
    assert client.post(f"/gio-hang/xoa/{candy.id}").status_code == 302
    page = client.get("/gio-hang").get_data(as_text=True)
    assert page.count('class="cart-line"') == 1 and "(ước tính, 850\u00a0g)" in page

    # In English: the same card, its words translated, the weight still written the Vietnamese way.
    assert client.post("/ngon-ngu/en", data={"next": "/gio-hang"}).status_code == 302
    page = client.get("/gio-hang").get_data(as_text=True)
    assert 'aria-label="Remove Mật ong rừng Vũ Quang"' in page
    assert "Shipping fee (estimated, 850\u00a0g)" in page


def test_my_orders_names_products_with_pictures_in_fixed_queries(client, factory, shopper):
    sign_in(client, factory.user(email="mai@example.vn"))
    orange = factory.listing(title="Cam bù Hương Sơn", stock=50, images=[image_bytes()])
    shopper.add(orange, 1)
    payment_code(shopper.checkout("cod"))

    with counted_queries() as one_order:
        page = client.get("/don-hang").get_data(as_text=True)
    assert page.count('class="my-order"') == 1
    card = page[page.index('class="my-order"') :]
    assert "Cam bù Hương Sơn" in card and re.search(r'<img src="/media/[^"]+"', card)

    for n in range(3):
        other = factory.listing(title=f"Bưởi Phúc Trạch {n}", stock=5)
        shopper.add(other, 1)
        payment_code(shopper.checkout("cod"))
    with counted_queries() as four_orders:
        page = client.get("/don-hang").get_data(as_text=True)
    assert page.count('class="my-order"') == 4
    assert all(f"Bưởi Phúc Trạch {n}" in page for n in range(3))
    assert len(four_orders) == len(one_order), "\n".join(four_orders)

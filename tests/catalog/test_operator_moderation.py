"""The operator's moderation list: thumbnails, suspended shops' listings say so, pages of 50."""

from __future__ import annotations

import re

from catalog import views as catalog_views
from marketplace.extensions import db
from sellers.services import suspend_shop
from tests.support import image_bytes, sign_in


def _rows(html: str) -> list[str]:
    return re.findall(
        r'<li class="moderation-item[^"]*">(.*?)</li>\s*(?=<li class="moderation-item|</ul>)', html, re.S
    )


def test_suspended_shops_listings_say_so_with_thumbnails(app, client, factory):
    operator = factory.operator()
    open_shop = factory.shop(name="HTX Cam Hương Sơn")
    off_shop = factory.shop(name="Cửa hàng Kỳ Anh")
    factory.listing(shop=open_shop, title="Cam bù loại 1", images=[image_bytes()])
    factory.listing(shop=off_shop, title="Kẹo cu đơ hộp", images=[image_bytes(color=(9, 9, 9))])
    suspend_shop(off_shop, "Giấy phép hết hạn", actor=operator)
    db.session.commit()

    sign_in(client, operator)
    html = client.get("/quan-tri/san-pham").get_data(as_text=True)
    rows = {("Kẹo cu đơ" in row): row for row in _rows(html)}
    assert set(rows) == {True, False}
    assert "Cửa hàng bị tạm ngưng: sản phẩm không hiện trên sàn" in rows[True]
    assert "tạm ngưng" not in rows[False]
    for row in rows.values():  # every row has its picture, a fixed-size thumbnail
        assert re.search(r'<img src="/media/[^"]+/320\.jpg" alt="" width="64" height="64"', row), row

    only_off = client.get("/quan-tri/san-pham?shop_off=1").get_data(as_text=True)
    assert "Kẹo cu đơ hộp" in only_off and "Cam bù loại 1" not in only_off


def test_the_moderation_list_pages(app, client, factory, monkeypatch):
    monkeypatch.setattr(catalog_views, "MODERATION_PER_PAGE", 2)
    shop = factory.shop()
    for n in range(5):
        factory.listing(shop=shop, title=f"Mật ong số {n}")
    sign_in(client, factory.operator())
    first = client.get("/quan-tri/san-pham?q=Mật ong").get_data(as_text=True)
    assert len(_rows(first)) == 2 and "Trang 1 / 3" in first and "5 sản phẩm" in first
    assert 'rel="next" href="/quan-tri/san-pham?q=M%E1%BA%ADt+ong&amp;page=2"' in first
    last = client.get("/quan-tri/san-pham?q=Mật ong&page=3").get_data(as_text=True)
    assert len(_rows(last)) == 1 and "Trang 3 / 3" in last and 'rel="prev"' in last
    beyond = client.get("/quan-tri/san-pham?page=abc")
    assert beyond.status_code == 200  # a bad page number is page 1, not an error


def test_only_the_operator_sees_the_moderation_list(client, factory):
    sign_in(client, factory.user(role="producer"))
    assert client.get("/quan-tri/san-pham").status_code == 403

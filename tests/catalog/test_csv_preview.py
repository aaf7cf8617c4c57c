"""CSV import shows a preview before anything is written (issue 11): the upload page keeps the
checked file on the server and imports exactly that on confirmation; `--dry-run` prints the same
preview. Every OCOP claim the file makes is listed, and the ones that will wait for the operator."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from catalog import ocop
from catalog.csv_import import keep_upload, preview_listings, take_upload
from catalog.models import Category, CsvImportPreview, Listing, OcopCertificate
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from tests.support import form_fields, sign_in

CAM = {
    "title": "Cam bù Hương Sơn hộp 2 kg",
    "category": "Trái cây",
    "unit": "hộp",
    "price_vnd": "90.000",
    "stock": "30",
    "description": "Cam ngọt.",
    "ocop_stars": "4",
    "ocop_certificate_no": "1234/QĐ-UBND",
    "ocop_level": "province",
    "ocop_issued_on": "15/03/2025",
}


def csv_bytes(*rows: dict) -> bytes:
    import csv

    header = list(dict.fromkeys(["shop", *(key for row in rows for key in row)]))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8-sig")


THREE = csv_bytes(
    CAM,
    {**CAM, "title": "Cam bù Hương Sơn hộp 5 kg", "price_vnd": "210000", "stock": "12"},  # same claim
    {
        "title": "Mật ong rừng",
        "category": "Trái cây",
        "unit": "chai",
        "price_vnd": "250000",
        "stock": "5",
        "description": "Mật ong.",
    },
)


def written() -> tuple[int, int, int]:
    db.session.rollback()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Listing, OcopCertificate, OutboxEvent)
    )


def kept() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(CsvImportPreview))


@pytest.fixture
def shop(factory):
    factory.category("Trái cây")
    return factory.shop(name="HTX Cam Hương Sơn")


def upload(client, shop, data: bytes):
    return client.post(
        f"/kenh-ban/{shop.slug}/san-pham/nhap-csv",
        data={"file": (io.BytesIO(data), "sp.csv")},
        content_type="multipart/form-data",
    )


def confirm(client, shop, token: str, **extra):
    return client.post(f"/kenh-ban/{shop.slug}/san-pham/nhap-csv/xac-nhan", data={"token": token, **extra})


def token_of(page) -> str:
    return form_fields(page.get_data(as_text=True))["token"]


def test_upload_shows_a_preview_and_writes_nothing(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    before = written()
    page = upload(client, shop, THREE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Xem trước: 3 sản phẩm sẽ được nhập" in html and "Xác nhận nhập 3 sản phẩm" in html
    for text in (
        "Cam bù Hương Sơn hộp 5 kg",
        "Mật ong rừng",
        "Trái cây",
        "210.000",
        "90.000",
        ">30<",
        ">12<",
    ):
        assert text in html, text
    # Every OCOP claim that will wait, once with its lines.
    assert "Chứng nhận OCOP sẽ chờ sàn xác minh (1)" in html and "dòng 2, 3" in html
    assert html.count("Sẽ chờ sàn xác minh") == 2  # the two rows citing it
    assert written() == before
    assert kept() == 1
    stored = db.session.scalar(select(CsvImportPreview))
    assert bytes(stored.data) == THREE and stored.user_id == shop.members[0].user_id
    assert len(token_of(page)) >= 40 and stored.token_hash != token_of(page)  # only its hash is kept


def test_confirm_imports_exactly_the_preview(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    page = upload(client, shop, THREE)
    preview = preview_listings(THREE, actor=shop.members[0].user, shop=shop)
    response = confirm(client, shop, token_of(page))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/kenh-ban/{shop.slug}/san-pham/"
    )
    listings = db.session.scalars(select(Listing).order_by(Listing.id)).unique().all()
    assert [(x.title, x.category.name, x.price_vnd, x.stock, x.status) for x in listings] == [
        (r.title, r.category, r.price_vnd, r.stock, r.status) for r in preview.rows
    ]
    assert [x.price_vnd for x in listings] == [90000, 210000, 250000]
    claims = db.session.scalars(select(OcopCertificate)).all()
    assert [(c.certificate_no, c.stars, c.status) for c in claims] == [("1234/QĐ-UBND", 4, "waiting")]
    assert listings[0].ocop_certificate_id == listings[1].ocop_certificate_id == claims[0].id
    assert listings[2].ocop_certificate_id is None and all(x.ocop_badge() is None for x in listings)
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Đã nhập 3 sản phẩm" in landing and "1 chứng nhận OCOP đang chờ ban quản lý sàn xác minh" in landing
    )
    assert kept() == 0
    # The same confirmation again (a double click, the back button) imports nothing.
    again = confirm(client, shop, token_of(page))
    assert again.status_code == 302 and again.headers["Location"].endswith("/san-pham/nhap-csv")
    assert "không còn dùng được" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert written()[0] == 3


def test_confirm_never_reads_resubmitted_data(client, csrf_off, shop):
    """Whatever else the confirmation carries (a file, rows), the kept upload is what is imported."""
    sign_in(client, shop.members[0].user)
    page = upload(client, shop, THREE)
    other = csv_bytes({**CAM, "title": "Hàng giả", "price_vnd": "1"})
    response = client.post(
        f"/kenh-ban/{shop.slug}/san-pham/nhap-csv/xac-nhan",
        data={"token": token_of(page), "file": (io.BytesIO(other), "khac.csv"), "title": "Hàng giả"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    titles = set(db.session.scalars(select(Listing.title)))
    assert titles == {"Cam bù Hương Sơn hộp 2 kg", "Cam bù Hương Sơn hộp 5 kg", "Mật ong rừng"}


def test_an_expired_token_is_refused(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    token = token_of(upload(client, shop, THREE))
    db.session.execute(update(CsvImportPreview).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = confirm(client, shop, token)
    assert response.status_code == 302
    assert "không còn dùng được" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert written()[0] == 0


def test_a_foreign_token_is_refused(app, client, csrf_off, factory, shop):
    owner = shop.members[0].user
    sign_in(client, owner)
    token = token_of(upload(client, shop, THREE))
    # A colleague of the same shop, another shop's owner on their own shop, a made-up token.
    from sellers.models import ShopMember

    staff = factory.user(role="producer")
    db.session.add(ShopMember(shop_id=shop.id, user_id=staff.id, role="staff"))
    db.session.commit()
    colleague = sign_in(app.test_client(), staff)
    assert confirm(colleague, shop, token).status_code == 302
    other_shop = factory.shop(name="Hộ khác")
    stranger = sign_in(app.test_client(), other_shop.members[0].user)
    assert confirm(stranger, other_shop, token).status_code == 302
    assert confirm(stranger, shop, token).status_code == 404  # not their shop at all
    # The owner's own second shop: the token belongs to the first.
    second = factory.shop(owner=owner, name="Cửa hàng thứ hai")
    assert confirm(client, second, token).status_code == 302
    assert confirm(client, shop, "x" * 43).status_code == 302
    assert confirm(client, shop, "").status_code == 302
    assert written()[0] == 0
    # Still the owner's, on its own shop: it works.
    assert confirm(client, shop, token).status_code == 302
    assert written()[0] == 3


def test_a_preview_with_problems_shows_them_per_line_and_cannot_be_confirmed(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    bad = csv_bytes(CAM, {**CAM, "title": "Cam lỗi", "price_vnd": "45000.5", "ocop_issued_on": ""})
    page = upload(client, shop, bad)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Các dòng đã đọc" in html
    assert "Cam lỗi" in html and "price_vnd" in html and "ocop_certificate_no" in html and "✓" in html
    assert "token" not in form_fields(html) and "nhap-csv/xac-nhan" not in html
    assert written()[0] == 0 and kept() == 0


def test_a_floor_change_between_preview_and_confirm_shows_the_new_reading(client, csrf_off, factory):
    """The shop is approved meanwhile: its products would now go on sale instead of drafts. That
    is not what was previewed, so nothing is imported and the new preview is shown."""
    from sellers.services import approve_shop

    factory.category("Trái cây")
    shop = factory.shop(name="HTX mới", approved=False)
    sign_in(client, shop.members[0].user)
    page = upload(client, shop, THREE)
    assert "Nháp" in page.get_data(as_text=True)
    approve_shop(shop, actor=factory.operator())
    db.session.commit()
    changed = confirm(client, shop, token_of(page))
    html = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "Dữ liệu trên sàn đã thay đổi" in html and "Đang bán" in html
    assert written()[0] == 0 and kept() == 1
    assert confirm(client, shop, token_of(page)).status_code == 302 and written()[0] == 0  # old token gone
    assert confirm(client, shop, token_of(changed)).status_code == 302
    assert {x.status for x in db.session.scalars(select(Listing))} == {"active"}


def test_a_category_gone_between_preview_and_confirm_is_reported(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    page = upload(client, shop, THREE)
    db.session.execute(update(Category).values(name="Hoa quả", slug="hoa-qua"))
    db.session.commit()
    failed = confirm(client, shop, token_of(page))
    html = failed.get_data(as_text=True)
    assert failed.status_code == 200 and "Không có danh mục “Trái cây”" in html
    assert written()[0] == 0 and kept() == 0


def test_the_preview_tells_which_claims_are_already_decided(client, csrf_off, factory, shop):
    checked = factory.listing(
        shop=shop,
        title="Cam bù cũ",
        ocop_stars=4,
        ocop_certificate_no="1234/QĐ-UBND",
        ocop_level="province",
        ocop_issued_on="15/03/2025",
    )
    factory.check_ocop(checked)
    refused = factory.listing(
        shop=shop, title="Bưởi cũ", ocop_stars=3, ocop_certificate_no="77/QĐ", ocop_issued_on="01/02/2025"
    )
    ocop.refuse_certificate(refused.ocop_certificate, "Không có trong danh sách", actor=factory.operator())
    db.session.commit()
    data = csv_bytes(
        CAM,
        {
            **CAM,
            "title": "Bưởi Phúc Trạch",
            "ocop_stars": "3",
            "ocop_certificate_no": "77/QĐ",
            "ocop_level": "",
            "ocop_issued_on": "01/02/2025",
        },
        {**CAM, "title": "Kẹo cu đơ", "ocop_stars": "3", "ocop_certificate_no": "88/QĐ", "ocop_level": ""},
    )
    preview = preview_listings(data, actor=shop.members[0].user, shop=shop)
    assert [(c.certificate_no, c.state, c.waits) for c in preview.claims] == [
        ("1234/QĐ-UBND", "checked", False),
        ("77/QĐ", "refused", False),
        ("88/QĐ", "new", True),
    ]
    sign_in(client, shop.members[0].user)
    html = upload(client, shop, data).get_data(as_text=True)
    assert "Chứng nhận OCOP sẽ chờ sàn xác minh (1)" in html and "Đã được xác minh" in html
    assert "Không có trong danh sách" in html


def test_take_upload_gives_a_kept_file_once(app, shop):
    owner = shop.members[0].user
    preview = preview_listings(THREE, actor=owner, shop=shop)
    token = keep_upload(THREE, preview, shop=shop, user=owner)
    assert take_upload(token, shop=shop, user=owner) == (THREE, preview.fingerprint)
    assert take_upload(token, shop=shop, user=owner) is None


def test_a_user_keeps_only_a_few_uploads(app, shop):
    owner = shop.members[0].user
    preview = preview_listings(THREE, actor=owner, shop=shop)
    tokens = [keep_upload(THREE, preview, shop=shop, user=owner) for _ in range(5)]
    db.session.commit()
    assert kept() == 3
    assert take_upload(tokens[0], shop=shop, user=owner) is None
    assert take_upload(tokens[-1], shop=shop, user=owner) is not None


# --- the command ----------------------------------------------------------------------------------


def test_dry_run_prints_the_preview_and_writes_nothing(runner, shop, tmp_path):
    rows = [{"shop": shop.slug, **row} for row in (CAM, {**CAM, "title": "Cam bù hộp 5 kg"})]
    rows.append({**rows[0], "title": "Chè xanh", "ocop_certificate_no": "55/QĐ", "ocop_stars": "3"})
    path = tmp_path / "sp.csv"
    path.write_bytes(csv_bytes(*rows))
    before = written()
    result = runner.invoke(args=["catalog", "import-csv", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "line 2: Cam bù Hương Sơn hộp 2 kg | Trái cây | 90000 VND | stock 30 | active" in out
    assert "line 4: Chè xanh" in out
    assert "OCOP claims that will wait for the operator's check: 2" in out
    assert "1234/QĐ-UBND 4★ province 15/03/2025 (shop htx-cam-huong-son; lines 2, 3)" in out
    assert "55/QĐ 3★ province 15/03/2025 (shop htx-cam-huong-son; line 4)" in out
    assert out.rstrip().endswith(
        "dry run: 3 listings would be imported into 1 shops; 2 OCOP claims would wait for checking; "
        "nothing written"
    )
    assert written() == before and kept() == 0
    # The real run then says the same about the claims.
    result = runner.invoke(args=["catalog", "import-csv", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 3 listings into 1 shops" in result.stdout
    assert "2 OCOP claims wait for the operator's check" in result.stdout
    assert written()[:2] == (3, 2)


def test_dry_run_with_problems_exits_non_zero(runner, shop, tmp_path):
    path = tmp_path / "sp.csv"
    path.write_bytes(csv_bytes({"shop": shop.slug, **CAM, "price_vnd": "-5"}))
    result = runner.invoke(args=["catalog", "import-csv", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert result.stderr.startswith("line 2: price_vnd: ") and "nothing imported" in result.stderr
    assert written()[0] == 0

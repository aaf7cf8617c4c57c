"""CSV import of listings: the service, `flask catalog import-csv` and the producer's upload page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog import csv_import
from catalog.csv_import import ImportFailed, import_listings
from catalog.models import Category, Listing, ListingImage
from marketplace.extensions import db
from marketplace.models import Commune, OutboxEvent
from sellers.models import Shop
from tests.support import form_fields, image_bytes, sign_in

HEADER = ["shop", "title", "category", "unit", "price_vnd", "stock", "description"]


def csv_text(rows: list[dict], header: list[str] | None = None) -> str:
    header = header or list(dict.fromkeys(HEADER + [k for row in rows for k in row]))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(rows, header).encode(encoding))
    return path


def row(shop, title="Cam bù Hương Sơn", **extra) -> dict:
    slug = shop if isinstance(shop, str) else shop.slug
    return {
        "shop": slug,
        "title": title,
        "category": "Trái cây",
        "unit": "kg",
        "price_vnd": "45000",
        "stock": "10",
        "description": "Cam ngọt.",
        **extra,
    }


def counts() -> tuple[int, int, int, int, int]:
    def n(model):
        return db.session.scalar(select(func.count()).select_from(model))

    return n(Listing), n(ListingImage), n(OutboxEvent), n(Shop), n(Category)


def media_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def shop(factory):
    factory.category("Trái cây")
    return factory.shop(name="Hộ ông Ba")


# --- the service --------------------------------------------------------------------------------


def test_good_file_imports_fields_images_and_events(app, shop, tmp_path):
    folder = tmp_path / "upload"
    (folder / "anh").mkdir(parents=True)
    (folder / "anh" / "cam.jpg").write_bytes(image_bytes(size=(1600, 1200)))
    (folder / "anh" / "cam2.png").write_bytes(image_bytes("PNG", color=(10, 200, 10)))
    path = write_csv(
        folder / "sp.csv",
        [
            row(
                shop,
                price_vnd="45.000",
                stock="1.200",
                sku="CAM-01",
                origin="Hương Sơn",
                ocop_stars="4",
                ocop_certificate_no="12/QĐ-UBND",
                ocop_level="province",
                ocop_issued_on="15/03/2024",
                certifications="VietGAP; Chỉ dẫn địa lý",
                image_path="anh/cam.jpg; anh\\cam2.png",
            ),
            row(
                shop,
                title="Bưởi Phúc Trạch",
                price_vnd="60,000",
                stock="",
                description="Dòng 1\nDòng 2",
                ocop_issued_on="2024-01-31",
                image_path="",
            ),
        ],
    )
    outbox_before = counts()[2]

    result = import_listings(path, actor=None)
    db.session.commit()

    assert result.count == 2 and [s.id for s in result.shops] == [shop.id]
    assert result.summary() == "imported 2 listings into 1 shops"
    cam, buoi = db.session.scalars(select(Listing).order_by(Listing.id)).unique().all()
    assert (cam.title, cam.price_vnd, cam.stock, cam.unit, cam.sku, cam.origin) == (
        "Cam bù Hương Sơn",
        45000,
        1200,
        "kg",
        "CAM-01",
        "Hương Sơn",
    )
    assert cam.category.name == "Trái cây" and cam.shop_id == shop.id
    assert (cam.ocop_stars, cam.ocop_certificate_no, cam.ocop_level, cam.ocop_issued_on.isoformat()) == (
        4,
        "12/QĐ-UBND",
        "province",
        "2024-03-15",
    )
    assert cam.certifications == ["VietGAP", "Chỉ dẫn địa lý"]
    assert cam.status == "active" and cam.published_at is not None and cam.slug == "cam-bu-huong-son"
    assert (buoi.price_vnd, buoi.stock, buoi.ocop_stars) == (60000, 0, None)
    assert buoi.description.startswith("<p>Dòng 1") and "Dòng 2</p>" in buoi.description  # sanitised
    # images: stored through the pipeline, cover first, every variant on disk
    assert [(img.position, img.width, img.height) for img in cam.images] == [(0, 1600, 1200), (1, 640, 480)]
    for img in cam.images:
        folder_of = Path(app.config["MEDIA_ROOT"]) / "img" / img.key[:2] / img.key
        assert {p.name for p in folder_of.iterdir()} == {
            "orig.jpg",
            "320.webp",
            "320.jpg",
            "1200.webp",
            "1200.jpg",
        }
    assert buoi.images == []
    events = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "listing.changed").order_by(OutboxEvent.id)
    ).all()
    assert [e.payload for e in events] == [
        {"listing_id": cam.id, "action": "created"},
        {"listing_id": buoi.id, "action": "created"},
    ]
    assert counts()[2] == outbox_before + 2


def test_one_bad_row_means_nothing_written_and_every_error_listed(app, shop, tmp_path):
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "cam.jpg").write_bytes(image_bytes())
    path = write_csv(
        folder / "sp.csv",
        [
            row(shop, image_path="cam.jpg"),  # line 2: good, with a picture
            row(shop, title="Bưởi", price_vnd="45000.5"),  # line 3: decimal price
            row(shop, title="Mật ong", description="Mô tả\ndài"),  # line 4: good (two physical lines)
            row(shop, title="", stock="-3", unit=""),  # line 5: three problems
            row(shop, title="Kẹo cu đơ", category="Không có"),  # line 6: unknown category
            row(shop, title="Nước mắm", ocop_stars="4"),  # line 7: stars without certificate
            row(shop, title="Chè xanh", ocop_stars="6"),  # line 8: stars out of range
        ],
    )
    before = counts()

    with pytest.raises(ImportFailed) as caught:
        import_listings(path, actor=None)
    db.session.rollback()

    assert counts() == before
    assert media_files(app) == []  # the good row's picture was not stored either
    where = [(e.line, e.column) for e in caught.value.errors]
    assert where == [
        (3, "price_vnd"),
        (5, "title"),
        (5, "unit"),
        (5, "stock"),
        (6, "category"),
        (7, "ocop_certificate_no"),
        (8, "ocop_stars"),
    ]
    text = [str(e) for e in caught.value.errors]
    assert text[0].startswith("line 3: price_vnd: ") and "thập phân" in text[0]
    assert "ocop_issued_on" in text[5]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("45000", 45000),
        ("45.000", 45000),
        ("45,000", 45000),
        ("1.250.000", 1250000),
        ("45.000 ₫", 45000),
        ("45000đ", 45000),
        ("0", 0),
    ],
)
def test_price_formats_accepted(shop, raw, expected):
    result = import_listings(csv_text([row(shop, price_vnd=raw)]).encode(), actor=None, shop=shop)
    assert result.listings[0].price_vnd == expected


@pytest.mark.parametrize("raw", ["45000.5", "1.5", "45.00", "-1", "abc", "", "1.000,5", "45,000.000"])
def test_price_formats_refused(shop, raw):
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row(shop, price_vnd=raw)]).encode(), actor=None, shop=shop)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "price_vnd")]


def test_unknown_column_is_an_error(shop):
    data = csv_text([{**row(shop), "color": "cam"}]).encode()
    with pytest.raises(ImportFailed) as caught:
        import_listings(data, actor=None)
    assert len(caught.value.errors) == 1
    error = caught.value.errors[0]
    assert (error.line, error.column) == (1, "color") and "color" in error.message
    assert counts()[0] == 0


def test_missing_required_column_is_an_error(shop):
    rows = [{k: v for k, v in row(shop).items() if k != "price_vnd"}]
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text(rows, header=[h for h in HEADER if h != "price_vnd"]).encode(), actor=None)
    assert [(e.line, "price_vnd" in e.message) for e in caught.value.errors] == [(1, True)]


def test_byte_order_mark_is_accepted(tmp_path, shop):
    path = write_csv(tmp_path / "excel.csv", [row(shop)], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert import_listings(path, actor=None).count == 1


def test_not_utf8_and_semicolons_are_explained(shop):
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row(shop)]).encode("cp1258", errors="replace"), actor=None)
    assert "UTF-8" in caught.value.errors[0].message
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row(shop)]).encode("utf-16"), actor=None)
    assert "UTF-16" in caught.value.errors[0].message
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row(shop)]).replace(",", ";").encode(), actor=None)
    assert "dấu phẩy" in caught.value.errors[0].message


def test_category_name_matched_case_insensitively_or_by_slug(factory, shop):
    chè = factory.category("Chè và đồ uống")
    rows = [
        row(shop, category="trái cây"),
        row(shop, title="Chè xanh", category="  CHÈ VÀ ĐỒ UỐNG "),
        row(shop, title="Chè búp", category=chè.slug),
    ]
    result = import_listings(csv_text(rows).encode(), actor=None)
    assert [listing.category.name for listing in result.listings] == [
        "Trái cây",
        "Chè và đồ uống",
        "Chè và đồ uống",
    ]


def test_unknown_shop_and_category_are_errors_without_create_missing(shop):
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row("htx-moi", category="Hải sản khô")]).encode(), actor=None)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "shop"), (2, "category")]
    assert "--create-missing" in caught.value.errors[0].message


def test_create_missing_makes_an_approved_shop_and_a_top_level_category(app, shop):
    rows = [
        row("htx-muc-kho", title="Mực khô", category="Hải sản khô"),
        row("htx-muc-kho", title="Cá khô", category="hải sản khô"),
        row(shop, title="Cam", category="Trái cây"),
    ]
    result = import_listings(csv_text(rows).encode(), actor=None, create_missing=True)
    db.session.commit()
    assert [s.slug for s in result.created_shops] == ["htx-muc-kho"]
    assert [c.name for c in result.created_categories] == ["Hải sản khô"]
    new = result.created_shops[0]
    assert (new.status, new.kind, new.province) == ("approved", "household", app.config["PROVINCE_NAME"])
    assert (new.commune.name, new.commune.active) == (csv_import.PLACEHOLDER_COMMUNE, False)
    assert result.created_categories[0].parent_id is None
    assert [(li.shop.slug, li.status) for li in result.listings] == [
        ("htx-muc-kho", "active"),
        ("htx-muc-kho", "active"),
        (shop.slug, "active"),
    ]
    topics = db.session.scalars(select(OutboxEvent.topic)).all()
    assert "shop.changed" in topics and "category.changed" in topics
    # a second import reuses the shop, the category and the placeholder commune
    import_listings(
        csv_text([row("htx-muc-kho", title="Tôm khô", category="Hải sản khô")]).encode(),
        actor=None,
        create_missing=True,
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(Commune).where(Commune.name == csv_import.PLACEHOLDER_COMMUNE)
        )
        == 1
    )
    assert db.session.scalar(select(func.count()).select_from(Shop).where(Shop.slug == "htx-muc-kho")) == 1


def test_create_missing_refuses_a_bad_slug(shop):
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row("HTX Mực khô")]).encode(), actor=None, create_missing=True)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "shop")]


def test_unapproved_shop_gets_drafts(factory):
    factory.category("Trái cây")
    pending = factory.shop(approved=False)
    result = import_listings(csv_text([row(pending)]).encode(), actor=None)
    assert result.listings[0].status == "draft" and result.listings[0].published_at is None


def test_image_paths_outside_the_csv_folder_are_refused(app, shop, tmp_path):
    (tmp_path / "x.jpg").write_bytes(image_bytes())
    folder = tmp_path / "csv"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "link.jpg").symlink_to(tmp_path / "x.jpg")
    path = write_csv(
        folder / "sp.csv",
        [
            row(shop, image_path="../x.jpg"),
            row(shop, image_path=str(tmp_path / "x.jpg")),
            row(shop, image_path="sub/../../x.jpg"),
            row(shop, image_path="sub/link.jpg"),
            row(shop, image_path="https://example.com/cam.jpg"),
            row(shop, image_path="C:\\anh\\cam.jpg"),
            row(shop, image_path="khong-co.jpg"),
        ],
    )
    (folder / "not-image.jpg").write_text("hello")
    with pytest.raises(ImportFailed) as caught:
        import_listings(path, actor=None)
    assert [(e.line, e.column) for e in caught.value.errors] == [(n, "image_path") for n in range(2, 9)]
    assert counts()[0] == 0 and media_files(app) == []


def test_a_broken_image_is_a_row_error(app, shop, tmp_path):
    (tmp_path / "hong.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    path = write_csv(tmp_path / "sp.csv", [row(shop, image_path="hong.jpg")])
    with pytest.raises(ImportFailed) as caught:
        import_listings(path, actor=None)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "image_path")]
    assert media_files(app) == []


def test_image_that_fails_while_storing_leaves_no_files(app, shop, tmp_path, monkeypatch):
    """Phase 1 passed but the pipeline refused the second picture: the first one's folder goes too."""
    (tmp_path / "a.jpg").write_bytes(image_bytes())
    (tmp_path / "b.jpg").write_bytes(image_bytes(color=(1, 2, 3)))
    path = write_csv(
        tmp_path / "sp.csv", [row(shop, image_path="a.jpg"), row(shop, title="B", image_path="b.jpg")]
    )
    real = csv_import.process_image
    calls = []

    def flaky(blob, *, field):
        calls.append(1)
        if len(calls) == 2:
            from marketplace.errors import ValidationFailed

            raise ValidationFailed({field: ["hỏng"]}, "hỏng")
        return real(blob, field=field)

    monkeypatch.setattr(csv_import, "process_image", flaky)
    with pytest.raises(ImportFailed) as caught:
        import_listings(path, actor=None)
    db.session.rollback()
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "image_path")]
    assert media_files(app) == [] and counts()[0] == 0


def test_size_and_row_limits(shop, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_ROWS", 3)
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row(shop, title=f"SP {n}") for n in range(4)]).encode(), actor=None)
    assert "3 dòng" in caught.value.errors[0].message
    assert (
        import_listings(csv_text([row(shop, title=f"SP {n}") for n in range(3)]).encode(), actor=None).count
        == 3
    )
    monkeypatch.setattr(csv_import, "MAX_BYTES", 100)
    with pytest.raises(ImportFailed) as caught:
        import_listings(io.BytesIO(b"x" * 101), actor=None)
    assert "MB" in caught.value.errors[0].message


def test_line_numbers_follow_spreadsheet_rows(shop):
    """A quoted cell with line breaks is one spreadsheet row; blank rows still count."""
    text = (
        csv_text([row(shop, description="một\nhai\nba")])
        + "\r\n"
        + csv_text([row(shop, price_vnd="x")]).split("\r\n", 1)[1]
    )
    with pytest.raises(ImportFailed) as caught:
        import_listings(text.encode(), actor=None)
    assert [(e.line, e.column) for e in caught.value.errors] == [(4, "price_vnd")]


def test_empty_file_and_header_only(shop):
    with pytest.raises(ImportFailed):
        import_listings(b"", actor=None)
    with pytest.raises(ImportFailed) as caught:
        import_listings((",".join(HEADER) + "\r\n").encode(), actor=None)
    assert caught.value.errors[0].line == 2


def test_a_producer_cannot_import_into_another_shop(factory, shop):
    owner = shop.members[0].user
    other = factory.shop(name="Hộ khác")
    data = csv_text([row(shop), row(other, title="Lén")]).encode()
    with pytest.raises(ImportFailed) as caught:
        import_listings(data, actor=owner, shop=shop)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "shop")]
    assert counts()[0] == 0
    # nor pass another shop, nor ask for new shops/categories
    from marketplace.errors import Forbidden

    with pytest.raises(Forbidden):
        import_listings(csv_text([row(other)]).encode(), actor=owner, shop=other)
    with pytest.raises(Forbidden):
        import_listings(data, actor=owner, shop=shop, create_missing=True)


def test_shop_column_may_be_blank_or_absent_with_a_shop(shop):
    owner = shop.members[0].user
    blank = csv_text([row("", title="A")]).encode()
    assert import_listings(blank, actor=owner, shop=shop).listings[0].shop_id == shop.id
    no_column = csv_text(
        [{k: v for k, v in row(shop, title="B").items() if k != "shop"}], header=HEADER[1:]
    ).encode()
    assert import_listings(no_column, actor=owner, shop=shop).listings[0].shop_id == shop.id
    with pytest.raises(ImportFailed):  # without a shop, the column is required
        import_listings(no_column, actor=None)


def test_image_path_in_a_web_upload_is_an_error(shop):
    data = csv_text([row(shop, image_path="cam.jpg")]).encode()
    with pytest.raises(ImportFailed) as caught:
        import_listings(data, actor=shop.members[0].user, shop=shop)
    error = caught.value.errors[0]
    assert (error.line, error.column) == (2, "image_path") and "trang sửa sản phẩm" in error.message


# --- the command ---------------------------------------------------------------------------------


def test_cli_imports_and_prints_a_summary(runner, shop, tmp_path):
    path = write_csv(tmp_path / "sp.csv", [row(shop), row(shop, title="Bưởi Phúc Trạch")])
    result = runner.invoke(args=["catalog", "import-csv", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 2 listings into 1 shops" in result.stdout
    db.session.remove()
    assert counts()[0] == 2  # committed


def test_cli_reports_every_error_and_exits_non_zero(runner, shop, tmp_path):
    path = write_csv(tmp_path / "sp.csv", [row(shop), row(shop, price_vnd="-5"), row("htx-la", title="X")])
    result = runner.invoke(args=["catalog", "import-csv", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("line 3: price_vnd: ")
    assert lines[1].startswith("line 4: shop: ")
    assert "nothing imported" in lines[-1]
    assert "imported" not in result.stdout
    db.session.remove()
    assert counts()[0] == 0


def test_cli_create_missing(runner, shop, tmp_path):
    path = write_csv(tmp_path / "sp.csv", [row("htx-che-xanh", title="Chè xanh", category="Chè")])
    assert runner.invoke(args=["catalog", "import-csv", str(path)]).exit_code == 1
    result = runner.invoke(args=["catalog", "import-csv", str(path), "--create-missing"])
    assert result.exit_code == 0, result.output
    assert (
        "created shop htx-che-xanh" in result.stdout and "imported 1 listings into 1 shops" in result.stdout
    )
    db.session.remove()
    listing = db.session.scalar(select(Listing))
    assert (listing.shop.slug, listing.category.name) == ("htx-che-xanh", "Chè")


# --- the upload page -----------------------------------------------------------------------------


def upload(client, shop, text: str, filename="sp.csv"):
    return client.post(
        f"/kenh-ban/{shop.slug}/san-pham/nhap-csv",
        data={"file": (io.BytesIO(text.encode("utf-8-sig")), filename)},
        content_type="multipart/form-data",
    )


def confirm(client, shop, preview_page):
    """Press "confirm import" on a preview page: it posts the kept upload's token, nothing else."""
    token = form_fields(preview_page.get_data(as_text=True))["token"]
    return client.post(f"/kenh-ban/{shop.slug}/san-pham/nhap-csv/xac-nhan", data={"token": token})


def test_upload_for_own_shop(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    page = client.get(f"/kenh-ban/{shop.slug}/san-pham/nhap-csv")
    assert page.status_code == 200 and "price_vnd" in page.get_data(as_text=True)
    preview = upload(client, shop, csv_text([row(shop), row("", title="Bưởi Phúc Trạch")]))
    assert preview.status_code == 200 and "Xem trước: 2 sản phẩm" in preview.get_data(as_text=True)
    db.session.remove()
    assert counts()[0] == 0
    response = confirm(client, shop, preview)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/kenh-ban/{shop.slug}/san-pham/")
    assert "Đã nhập 2 sản phẩm" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.remove()
    assert counts()[0] == 2


def test_upload_errors_are_listed_and_nothing_written(client, csrf_off, factory, shop):
    other = factory.shop(name="Hộ khác")
    sign_in(client, shop.members[0].user)
    response = upload(
        client, shop, csv_text([row(shop), row(other, title="Lén"), row(shop, image_path="a.jpg")])
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Dòng 3" in html and other.slug in html and "Dòng 4" in html and "image_path" in html
    db.session.remove()
    assert counts()[0] == 0


def test_upload_without_csrf_token_is_refused(client, shop):
    sign_in(client, shop.members[0].user)
    response = upload(client, shop, csv_text([row(shop)]))
    assert response.status_code == 400
    db.session.remove()
    assert counts()[0] == 0


def test_upload_requires_a_file(client, csrf_off, shop):
    sign_in(client, shop.members[0].user)
    response = client.post(
        f"/kenh-ban/{shop.slug}/san-pham/nhap-csv", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 200 and "Vui lòng chọn tệp CSV" in response.get_data(as_text=True)


def test_upload_page_of_another_shop_is_hidden(client, csrf_off, factory, shop):
    other = factory.shop(name="Hộ khác")
    sign_in(client, shop.members[0].user)
    assert client.get(f"/kenh-ban/{other.slug}/san-pham/nhap-csv").status_code == 404
    assert upload(client, other, csv_text([row(other)])).status_code == 404
    assert client.get(f"/kenh-ban/{other.slug}/san-pham/nhap-csv/mau.csv").status_code == 404
    db.session.remove()
    assert counts()[0] == 0


def test_sample_csv_downloads_and_imports_back(client, csrf_off, factory, shop):
    factory.category("Đặc sản")
    sign_in(client, shop.members[0].user)
    response = client.get(f"/kenh-ban/{shop.slug}/san-pham/nhap-csv/mau.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    records = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(records) == 2 and records[0]["title"] == "Cam bù Hương Sơn"
    assert list(records[0]) == list(csv_import.COLUMNS) and {r["shop"] for r in records} == {shop.slug}
    imported = confirm(client, shop, upload(client, shop, text.lstrip("\ufeff")))
    assert imported.status_code == 302
    db.session.remove()
    assert (
        db.session.scalar(select(Listing.price_vnd).where(Listing.title == "Mật ong rừng Hương Sơn"))
        == 250000
    )

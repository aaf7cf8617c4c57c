"""The legal pages: the safe text format, dated versions published by the operator, the public
pages (current version, earlier ones, one waiting for its date), and the footer."""

from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.config import ConfigError, load_config
from marketplace.errors import Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.legal import markup, services
from marketplace.legal.models import LegalPageVersion
from marketplace.legal.pages import PAGES
from tests.support import form_fields, sign_in

EDIT = "/quan-tri/trang-phap-ly/chinh-sach-bao-mat"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


# --- the text format ----------------------------------------------------------------------------


def test_the_format_gives_headings_lists_emphasis_and_links():
    html = markup.render(
        "# Điều 1. Phạm vi\nĐoạn **đậm** và *nghiêng*, _cũng nghiêng_; ten_tep_co_gach giữ nguyên.\n"
        "Dòng thứ hai.\n\n## Mục nhỏ\n- một [email](mailto:bqt@example.vn)\n- hai\n  tiếp dòng\n\n"
        "3. ba\n4. bốn\n\nXem [chính sách](/chinh-sach-bao-mat) và [trang](https://example.vn/a_b_c?x=1&y=2)."
    )
    assert "<h2>Điều 1. Phạm vi</h2>" in html and "<h3>Mục nhỏ</h3>" in html
    assert "<strong>đậm</strong>" in html and "<em>nghiêng</em>" in html and "<em>cũng nghiêng</em>" in html
    assert "ten_tep_co_gach" in html and "Dòng thứ hai" in html and "<br>" in html
    assert '<ul><li>một <a href="mailto:bqt@example.vn" rel="noopener noreferrer">email</a></li>' in html
    assert "<li>hai<br>tiếp dòng</li></ul>" in html
    assert '<ol start="3"><li>ba</li><li>bốn</li></ol>' in html
    assert '<a href="/chinh-sach-bao-mat" rel="noopener noreferrer">chính sách</a>' in html
    # Emphasis never reaches inside a URL; the & is escaped in the attribute.
    assert 'href="https://example.vn/a_b_c?x=1&amp;y=2"' in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[bấm](javascript:alert(1))",
        "[bấm](JaVaScRiPt:alert)",
        "[bấm](data:text/html;base64,PHNjcmlwdD4=)",
        "[bấm](//evil.example/x)",
        "[bấm](/\\evil.example)",
        '[bấm](https://x.vn/" onclick="alert(1))',
        "<a href='https://x.vn' onclick='alert(1)'>x</a>",
        "**<b onmouseover=alert(1)>x</b>**",
    ],
)
def test_markup_typed_into_the_text_stays_text(source):
    html = markup.render(source)
    for tag, attrs in tags_of(html):
        assert tag in markup.TAGS
        assert set(attrs) <= {"href", "rel", "start"}
        href = attrs.get("href") or ""
        assert not href or href.startswith(("https://", "http://", "mailto:", "tel:", "/"))
        assert not href.startswith(("//", "/\\"))
    assert not any(raw in html for raw in ("<script", "<img", "<b ", "<a href='"))  # text, never tags


PIECES = [*"ab <>\"'&#*_-[]()/:=\n\\", "javascript:", "http://", "mailto:", "1. ", "](", "**", "<a href="]


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_text_renders_to_the_allowed_tags_only(source):
    for tag, attrs in tags_of(markup.render(source)):
        assert tag in markup.TAGS
        assert set(attrs) <= {"href", "rel", "start"}
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("https://", "http://", "mailto:", "tel:", "/")), href
            assert not href.startswith(("//", "/\\")), href


# --- publishing ---------------------------------------------------------------------------------


def test_a_fresh_install_has_every_page_saying_it_is_not_published(client):
    home = client.get("/").get_data(as_text=True)
    for page in PAGES:
        assert f'href="/{page.slug}"' in home, page.slug  # the footer links every page
        r = client.get(f"/{page.slug}")
        assert r.status_code == 200
        assert "Trang này chưa được ban quản lý sàn công bố." in r.get_data(as_text=True)
    assert client.get("/chinh-sach-bao-mat/phien-ban/1").status_code == 404


def test_the_operator_previews_then_publishes_versions_and_the_public_sees_them(
    app, client, factory, csrf_off
):
    operator = factory.operator(name="Lê Thị Quản Trị")
    sign_in(client, operator)
    page = client.get(EDIT)
    assert page.status_code == 200
    fields = form_fields(page.get_data(as_text=True))
    assert fields["effective_from"] == services.local_today().isoformat()

    text = "# Mục đích\nChúng tôi **không bán** dữ liệu.\n<script>alert(1)</script>"
    preview = client.post(EDIT, data={**fields, "body": text, "action": "preview"})
    assert preview.status_code == 200 and "<strong>không bán</strong>" in preview.get_data(as_text=True)
    assert LegalPageVersion.query.count() == 0  # a preview publishes nothing

    r = client.post(EDIT, data={**fields, "body": text, "change_note": "Bản đầu", "action": "publish"})
    assert r.status_code == 302
    first = LegalPageVersion.query.one()
    assert (first.page, first.number, first.effective_from) == ("privacy", 1, services.local_today())
    assert first.published_by_id == operator.id and first.change_note == "Bản đầu"
    assert "&lt;script&gt;" in first.body_html and "<script>" not in first.body_html

    public = client.get("/chinh-sach-bao-mat").get_data(as_text=True)
    assert "<strong>không bán</strong>" in public and "&lt;script&gt;alert(1)&lt;/script&gt;" in public
    assert "Phiên bản 1, có hiệu lực từ" in public and "<script>alert(1)" not in public

    fields = form_fields(client.get(EDIT).get_data(as_text=True))
    assert fields["body"].replace("\r\n", "\n").strip() == text  # the form starts from the last version
    r = client.post(EDIT, data={**fields, "body": "Bản sửa đổi.", "action": "publish"})
    assert r.status_code == 302
    public = client.get("/chinh-sach-bao-mat").get_data(as_text=True)
    assert "Bản sửa đổi." in public and "không bán" not in public
    assert 'href="/chinh-sach-bao-mat/phien-ban/1"' in public  # the earlier version is listed
    old = client.get("/chinh-sach-bao-mat/phien-ban/1").get_data(as_text=True)
    assert "không bán" in old and "Đây là phiên bản cũ, không còn hiệu lực." in old
    # Who published is on the operator's page (not the public one).
    assert "Lê Thị Quản Trị" in client.get(EDIT).get_data(as_text=True)
    assert "Lê Thị Quản Trị" not in public


def test_a_version_can_be_announced_ahead_and_applies_on_its_date(app, client, factory, monkeypatch):
    operator = factory.operator()
    today = services.local_today()
    services.publish_version("regulations", {"body": "Quy chế cũ."}, actor=operator)
    services.publish_version(
        "regulations", {"body": "Quy chế mới.", "effective_from": today + timedelta(days=5)}, actor=operator
    )
    db.session.commit()
    page = client.get("/quy-che-hoat-dong").get_data(as_text=True)
    assert "Quy chế cũ." in page and "Quy chế mới." not in page
    assert "Phiên bản 2 sẽ có hiệu lực từ" in page
    ahead = client.get("/quy-che-hoat-dong/phien-ban/2").get_data(as_text=True)
    assert "Quy chế mới." in ahead and "Phiên bản này chưa có hiệu lực." in ahead

    monkeypatch.setattr(services, "local_today", lambda: today + timedelta(days=5))
    page = client.get("/quy-che-hoat-dong").get_data(as_text=True)
    assert "Quy chế mới." in page and "Phiên bản 2, có hiệu lực từ" in page


def test_publishing_refuses_what_would_muddle_the_record(factory):
    operator = factory.operator()
    today = services.local_today()
    cases = [
        ({"body": "  "}, "body"),
        ({"body": "x", "effective_from": today - timedelta(days=1)}, "effective_from"),
        ({"body": "x", "effective_from": today + timedelta(days=400)}, "effective_from"),
        ({"body": "x", "effective_from": "31/02/2030"}, "effective_from"),
        ({"body": "x" * (markup.MAX_SOURCE_CHARS + 1)}, "body"),
        ({"body": "x", "change_note": "n" * 301}, "change_note"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as caught:
            services.publish_version("payment", data, actor=operator)
        assert field in caught.value.field_errors, data
    services.publish_version(
        "payment", {"body": "Bản 1", "effective_from": today + timedelta(days=10)}, actor=operator
    )
    # Not before the last version's date (it would never apply), and not the same text again.
    with pytest.raises(ValidationFailed) as caught:
        services.publish_version("payment", {"body": "Bản 2", "effective_from": today}, actor=operator)
    assert "phiên bản 1" in caught.value.field_errors["effective_from"][0]
    with pytest.raises(ValidationFailed) as caught:
        services.publish_version(
            "payment", {"body": "Bản 1", "effective_from": today + timedelta(days=10)}, actor=operator
        )
    assert "giống hệt" in caught.value.field_errors["body"][0]
    # dd/mm/yyyy as people write it is accepted too.
    later = today + timedelta(days=20)
    version = services.publish_version(
        "payment", {"body": "Bản 2", "effective_from": later.strftime("%d/%m/%Y")}, actor=operator
    )
    assert (version.number, version.effective_from) == (2, later)


def test_only_the_operator_publishes(app, client, factory, csrf_off):
    producer = factory.user(role="producer")
    with pytest.raises(Forbidden):
        services.publish_version("privacy", {"body": "x"}, actor=producer)
    assert client.get("/quan-tri/trang-phap-ly").status_code == 302  # sign in first
    sign_in(client, producer)
    assert client.get("/quan-tri/trang-phap-ly").status_code == 403
    assert client.post(EDIT, data={"body": "x", "action": "publish"}).status_code == 403
    assert LegalPageVersion.query.count() == 0
    other = sign_in(app.test_client(), factory.operator())
    listing = other.get("/quan-tri/trang-phap-ly").get_data(as_text=True)
    assert all(f'/quan-tri/trang-phap-ly/{page.slug}"' in listing for page in PAGES)
    assert "/quan-tri/trang-phap-ly" in other.get("/quan-tri/").get_data(as_text=True)


# --- the footer -------------------------------------------------------------------------------


def test_the_footer_shows_the_operator_and_the_ministry_notice_only_when_configured(app, client):
    html = client.get("/").get_data(as_text=True)
    assert "Đơn vị vận hành sàn" not in html and "Bộ Công Thương" not in html
    app.config.update(
        OPERATOR_NAME="Trung tâm Xúc tiến Thương mại tỉnh Hà Tĩnh",
        OPERATOR_ADDRESS="Số 1 đường Trần Phú, Phường Thành Sen, Hà Tĩnh",
        OPERATOR_PHONE="0239 3855 000",
        OPERATOR_EMAIL="santmdt@hatinh.gov.vn",
        OPERATOR_REGISTRATION="Quyết định thành lập số 123/QĐ-UBND ngày 01/01/2020 của UBND tỉnh Hà Tĩnh",
        MOIT_NOTICE_URL="http://online.gov.vn/Home/WebDetails/12345",
    )
    html = client.get("/").get_data(as_text=True)
    for text in (
        "Trung tâm Xúc tiến Thương mại tỉnh Hà Tĩnh",
        "Số 1 đường Trần Phú",
        'href="tel:02393855000"',
        'href="mailto:santmdt@hatinh.gov.vn"',
        "Quyết định thành lập số 123/QĐ-UBND",
        'href="http://online.gov.vn/Home/WebDetails/12345"',
        "Đã đăng ký với Bộ Công Thương",
    ):
        assert text in html, text
    assert "<img" not in html.split('class="moit"')[1].split("</p>")[0]
    app.config["MOIT_NOTICE_IMAGE"] = "img/bo-cong-thuong.png"
    html = client.get("/").get_data(as_text=True)
    assert 'src="/static/img/bo-cong-thuong.png" alt="Đã đăng ký với Bộ Công Thương"' in html


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOIT_NOTICE_URL", "online.gov.vn/Home/WebDetails/1"),
        ("MOIT_NOTICE_URL", "javascript:alert(1)"),
        ("MOIT_NOTICE_IMAGE", "/etc/passwd"),
        ("MOIT_NOTICE_IMAGE", "../instance/secret_key"),
        ("MOIT_NOTICE_IMAGE", "https://online.gov.vn/logo.png"),
    ],
)
def test_a_bad_ministry_notice_setting_stops_the_start(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path))
    assert caught.value.name == name


def test_operator_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("OPERATOR_NAME", "Sở Công Thương")
    monkeypatch.setenv("MOIT_NOTICE_URL", "https://online.gov.vn/Home/WebDetails/9")
    monkeypatch.setenv("MOIT_NOTICE_IMAGE", "img/bct.png")
    monkeypatch.delenv("OPERATOR_EMAIL", raising=False)
    config = load_config(str(tmp_path))
    assert config["OPERATOR_NAME"] == "Sở Công Thương" and config["OPERATOR_EMAIL"] is None
    assert config["MOIT_NOTICE_URL"] == "https://online.gov.vn/Home/WebDetails/9"
    assert config["MOIT_NOTICE_IMAGE"] == "img/bct.png"


def test_the_operator_is_told_which_footer_settings_are_missing(app, client, factory):
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/trang-phap-ly").get_data(as_text=True)
    assert "OPERATOR_NAME" in html and "OPERATOR_REGISTRATION" in html
    app.config.update(
        OPERATOR_NAME="A",
        OPERATOR_ADDRESS="B",
        OPERATOR_PHONE="C",
        OPERATOR_EMAIL="D",
        OPERATOR_REGISTRATION="E",
    )
    assert "OPERATOR_NAME" not in client.get("/quan-tri/trang-phap-ly").get_data(as_text=True)


def test_unknown_versions_and_dates_are_not_found(client, factory):
    services.publish_version("shipping", {"body": "Giao hàng."}, actor=factory.operator())
    db.session.commit()
    assert client.get("/chinh-sach-van-chuyen/phien-ban/1").status_code == 200
    assert client.get("/chinh-sach-van-chuyen/phien-ban/2").status_code == 404
    assert client.get("/chinh-sach-van-chuyen/phien-ban/99999999999").status_code == 404
    assert client.get("/quan-tri/trang-phap-ly/khong-co").status_code in (302, 404)
    assert services.parse_date("2026-02-30") is None and services.parse_date("1/7/2026") == date(2026, 7, 1)

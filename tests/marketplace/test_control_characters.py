"""Control characters are cleaned at the edge, one way for every form and the CSV import, and the
mail builder never produces a header that cannot be sent (issue 9, finding 14)."""

from __future__ import annotations

import io
from pathlib import Path

import flask_wtf
import pytest
from sqlalchemy import select, update

from catalog.models import Listing
from marketplace import outbox
from marketplace.cleantext import multi_line, single_line
from marketplace.extensions import db
from marketplace.forms import AppForm
from marketplace.models import OutboxEvent
from tests.support import read_mail, sign_in

TITLE = "Cam bù\r\nBcc: evil@example.com\x00\x07 Hương\u202e Sơn\u2028"


def test_single_line_text_loses_every_control_character():
    assert single_line(TITLE) == "Cam bù Bcc: evil@example.com Hương Sơn "
    assert single_line("a\tb\x1fc\x7fd\x85e\x9f") == "a bcd e"
    assert single_line(None) is None and single_line(5) == 5


def test_multi_line_text_keeps_lines_and_tabs_only():
    assert (
        multi_line("Dòng 1\r\nDòng 2\rDòng 3\u2028\tthụt\x00\x1b[31m") == "Dòng 1\nDòng 2\nDòng 3\n\tthụt[31m"
    )


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_form_of_the_app_cleans_its_text(app):
    """Each FlaskForm in the code base derives from AppForm, so none escapes the filter."""
    forms = {c for c in _all_subclasses(flask_wtf.FlaskForm) if not c.__module__.startswith("tests")}
    assert len(forms) > 20
    strays = sorted(
        f"{c.__module__}.{c.__qualname__}" for c in forms if not issubclass(c, AppForm) and c is not AppForm
    )
    assert not strays, f"forms that do not derive from marketplace.forms.AppForm: {strays}"


def _listing_data(category_id: int, **overrides) -> dict:
    data = {
        "title": TITLE,
        "category_id": category_id,
        "unit": "kg\r\n",
        "price_vnd": "45000",
        "stock": "5",
        "min_order_qty": "1",
        "status": "active",
        "origin": "Hương\x00 Sơn",
        "ocop_stars": "",
        "ocop_level": "",
        "description": "Dòng một\r\nDòng hai\x00",
    }
    data.update(overrides)
    return data


def test_listing_form_stores_clean_text(client, factory, csrf_off):
    shop = factory.shop()
    category = factory.category()
    sign_in(client, shop.members[0].user)
    response = client.post(
        f"/kenh-ban/{shop.slug}/san-pham/moi",
        data=_listing_data(category.id),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    listing = db.session.scalar(select(Listing))
    assert listing.title == "Cam bù Bcc: evil@example.com Hương Sơn"
    assert listing.unit == "kg" and listing.origin == "Hương Sơn"
    assert "\x00" not in (listing.description or "") and "Dòng một" in listing.description


def test_csv_import_cleans_control_characters(app, factory):
    from catalog.csv_import import import_listings

    shop = factory.shop()
    factory.category("Trái cây")
    text = (
        "shop,title,category,unit,price_vnd,stock,description\r\n"
        f'{shop.slug},"Bưởi\x00 Phúc\x1b Trạch\u202e","Trái cây",quả,"60000",3,"Ngọt\r\nthơm\x00"\r\n'
    )
    import_listings(io.BytesIO(text.encode()), actor=factory.operator(), shop=shop)
    db.session.commit()
    listing = db.session.scalar(select(Listing))
    assert listing.title == "Bưởi Phúc Trạch" and "\x00" not in listing.description


def _mail_event(subject: str, to: str = "khach@example.vn", body: str = "Nội dung\r\nthư\x00") -> int:
    outbox.record("mail.send", {"to": to, "subject": subject, "body": body})
    db.session.commit()
    return db.session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()))


def test_an_existing_row_with_a_crlf_subject_is_still_sent(app):
    event_id = _mail_event("Sản phẩm Cam\r\nBcc: evil@example.com bị ẩn")
    outbox.drain()
    db.session.expire_all()
    assert db.session.get(OutboxEvent, event_id).status == "done"
    [path] = Path(app.config["MAIL_DIR"]).glob("*.eml")
    raw = path.read_bytes()
    assert b"\nBcc:" not in raw and b"\x00" not in raw
    mail = read_mail(path)
    assert mail["subject"] == "Sản phẩm Cam Bcc: evil@example.com bị ẩn"
    assert mail["to"] == "khach@example.vn"


@pytest.mark.parametrize("to", ["not an address", "khach@example.vn\r\nBcc: evil@example.com", ""])
def test_a_row_whose_address_cannot_be_one_fails_once_not_forever(app, to):
    event_id = _mail_event("Chào", to=to)
    outbox.drain()
    db.session.expire_all()
    event = db.session.get(OutboxEvent, event_id)
    assert event.status == "dead" and event.attempts == 1
    assert not list(Path(app.config["MAIL_DIR"]).glob("*.eml"))


def test_hiding_a_listing_whose_stored_title_has_crlf_mails_the_owner(app, factory, mailbox):
    from catalog.services import hide_listing

    listing = factory.listing()
    # A row written before titles were cleaned at the edge.
    db.session.execute(update(Listing).where(Listing.id == listing.id).values(title="Cam\r\nbù"))
    db.session.commit()
    db.session.expire_all()
    hide_listing(db.session.get(Listing, listing.id), "Ảnh không đúng", actor=factory.operator())
    db.session.commit()
    mails = mailbox()
    assert [m["subject"] for m in mails if "bị ẩn" in m["subject"]] == ["Sản phẩm Cam bù bị ẩn"]
    assert not db.session.scalar(select(OutboxEvent).where(OutboxEvent.status != "done"))

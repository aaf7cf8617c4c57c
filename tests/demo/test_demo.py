"""The demo province behind `make run`: complete enough to show every state, idempotent, usable."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from catalog.models import Category, Listing, ListingImage, OcopCertificate, add_months
from catalog.services import update_listing
from marketplace.extensions import db
from marketplace.images import image_dir
from marketplace.models import Commune, OutboxEvent, User
from sellers.models import Shop, ShopInvitation, ShopMember
from tests.support import forget_session, sign_in

PASSWORD = "demo12345"
COUNTED = (Commune, Category, User, Shop, ShopMember, ShopInvitation, Listing, ListingImage, OutboxEvent)


def load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def counts() -> dict[str, int]:
    db.session.rollback()  # count what is committed, in a fresh transaction
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED
    }


def test_load_twice_creates_everything_once(app, runner, client):
    first_output = load(runner)
    first = counts()
    second_output = load(runner)
    assert counts() == first
    assert "created nothing" in second_output
    assert "operator@demo.vn" in first_output and PASSWORD in first_output

    shops = list(db.session.scalars(select(Shop)))
    listings = list(db.session.scalars(select(Listing)))
    assert len(shops) >= 12
    assert {s.kind for s in shops} == {"household", "cooperative", "enterprise"}
    assert len({s.commune_id for s in shops}) >= 3
    statuses = {s.status: s for s in shops}
    assert {"approved", "pending", "suspended"} <= set(statuses)
    assert statuses["suspended"].status_reason
    assert any(s.kind == "cooperative" and s.name.startswith("HTX ") for s in shops)

    assert len(listings) >= 80
    public = [item for item in listings if item.is_public]
    assert len(public) >= 70
    assert all(isinstance(item.price_vnd, int) and item.price_vnd > 0 for item in listings)
    assert {"kg", "hộp", "chai", "hũ", "túi", "quả", "chục", "100g"} <= {item.unit for item in listings}
    assert any(item.stock == 0 and not item.in_stock for item in public)
    assert any(item.status == "draft" for item in listings)
    assert 8 <= sum(item.featured for item in public) <= 12
    assert all(item.origin and item.description.startswith("<p>") for item in listings)
    assert any("VietGAP" in item.certifications for item in listings)
    assert any("Hữu cơ" in item.certifications for item in listings)

    today = date.today()
    rated = [item for item in public if item.ocop_stars]
    valid = [item for item in rated if item.ocop_badge(today)]
    expired = [item for item in rated if item.ocop_badge(today) is None]
    assert {3, 4} <= {item.ocop_stars for item in valid}
    assert all(item.ocop_certificate_no.startswith("OCOP-HT-") and item.ocop_level for item in rated)
    assert expired and all(item.ocop_issued_on < add_months(today, -36) for item in expired)

    # Every listing went through the image pipeline; one stored picture per product family.
    assert all(item.images for item in listings)
    keys = {image.key for item in listings for image in item.images}
    assert 10 <= len(keys) < len(listings)
    assert all((image_dir(key) / "320.webp").is_file() for key in keys)
    assert all(s.logo_key and (image_dir(s.logo_key) / "orig.jpg").is_file() for s in shops)

    # Side effects were recorded as in real use: index updates and the approval mails.
    topics = dict(
        db.session.execute(select(OutboxEvent.topic, func.count()).group_by(OutboxEvent.topic)).all()
    )
    assert topics["listing.changed"] >= len(listings)
    assert topics["mail.send"] >= sum(s.status != "pending" for s in shops)

    tops = list(db.session.scalars(select(Category).where(Category.parent_id.is_(None))))
    assert len(tops) == 6 and all(c.name_en for c in tops)
    cam = db.session.scalar(select(Category).where(Category.slug == "cam"))
    assert cam.parent.slug == "thuc-pham"

    home = client.get("/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "Sản phẩm chủ lực" in page and "OCOP ★★★★" in page
    trace = client.get(f"/truy-xuat/{expired[0].slug}").get_data(as_text=True)
    assert "Hết hiệu lực" in trace
    assert client.get(f"/san-pham/{valid[0].slug}").status_code == 200
    hidden = next(item for item in listings if item.shop.status == "suspended")
    assert client.get(f"/san-pham/{hidden.slug}").status_code == 404


def test_demo_accounts_sign_in(app, runner, client):
    load(runner)
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.like("%@demo.vn")))}
    expected_roles = {
        "operator@demo.vn": "operator",
        "camhuongson@demo.vn": "producer",
        "staff@demo.vn": "producer",
        "buyer@demo.vn": "buyer",
        "agency@demo.vn": "agency",
        "partner@demo.vn": "partner",
    }
    for email, role in expected_roles.items():
        assert users[email].role == role
        sign_in(client, users[email], password=PASSWORD)
        forget_session(client)

    shop = db.session.scalar(select(Shop).where(Shop.slug == "htx-cam-bu-huong-son"))
    assert {(m.user.email, m.role) for m in shop.members} == {
        ("camhuongson@demo.vn", "owner"),
        ("staff@demo.vn", "staff"),
    }
    sign_in(client, users["staff@demo.vn"], password=PASSWORD)
    assert client.get(f"/kenh-ban/{shop.slug}/").status_code == 200
    forget_session(client)
    sign_in(client, users["operator@demo.vn"], password=PASSWORD)
    assert client.get("/quan-tri/").status_code == 200


def test_seed_categories_command_is_idempotent(app, runner):
    first = runner.invoke(args=["catalog", "seed-categories"])
    assert first.exit_code == 0, first.output
    total = db.session.scalar(select(func.count()).select_from(Category))
    assert first.output.startswith(f"{total} categories created")
    second = runner.invoke(args=["catalog", "seed-categories"])
    assert second.output.startswith("0 categories created")
    assert db.session.scalar(select(func.count()).select_from(Category)) == total


def retype_claim(listing: Listing, **changes) -> None:
    """The producer edits the listing's OCOP rating (through the real service)."""
    owner = next(m.user for m in listing.shop.members if m.role == "owner")
    fields = (
        "title category_id unit price_vnd stock min_order_qty weight_grams description sku origin "
        "harvest_season batch_code certifications status"
    )
    data = {
        **{name: getattr(listing, name) for name in fields.split()},
        "ocop_stars": listing.ocop_stars,
        "ocop_certificate_no": listing.ocop_certificate_no,
        "ocop_level": listing.ocop_level,
        "ocop_issued_on": listing.ocop_issued_on,
        **changes,
    }
    update_listing(listing, data, actor=owner)
    db.session.commit()


def test_demo_load_checks_only_the_demo_claims(app, runner):
    load(runner)
    rated = [
        item
        for item in db.session.scalars(select(Listing).order_by(Listing.id)).unique()
        if item.ocop_certificate is not None and item.ocop_certificate.status == "checked"
    ]
    by_number: dict[str, Listing] = {}
    for item in rated:  # one listing per certificate (several sizes may cite one)
        by_number.setdefault(item.ocop_certificate_no, item)
    retyped, more_stars, migrated = list(by_number.values())[:3]

    retype_claim(retyped, ocop_certificate_no=retyped.ocop_certificate_no + "-9")
    retype_claim(more_stars, ocop_stars=5, ocop_level="national")
    # A database migrated from before the register: the demo's own claim waits as well.
    db.session.execute(
        update(OcopCertificate)
        .where(OcopCertificate.id == migrated.ocop_certificate_id)
        .values(status="waiting", decided_by_id=None, decided_at=None)
    )
    db.session.commit()
    for item in (retyped, more_stars, migrated):
        assert item.ocop_certificate.status == "waiting"

    listings = db.session.scalar(select(func.count()).select_from(Listing))
    output = load(runner)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Listing)) == listings  # found by SKU
    assert db.session.get(Listing, retyped.id).ocop_certificate.status == "waiting"
    assert db.session.get(Listing, more_stars.id).ocop_certificate.status == "waiting"
    assert db.session.get(Listing, migrated.id).ocop_certificate.status == "checked"
    assert "OCOP checks" in output

"""Load the demo province through the real services, so outbox events are recorded as in real use.

Idempotent: every record has a natural key (commune code, category slug, e-mail, shop slug,
listing SKU within its shop) and is created only when missing; nothing existing is changed, so a
second run adds nothing. Communes are the official list (marketplace.communes.import_official),
which a second run finds unchanged. Shop states (approved, pending, suspended) are applied only when the
shop is first created. Everything happens in the caller's transaction; the caller commits."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from catalog.certifications import seed_certifications
from catalog.models import Category, Listing, OcopStatus, add_months
from catalog.ocop import check_certificate
from catalog.seed import seed_categories
from catalog.services import create_listing
from marketplace.accounts.services import create_user, get_user_by_email
from marketplace.communes import import_official
from marketplace.extensions import db
from marketplace.legal import services as legal_services
from marketplace.legal.pages import PAGES
from marketplace.models import Commune, User
from marketplace.timeutil import local_date, local_today, utcnow
from orders.models import ShippingRule
from orders.pricing import DEFAULT_RULES, ZONES
from orders.shipping import save_shipping_rule
from sellers.models import Shop, ShopMember, ShopStatus
from sellers.services import accept_invitation, approve_shop, invite_staff, register_shop, suspend_shop

from .govqa import load_govqa
from .logistics import load_logistics_demo
from .pictures import cached_product_picture, shop_logo
from .sales import load_sales
from .syndication import load_syndication

DATA = Path(__file__).resolve().parent / "data"
DEMO_PROVINCE = "Hà Tĩnh"  # the province the demo's shops are in (official name)


def read_json(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as fh:
        return json.load(fh)


def demo_password() -> str:
    return read_json("accounts.json")["password"]


def demo_accounts() -> list[dict]:
    """Every demo account in the order the table shows them: operator, producers, the rest."""
    accounts = read_json("accounts.json")["accounts"]
    rows = [a for a in accounts if a["role"] == "operator"]
    for shop in read_json("shops.json"):
        state = {"pending": "chờ duyệt", "suspended": "tạm ngưng"}.get(shop.get("status", "approved"), "")
        rows.append(
            {
                **shop["owner"],
                "role": "producer",
                "note": f"Chủ cửa hàng {shop['name']}" + (f" ({state})" if state else ""),
            }
        )
    # Staff accounts sign up as buyers and become producers by accepting the shop's invitation.
    rows.extend(
        {**a, "role": "staff"} if a.get("staff_of") else a for a in accounts if a["role"] != "operator"
    )
    return rows


def _ensure_user(spec: dict, password: str, counts: Counter) -> User:
    user = get_user_by_email(spec["email"])
    if user is None:
        user = create_user(
            email=spec["email"],
            password=password,
            full_name=spec["full_name"],
            phone=spec.get("phone"),
            role=spec.get("role", "buyer"),
            confirmed=True,  # demo addresses are not real mailboxes
        )
        counts["users"] += 1
    elif user.email_confirmed_at is None:  # loaded before addresses were confirmed
        user.email_confirmed_at = utcnow()
    return user


def _load_communes(counts: Counter) -> dict[str, Commune]:
    """The official list of every province (marketplace.communes.import_official: the same
    command an operator runs), so buyers anywhere can give an address. The made-up rows an older
    demo loaded (codes DEMO-HT-nn) were adopted by name where the unit is real; the rest stop
    being offered. Returns the demo province's communes by name."""
    counts["communes"] += import_official().added
    for row in db.session.scalars(
        select(Commune).where(Commune.code.like("DEMO-HT-%"), Commune.source == "operator")
    ):
        row.active = False  # not a real unit; kept for whatever refers to it
    rows = db.session.scalars(select(Commune).where(Commune.province == DEMO_PROVINCE))
    return {row.name: row for row in rows}


def _ensure_shipping(shop: Shop, spec: dict, owner: User, counts: Counter) -> None:
    """A shop whose produce does not travel far (`ships_to` in shops.json) refuses the other zones."""
    ships_to = spec.get("ships_to")
    if ships_to is None or db.session.get(ShippingRule, shop.id) is not None:
        return
    data: dict[str, str] = {}
    for zone in ZONES:
        rule = DEFAULT_RULES[zone]
        p = f"{zone.value}_"
        data[f"{p}flat_fee_vnd"] = str(rule.flat_fee_vnd)
        data[f"{p}free_over_vnd"] = "" if rule.free_over_vnd is None else str(rule.free_over_vnd)
        for i, (grams, fee) in enumerate(rule.tiers):
            data[f"{p}tier_grams_{i}"], data[f"{p}tier_fee_{i}"] = str(grams), str(fee)
        if zone.value in ships_to:
            data[f"{p}ships"] = "1"
    save_shipping_rule(shop, data, actor=owner)
    counts["shipping rules"] += 1


def _listing_data(spec: dict, categories: dict[str, Category], today: date, shop: Shop) -> dict:
    data = {
        key: spec[key]
        for key in (
            "title",
            "unit",
            "price_vnd",
            "stock",
            "min_order_qty",
            "weight_grams",
            "sku",
            "origin",
            "harvest_season",
            "batch_code",
            "description",
            "certifications",
        )
        if key in spec
    }
    data["category"] = categories[spec["category"]]
    status = spec.get("status", "active")
    # Only an approved shop can publish; a pending shop's products wait as drafts.
    data["status"] = status if shop.status == ShopStatus.APPROVED.value else "draft"
    if spec.get("ocop"):
        number, stars, level, issued = _demo_claim(spec, today)
        data.update(ocop_stars=stars, ocop_level=level, ocop_issued_on=issued, ocop_certificate_no=number)
    return data


def _demo_claim(spec: dict, day: date) -> tuple[str, int, str, date]:
    """(certificate number, stars, level, issue date) of a demo listing's rating loaded on `day`:
    listings.json dates each rating some months before the day it is loaded."""
    ocop = spec["ocop"]
    issued = add_months(day, -int(ocop["issued_months_ago"]))
    return ocop["certificate_no"].format(year=issued.year), int(ocop["stars"]), ocop["level"], issued


def _check_certificate(listing: Listing, spec: dict, today: date, operator: User, counts: Counter) -> None:
    """The demo operator has checked the demo's OCOP certificates, through the register's own
    service (so the badges show). Only a waiting claim, and only the demo's own: number, stars,
    level and date exactly as listings.json gives them — on the day of this run, or of the run
    that created the listing (a database migrated from before the register, where every rating
    waits). A decision taken by hand stays, a second run checks nothing, and a claim the producer
    retyped on a demo listing waits for the operator like any other."""
    certificate = listing.ocop_certificate
    if certificate is None or certificate.status != OcopStatus.WAITING.value:
        return
    claimed = (certificate.certificate_no, certificate.stars, certificate.level, certificate.issued_on)
    created = listing.created_at
    days = {today, created.date(), local_date(created)}  # an older demo was loaded on the server's day
    if claimed in {_demo_claim(spec, day) for day in days}:
        check_certificate(certificate, actor=operator)
        counts["OCOP checks"] += 1


def _load_legal_pages(operator: User, counts: Counter) -> None:
    """A first version of each legal page (demo/data/legal/<key>.md), marked as a template to
    adapt, for a page that has none yet; the operator publishes the next ones."""
    config = current_app.config
    province = config["PROVINCE_NAME"]
    site = config.get("SITE_NAME") or f"Sàn TMĐT {province}"
    for page in PAGES:
        if legal_services.latest_version(page.key) is not None:
            continue
        text = (DATA / "legal" / f"{page.key}.md").read_text(encoding="utf-8")
        body = text.replace("{site}", site).replace("{province}", province)
        legal_services.publish_version(
            page.key, {"body": body, "change_note": "Bản đầu tiên (văn bản mẫu)"}, actor=operator
        )
        counts["legal pages"] += 1


def load_demo(today: date | None = None) -> Counter:
    """Create whatever of the demo province is missing. Returns counts of what was created."""
    today = today or local_today()
    counts: Counter = Counter()
    password = demo_password()
    families = {k: v for k, v in read_json("images.json").items() if not k.startswith("_")}
    caption = current_app.config["PROVINCE_NAME"]

    counts["categories"] += seed_categories()
    counts["certifications"] += seed_certifications()
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    communes = _load_communes(counts)
    accounts = read_json("accounts.json")["accounts"]
    operator = _ensure_user(next(a for a in accounts if a["role"] == "operator"), password, counts)
    _load_legal_pages(operator, counts)

    listings_by_shop = read_json("listings.json")
    shops: dict[str, Shop] = {}
    for spec in read_json("shops.json"):
        owner = _ensure_user(spec["owner"], password, counts)
        found = db.session.scalar(select(Shop).where(Shop.slug == spec["slug"]))
        created = found is None
        target = spec.get("status", ShopStatus.APPROVED.value)
        if found is not None:
            shop = found
        else:
            commune = communes[spec["commune"]]
            fields = {
                key: spec.get(key)
                for key in (
                    "name",
                    "kind",
                    "phone",
                    "address_line",
                    "registration_number",
                    "tax_code",
                    "story",
                    "slug",
                )
            }
            shop = register_shop(
                {**fields, "commune_id": commune.id, "email": spec["owner"]["email"]},
                actor=owner,
                logo_data=shop_logo(spec["name"], spec["color"]),
            )
            counts["shops"] += 1
            if target in (ShopStatus.APPROVED.value, ShopStatus.SUSPENDED.value):
                approve_shop(shop, actor=operator)
        shops[spec["slug"]] = shop
        _ensure_shipping(shop, spec, owner, counts)
        existing = {
            listing.sku: listing
            for listing in db.session.scalars(select(Listing).where(Listing.shop_id == shop.id)).unique()
        }
        for item in listings_by_shop.get(spec["slug"], []):
            listing = existing.get(item["sku"])
            if listing is None:
                # One picture per product family: the image store is content-addressed, so it is kept once.
                picture = cached_product_picture(json.dumps(families[item["image"]], sort_keys=True), caption)
                listing = create_listing(
                    shop, _listing_data(item, categories, today, shop), actor=owner, images=[picture]
                )
                if item.get("featured"):
                    listing.featured = True  # an operator's choice; the "created" event covers it
                counts["listings"] += 1
            if item.get("ocop"):
                _check_certificate(listing, item, today, operator, counts)
        if created and target == ShopStatus.SUSPENDED.value:
            suspend_shop(shop, spec["status_reason"], actor=operator)

    for spec in accounts:
        if spec["role"] == "operator":
            continue
        user = _ensure_user(spec, password, counts)
        if spec.get("staff_of"):
            shop = shops[spec["staff_of"]]
            member = db.session.scalar(
                select(ShopMember).where(ShopMember.shop_id == shop.id, ShopMember.user_id == user.id)
            )
            if member is None:
                owner = next(m.user for m in shop.members if m.role == "owner")
                accept_invitation(invite_staff(shop, user.email, actor=owner), actor=user)
                counts["staff"] += 1
    load_logistics_demo(counts)  # the demo carrier partner, GHN/GHTK, orders in every parcel state
    counts.update(
        load_syndication(shops.values())
    )  # feeds and the floor's Shopee store (demo/syndication.py)
    load_govqa(operator, today, counts)
    load_sales(DEMO_PROVINCE, counts)  # ~90 days of orders for the dashboards (demo/sales.py)
    db.session.flush()
    return counts

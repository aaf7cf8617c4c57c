"""The shop's public reply to a review: one per review, editable, shown under the review on the
listing page (templates/orders/_listing_reviews.html).

A reply changes a public page, so it is announced like any change of the listing
(`listing.changed` through the outbox, in the same transaction): the page cache renews the
listing page (catalog.page_cache), as it does when a review is written."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from catalog.services import listing_event
from marketplace.errors import Errors, Forbidden
from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import utcnow
from orders.models import Review
from sellers.models import Shop
from sellers.permissions import ShopPermission, has_shop_permission

MAX_REPLY = 2000
PAGE_SIZE = 50


def can_reply(user: User | None, shop: Shop) -> bool:
    """Who looks after the listings answers for them: the owner and staff (MANAGE_LISTINGS)."""
    return has_shop_permission(user, shop, ShopPermission.MANAGE_LISTINGS)


def reply_to_review(review: Review, shop: Shop, body: str, *, actor: User) -> Review:
    if review.shop_id != shop.id or not can_reply(actor, shop):
        raise Forbidden(_("Bạn không thể trả lời đánh giá này."))
    text = (body or "").strip()
    errors = Errors()
    if not text:
        errors.add("reply_body", _("Vui lòng nhập nội dung trả lời."))
    elif len(text) > MAX_REPLY:
        errors.add("reply_body", _("Nội dung trả lời tối đa %(n)d ký tự.", n=MAX_REPLY))
    errors.raise_if_any()
    if text == review.reply_body:
        return review  # nothing changed: no event, the page stays cached
    review.reply_body = text
    review.replied_at = utcnow()
    review.replied_by_id = actor.id
    db.session.flush()
    listing_event(review.listing_id, "review_reply")
    return review


def shop_reviews(shop_id: int, *, unanswered: bool, page: int) -> tuple[list[Review], int]:
    """The shop's reviews, newest first (unanswered only when asked), a page at a time; and how
    many there are in all."""
    condition = Review.shop_id == shop_id
    if unanswered:
        condition = condition & Review.reply_body.is_(None)
    total = int(db.session.scalar(select(func.count()).select_from(Review).where(condition)) or 0)
    rows = db.session.scalars(
        select(Review)
        .where(condition)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(rows), total

"""Named permission predicates for shops, used by views and tests alike."""

# is_operator is re-exported for callers that think of it as a shop-moderation predicate.
from __future__ import annotations

from marketplace.models import User
from marketplace.permissions import is_operator

from .models import Shop, ShopMember


def _member(user: User | None, shop: Shop) -> ShopMember | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return next((m for m in shop.members if m.user_id == user.id), None)


def can_manage_shop(user: User | None, shop: Shop) -> bool:
    """Owner or staff: manage listings and see orders of the shop."""
    return _member(user, shop) is not None


def can_manage_staff(user: User | None, shop: Shop) -> bool:
    member = _member(user, shop)
    return member is not None and member.role == "owner"


def can_edit_shop_profile(user: User | None, shop: Shop) -> bool:
    return can_manage_staff(user, shop)


def can_moderate(user: User | None) -> bool:
    return is_operator(user)

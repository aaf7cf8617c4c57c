"""Named permissions of a shop's members, used by views, services and tests alike.

Two roles work in a shop. Staff do the daily work: listings (CSV import included) and orders.
The owner does all of that and also what binds the shop: its public profile, who works there,
and the shipping fee its buyers pay. The operator is not a member of any shop: the operator's
pages live under /quan-tri and the services let the operator act where that is allowed."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.errors import Forbidden
from marketplace.extensions import db
from marketplace.models import User

from .models import Shop, ShopMember


class ShopRole(enum.StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class ShopPermission(enum.StrEnum):
    VIEW = "shop.view"  # the seller dashboard of the shop
    MANAGE_LISTINGS = "shop.manage_listings"  # create, edit, pictures, status, CSV import
    HANDLE_ORDERS = "shop.handle_orders"  # the inbox: confirm, reject, pack, ship, deliver, slips
    EDIT_PROFILE = "shop.edit_profile"  # name, contact, address, registration number, logo
    MANAGE_STAFF = "shop.manage_staff"  # invite and remove staff
    EDIT_SHIPPING = "shop.edit_shipping"  # the shipping fee rule buyers pay
    SEE_ACCOUNTS = "shop.see_accounts"  # the settlement statement, COD the carriers still hold


P = ShopPermission

ROLE_PERMISSIONS: dict[str, frozenset[ShopPermission]] = {
    ShopRole.OWNER.value: frozenset(ShopPermission),
    ShopRole.STAFF.value: frozenset({P.VIEW, P.MANAGE_LISTINGS, P.HANDLE_ORDERS}),
}


def _member(user: User | None, shop: Shop) -> ShopMember | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return next((m for m in shop.members if m.user_id == user.id), None)


def shop_role(user: User | None, shop: Shop) -> str | None:
    """The member's role ("owner" or "staff"); None for anyone who does not work in the shop."""
    member = _member(user, shop)
    return member.role if member is not None else None


def is_shop_member(user: User | None, shop: Shop) -> bool:
    return _member(user, shop) is not None


def has_shop_permission(user: User | None, shop: Shop, permission: ShopPermission) -> bool:
    role = shop_role(user, shop)
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def can_manage_listings(user: User | None, shop: Shop) -> bool:
    return has_shop_permission(user, shop, P.MANAGE_LISTINGS)


def can_handle_orders(user: User | None, shop: Shop) -> bool:
    return has_shop_permission(user, shop, P.HANDLE_ORDERS)


def can_edit_shop_profile(user: User | None, shop: Shop) -> bool:
    return has_shop_permission(user, shop, P.EDIT_PROFILE)


def can_manage_staff(user: User | None, shop: Shop) -> bool:
    return has_shop_permission(user, shop, P.MANAGE_STAFF)


def can_edit_shipping(user: User | None, shop: Shop) -> bool:
    return has_shop_permission(user, shop, P.EDIT_SHIPPING)


F = TypeVar("F", bound=Callable[..., Any])


def shop_permission_required(permission: ShopPermission) -> Callable[[F], F]:
    """For the routes under /kenh-ban/<shop_slug>/: sign-in first, then the shop must exist and
    the user work there (else 404: a shop's seller pages are nobody else's business, the
    operator's included), then the member's role must carry `permission` (else 403 with a
    message). The view receives the loaded `shop` instead of `shop_slug`."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, shop_slug: str, **kwargs: Any) -> Any:
            shop = db.session.scalar(select(Shop).where(Shop.slug == shop_slug))
            if shop is None or not is_shop_member(current_user, shop):
                abort(404)
            if not has_shop_permission(current_user, shop, permission):
                raise Forbidden(_("Việc này chỉ chủ cửa hàng %(name)s mới làm được.", name=shop.name))
            return view(*args, shop=shop, **kwargs)

        wrapper.shop_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator

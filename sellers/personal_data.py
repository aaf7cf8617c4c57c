"""What sellers holds about a person (marketplace/legal/personal_data.py): shop memberships, the
profile of the shops they own, and staff invitations addressed to them.

A shop needs an owner, and there is no way to hand one over: the owner of a shop that is open,
waiting for approval or suspended cannot erase the account. Only a rejected shop counts as closed
(the operator rejects a pending shop, or closes a suspended one by rejecting it); its owner may
go, and the shop then stays closed (approve_shop and reinstate_shop refuse a shop without an
owner). A household's profile is its owner's own data (their phone, address, e-mail and personal
number as tax code): erasing the owner anonymises it."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from marketplace.extensions import db, rows_matched
from marketplace.legal.personal_data import ANONYMISED, PersonalDataSource, iso
from marketplace.models import User

from .models import Shop, ShopInvitation, ShopKind, ShopMember, ShopStatus

CLOSED = (ShopStatus.REJECTED.value,)


def _memberships(user: User) -> list[ShopMember]:
    return list(
        db.session.scalars(select(ShopMember).where(ShopMember.user_id == user.id).order_by(ShopMember.id))
    )


def _profile(shop: Shop) -> dict[str, Any]:
    """What the owner typed about the shop (the public seller information among it)."""
    return {
        "name": shop.name,
        "kind": shop.kind,
        "phone": shop.phone,
        "email": shop.email,
        "address": {"line": shop.address_line, "commune": shop.commune.name, "province": shop.province},
        "tax_code": shop.tax_code,
        "registration_number": shop.registration_number,
        "story": shop.story,
        "logo": shop.logo_key,
        "registered_at": iso(shop.created_at),
    }


def export(user: User) -> dict[str, Any]:
    out = []
    for member in _memberships(user):
        entry: dict[str, Any] = {
            "shop": member.shop.name,
            "shop_slug": member.shop.slug,
            "shop_status": member.shop.status,
            "role": member.role,
            "since": iso(member.created_at),
        }
        if member.role == "owner":
            entry["shop_profile"] = _profile(member.shop)
        out.append(entry)
    return {"shop_memberships": out}


def _owned(user: User) -> list[Shop]:
    return list(
        db.session.scalars(
            select(Shop)
            .join(ShopMember)
            .where(ShopMember.user_id == user.id, ShopMember.role == "owner")
            .order_by(Shop.name)
        )
    )


def blockers(user: User) -> list[str]:
    return [
        _(
            "Bạn là chủ cửa hàng “%(name)s”, và cửa hàng cần có chủ: sàn chưa có cách chuyển quyền chủ "
            "cửa hàng cho người khác. Hãy đề nghị ban quản lý sàn đóng cửa hàng (từ chối cửa hàng), "
            "rồi xoá tài khoản.",
            name=shop.name,
        )
        for shop in _owned(user)
        if shop.status not in CLOSED
    ]


def _anonymise_household(shop: Shop) -> None:
    """A household shop's contact and identity are its owner's: none of it may outlive them."""
    shop.phone = ""
    shop.email = None
    shop.address_line = ANONYMISED
    shop.tax_code = None
    shop.registration_number = None


def erase(user: User) -> dict[str, int]:
    """Staff memberships (and ownership of a closed shop) end; a household shop left without its
    owner loses its personal fields; invitations to the address go."""
    households = 0
    for shop in _owned(user):
        others = [m for m in shop.members if m.role == "owner" and m.user_id != user.id]
        if shop.kind == ShopKind.HOUSEHOLD.value and not others:
            _anonymise_household(shop)
            households += 1
    db.session.flush()  # expire_all() below must not drop this or another source's unflushed changes
    memberships = rows_matched(db.session.execute(delete(ShopMember).where(ShopMember.user_id == user.id)))
    invitations = rows_matched(
        db.session.execute(delete(ShopInvitation).where(ShopInvitation.email == user.email))
    )
    db.session.expire_all()
    return {"memberships": memberships, "invitations": invitations, "household_shops": households}


SOURCE = PersonalDataSource("sellers", export, erase, blockers)

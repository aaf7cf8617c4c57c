"""What sellers holds about a person (marketplace/legal/personal_data.py): shop memberships and
staff invitations addressed to them. An owner of a shop that is open or waiting for approval
cannot erase the account: the shop needs an owner (hand it over or close it first)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from marketplace.extensions import db, rows_matched
from marketplace.legal.personal_data import PersonalDataSource, iso
from marketplace.models import User

from .models import Shop, ShopInvitation, ShopMember, ShopStatus

OPEN = (ShopStatus.PENDING.value, ShopStatus.APPROVED.value)


def _memberships(user: User) -> list[ShopMember]:
    return list(
        db.session.scalars(select(ShopMember).where(ShopMember.user_id == user.id).order_by(ShopMember.id))
    )


def export(user: User) -> dict[str, Any]:
    return {
        "shop_memberships": [
            {
                "shop": member.shop.name,
                "shop_slug": member.shop.slug,
                "shop_status": member.shop.status,
                "role": member.role,
                "since": iso(member.created_at),
            }
            for member in _memberships(user)
        ]
    }


def blockers(user: User) -> list[str]:
    owned = db.session.scalars(
        select(Shop)
        .join(ShopMember)
        .where(ShopMember.user_id == user.id, ShopMember.role == "owner", Shop.status.in_(OPEN))
        .order_by(Shop.name)
    )
    return [
        _(
            "Bạn là chủ cửa hàng “%(name)s”. Cửa hàng cần có chủ: hãy liên hệ ban quản lý sàn để "
            "chuyển quyền chủ cửa hàng cho người khác hoặc đóng cửa hàng, rồi xoá tài khoản.",
            name=shop.name,
        )
        for shop in owned
    ]


def erase(user: User) -> dict[str, int]:
    """Staff memberships (and ownership of a closed shop) end; invitations to the address go."""
    db.session.flush()  # expire_all() below must not drop another source's unflushed changes
    memberships = rows_matched(db.session.execute(delete(ShopMember).where(ShopMember.user_id == user.id)))
    invitations = rows_matched(
        db.session.execute(delete(ShopInvitation).where(ShopInvitation.email == user.email))
    )
    db.session.expire_all()
    return {"memberships": memberships, "invitations": invitations}


SOURCE = PersonalDataSource("sellers", export, erase, blockers)

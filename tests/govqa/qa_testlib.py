"""Helpers of the Q&A tests: agencies, officials, askers and questions through the real services."""

from __future__ import annotations

import uuid

from govqa import admin, services
from govqa.models import Agency, Question
from marketplace.extensions import db


def agency(name: str = "Sở Công Thương", working_days: int = 20, restarts: bool = True) -> Agency:
    found = db.session.query(Agency).filter_by(name=name).one_or_none()
    if found is not None:
        return found
    operator = _any_operator()
    made = admin.save_agency(
        {"name": name, "working_days": working_days, "transfer_restarts_clock": restarts}, actor=operator
    )
    db.session.commit()
    return made


def _any_operator():
    from marketplace.accounts.services import create_user
    from marketplace.models import Role, User

    user = db.session.query(User).filter_by(role=Role.OPERATOR.value).first()
    if user is None:
        user = create_user(
            email=f"op-{uuid.uuid4().hex[:6]}@example.vn",
            password="cam-bu-ht9",
            full_name="Ban quản lý",
            role=Role.OPERATOR.value,
            confirmed=True,
        )
        db.session.commit()
    return user


def official(factory, of: Agency, name: str = "Cán bộ Trả Lời"):
    user = factory.user(name=name)
    admin.make_official(user, of)
    db.session.commit()
    return user


def business_asker(
    factory, name: str = "Trần Thị Hỏi", business: str = "Công ty TNHH Cam Bù", tax_code: str = "3001234567"
):
    user = factory.user(name=name)
    services.register_business(user, business_name=business, tax_code=tax_code)
    db.session.commit()
    return user


def ask(
    asker,
    *,
    title: str = "Thủ tục cấp giấy chứng nhận an toàn thực phẩm",
    body: str = "Xin hỏi thủ tục thế nào?",
    topic: str = "food_safety",
    of: Agency | None = None,
    show_name: bool = False,
    files=None,
) -> Question:
    question = services.submit_question(
        {
            "title": title,
            "body": body,
            "topic": topic,
            "agency_id": of.id if of else None,
            "show_asker_name": show_name,
        },
        actor=asker,
        files=files,
    )
    db.session.commit()
    return question

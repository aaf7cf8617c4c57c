"""Shop operations: registration, operator decisions, profile edits, staff invitations."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from marketplace import addresses, outbox, slugs
from marketplace.accounts.services import normalize_email, normalize_phone, valid_phone
from marketplace.errors import DomainError, Errors, Forbidden, NotFound
from marketplace.extensions import db, rows_matched
from marketplace.images import process_image
from marketplace.mail import queue_mail
from marketplace.models import Role, User
from marketplace.permissions import is_operator
from marketplace.timeutil import utcnow

from .models import Shop, ShopInvitation, ShopKind, ShopMember, ShopStatus
from .permissions import can_manage_staff

SHOP_KINDS = [k.value for k in ShopKind]
# Mã số thuế: 10 digits; a branch adds a dash and 3 digits. Since 1 July 2025 a household business
# may also use its owner's 12-digit personal identification number (Circular 86/2024/TT-BTC).
_TAX_CODE = re.compile(r"\d{10}(-\d{3})?")
_PERSONAL_NUMBER = re.compile(r"\d{12}")
EMAIL_MAX = 254  # shops.email, shop_invitations.email


def normalize_tax_code(raw: str | None) -> str | None:
    """As people type it: spaces and dots dropped, a branch's 13 digits run together get their dash."""
    text = re.sub(r"[\s.]", "", raw or "")
    if re.fullmatch(r"\d{13}", text):
        text = f"{text[:10]}-{text[10:]}"
    return text or None


def tax_code_problem(code: str | None, kind: str | None) -> str | None:
    """Why `code` is not a tax code a shop of `kind` may give (None: fine). Required of
    cooperatives and enterprises; optional for households. The check digit is not verified (its
    rule is not confirmed here): a wrong code is caught by the operator's review."""
    household = kind == ShopKind.HOUSEHOLD.value
    if code is None:
        return None if household else _("Hợp tác xã và doanh nghiệp cần mã số thuế.")
    if _TAX_CODE.fullmatch(code) or (household and _PERSONAL_NUMBER.fullmatch(code)):
        return None
    if household:
        return _(
            "Mã số thuế gồm 10 chữ số (chi nhánh: thêm dấu gạch ngang và 3 chữ số), hoặc 12 chữ số "
            "định danh cá nhân của chủ hộ."
        )
    return _("Mã số thuế gồm 10 chữ số; chi nhánh thêm dấu gạch ngang và 3 chữ số (ví dụ 3001234567-001).")


def valid_email(raw: str | None) -> str | None:
    """`raw` as a mail address (trimmed, lower case, IDNA-normalised), or None if it is not one.
    email_validator bounds the length too (64 before the @, 254 in all: the column's size)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(normalize_email(raw), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None
    return email if len(email) <= EMAIL_MAX else None


def _contact_email(raw: str | None, errors: Errors) -> str | None:
    """The shop's public contact address (shown as a mailto: link): optional, but a real address."""
    if not normalize_email(raw):
        return None
    email = valid_email(raw)
    if email is None:
        errors.add("email", _("Địa chỉ email không hợp lệ."))
    return email


def _validate_shop_fields(data: dict, errors: Errors, *, shop: Shop | None = None) -> dict:
    clean: dict = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors.add("name", _("Vui lòng nhập tên cửa hàng."))
    elif len(name) > 120:
        errors.add("name", _("Tên cửa hàng tối đa 120 ký tự."))
    clean["name"] = name
    kind = data.get("kind")
    if kind not in SHOP_KINDS:
        errors.add("kind", _("Vui lòng chọn loại hình cơ sở."))
    clean["kind"] = kind
    phone = normalize_phone(data.get("phone"))
    if not valid_phone(phone):
        errors.add("phone", _("Số điện thoại di động không hợp lệ (ví dụ 0912345678)."))
    clean["phone"] = phone
    address_line = (data.get("address_line") or "").strip()
    if not address_line:
        errors.add("address_line", _("Vui lòng nhập thôn/xóm, số nhà hoặc đường."))
    clean["address_line"] = address_line
    clean["commune"] = addresses.validate_commune(data, errors)  # in the chosen province
    clean["registration_number"] = (data.get("registration_number") or "").strip() or None
    tax_code = normalize_tax_code(data.get("tax_code"))
    problem = tax_code_problem(tax_code, kind)
    if problem:
        errors.add("tax_code", problem)
    clean["tax_code"] = tax_code
    clean["story"] = (data.get("story") or "").strip()
    clean["email"] = _contact_email(data.get("email"), errors)
    wanted_slug = (data.get("slug") or "").strip()
    if wanted_slug:
        slug = slugs.typed_slug(wanted_slug, Shop)
        if not slug:
            errors.add("slug", _("Đường dẫn chỉ gồm chữ không dấu, số và dấu gạch ngang."))
        elif slugs.is_taken(Shop, slug, exclude_id=shop.id if shop else None):
            errors.add("slug", _("Đường dẫn này đã có cửa hàng khác dùng."))
        clean["slug"] = slug
    return clean


def shop_event(shop: Shop, action: str) -> None:
    """Announce a shop change: the search index (and later syndication) listen to it."""
    outbox.record("shop.changed", {"shop_id": shop.id, "action": action})


def register_shop(data: dict, *, actor: User, logo_data: bytes | None = None) -> Shop:
    if not actor.email_confirmed:
        raise Forbidden(_("Vui lòng xác nhận địa chỉ email trước khi đăng ký cửa hàng."))
    errors = Errors()
    clean = _validate_shop_fields(data, errors)
    logo_key = None
    if logo_data and not errors:
        try:
            logo_key = process_image(logo_data, field="logo").key
        except DomainError as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    errors.add(field, message)
    errors.raise_if_any()
    commune = clean.pop("commune")
    slug = clean.pop("slug", None) or slugs.unique_slug(Shop, clean["name"])
    shop = Shop(
        slug=slug,
        commune_id=commune.id,
        province=commune.province,
        logo_key=logo_key,
        status=ShopStatus.PENDING.value,
        **clean,
    )
    db.session.add(shop)
    db.session.flush()
    db.session.add(ShopMember(shop_id=shop.id, user_id=actor.id, role="owner"))
    if actor.role == Role.BUYER.value:
        actor.role = Role.PRODUCER.value
    db.session.flush()
    db.session.refresh(shop)
    return shop


def update_shop(shop: Shop, data: dict, *, actor: User, logo_data: bytes | None = None) -> Shop:
    from .permissions import can_edit_shop_profile

    if not (can_edit_shop_profile(actor, shop) or is_operator(actor)):
        raise Forbidden(_("Bạn không có quyền sửa cửa hàng này."))
    errors = Errors()
    # The kind (the legal form: a household needs no tax code, an enterprise does) and the slug
    # are chosen at registration and reviewed by the operator; an edit never changes them,
    # whatever the request carries.
    data = {**{k: v for k, v in data.items() if k not in ("kind", "slug")}, "kind": shop.kind}
    clean = _validate_shop_fields(data, errors, shop=shop)
    if logo_data and not errors:
        try:
            shop.logo_key = process_image(logo_data, field="logo").key
        except DomainError as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    errors.add(field, message)
    errors.raise_if_any()
    commune = clean.pop("commune")
    clean.pop("kind")
    for key, value in clean.items():
        setattr(shop, key, value)
    shop.commune_id, shop.province = commune.id, commune.province
    db.session.flush()
    shop_event(shop, "updated")
    return shop


def _notify_owners(shop: Shop, subject: str, template: str, **context) -> None:
    for member in shop.members:
        if member.role == "owner":
            queue_mail(
                member.user.email,
                subject,
                template,
                shop=shop,
                user=member.user,
                link=url_for("sellers.dashboard", shop_slug=shop.slug, _external=True),
                **context,
            )


def _require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới thực hiện được thao tác này."))


def _set_status(shop: Shop, status: ShopStatus, reason: str | None) -> None:
    shop.status = status.value
    shop.status_reason = reason
    shop.status_changed_at = utcnow()


def has_owner(shop: Shop) -> bool:
    return any(member.role == "owner" for member in shop.members)


def _require_owner(shop: Shop) -> None:
    """A shop opens only with someone answerable for it: after its owner erased the account (which
    the owner of a rejected shop may do), it stays closed."""
    if not has_owner(shop):
        raise DomainError(
            _("Cửa hàng không còn chủ (tài khoản chủ cửa hàng đã bị xoá): không thể cho hoạt động lại.")
        )


def approve_shop(shop: Shop, *, actor: User) -> Shop:
    _require_operator(actor)
    if shop.status == ShopStatus.APPROVED.value:
        raise DomainError(_("Cửa hàng đã được duyệt."))
    _require_owner(shop)
    _set_status(shop, ShopStatus.APPROVED, None)
    db.session.flush()
    shop_event(shop, "approved")
    _notify_owners(shop, _("Cửa hàng %(name)s đã được duyệt", name=shop.name), "shop_approved")
    return shop


def reject_shop(shop: Shop, reason: str, *, actor: User) -> Shop:
    _require_operator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Vui lòng nêu lý do từ chối."), field_errors={"reason": [_("Vui lòng nêu lý do.")]}
        )
    if shop.status not in (ShopStatus.PENDING.value, ShopStatus.SUSPENDED.value):
        raise DomainError(_("Chỉ từ chối được cửa hàng đang chờ duyệt hoặc đang tạm ngưng."))
    was_suspended = shop.status == ShopStatus.SUSPENDED.value
    _set_status(shop, ShopStatus.REJECTED, reason)
    db.session.flush()
    if was_suspended:  # a shop closed for good: its listings were hidden already, say so again
        shop_event(shop, "rejected")
    _notify_owners(
        shop, _("Cửa hàng %(name)s chưa được duyệt", name=shop.name), "shop_rejected", reason=reason
    )
    return shop


def suspend_shop(shop: Shop, reason: str, *, actor: User) -> Shop:
    """Suspending hides every listing of the shop at once: visibility is computed from the
    shop's status, and the search index is told through the outbox."""
    _require_operator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Vui lòng nêu lý do tạm ngưng."), field_errors={"reason": [_("Vui lòng nêu lý do.")]}
        )
    if shop.status != ShopStatus.APPROVED.value:
        raise DomainError(_("Chỉ tạm ngưng được cửa hàng đang hoạt động."))
    _set_status(shop, ShopStatus.SUSPENDED, reason)
    db.session.flush()
    shop_event(shop, "suspended")
    _notify_owners(shop, _("Cửa hàng %(name)s bị tạm ngưng", name=shop.name), "shop_suspended", reason=reason)
    return shop


def reinstate_shop(shop: Shop, *, actor: User) -> Shop:
    _require_operator(actor)
    if shop.status not in (ShopStatus.SUSPENDED.value, ShopStatus.REJECTED.value):
        raise DomainError(_("Cửa hàng không ở trạng thái tạm ngưng hoặc bị từ chối."))
    _require_owner(shop)
    _set_status(shop, ShopStatus.APPROVED, None)
    db.session.flush()
    shop_event(shop, "reinstated")
    _notify_owners(shop, _("Cửa hàng %(name)s đã được duyệt", name=shop.name), "shop_approved")
    return shop


def _invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_staff(shop: Shop, email: str, *, actor: User) -> ShopInvitation:
    """Mail the address a link with a fresh random token (only its hash is kept). Inviting the
    same address again replaces the token: the older link stops working."""
    if not can_manage_staff(actor, shop):
        raise Forbidden(_("Chỉ chủ cửa hàng mới mời được nhân viên."))
    valid = valid_email(email)
    if valid is None:
        raise DomainError(
            _("Địa chỉ email không hợp lệ."), field_errors={"email": [_("Địa chỉ email không hợp lệ.")]}
        )
    email = valid
    if any(m.user.email == email for m in shop.members):
        raise DomainError(_("Người này đã là thành viên của cửa hàng."))
    token = secrets.token_urlsafe(32)
    now = utcnow()
    days = int(current_app.config["INVITATION_MAX_AGE_DAYS"])
    invitation = db.session.scalar(
        select(ShopInvitation).where(ShopInvitation.shop_id == shop.id, ShopInvitation.email == email)
    )
    if invitation is None:
        invitation = ShopInvitation(shop_id=shop.id, email=email)
        db.session.add(invitation)
    invitation.invited_by_id = actor.id
    invitation.token_hash = _invitation_token_hash(token)
    invitation.accepted_at = None
    invitation.created_at = now
    invitation.expires_at = now + timedelta(days=days)
    db.session.flush()
    link = url_for("sellers.accept_invitation", token=token, _external=True)
    queue_mail(
        email,
        _("Lời mời tham gia cửa hàng %(name)s", name=shop.name),
        "staff_invitation",
        shop=shop,
        inviter=actor,
        link=link,
        days=days,
    )
    return invitation


def invitation_for_token(token: str) -> ShopInvitation:
    invitation = db.session.scalar(
        select(ShopInvitation).where(ShopInvitation.token_hash == _invitation_token_hash(token or ""))
    )
    if invitation is None:
        raise NotFound(
            _("Không tìm thấy lời mời. Có thể chủ cửa hàng đã gửi lời mời mới thay cho lời mời này.")
        )
    return invitation


def invitation_problem(invitation: ShopInvitation, actor: User) -> str | None:
    """Why `actor` cannot accept, or None."""
    if invitation.accepted_at is not None:
        return _("Lời mời này đã được sử dụng.")
    if invitation.expires_at <= utcnow():
        return _("Lời mời này đã hết hạn. Vui lòng nhờ chủ cửa hàng gửi lời mời mới.")
    if not actor.email_confirmed:
        return _("Vui lòng xác nhận địa chỉ email trước khi nhận lời mời.")
    if actor.email != invitation.email:
        return _(
            "Lời mời này dành cho %(email)s. Vui lòng đăng nhập bằng địa chỉ đó.", email=invitation.email
        )
    return None


def accept_invitation(invitation: ShopInvitation, *, actor: User) -> ShopMember:
    """Only the invited address, confirmed, before the expiry, once: the conditional UPDATE
    consumes the invitation, so two acceptances cannot both succeed."""
    problem = invitation_problem(invitation, actor)
    if problem:
        raise Forbidden(problem)
    if any(m.user_id == actor.id for m in invitation.shop.members):
        raise DomainError(_("Bạn đã là thành viên của cửa hàng này."))
    consumed = db.session.execute(
        update(ShopInvitation)
        .where(ShopInvitation.id == invitation.id, ShopInvitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rows_matched(consumed) != 1:
        raise Forbidden(_("Lời mời này đã được sử dụng."))
    db.session.refresh(invitation)
    member = ShopMember(shop_id=invitation.shop_id, user_id=actor.id, role="staff")
    db.session.add(member)
    if actor.role == Role.BUYER.value:
        actor.role = Role.PRODUCER.value
    db.session.flush()
    return member


def revoke_invitation(shop: Shop, invitation: ShopInvitation, *, actor: User) -> None:
    """The owner takes back an invitation not yet accepted: its link stops working at once."""
    if not can_manage_staff(actor, shop) or invitation.shop_id != shop.id:
        raise Forbidden(_("Bạn không có quyền thực hiện thao tác này."))
    # Conditional, like the acceptance: of a revocation and an acceptance at the same moment,
    # exactly one wins.
    revoked = db.session.execute(
        delete(ShopInvitation)
        .where(ShopInvitation.id == invitation.id, ShopInvitation.accepted_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    if rows_matched(revoked) != 1:
        raise DomainError(_("Lời mời này đã được sử dụng."))
    db.session.expunge(invitation)


def remove_staff(shop: Shop, member: ShopMember, *, actor: User) -> None:
    if not can_manage_staff(actor, shop) or member.shop_id != shop.id:
        raise Forbidden(_("Bạn không có quyền thực hiện thao tác này."))
    if member.role == "owner":
        raise DomainError(_("Không thể xoá chủ cửa hàng."))
    db.session.delete(member)
    db.session.flush()


def shops_of(user: User) -> list[Shop]:
    return list(
        db.session.scalars(
            select(Shop).join(ShopMember).where(ShopMember.user_id == user.id).order_by(Shop.name)
        )
    )

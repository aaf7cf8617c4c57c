"""Seller pages (/kenh-ban) and the operator's shop and commune pages (/quan-tri)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace.accounts.guards import confirmed_email_required
from marketplace.actions import run_action, run_form
from marketplace.extensions import db
from marketplace.models import Commune
from marketplace.permissions import operator_required
from marketplace.timeutil import utcnow

from . import services
from .forms import ActionForm, CommuneForm, InviteForm, ReasonForm, ShopForm
from .models import Shop, ShopInvitation, ShopMember, ShopStatus
from .permissions import ShopPermission, shop_permission_required

bp = Blueprint("sellers", __name__, url_prefix="/kenh-ban")
operator_bp = Blueprint("sellers_admin", __name__, url_prefix="/quan-tri")


def commune_choices() -> list[tuple[int, str]]:
    communes = db.session.scalars(
        select(Commune).where(Commune.active.is_(True)).order_by(Commune.province, Commune.name)
    )
    return [(0, _("— Chọn xã/phường —"))] + [(c.id, c.label) for c in communes]


def _upload(field) -> bytes | None:
    storage = field.data
    if storage and getattr(storage, "filename", ""):
        return storage.read()
    return None


@bp.route("/")
@login_required
def index():
    shops = services.shops_of(current_user)
    if len(shops) == 1:
        return redirect(url_for("sellers.dashboard", shop_slug=shops[0].slug))
    return render_template("sellers/index.html", shops=shops)


@bp.route("/dang-ky-cua-hang", methods=["GET", "POST"])
@login_required
@confirmed_email_required
def register_shop():
    form = ShopForm()
    form.commune_id.choices = commune_choices()
    done = run_form(
        form,
        lambda: services.register_shop(form.data, actor=current_user, logo_data=_upload(form.logo)),
        _("Đã gửi đăng ký cửa hàng. Ban quản lý sàn sẽ xem xét và báo cho bạn qua email."),
    )
    if done:
        return redirect(url_for("sellers.dashboard", shop_slug=done.result.slug))
    return render_template("sellers/register.html", form=form)


@bp.route("/<shop_slug>/")
@shop_permission_required(ShopPermission.VIEW)
def dashboard(shop: Shop):
    # Later packages (catalog, orders…) contribute panels; sellers does not import them.
    panels = [provider(shop) for provider in current_app.extensions.get("seller_dashboard", [])]
    return render_template("sellers/dashboard.html", shop=shop, panels=panels)


@bp.route("/<shop_slug>/thong-tin", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.EDIT_PROFILE)
def edit_shop(shop: Shop):
    form = ShopForm(obj=shop)
    form.commune_id.choices = commune_choices()
    if run_form(
        form,
        lambda: services.update_shop(shop, form.data, actor=current_user, logo_data=_upload(form.logo)),
        _("Đã lưu thông tin cửa hàng."),
    ):
        return redirect(url_for("sellers.dashboard", shop_slug=shop.slug))
    return render_template("sellers/edit.html", form=form, shop=shop)


@bp.route("/<shop_slug>/nhan-vien", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_STAFF)
def staff(shop: Shop):
    form = InviteForm()
    if run_form(
        form,
        lambda: services.invite_staff(shop, form.email.data, actor=current_user),
        _("Đã gửi lời mời tới %(email)s.", email=form.email.data),
        refusals="email",
    ):
        return redirect(url_for("sellers.staff", shop_slug=shop.slug))
    invitations = db.session.scalars(
        select(ShopInvitation).where(ShopInvitation.shop_id == shop.id, ShopInvitation.accepted_at.is_(None))
    ).all()
    return render_template(
        "sellers/staff.html",
        shop=shop,
        form=form,
        invitations=invitations,
        action_form=ActionForm(),
        now=utcnow(),
    )


@bp.post("/<shop_slug>/nhan-vien/<int:member_id>/xoa")
@shop_permission_required(ShopPermission.MANAGE_STAFF)
def remove_staff(shop: Shop, member_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    member = db.session.get(ShopMember, member_id)
    if member is None or member.shop_id != shop.id:
        abort(404)
    services.remove_staff(shop, member, actor=current_user)
    db.session.commit()
    flash(_("Đã xoá nhân viên khỏi cửa hàng."), "info")
    return redirect(url_for("sellers.staff", shop_slug=shop.slug))


@bp.route("/loi-moi/<token>", methods=["GET", "POST"])
@confirmed_email_required
def accept_invitation(token: str):
    invitation = services.invitation_for_token(token)
    form = ActionForm()
    problem = services.invitation_problem(invitation, current_user)
    if form.validate_on_submit() and problem is None:
        services.accept_invitation(invitation, actor=current_user)
        db.session.commit()
        flash(_("Bạn đã tham gia cửa hàng %(name)s.", name=invitation.shop.name), "success")
        return redirect(url_for("sellers.dashboard", shop_slug=invitation.shop.slug))
    return (
        render_template("sellers/accept_invitation.html", invitation=invitation, form=form, problem=problem),
        403 if problem else 200,
    )


# --- operator ---------------------------------------------------------------------------------


@operator_bp.route("/")
@operator_required
def operator_home():
    pending = db.session.scalar(
        select(func.count()).select_from(Shop).where(Shop.status == ShopStatus.PENDING.value)
    )
    return render_template("sellers/operator_home.html", pending=pending)


@operator_bp.route("/cua-hang")
@operator_required
def shops():
    status = request.args.get("status", ShopStatus.PENDING.value)
    query = select(Shop).order_by(Shop.created_at.desc())
    if status in {s.value for s in ShopStatus}:
        query = query.where(Shop.status == status)
    return render_template(
        "sellers/operator_shops.html", shops=db.session.scalars(query).all(), status=status
    )


@operator_bp.route("/cua-hang/<int:shop_id>", methods=["GET", "POST"])
@operator_required
def review_shop(shop_id: int):
    shop = db.session.get(Shop, shop_id) or abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        action = request.form.get("action")
        actions = {
            "approve": lambda: services.approve_shop(shop, actor=current_user),
            "reject": lambda: services.reject_shop(shop, form.reason.data, actor=current_user),
            "suspend": lambda: services.suspend_shop(shop, form.reason.data, actor=current_user),
            "reinstate": lambda: services.reinstate_shop(shop, actor=current_user),
        }
        if action not in actions:
            abort(400)
        if run_action(actions[action], _("Đã cập nhật trạng thái cửa hàng %(name)s.", name=shop.name)):
            return redirect(url_for("sellers_admin.shops", status=shop.status))
    return render_template("sellers/operator_review.html", shop=shop, form=form)


@operator_bp.route("/xa-phuong", methods=["GET", "POST"])
@operator_required
def communes():
    form = CommuneForm()
    province = current_app.config["PROVINCE_NAME"]
    if form.validate_on_submit():
        exists = db.session.scalar(
            select(Commune).where(Commune.province == province, Commune.name == form.name.data.strip())
        )
        if exists:
            form.name.errors = [*list(form.name.errors), _("Xã/phường này đã có trong danh sách.")]
        else:
            db.session.add(
                Commune(
                    name=form.name.data.strip(),
                    kind=form.kind.data,
                    province=province,
                    code=form.code.data or None,
                )
            )
            db.session.commit()
            flash(_("Đã thêm %(name)s.", name=form.name.data), "success")
            return redirect(url_for("sellers_admin.communes"))
    rows = db.session.scalars(select(Commune).order_by(Commune.province, Commune.name)).all()
    return render_template(
        "sellers/operator_communes.html", form=form, communes=rows, action_form=ActionForm()
    )


@operator_bp.post("/xa-phuong/<int:commune_id>/bat-tat")
@operator_required
def toggle_commune(commune_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    commune = db.session.get(Commune, commune_id) or abort(404)
    commune.active = not commune.active
    db.session.commit()
    return redirect(url_for("sellers_admin.communes"))

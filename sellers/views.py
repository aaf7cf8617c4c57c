"""Seller pages (/kenh-ban) and the operator's shop and commune pages (/quan-tri)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace import addresses
from marketplace import communes as commune_list
from marketplace.accounts.guards import confirmed_email_required
from marketplace.actions import run_action, run_form
from marketplace.extensions import db
from marketplace.models import Commune
from marketplace.permissions import operator_required
from marketplace.timeutil import utcnow

from . import services
from .forms import ActionForm, CommuneForm, InviteForm, ReasonForm, ShopForm, ShopProfileForm
from .models import Shop, ShopInvitation, ShopMember, ShopStatus
from .permissions import ShopPermission, shop_permission_required

bp = Blueprint("sellers", __name__, url_prefix="/kenh-ban")
operator_bp = Blueprint("sellers_admin", __name__, url_prefix="/quan-tri")


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
    if not addresses.is_refresh(request.form):  # the province's "Chọn" saves nothing
        done = run_form(
            form,
            lambda: services.register_shop(form.data, actor=current_user, logo_data=_upload(form.logo)),
            _("Đã gửi đăng ký cửa hàng. Ban quản lý sàn sẽ xem xét và báo cho bạn qua email."),
        )
        if done:
            return redirect(url_for("sellers.dashboard", shop_slug=done.result.slug))
    addresses.fill_choices(form)
    return render_template("sellers/register.html", form=form)


@bp.route("/<shop_slug>/")
@shop_permission_required(ShopPermission.VIEW)
def dashboard(shop: Shop):
    # Later packages (catalog, orders…) contribute panels; sellers does not import them.
    panels = [provider(shop) for provider in current_app.extensions.get("seller_dashboard", [])]
    # Whole sections (HTML) above the panels (today's work) and below them (figures): dashboards'.
    top = [provider(shop) for provider in current_app.extensions.get("seller_dashboard_top", [])]
    bottom = [provider(shop) for provider in current_app.extensions.get("seller_dashboard_bottom", [])]
    return render_template("sellers/dashboard.html", shop=shop, panels=panels, top=top, bottom=bottom)


@bp.route("/<shop_slug>/thong-tin", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.EDIT_PROFILE)
def edit_shop(shop: Shop):
    form = ShopProfileForm(obj=shop)
    if not addresses.is_refresh(request.form) and run_form(  # "Chọn" of the province saves nothing
        form,
        lambda: services.update_shop(shop, form.data, actor=current_user, logo_data=_upload(form.logo)),
        _("Đã lưu thông tin cửa hàng."),
    ):
        return redirect(url_for("sellers.dashboard", shop_slug=shop.slug))
    addresses.fill_choices(form)
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


@bp.post("/<shop_slug>/nhan-vien/loi-moi/<int:invitation_id>/thu-hoi")
@shop_permission_required(ShopPermission.MANAGE_STAFF)
def revoke_invitation(shop: Shop, invitation_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    invitation = db.session.get(ShopInvitation, invitation_id)
    if invitation is None or invitation.shop_id != shop.id:
        abort(404)
    email = invitation.email
    run_action(
        lambda: services.revoke_invitation(shop, invitation, actor=current_user),
        _("Đã thu hồi lời mời gửi tới %(email)s.", email=email),
    )
    return redirect(url_for("sellers.staff", shop_slug=shop.slug))


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
    # The console (queues, floor-wide figures) is the dashboards package's, plugged in through
    # app.extensions like the other packages' links; without it the page is the list of links.
    console = current_app.extensions.get("operator_console")
    return render_template(
        "sellers/operator_home.html", pending=pending, console=console(request.args) if console else None
    )


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
    return render_template(
        "sellers/operator_review.html", shop=shop, form=form, shop_has_owner=services.has_owner(shop)
    )


def _all_provinces() -> list[tuple[str, int]]:
    """Every province in the commune table (active or not) with its number of communes, this
    floor's first."""
    rows = db.session.execute(select(Commune.province, func.count()).group_by(Commune.province)).all()
    home = addresses.province_key(current_app.config["PROVINCE_NAME"])
    return sorted(
        ((name, n) for name, n in rows),
        key=lambda row: (addresses.province_key(row[0]) != home, addresses.province_key(row[0])),
    )


def _commune_form(form: CommuneForm, provinces: list[tuple[str, int]]) -> CommuneForm:
    names = [name for name, _n in provinces] or [current_app.config["PROVINCE_NAME"]]
    if form.province.data and form.province.data not in names:
        names.append(form.province.data)
    form.province.choices = [(name, name) for name in names]
    return form


@operator_bp.route("/xa-phuong", methods=["GET", "POST"])
@operator_required
def communes():
    """The commune list, one province at a time (`?tinh=`, `?q=` to search by name): the operator
    adds a unit the official list lacks, corrects one, or stops offering it."""
    provinces = _all_provinces()
    province = addresses.resolve_province(request.args.get("tinh")) or next(
        (name for name, _n in provinces if name == request.args.get("tinh")),
        provinces[0][0] if provinces else current_app.config["PROVINCE_NAME"],
    )
    form = _commune_form(CommuneForm(province=province), provinces)
    if run_form(
        form,
        lambda: commune_list.add_commune(form.data, actor=current_user),
        _("Đã thêm %(name)s.", name=form.name.data),
    ):
        return redirect(url_for("sellers_admin.communes", tinh=form.province.data))
    query = (request.args.get("q") or "").strip()[:80]
    rows = db.session.scalars(select(Commune).where(Commune.province == province)).all()
    if query:
        rows = [c for c in rows if addresses.fold(query) in addresses.fold(c.name)]
    rows = sorted(rows, key=lambda c: addresses.commune_key(c.name))
    return render_template(
        "sellers/operator_communes.html",
        form=form,
        communes=rows,
        provinces=provinces,
        province=province,
        query=query,
        action_form=ActionForm(),
        kind_labels=addresses.KIND_LABELS,
    )


@operator_bp.route("/xa-phuong/<int:commune_id>", methods=["GET", "POST"])
@operator_required
def edit_commune(commune_id: int):
    """Correct a unit: what changes is kept when the official list is imported again."""
    commune = db.session.get(Commune, commune_id) or abort(404)
    form = _commune_form(CommuneForm(obj=commune), _all_provinces())
    if run_form(
        form,
        lambda: commune_list.correct_commune(commune, form.data, actor=current_user),
        _("Đã lưu %(name)s.", name=form.name.data),
    ):
        return redirect(url_for("sellers_admin.communes", tinh=commune.province))
    return render_template(
        "sellers/operator_commune.html", form=form, commune=commune, action_form=ActionForm()
    )


@operator_bp.post("/xa-phuong/<int:commune_id>/bat-tat")
@operator_required
def toggle_commune(commune_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    commune = db.session.get(Commune, commune_id) or abort(404)
    commune_list.set_active(commune, not commune.active, actor=current_user)
    db.session.commit()
    return redirect(url_for("sellers_admin.communes", tinh=commune.province))


@operator_bp.post("/xa-phuong/<int:commune_id>/theo-danh-sach-chinh-thuc")
@operator_required
def follow_official(commune_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    commune = db.session.get(Commune, commune_id) or abort(404)
    commune_list.follow_official(commune, actor=current_user)
    db.session.commit()
    flash(
        _("%(name)s sẽ theo danh sách chính thức ở lần nhập tới.", name=commune.name),
        "success",
    )
    return redirect(url_for("sellers_admin.edit_commune", commune_id=commune.id))

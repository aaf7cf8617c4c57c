"""Pages: the producer's channels (connect a platform shop, choose the channels, see each
channel's state on a listing, the orders placed on the platforms), the authorisation callback,
and the operator's board of sync records, category mappings and the floor's connections."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from catalog.models import Category, Listing
from marketplace.actions import run_action
from marketplace.extensions import db
from marketplace.forms import AppForm
from marketplace.numbers import page_arg
from marketplace.permissions import operator_required
from marketplace.redirects import back_target
from sellers.models import Shop
from sellers.permissions import ShopPermission, shop_permission_required

from . import channels, services
from .models import (
    CHANNELS,
    FEEDS,
    PUSH_PLATFORMS,
    CategoryMapping,
    Connection,
    RemoteOrder,
    SyncRecord,
    SyncState,
    platform_name,
)

seller_bp = Blueprint("syndication_seller", __name__, url_prefix="/kenh-ban/<shop_slug>/kenh-ban-khac")
bp = Blueprint("syndication", __name__, url_prefix="/ket-noi-san")
operator_bp = Blueprint("syndication_admin", __name__, url_prefix="/quan-tri/kenh-ban")

STATE_LABELS = {
    "queued": _l("Đang chờ gửi"),
    "synced": _l("Đã đồng bộ"),
    "failed": _l("Lỗi, sẽ thử lại"),
    "needs_attention": _l("Cần sửa"),
    "removed": _l("Đã gỡ"),
}
CONNECTION_LABELS = {"active": _l("Đang hoạt động"), "needs_reconnecting": _l("Cần kết nối lại")}
REMOTE_ORDER_LABELS = {
    "taken": _l("Đã trừ tồn kho"),
    "no_stock": _l("Hết hàng — cần xử lý trên sàn"),
    "unmatched": _l("Không khớp sản phẩm"),
    "cancelled": _l("Đã huỷ trên sàn"),
}
STATE_KEY = "syndication_oauth"


def channel_label(channel: str) -> str:
    return (
        str(_("Nguồn cấp dữ liệu (Google, Postmart, Voso)")) if channel == FEEDS else platform_name(channel)
    )


def _form() -> AppForm:
    return AppForm()


def _bool_choice(value: str | None) -> bool | None:
    return {"on": True, "off": False}.get(value or "")


# --- the authorisation redirect ------------------------------------------------------------------


def _start(platform: str, shop: Shop | None):
    form = _form()
    if not form.validate_on_submit():
        abort(400)
    state = services.new_state()
    redirect_uri = url_for("syndication.callback", platform=platform, _external=True)
    try:
        url = services.authorize_url(platform, redirect_uri, state)
    except services.DomainError as exc:
        flash(exc.message, "error")
        fallback = (
            url_for("syndication_seller.index", shop_slug=shop.slug)
            if shop
            else url_for("syndication_admin.connections")
        )
        return redirect(back_target(fallback))
    session[STATE_KEY] = {
        "state": state,
        "platform": platform,
        "shop_id": shop.id if shop else None,
        "user_id": current_user.id,
    }
    return redirect(url)


@bp.route("/<platform>/xong")
@login_required
def callback(platform: str):
    """Where the platform sends the user back: the state must be the one this browser was given
    (else 400, nothing stored), then the code is exchanged and the connection stored."""
    pending = session.pop(STATE_KEY, None)
    given = request.args.get("state") or ""
    if (
        not pending
        or pending.get("platform") != platform
        or pending.get("user_id") != current_user.id
        or not secrets.compare_digest(str(pending.get("state")), given)
    ):
        abort(400)
    shop = db.session.get(Shop, pending["shop_id"]) if pending.get("shop_id") else None
    if pending.get("shop_id") and shop is None:
        abort(404)
    code = request.args.get("code") or ""
    remote_shop_id = request.args.get("shop_id") or request.args.get("seller_id") or None
    run_action(
        lambda: services.finish_connect(platform, shop, code, remote_shop_id, actor=current_user),
        _("Đã kết nối %(platform)s.", platform=platform_name(platform)),
    )  # a refusal is flashed on the page we return to
    if shop is None:
        return redirect(url_for("syndication_admin.connections"))
    return redirect(url_for("syndication_seller.index", shop_slug=shop.slug))


# --- the producer's pages ----------------------------------------------------------------------------


@seller_bp.route("/", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def index(shop: Shop):
    form = _form()
    if form.validate_on_submit():
        choices = {channel: request.form.get(f"channel_{channel}") == "on" for channel in CHANNELS}
        if run_action(
            lambda: services.set_shop_channels(shop, choices, actor=current_user), _("Đã lưu kênh bán.")
        ):
            return redirect(url_for("syndication_seller.index", shop_slug=shop.slug))
    connections = db.session.scalars(
        select(Connection)
        .where(or_(Connection.shop_id == shop.id, Connection.shop_id.is_(None)))
        .order_by(Connection.platform, Connection.id)
    ).all()
    records = db.session.execute(
        select(SyncRecord, Listing)
        .join(Listing, Listing.id == SyncRecord.listing_id)
        .where(Listing.shop_id == shop.id, SyncRecord.state.in_(["failed", "needs_attention"]))
        .order_by(SyncRecord.updated_at.desc())
        .limit(50)
    ).all()
    return render_template(
        "syndication/seller_index.html",
        shop=shop,
        form=form,
        choices=channels.shop_choices(shop.id),
        connections=[services.connection_summary(c, shop_id=shop.id) for c in connections],
        platforms=PUSH_PLATFORMS,
        configured={p: services_configured(p) for p in PUSH_PLATFORMS},
        can_connect=services.can_connect(current_user, shop),
        problems=records,
    )


def services_configured(platform: str) -> bool:
    from .engine import credentials

    return credentials(platform) is not None


@seller_bp.route("/ket-noi/<platform>", methods=["POST"])
@shop_permission_required(ShopPermission.EDIT_PROFILE)
def connect(shop: Shop, platform: str):
    if platform not in PUSH_PLATFORMS:
        abort(404)
    return _start(platform, shop)


@seller_bp.route("/san-pham/<int:listing_id>", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def listing_channels(shop: Shop, listing_id: int):
    listing = db.session.scalar(select(Listing).where(Listing.id == listing_id, Listing.shop_id == shop.id))
    if listing is None:
        abort(404)
    form = _form()
    if form.validate_on_submit():
        choices = {channel: _bool_choice(request.form.get(f"channel_{channel}")) for channel in CHANNELS}
        if run_action(
            lambda: services.set_listing_channels(listing, choices, actor=current_user), _("Đã lưu kênh bán.")
        ):
            return redirect(
                url_for("syndication_seller.listing_channels", shop_slug=shop.slug, listing_id=listing.id)
            )
    records = db.session.scalars(
        select(SyncRecord).where(SyncRecord.listing_id == listing.id).order_by(SyncRecord.connection_id)
    ).all()
    return render_template(
        "syndication/seller_listing.html",
        shop=shop,
        listing=listing,
        form=form,
        own=channels.listing_choices(listing.id),
        shop_choices=channels.shop_choices(shop.id),
        effective=channels.effective(listing),
        records=records,
    )


@seller_bp.route("/don-hang")
@shop_permission_required(ShopPermission.HANDLE_ORDERS)
def remote_orders(shop: Shop):
    rows = db.session.scalars(
        select(RemoteOrder)
        .where(RemoteOrder.shop_id == shop.id)
        .order_by(RemoteOrder.placed_at.desc(), RemoteOrder.id.desc())
        .limit(300)
    ).all()
    return render_template("syndication/seller_orders.html", shop=shop, rows=rows)


# --- the operator's pages ---------------------------------------------------------------------------------


@operator_bp.route("/")
@operator_required
def board():
    f = {
        "state": request.args.get("state") or "",
        "platform": request.args.get("platform") or "",
        "shop": request.args.get("shop", type=int),
        "q": (request.args.get("q") or "").strip()[:100],
    }
    query = (
        select(SyncRecord)
        .join(Listing, Listing.id == SyncRecord.listing_id)
        .join(Connection, Connection.id == SyncRecord.connection_id)
        .order_by(SyncRecord.updated_at.desc(), SyncRecord.id.desc())
    )
    if f["state"] in STATE_LABELS:
        query = query.where(SyncRecord.state == f["state"])
    if f["platform"] in PUSH_PLATFORMS:
        query = query.where(Connection.platform == f["platform"])
    if f["shop"]:
        query = query.where(Listing.shop_id == f["shop"])
    if f["q"]:
        query = query.where(or_(Listing.title.ilike(f"%{f['q']}%"), SyncRecord.remote_id == f["q"]))
    pagination = db.paginate(query, page=page_arg(request.args), per_page=50, error_out=False)
    shops = db.session.scalars(select(Shop).order_by(Shop.name)).all()
    args = {k: v for k, v in f.items() if v}
    return render_template(
        "syndication/operator_board.html", pagination=pagination, f=f, args=args, shops=shops, form=_form()
    )


@operator_bp.route("/dong-bo-lai", methods=["POST"])
@operator_required
def resync():
    form = _form()
    if not form.validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("record_id") if v.isdigit()][:1000]
    if request.form.get("all_state") in STATE_LABELS:
        ids = list(
            db.session.scalars(
                select(SyncRecord.id).where(SyncRecord.state == request.form["all_state"]).limit(10000)
            )
        )
    counted: dict[str, int] = {}

    def act():
        counted["n"] = services.resync(ids, actor=current_user)

    if run_action(act):
        flash(_("Đã xếp %(n)d bản ghi vào hàng đợi đồng bộ lại.", n=counted.get("n", 0)), "success")
    return redirect(url_for("syndication_admin.board"))


@operator_bp.route("/anh-xa/<platform>", methods=["GET", "POST"])
@operator_required
def mappings(platform: str):
    if platform not in PUSH_PLATFORMS:
        abort(404)
    form = _form()
    errors: dict[int, list[str]] = {}
    if form.validate_on_submit():
        category = db.session.get(Category, request.form.get("category_id", type=int) or 0)
        if category is None:
            abort(404)

        def act():
            services.save_mapping(
                platform,
                category,
                request.form.get("remote_category_id") or "",
                request.form.get("attributes") or "",
                actor=current_user,
            )

        if run_action(act, _("Đã lưu ánh xạ danh mục “%(name)s”.", name=category.name)):
            return redirect(url_for("syndication_admin.mappings", platform=platform))
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.name)).all()
    current = {
        m.category_id: m
        for m in db.session.scalars(select(CategoryMapping).where(CategoryMapping.platform == platform))
    }
    return render_template(
        "syndication/operator_mappings.html",
        platform=platform,
        platforms=PUSH_PLATFORMS,
        categories=categories,
        current=current,
        unmapped=services.unmapped_categories(platform),
        form=form,
        errors=errors,
    )


@operator_bp.route("/ket-noi")
@operator_required
def connections():
    rows = db.session.scalars(select(Connection).order_by(Connection.platform, Connection.id)).all()
    return render_template(
        "syndication/operator_connections.html",
        connections=[services.connection_summary(c) for c in rows],
        platforms=PUSH_PLATFORMS,
        configured={p: services_configured(p) for p in PUSH_PLATFORMS},
        form=_form(),
    )


@operator_bp.route("/ket-noi/<platform>", methods=["POST"])
@operator_required
def connect_floor(platform: str):
    if platform not in PUSH_PLATFORMS:
        abort(404)
    return _start(platform, None)


def template_globals() -> dict:
    return {
        "sync_state_label": lambda code: STATE_LABELS.get(code, code),
        "connection_state_label": lambda code: CONNECTION_LABELS.get(code, code),
        "remote_order_label": lambda code: REMOTE_ORDER_LABELS.get(code, code),
        "channel_label": channel_label,
        "platform_name": platform_name,
        "sync_states": [s.value for s in SyncState],
    }

"""Public catalog pages, the seller's listing pages and the operator's catalog moderation."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from marketplace.actions import run_action, run_form
from marketplace.extensions import db
from marketplace.numbers import coerce_id, page_arg
from marketplace.permissions import operator_required
from marketplace.redirects import back_target
from marketplace.timeutil import local_today
from sellers.models import Shop, ShopStatus
from sellers.permissions import ShopPermission, shop_permission_required

from . import certifications, services
from .cards import card_listings_query, listing_card_groups, listing_cards
from .forms import CategoryForm, HideForm, ImagesForm, ListingForm
from .jsonld import structured_data
from .models import COMMON_UNITS, Category, Listing, ListingStatus, OcopCertificate

bp = Blueprint("catalog", __name__)
seller_bp = Blueprint("catalog_seller", __name__, url_prefix="/kenh-ban/<shop_slug>/san-pham")
operator_bp = Blueprint("catalog_admin", __name__, url_prefix="/quan-tri")


def _paginate(query: Select) -> Pagination:
    """A public list's page: the page number clamped to 1–MAX_PAGE (a bad link shows page 1 or
    an empty page, never an error), PER_PAGE listings."""
    return db.paginate(
        query, page=page_arg(request.args), per_page=current_app.config["PER_PAGE"], error_out=False
    )


def _sort() -> str:
    sort = request.args.get("sort", "newest")
    return sort if sort in services.SORTS else "newest"


# --- public -----------------------------------------------------------------------------------


HOME_SECTION_SIZE = 8


@bp.route("/")
def home():
    """Three sections (OCOP, featured, newest), each without what an earlier one already shows."""
    today = local_today()
    base = card_listings_query()
    ocop = [
        item
        for item in db.session.scalars(
            base.join(OcopCertificate, Listing.ocop_certificate_id == OcopCertificate.id)
            .where(OcopCertificate.stars >= 3, OcopCertificate.shows_badge(today))
            .order_by(OcopCertificate.stars.desc(), Listing.published_at.desc(), Listing.id.desc())
            .limit(HOME_SECTION_SIZE)
        ).unique()
        if item.ocop_badge(today)
    ]
    shown = [item.id for item in ocop]
    featured_query = base.where(Listing.featured.is_(True))
    if shown:
        featured_query = featured_query.where(Listing.id.not_in(shown))
    featured = (
        db.session.scalars(
            featured_query.order_by(Listing.published_at.desc(), Listing.id.desc()).limit(HOME_SECTION_SIZE)
        )
        .unique()
        .all()
    )
    shown += [item.id for item in featured]
    newest_query = base.where(Listing.id.not_in(shown)) if shown else base
    newest = (
        db.session.scalars(
            newest_query.order_by(Listing.published_at.desc(), Listing.id.desc()).limit(HOME_SECTION_SIZE)
        )
        .unique()
        .all()
    )
    ocop_cards, featured_cards, newest_cards = listing_card_groups([ocop, featured, newest], today)
    top_categories = db.session.scalars(
        select(Category).where(Category.parent_id.is_(None)).order_by(Category.position, Category.name)
    ).all()
    return render_template(
        "catalog/home.html",
        ocop=ocop_cards,
        featured=featured_cards,
        newest=newest_cards,
        categories=top_categories,
    )


@bp.route("/danh-muc/<slug>")
def show_category(slug: str):
    category = db.session.scalar(select(Category).where(Category.slug == slug)) or abort(404)
    searcher = current_app.extensions.get("category_search")
    if searcher is not None:
        # A category page is a search within the category: the search package (when installed)
        # answers it with the same filters, facets and sorting as /tim-kiem.
        page, status = searcher(category)
        return render_template("catalog/category.html", category=category, **page), status
    sort = _sort()
    query = (
        card_listings_query()
        .where(Listing.category_id.in_(services.category_ids_below(category)))
        .order_by(*services.SORTS[sort])
    )
    pagination = _paginate(query)
    return render_template(
        "catalog/category.html",
        category=category,
        pagination=pagination,
        cards=listing_cards(pagination.items),
        sort=sort,
    )


@bp.route("/san-pham/<slug>")
def show_listing(slug: str):
    listing = services.get_public_listing(slug)
    today = local_today()
    more = (
        db.session.scalars(
            card_listings_query()
            .where(Listing.shop_id == listing.shop_id, Listing.id != listing.id)
            .order_by(Listing.published_at.desc(), Listing.id.desc())
            .limit(4)
        )
        .unique()
        .all()
    )
    return render_template(
        "catalog/listing.html",
        listing=listing,
        more=listing_cards(more, today),
        today=today,
        structured_data=structured_data(listing, today),
    )


@bp.route("/cua-hang/<slug>")
def show_shop(slug: str):
    shop = db.session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None or shop.status != ShopStatus.APPROVED.value:
        abort(404)
    sort = _sort()
    query = card_listings_query().where(Listing.shop_id == shop.id).order_by(*services.SORTS[sort])
    pagination = _paginate(query)
    return render_template(
        "catalog/shop.html",
        shop=shop,
        pagination=pagination,
        cards=listing_cards(pagination.items),
        sort=sort,
    )


@bp.route("/truy-xuat/<slug>")
def trace_listing(slug: str):
    """The page a traceability QR code points to: producer, origin, batch, certificates."""
    listing = services.get_public_listing(slug)
    return render_template("catalog/trace.html", listing=listing, today=local_today())


@bp.route("/truy-xuat/<slug>/qr.svg")
def trace_qr(slug: str):
    listing = services.get_public_listing(slug)
    qr = segno.make(url_for("catalog.trace_listing", slug=listing.slug, _external=True), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2)
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


@bp.route("/sitemap.xml")
def sitemap():
    listings = db.session.execute(
        services.public_listings_query().with_only_columns(Listing.slug, Listing.updated_at)
    ).all()
    categories = db.session.scalars(select(Category.slug)).all()
    shops = db.session.scalars(select(Shop.slug).where(Shop.status == ShopStatus.APPROVED.value)).all()
    xml = render_template("catalog/sitemap.xml", listings=listings, categories=categories, shops=shops)
    return Response(xml, mimetype="application/xml")


# --- seller -----------------------------------------------------------------------------------


def _listing_of(shop: Shop, listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None or listing.shop_id != shop.id:
        abort(404)
    return listing


def _uploads(field) -> list[bytes]:
    return [f.read() for f in (field.data or []) if getattr(f, "filename", "")]


def _listing_form(**kwargs) -> ListingForm:
    form = ListingForm(**kwargs)
    form.category_id.choices = [(0, _("— Chọn danh mục —")), *services.category_choices()]
    return form


@seller_bp.route("/")
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def list_listings(shop: Shop):
    status = request.args.get("status")
    query = select(Listing).where(Listing.shop_id == shop.id).order_by(Listing.updated_at.desc())
    if status in services.STATUSES:
        query = query.where(Listing.status == status)
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(or_(Listing.title.ilike(f"%{q}%"), Listing.sku.ilike(f"%{q}%")))
    return render_template(
        "catalog/seller_listings.html",
        shop=shop,
        listings=db.session.scalars(query).unique().all(),
        status=status,
        q=q,
    )


@seller_bp.route("/moi", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def new_listing(shop: Shop):
    form = _listing_form()
    if not form.is_submitted() and shop.status != ShopStatus.APPROVED.value:
        form.status.data = ListingStatus.DRAFT.value
    done = run_form(
        form,
        lambda: services.create_listing(shop, form.data, actor=current_user, images=_uploads(form.images)),
    )
    if done:
        flash(_("Đã lưu sản phẩm %(title)s.", title=done.result.title), "success")
        return redirect(
            url_for("catalog_seller.edit_listing", shop_slug=shop.slug, listing_id=done.result.id)
        )
    return render_template(
        "catalog/listing_form.html",
        shop=shop,
        form=form,
        listing=None,
        units=COMMON_UNITS,
        certs=certifications.names(),
    )


@seller_bp.route("/<int:listing_id>", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def edit_listing(shop: Shop, listing_id: int):
    listing = _listing_of(shop, listing_id)
    form = _listing_form(obj=listing)
    if not form.is_submitted():
        form.ocop_stars.data = str(listing.ocop_stars or "")
        form.ocop_level.data = listing.ocop_level or ""
        form.certifications.data = "; ".join(listing.certifications or [])
        form.ocop_issued_on.data = (
            listing.ocop_issued_on.strftime("%d/%m/%Y") if listing.ocop_issued_on else ""
        )

    def save() -> None:
        services.update_listing(listing, form.data, actor=current_user)
        new_images = _uploads(form.images)
        if new_images:
            services.add_images(listing, new_images, actor=current_user)

    if run_form(form, save, _("Đã lưu thay đổi."), refusals=""):
        return redirect(url_for("catalog_seller.edit_listing", shop_slug=shop.slug, listing_id=listing.id))
    return render_template(
        "catalog/listing_form.html",
        shop=shop,
        form=form,
        listing=listing,
        units=COMMON_UNITS,
        certs=certifications.names(),
        images_form=ImagesForm(),
    )


@seller_bp.post("/<int:listing_id>/anh/<int:image_id>/<action>")
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def image_action(shop: Shop, listing_id: int, image_id: int, action: str):
    listing = _listing_of(shop, listing_id)
    if not ImagesForm().validate_on_submit():
        abort(400)
    if action == "xoa":
        services.remove_image(listing, image_id, actor=current_user)
    elif action == "anh-bia":
        services.make_cover(listing, image_id, actor=current_user)
    else:
        abort(404)
    db.session.commit()
    return redirect(url_for("catalog_seller.edit_listing", shop_slug=shop.slug, listing_id=listing.id))


@seller_bp.post("/<int:listing_id>/trang-thai/<status>")
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def change_status(shop: Shop, listing_id: int, status: str):
    listing = _listing_of(shop, listing_id)
    if not ImagesForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: services.set_listing_status(listing, status, actor=current_user), _("Đã cập nhật trạng thái.")
    )
    return redirect(url_for("catalog_seller.list_listings", shop_slug=shop.slug))


# --- operator ---------------------------------------------------------------------------------


MODERATION_PER_PAGE = 50


@operator_bp.route("/san-pham")
@operator_required
def moderate_listings():
    q = (request.args.get("q") or "").strip()
    only_hidden = request.args.get("hidden") == "1"
    only_shop_off = request.args.get("shop_off") == "1"
    query = (
        select(Listing)
        .options(selectinload(Listing.images))
        .order_by(Listing.updated_at.desc(), Listing.id.desc())
    )
    if q:
        query = query.where(Listing.title.ilike(f"%{q}%"))
    if only_hidden:
        query = query.where(Listing.hidden_at.is_not(None))
    if only_shop_off:  # listings of shops not (or no longer) approved: off the floor whatever they say
        query = query.where(Listing.shop.has(Shop.status != ShopStatus.APPROVED.value))
    pagination = db.paginate(
        query, page=page_arg(request.args), per_page=MODERATION_PER_PAGE, error_out=False
    )
    args = {
        k: v for k, v in (("q", q), ("hidden", only_hidden and "1"), ("shop_off", only_shop_off and "1")) if v
    }
    return render_template(
        "catalog/operator_listings.html",
        listings=pagination.items,
        pagination=pagination,
        args=args,
        q=q,
        only_hidden=only_hidden,
        only_shop_off=only_shop_off,
        form=HideForm(),
    )


@operator_bp.post("/san-pham/<int:listing_id>/an")
@operator_required
def hide_listing(listing_id: int):
    listing = db.session.get(Listing, listing_id) or abort(404)
    form = HideForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: services.hide_listing(listing, form.reason.data, actor=current_user),
        _("Đã ẩn sản phẩm %(title)s.", title=listing.title),
    )
    return redirect(back_target(url_for("catalog_admin.moderate_listings")))


@operator_bp.post("/san-pham/<int:listing_id>/hien")
@operator_required
def unhide_listing(listing_id: int):
    listing = db.session.get(Listing, listing_id) or abort(404)
    if not HideForm().validate_on_submit():
        abort(400)
    services.unhide_listing(listing, actor=current_user)
    db.session.commit()
    flash(_("Đã hiện lại sản phẩm %(title)s.", title=listing.title), "success")
    return redirect(back_target(url_for("catalog_admin.moderate_listings")))


@operator_bp.route("/danh-muc", methods=["GET", "POST"])
@operator_bp.route("/danh-muc/<int:category_id>", methods=["GET", "POST"])
@operator_required
def categories(category_id: int | None = None):
    category = db.session.get(Category, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category)
    form.parent_id.choices = [(0, _("— Không có (cấp cao nhất) —"))] + [
        (cid, label) for cid, label in services.category_choices() if cid != category_id
    ]
    if not form.is_submitted() and category is not None:
        form.parent_id.data = category.parent_id or 0
    if run_form(
        form,
        lambda: services.save_category(form.data, actor=current_user, category=category),
        _("Đã lưu danh mục."),
    ):
        return redirect(url_for("catalog_admin.categories"))
    return render_template(
        "catalog/operator_categories.html",
        form=form,
        category=category,
        tree=services.category_tree(),
        delete_form=HideForm(),
        certifications=certifications.all_certifications(),
    )


@operator_bp.post("/chung-nhan")
@operator_required
def save_certifications():
    """The certification list under the category tree: English names, and one new row."""
    if not HideForm().validate_on_submit():
        abort(400)
    rows = []
    for key, value in request.form.items():
        if key.startswith("name_en-") and (cert_id := coerce_id(key.removeprefix("name_en-"))):
            rows.append((cert_id, value))
    new = (request.form.get("new_name", ""), request.form.get("new_name_en", ""))
    run_action(
        lambda: certifications.save_certifications(rows, new, actor=current_user),
        _("Đã lưu danh sách chứng nhận."),
    )
    return redirect(url_for("catalog_admin.categories") + "#chung-nhan")


@operator_bp.post("/danh-muc/<int:category_id>/xoa")
@operator_required
def delete_category(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    if not HideForm().validate_on_submit():
        abort(400)
    run_action(lambda: services.delete_category(category, actor=current_user), _("Đã xoá danh mục."))
    return redirect(url_for("catalog_admin.categories"))


@operator_bp.post("/san-pham/<int:listing_id>/noi-bat")
@operator_required
def toggle_featured(listing_id: int):
    listing = db.session.get(Listing, listing_id) or abort(404)
    if not HideForm().validate_on_submit():
        abort(400)
    listing.featured = not listing.featured
    services.listing_event(listing)
    db.session.commit()
    return redirect(back_target(url_for("catalog_admin.moderate_listings")))

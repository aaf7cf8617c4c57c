"""Buyer pages: cart, checkout, payment (COD, VietQR transfer, card), orders, reviews."""

from __future__ import annotations

import secrets
from typing import NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from catalog.models import Listing
from marketplace import addresses
from marketplace.actions import run_action
from marketplace.errors import DomainError, ValidationFailed
from marketplace.extensions import db, login_manager
from marketplace.forms import apply_errors, submitted_data
from marketplace.numbers import NumberError, coerce_id, parse_int, parse_optional_int
from marketplace.redirects import next_target
from marketplace.security_headers import csp_allow

from . import access, cart, notify, services, states, stripe_gateway, vietqr
from .access import OrderAccess
from .forms import ActionForm, AddToCartForm, CheckoutForm, LookupForm, ReasonForm, ReviewForm
from .models import Order, OrderLine, Payment, PaymentStatus, Review

bp = Blueprint("orders", __name__)


def _user():
    return current_user if current_user.is_authenticated else None


def _store():
    return cart.cart_for(_user(), session)


# --- cart -------------------------------------------------------------------------------------


@bp.get("/gio-hang")
def view_cart():
    view = cart.view(_store().entries())
    return render_template("orders/cart.html", view=view, form=ActionForm())


@bp.post("/gio-hang/them")
def add_to_cart():
    if request.form.get("buy_now"):  # "Mua ngay" posted here (a page without the button's formaction)
        return buy_now()
    form = AddToCartForm()
    if not form.validate_on_submit():
        abort(400)
    listing = db.session.get(Listing, coerce_id(form.listing_id.data))
    if listing is None:
        abort(404)
    back = next_target(url_for("catalog.show_listing", slug=listing.slug))
    try:
        quantity = parse_optional_int(form.quantity.data, minimum=1, maximum=cart.MAX_QUANTITY)
        cart.add(_store(), listing, quantity or listing.min_order_qty)
    except NumberError:
        db.session.rollback()
        flash(_("Số lượng không hợp lệ."), "error")
        return redirect(back)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Đã thêm “%(title)s” vào giỏ hàng.", title=listing.title), "success")
    return redirect(back)


@bp.post("/mua-ngay")
def buy_now():
    """Straight to checkout with this one listing and quantity; the cart is not touched."""
    form = AddToCartForm()
    if not form.validate_on_submit():
        abort(400)
    listing = db.session.get(Listing, coerce_id(form.listing_id.data))
    if listing is None:
        abort(404)
    back = next_target(url_for("catalog.show_listing", slug=listing.slug))
    try:
        quantity = parse_optional_int(form.quantity.data, minimum=1, maximum=cart.MAX_QUANTITY)
        quantity = quantity or listing.min_order_qty
        cart.check_quantity(listing, quantity)
    except NumberError:
        flash(_("Số lượng không hợp lệ."), "error")
        return redirect(back)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    return redirect(url_for("orders.checkout", buy_now=cart.BuyNow.for_listing(listing, quantity).token()))


@bp.post("/gio-hang/cap-nhat")
def update_cart():
    if not ActionForm().validate_on_submit():
        abort(400)
    store = _store()
    problems = []
    for entry in store.entries():
        raw = request.form.get(f"qty_{entry.listing_id}")
        if raw is None:
            continue
        try:
            cart.set_quantity(store, entry.listing_id, parse_int(raw, maximum=cart.MAX_QUANTITY))
        except NumberError:
            problems.append(_("Số lượng không hợp lệ."))
        except DomainError as exc:
            problems.append(exc.message)
    db.session.commit()
    for message in problems:
        flash(message, "error")
    if not problems:
        flash(_("Đã cập nhật giỏ hàng."), "success")
    return redirect(url_for("orders.view_cart"))


@bp.post("/gio-hang/xoa/<int:listing_id>")
def remove_from_cart(listing_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    _store().remove([listing_id])
    db.session.commit()
    return redirect(url_for("orders.view_cart"))


# --- checkout ---------------------------------------------------------------------------------


def _prefill(form: CheckoutForm) -> None:
    user = _user()
    if user is None:
        return
    form.receiver_name.data = form.receiver_name.data or user.full_name
    form.receiver_phone.data = form.receiver_phone.data or user.phone
    last = db.session.scalar(
        select(Order).where(Order.buyer_id == user.id).order_by(Order.id.desc()).limit(1)
    )
    if last is not None:
        form.address_line.data = form.address_line.data or last.address_line
        form.province.data = form.province.data or last.province
        form.commune_id.data = form.commune_id.data or last.commune_id
        form.receiver_phone.data = form.receiver_phone.data or last.receiver_phone


def _checkout_view(form: CheckoutForm, entries: list[cart.Entry]) -> cart.View:
    """The province and commune choices (only when showing the form: a successful POST skips
    them), and the cart priced for the chosen province."""
    return cart.view(entries, addresses.fill_choices(form))


def _render_checkout(
    form: CheckoutForm, view: cart.View, status: int = 200, *, buy_now: cart.BuyNow | None = None
):
    methods = services.available_methods()
    form.payment_method.choices = [(m, str(states.METHOD_LABELS[m])) for m in methods]
    form.quote.data = view.quote.fingerprint()
    form.buy_now.data = buy_now.token() if buy_now is not None else ""
    return render_template(
        "orders/checkout.html",
        form=form,
        view=view,
        methods=methods,
        guest=_user() is None,
        buy_now=buy_now,
    ), status


def _checkout_store() -> cart.SessionCart | cart.UserCart | cart.BuyNow | None:
    """What this checkout buys: the "Mua ngay" line its URL or form carries, else the cart.
    None: a "Mua ngay" value that is not valid (too old, or not made here)."""
    token = request.form.get("buy_now") if request.method == "POST" else request.args.get("buy_now")
    if token:
        return cart.BuyNow.from_token(token)
    return _store()


@bp.route("/thanh-toan", methods=["GET", "POST"])
def checkout():
    store = _checkout_store()
    if store is None:
        flash(_("Phiên “Mua ngay” đã hết hạn. Vui lòng chọn lại sản phẩm."), "error")
        return redirect(url_for("catalog.home"))
    buy_now = store if isinstance(store, cart.BuyNow) else None
    entries = store.entries()
    if not entries:
        flash(_("Giỏ hàng đang trống."), "info")
        return redirect(url_for("orders.view_cart"))
    form = CheckoutForm()
    if request.method == "GET":
        _prefill(form)
        if not form.payment_method.data:
            form.payment_method.data = "cod"
        form.token.data = secrets.token_urlsafe(24)
        return _render_checkout(form, _checkout_view(form, entries), buy_now=buy_now)
    if addresses.is_refresh(request.form):  # the province's "Chọn": its communes and fees
        return _render_checkout(form, _checkout_view(form, entries), buy_now=buy_now)
    if not form.validate_on_submit():
        return _render_checkout(form, _checkout_view(form, entries), 400, buy_now=buy_now)
    items = [(e.listing_id, e.quantity) for e in entries]
    posted = submitted_data(form)  # text fields cleaned by the form
    data = {
        name: posted.get(name)
        for name in (
            "email",
            "receiver_name",
            "receiver_phone",
            "address_line",
            "province",
            "commune_id",
            "note",
            "payment_method",
            "quote",
            "token",
        )
    }
    data["privacy_consent"] = form.privacy_consent.data  # consent to the privacy policy (legal)
    try:
        try:
            payment = services.place_checkout(items, data, buyer=_user())
        except IntegrityError:
            # The same form posted twice at the same instant: the other request placed it.
            db.session.rollback()
            placed = services.payment_for_token(data["token"] or "")
            if placed is None:
                raise
            payment = placed
            access.grant_guest_access(_user(), payment)
            return redirect(url_for("orders.show_payment", code=payment.code))
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _render_checkout(form, _checkout_view(form, entries), 422, buy_now=buy_now)
    except services.QuoteChanged as exc:
        db.session.rollback()
        flash(exc.message, "error")
        view = _checkout_view(form, entries)
        cart.acknowledge_prices(store)  # a "Mua ngay" line: its next token carries the new price
        db.session.commit()
        return _render_checkout(form, view, 409, buy_now=buy_now)
    except DomainError as exc:  # sold out, gone, too few, not delivered there: nothing was kept
        db.session.rollback()
        flash(exc.message, "error")
        return _render_checkout(form, _checkout_view(form, entries), 409, buy_now=buy_now)
    store.remove([listing_id for listing_id, _q in items])  # "Mua ngay": the cart stays as it was
    # Out of the session before the commit: its code and buyer stay readable without reading the
    # row back (the commit would expire them); likewise who is buying is known from before.
    db.session.expunge(payment)
    buyer = _user()
    db.session.commit()
    if buyer is None:
        access.grant_guest_access(None, payment)
    return redirect(url_for("orders.show_payment", code=payment.code))


# --- payment ----------------------------------------------------------------------------------


# The buyer's pages and actions serve the buyer and the guest-link holder only (OrderAccess).
# Anyone else: a page sends a visitor who is not signed in to sign in, and the shop or the
# operator to their own page of the order; an action (or JSON) answers 403 to the shop and the
# operator and 404 to everyone else.


def _elsewhere(order: Order, who: OrderAccess) -> Response:
    """The operator's or the shop's own page of `order`."""
    if who is OrderAccess.OPERATOR:
        return redirect(url_for("orders_admin.show_order", code=order.code))
    return redirect(url_for("orders_seller.show_order", shop_slug=order.shop.slug, code=order.code))


def _refuse(who: OrderAccess, *, page: bool, order: Order | None) -> NoReturn:
    if page and who in (OrderAccess.OPERATOR, OrderAccess.SHOP_MEMBER) and order is not None:
        abort(_elsewhere(order, who))
    if page and not current_user.is_authenticated:
        abort(login_manager.unauthorized())  # the sign-in page, with this page as `next`
    abort(403 if who in (OrderAccess.OPERATOR, OrderAccess.SHOP_MEMBER) else 404)


def _buyer_payment(code: str, *, page: bool) -> Payment:
    """The checkout `code` for its buyer or guest-link holder."""
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    if payment is None:
        abort(404)
    who = access.payment_access(_user(), payment)
    if not who.acts_for_buyer:
        _refuse(who, page=page, order=payment.orders[0] if payment.orders else None)
    return payment


def _buyer_order(code: str, *, page: bool) -> Order:
    """The order `code` for its buyer or guest-link holder."""
    order = db.session.scalar(select(Order).where(Order.code == code))
    if order is None:
        abort(404)
    who = access.order_access(_user(), order)
    if not who.acts_for_buyer:
        _refuse(who, page=page, order=order)
    return order


def _transfer_qr(payment: Payment) -> str:
    """The VietQR payload of a bank-transfer checkout: the floor's account, the amount, the code."""
    cfg = current_app.config
    return vietqr.payload(
        bin_code=cfg["BANK_BIN"],
        account=cfg["BANK_ACCOUNT"],
        amount_vnd=payment.amount_vnd,
        note=payment.code,
    )


def mask_email(address: str) -> str:
    """An address shown half hidden, "nguyenmai@gmail.com" -> "ng•••i@gmail.com": enough for its
    owner to recognise (the domain whole, where typos show), not the address itself for whoever
    else opens the page."""
    local, at, domain = (address or "").rpartition("@")
    if not at:
        return address
    if len(local) <= 3:
        return f"{local[:1]}•••@{domain}"
    return f"{local[:2]}•••{local[-1]}@{domain}"


@bp.get("/thanh-toan/<code>")
def show_payment(code: str):
    payment = _buyer_payment(code, page=True)
    context = {
        "payment": payment,
        "form": ActionForm(),
        "first_order": payment.orders[0] if payment.orders else None,
        "mail_state": notify.checkout_mail_state(payment),
        "mail_to": mask_email(payment.email),
        # A guest's way back to this page (the same link the mail carries, when there is one).
        "order_link": access.payment_link(payment) if payment.buyer_id is None else None,
    }
    if payment.status == PaymentStatus.PENDING.value and payment.method == "bank_transfer":
        # The QR only: its raw payload means nothing to a person (the facts beside it say it all).
        context.update(qr_svg=vietqr.svg(_transfer_qr(payment)))
    if payment.status == PaymentStatus.PENDING.value and payment.method == "card":
        if not stripe_gateway.enabled():
            context["card_error"] = _("Thanh toán thẻ tạm thời không khả dụng.")
        else:
            try:
                _pi, secret = stripe_gateway.ensure_intent(payment)
            except Exception:
                db.session.rollback()
                current_app.logger.exception("could not prepare PaymentIntent for %s", payment.code)
                context["card_error"] = _(
                    "Chưa kết nối được cổng thanh toán thẻ. Vui lòng tải lại trang sau ít phút."
                )
            else:
                db.session.commit()
                context.update(
                    client_secret=secret,
                    publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
                    stripe_js_url=stripe_gateway.js_url(),
                )
                for directive, sources in stripe_gateway.csp_sources().items():
                    csp_allow(directive, *sources)
    return render_template("orders/payment.html", **context)


@bp.get("/thanh-toan/<code>/vietqr.png")
def payment_qr_png(code: str):
    """The transfer's QR as an image file to save (a phone cannot scan its own screen; bank apps
    scan a saved picture). The buyer's, while the transfer is awaited."""
    payment = _buyer_payment(code, page=False)
    if payment.method != "bank_transfer" or payment.status != PaymentStatus.PENDING.value:
        abort(404)
    response = Response(vietqr.png(_transfer_qr(payment)), mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="vietqr-{payment.code}.png"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/thanh-toan/<code>/the")
def confirm_card(code: str):
    """JSON: confirm the PaymentIntent on the server with the page's payment method."""
    payment = _buyer_payment(code, page=False)
    body = request.get_json(silent=True) or {}
    try:
        result = stripe_gateway.confirm_with_method(payment, body.get("payment_method"))
        if result.get("status") == "succeeded":
            stripe_gateway.sync_intent(payment)
    except DomainError as exc:
        db.session.rollback()
        return jsonify({"error": exc.message}), exc.status
    db.session.commit()
    return jsonify(result)


@bp.get("/thanh-toan/<code>/ket-qua")
def card_return(code: str):
    """Where the card form lands: ask Stripe (the webhook may not have arrived yet)."""
    payment = _buyer_payment(code, page=True)
    outcome = None
    if (
        payment.method == "card"
        and payment.status == PaymentStatus.PENDING.value
        and stripe_gateway.enabled()
    ):
        try:
            outcome = stripe_gateway.sync_intent(payment)
        except Exception:
            db.session.rollback()
            current_app.logger.exception("could not sync PaymentIntent for %s", payment.code)
        else:
            db.session.commit()
    if payment.status == PaymentStatus.PAID.value:
        flash(_("Thanh toán thành công. Đơn hàng đã được gửi tới cửa hàng."), "success")
    elif outcome in ("requires_payment_method", "canceled"):
        flash(_("Thanh toán chưa thành công. Vui lòng thử lại với thẻ khác."), "error")
    elif payment.status == PaymentStatus.PENDING.value:
        flash(_("Đang chờ xác nhận thanh toán từ ngân hàng."), "info")
    return redirect(url_for("orders.show_payment", code=payment.code))


@bp.get("/thanh-toan/<code>/trang-thai")
def payment_status(code: str):
    payment = _buyer_payment(code, page=False)
    return jsonify({"code": payment.code, "status": payment.status})


@bp.get("/don-hang/lien-ket/<token>")
def open_link(token: str):
    """The signed link from the order mail: opens the checkout (or one order) for a guest.

    A signed-in member gets a read-only page instead: the grant is for guests, and attaching it
    to the member's session would let whoever signs in next on that browser inherit it."""
    code = access.code_from_token(token)
    payment = db.session.scalar(select(Payment).where(Payment.code == code)) if code else None
    if payment is None:
        flash(_("Liên kết xem đơn hàng không hợp lệ hoặc đã hết hạn."), "error")
        return redirect(url_for("catalog.home"))
    wanted = request.args.get("next")
    order = next((o for o in payment.orders if o.code == wanted), None)
    if payment.buyer_id is None and not access.grant_guest_access(_user(), payment):
        orders = [order] if order is not None else list(payment.orders)
        return render_template("orders/guest_link_signed_in.html", payment=payment, orders=orders)
    if order is not None:
        return redirect(url_for("orders.show_order", code=order.code))
    return redirect(url_for("orders.show_payment", code=payment.code))


# --- look-up by code and phone number ---------------------------------------------------------


@bp.route("/tra-cuu-don-hang", methods=["GET", "POST"])
def lookup_order():
    """An order found by its code and the receiver's phone number: for a guest who gave no e-mail
    address or lost the link. Rate-limited per IP and per code (marketplace/limits.py); a wrong
    pair gets one answer whether the code exists or not. Found, it opens as the mailed link does."""
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("orders/lookup.html", form=form), 200 if request.method == "GET" else 422
    found = access.lookup(form.code.data, form.phone.data)
    if found is None:
        form.form_errors.append(
            _(
                "Không tìm thấy đơn hàng với mã và số điện thoại này. Vui lòng kiểm tra lại mã đơn và số điện thoại."
            )
        )
        return render_template("orders/lookup.html", form=form), 404
    payment, order = found
    target = (
        url_for("orders.show_order", code=order.code)
        if order is not None
        else url_for("orders.show_payment", code=payment.code)
    )
    user = _user()
    if payment.buyer_id is not None:  # a member's order: theirs to see once signed in
        if user is not None and user.id == payment.buyer_id:
            return redirect(target)
        flash(
            _("Đơn hàng này được đặt bằng một tài khoản. Vui lòng đăng nhập bằng tài khoản đó để xem."),
            "info",
        )
        if user is not None:
            return render_template("orders/lookup.html", form=LookupForm(formdata=None)), 200
        return redirect(url_for("accounts.sign_in", next=target))
    if not access.grant_guest_access(user, payment):  # signed in: read-only, nothing kept
        orders = [order] if order is not None else list(payment.orders)
        return render_template(
            "orders/guest_link_signed_in.html", payment=payment, orders=orders, via_lookup=True
        )
    return redirect(target)


# --- orders -----------------------------------------------------------------------------------


@bp.get("/don-hang")
@login_required
def my_orders():
    orders = db.session.scalars(
        select(Order)
        .where(Order.buyer_id == current_user.id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(200)
        .options(selectinload(Order.lines), selectinload(Order.shop))  # each card names its products
    ).all()
    return render_template("orders/my_orders.html", orders=orders)


@bp.get("/don-hang/<code>")
def show_order(code: str):
    order = _buyer_order(code, page=True)
    reviewed = {
        line_id
        for (line_id,) in db.session.execute(
            select(Review.order_line_id).where(Review.order_line_id.in_([ln.id for ln in order.lines]))
        )
    }
    return render_template(
        "orders/order.html",
        order=order,
        form=ActionForm(),
        reason_form=ReasonForm(),
        review_form=ReviewForm(),
        reviewed=reviewed,
        can_review=order.status in services.REVIEWABLE,
        can_cancel=order.status in states.BUYER_CANCELLABLE,
    )


@bp.post("/don-hang/<code>/huy")
def cancel(code: str):
    order = _buyer_order(code, page=False)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: services.buyer_cancel(order, actor=_user(), reason=(form.reason.data or "").strip() or None),
        _("Đã hủy đơn hàng %(code)s.", code=order.code),
    )
    return redirect(url_for("orders.show_order", code=code))


@bp.post("/don-hang/<code>/mua-lai")
def reorder(code: str):
    order = _buyer_order(code, page=False)
    if not ActionForm().validate_on_submit():
        abort(400)
    store, added, skipped = _store(), 0, []
    for listing_id, quantity in services.reorder_items(order):
        listing = db.session.get(Listing, listing_id)
        if listing is None:
            continue
        try:
            cart.add(store, listing, max(quantity, listing.min_order_qty))
            added += 1
        except DomainError as exc:
            skipped.append(exc.message)
    db.session.commit()
    for message in skipped:
        flash(message, "error")
    if added:
        flash(_("Đã thêm %(n)d sản phẩm của đơn %(code)s vào giỏ hàng.", n=added, code=order.code), "success")
    return redirect(url_for("orders.view_cart"))


@bp.post("/don-hang/<code>/da-nhan")
def received(code: str):
    order = _buyer_order(code, page=False)
    if not ActionForm().validate_on_submit():
        abort(400)
    run_action(lambda: services.buyer_received(order, actor=_user()), _("Cảm ơn bạn! Đơn hàng đã hoàn tất."))
    return redirect(url_for("orders.show_order", code=code))


@bp.post("/don-hang/<code>/danh-gia/<int:line_id>")
def review(code: str, line_id: int):
    order = _buyer_order(code, page=False)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    line = db.session.get(OrderLine, line_id)
    if line is None or line.order_id != order.id:
        abort(404)
    run_action(
        lambda: services.review_line(
            line, {"stars": form.stars.data, "body": form.body.data}, author=_user()
        ),
        _("Cảm ơn bạn đã đánh giá “%(title)s”.", title=line.title),
    )
    return redirect(url_for("orders.show_order", code=code) + "#danh-gia")

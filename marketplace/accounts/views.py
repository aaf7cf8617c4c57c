"""Sign-up, e-mail confirmation, sign-in, sign-out, the account page and password reset."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..actions import run_form
from ..errors import DomainError
from ..extensions import db
from ..redirects import next_target
from . import services
from .forms import (
    ActionForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
)

bp = Blueprint("accounts", __name__)


def _end_browser_session() -> None:
    """Forget everything this browser's session held (cart, order grants, sign-in), keeping only
    the language; the remember cookie is deleted too."""
    lang = session.get("lang")
    session.clear()
    logout_user()  # after clear(): it marks the remember cookie for deletion
    if lang:
        session["lang"] = lang


@bp.route("/dang-ky", methods=["GET", "POST"])
def sign_up():
    if current_user.is_authenticated:
        return redirect(next_target(url_for("catalog.home")))
    form = SignUpForm()
    # Where the person was going ("open a shop"…): kept through the confirmation mail and sign-in.
    going_to = next_target("") or None
    done = run_form(
        form,
        lambda: services.sign_up(
            email=form.email.data,
            password=form.password.data,
            full_name=form.full_name.data,
            phone=form.phone.data,
            next_url=going_to,
            privacy_consent=form.privacy_consent.data,
        ),
    )
    if done:
        # The same answer whether the address was free or taken (its owner got a mail).
        flash(
            _(
                "Chúng tôi đã gửi email tới %(email)s. Mở liên kết trong email để xác nhận địa chỉ, "
                "rồi đăng nhập.",
                email=done.result,
            ),
            "success",
        )
        return redirect(url_for("accounts.sign_in", next=going_to))
    return render_template("accounts/sign_up.html", form=form)


@bp.get("/xac-nhan-email/<token>")
def confirm_email(token: str):
    going_to = next_target("") or None  # the page the person was on their way to at sign-up
    try:
        user, newly = services.confirm_email(token)
    except DomainError as exc:
        flash(exc.message, "error")
        if current_user.is_authenticated:
            return redirect(url_for("accounts.account"))
        return redirect(url_for("accounts.sign_in", next=going_to))
    db.session.commit()
    if newly:
        flash(_("Địa chỉ email %(email)s đã được xác nhận.", email=user.email), "success")
    else:
        flash(_("Địa chỉ email này đã được xác nhận trước đó."), "info")
    if current_user.is_authenticated:
        return redirect(going_to or url_for("accounts.account"))
    return redirect(url_for("accounts.sign_in", next=going_to))


@bp.post("/xac-nhan-email/gui-lai")
@login_required
def resend_confirmation():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    if current_user.email_confirmed:
        flash(_("Địa chỉ email này đã được xác nhận trước đó."), "info")
    else:
        # The new link leads back to the page the button was on (e.g. the shop form).
        services.send_confirmation(current_user, next_url=next_target("") or None)
        db.session.commit()
        flash(
            _(
                "Đã gửi lại liên kết xác nhận tới %(email)s. Vui lòng kiểm tra hộp thư.",
                email=current_user.email,
            ),
            "success",
        )
    return redirect(next_target(url_for("accounts.account")))


@bp.route("/dang-nhap", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(next_target(url_for("catalog.home")))
    form = SignInForm()
    status, headers, throttled = 200, {}, False
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        db.session.commit()  # the attempt is recorded even when it failed
        if result.user:
            login_user(result.user, remember=form.remember.data)
            return redirect(next_target(url_for("catalog.home")))
        form.form_errors.append(result.message)
        status, throttled = (429, True) if result.throttled else (401, False)
        if result.throttled:
            headers["Retry-After"] = str(result.retry_after_s)
    return render_template("accounts/sign_in.html", form=form, throttled=throttled), status, headers


@bp.post("/dang-xuat")
@login_required
def sign_out():
    # A copy of this session's cookie (or of a remember cookie) must not keep working.
    services.end_sessions(current_user)
    db.session.commit()
    _end_browser_session()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("catalog.home"))


@bp.get("/tai-khoan")
@login_required
def account():
    return render_template("accounts/account.html", form=ChangePasswordForm(), action_form=ActionForm())


@bp.post("/tai-khoan/mat-khau")
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if run_form(
        form,
        lambda: services.change_password(user, form.current_password.data, form.password.data),
        _("Đã đổi mật khẩu. Các thiết bị khác đã được đăng xuất."),
    ):
        # Every other session has ended; this one goes on with the new token.
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
        login_user(user, remember=remembered)
        return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, action_form=ActionForm()), 422


@bp.post("/tai-khoan/dang-xuat-moi-noi")
@login_required
def sign_out_everywhere():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    services.end_sessions(current_user)
    db.session.commit()
    _end_browser_session()
    flash(_("Bạn đã đăng xuất trên mọi thiết bị."), "info")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/quen-mat-khau", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            _(
                "Nếu email này đã đăng ký, chúng tôi đã gửi liên kết đặt lại mật khẩu. Vui lòng kiểm tra hộp thư."
            ),
            "info",
        )
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/dat-lai-mat-khau/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_from_reset_token(token)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if run_form(form, lambda: services.reset_password(token, form.password.data)):
        if current_user.is_authenticated:
            _end_browser_session()
        flash(_("Mật khẩu đã được đặt lại. Vui lòng đăng nhập."), "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form, token=token)

"""Sign-up, sign-in, sign-out and password reset pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..forms import apply_errors
from ..redirects import next_target
from . import services
from .forms import ForgotPasswordForm, ResetPasswordForm, SignInForm, SignUpForm

bp = Blueprint("accounts", __name__)


@bp.route("/dang-ky", methods=["GET", "POST"])
def sign_up():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data,
                password=form.password.data,
                full_name=form.full_name.data,
                phone=form.phone.data,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Chào mừng %(name)s! Tài khoản của bạn đã được tạo.", name=user.full_name), "success")
            return redirect(next_target(url_for("catalog.home")))
    return render_template("accounts/sign_up.html", form=form)


@bp.route("/dang-nhap", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(next_target(url_for("catalog.home")))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        db.session.commit()  # the attempt counts for throttling even when it failed
        if result.user:
            login_user(result.user, remember=form.remember.data)
            return redirect(next_target(url_for("catalog.home")))
        form.form_errors.append(result.message)
        status = 429 if result.throttled else 401
    return render_template("accounts/sign_in.html", form=form), status


@bp.route("/dang-xuat", methods=["POST"])
@login_required
def sign_out():
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("catalog.home"))


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
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Mật khẩu đã được đặt lại. Vui lòng đăng nhập."), "success")
            return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form, token=token)

"""The producer's CSV upload page: the file is checked and previewed, and imported only when its
producer confirms that preview; and the sample file."""

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from marketplace.extensions import db
from sellers.models import Shop
from sellers.permissions import ShopPermission, shop_permission_required

from .csv_import import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    PREVIEW_MAX_AGE,
    REQUIRED_COLUMNS,
    SAMPLE_ROWS,
    ImportFailed,
    ImportPreview,
    PreviewChanged,
    PreviewRow,
    RowError,
    import_listings,
    keep_upload,
    preview_listings,
    sample_csv,
    take_upload,
)
from .forms import CsvConfirmForm, CsvUploadForm
from .views import seller_bp


def _page(
    shop: Shop,
    form: CsvUploadForm,
    *,
    errors: list[RowError] | None = None,
    rows: list[PreviewRow] | None = None,
    preview: ImportPreview | None = None,
    token: str | None = None,
    status: int = 200,
):
    confirm = CsvConfirmForm(formdata=None, token=token) if token else None
    return (
        render_template(
            "catalog/import_csv.html",
            shop=shop,
            form=form,
            errors=errors or [],
            rows=rows or [],
            preview=preview,
            confirm=confirm,
            minutes=int(PREVIEW_MAX_AGE.total_seconds() // 60),
            columns=COLUMNS,
            required=REQUIRED_COLUMNS,
            sample=SAMPLE_ROWS,
            max_mb=MAX_BYTES // (1024 * 1024),
            max_rows=MAX_ROWS,
        ),
        status,
    )


@seller_bp.route("/nhap-csv", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def import_csv(shop: Shop):
    """Upload: check the file and show what would be imported; nothing is imported yet."""
    form = CsvUploadForm()
    if form.validate_on_submit():
        data = form.file.data.stream.read(MAX_BYTES + 1)
        try:
            # No base_dir: a web upload has no folder of pictures, so any image_path is a row error.
            preview = preview_listings(data, actor=current_user, shop=shop)
        except ImportFailed as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            return _page(shop, form, errors=exc.errors, rows=exc.rows)
        token = keep_upload(data, preview, shop=shop, user=current_user)
        db.session.commit()
        return _page(shop, form, preview=preview, token=token)
    return _page(shop, form)


@seller_bp.post("/nhap-csv/xac-nhan")
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def confirm_csv_import(shop: Shop):
    """Confirm: import the kept file, exactly as previewed, or nothing."""
    confirm = CsvConfirmForm()
    kept = (
        take_upload(confirm.token.data, shop=shop, user=current_user)
        if confirm.validate_on_submit()
        else None
    )
    if kept is None:
        flash(
            _(
                "Bản xem trước này không còn dùng được (quá hạn, đã nhập rồi, hoặc không phải của bạn). "
                "Chưa nhập sản phẩm nào: vui lòng tải tệp lên lại."
            ),
            "error",
        )
        return redirect(url_for("catalog_seller.import_csv", shop_slug=shop.slug))
    data, fingerprint = kept
    form = CsvUploadForm(formdata=None)
    try:
        result = import_listings(data, actor=current_user, shop=shop, expect=fingerprint)
    except PreviewChanged as exc:
        db.session.rollback()
        take_upload(confirm.token.data, shop=shop, user=current_user)  # replaced by the new reading
        token = keep_upload(data, exc.preview, shop=shop, user=current_user)
        db.session.commit()
        form.form_errors.append(exc.message)
        return _page(shop, form, preview=exc.preview, token=token)
    except ImportFailed as exc:
        db.session.rollback()
        take_upload(confirm.token.data, shop=shop, user=current_user)
        db.session.commit()
        form.form_errors.append(exc.message)
        return _page(shop, form, errors=exc.errors, rows=exc.rows)
    db.session.commit()
    flash(ngettext("Đã nhập %(num)d sản phẩm.", "Đã nhập %(num)d sản phẩm.", result.count), "success")
    if result.waiting_claims:
        flash(
            ngettext(
                "%(num)d chứng nhận OCOP đang chờ ban quản lý sàn xác minh: huy hiệu sẽ hiện sau khi xác minh.",
                "%(num)d chứng nhận OCOP đang chờ ban quản lý sàn xác minh: huy hiệu sẽ hiện sau khi xác minh.",
                result.waiting_claims,
            ),
            "info",
        )
    return redirect(url_for("catalog_seller.list_listings", shop_slug=shop.slug))


@seller_bp.route("/nhap-csv/mau.csv")
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def csv_template(shop: Shop):
    return Response(
        sample_csv(shop.slug),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="mau-san-pham-{shop.slug}.csv"'},
    )

"""The producer's CSV upload page and its sample file."""

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import ngettext
from flask_login import current_user

from marketplace.extensions import db
from sellers.models import Shop
from sellers.permissions import ShopPermission, shop_permission_required

from .csv_import import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    SAMPLE_ROWS,
    ImportFailed,
    import_listings,
    sample_csv,
)
from .forms import CsvUploadForm
from .views import seller_bp


@seller_bp.route("/nhap-csv", methods=["GET", "POST"])
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def import_csv(shop: Shop):
    form = CsvUploadForm()
    errors = []
    if form.validate_on_submit():
        try:
            # No base_dir: a web upload has no folder of pictures, so any image_path is a row error.
            result = import_listings(form.file.data.stream, actor=current_user, shop=shop)
        except ImportFailed as exc:
            db.session.rollback()
            errors = exc.errors
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(ngettext("Đã nhập %(num)d sản phẩm.", "Đã nhập %(num)d sản phẩm.", result.count), "success")
            return redirect(url_for("catalog_seller.list_listings", shop_slug=shop.slug))
    return render_template(
        "catalog/import_csv.html",
        shop=shop,
        form=form,
        errors=errors,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        sample=SAMPLE_ROWS,
        max_mb=MAX_BYTES // (1024 * 1024),
        max_rows=MAX_ROWS,
    )


@seller_bp.route("/nhap-csv/mau.csv")
@shop_permission_required(ShopPermission.MANAGE_LISTINGS)
def csv_template(shop: Shop):
    return Response(
        sample_csv(shop.slug),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="mau-san-pham-{shop.slug}.csv"'},
    )

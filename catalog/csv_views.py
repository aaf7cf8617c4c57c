"""The producer's CSV upload page."""
from flask import render_template
from flask_login import login_required

from sellers.views import shop_for_member

from .views import seller_bp


@seller_bp.route("/nhap-csv", methods=["GET", "POST"])
@login_required
def import_csv(shop_slug: str):
    shop = shop_for_member(shop_slug)
    return render_template("catalog/import_csv.html", shop=shop)

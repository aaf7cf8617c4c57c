"""The operator's OCOP register (/quan-tri/chung-nhan-ocop): every claim, filters, CSV export, and
the check or refusal of each claim."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.actions import run_action
from marketplace.csv_writer import csv_response
from marketplace.extensions import db
from marketplace.i18n import short_datetime
from marketplace.numbers import NumberError, id_arg, page_arg, query_int
from marketplace.permissions import operator_required
from marketplace.redirects import back_target
from marketplace.timeutil import local_today

from . import ocop
from .forms import OcopDecisionForm
from .models import OcopCertificate
from .views import operator_bp

PER_PAGE = 50


def _filter() -> ocop.RegisterFilter:
    args = request.args
    try:
        stars = query_int(args, "stars", minimum=1, maximum=5, blank_ok=True)
    except NumberError:
        stars = None
    return ocop.RegisterFilter(
        status=args.get("status", "") if args.get("status") in ocop.FILTER_STATUSES else "",
        shop_id=args.get("shop", type=id_arg),
        stars=stars,
        level=args.get("level", "") if args.get("level") in ("province", "national", "none") else "",
        q=" ".join((args.get("q") or "").split())[:100],
        unused=args.get("unused") == "1",
    )


@operator_bp.get("/chung-nhan-ocop")
@operator_required
def ocop_register():
    f = _filter()
    today = local_today()
    pagination = db.paginate(
        ocop.register_query(f, today), page=page_arg(request.args), per_page=PER_PAGE, error_out=False
    )
    rows = list(pagination.items)
    return render_template(
        "catalog/operator_ocop.html",
        pagination=pagination,
        rows=rows,
        listings=ocop.citing_listings([row.id for row in rows]),
        shared_numbers=ocop.numbers_claimed_by_several_shops([row.certificate_no for row in rows]),
        f=f,
        args=f.args(),
        shops=ocop.shops_in_register(),
        waiting=ocop.waiting_count(),
        today=today,
    )


@operator_bp.get("/chung-nhan-ocop/<int:certificate_id>")
@operator_required
def ocop_certificate(certificate_id: int):
    certificate = db.session.get(OcopCertificate, certificate_id) or abort(404)
    return render_template(
        "catalog/operator_ocop_certificate.html",
        cert=certificate,
        listings=ocop.citing_listings([certificate.id])[certificate.id],
        shared=bool(ocop.numbers_claimed_by_several_shops([certificate.certificate_no])),
        today=local_today(),
    )


CSV_COLUMNS = [
    "id",
    "certificate_no",
    "product",
    "listings",
    "shop",
    "stars",
    "level",
    "issued_on",
    "expires_on",
    "status",
    "expired",
    "refusal_reason",
    "decided_by",
    "decided_at",
    "claimed_at",
]


@operator_bp.get("/chung-nhan-ocop.csv")
@operator_required
def export_ocop_register():
    f = _filter()
    today = local_today()

    def rows():
        certificates = list(db.session.scalars(ocop.register_query(f, today)))
        cited = ocop.citing_titles([cert.id for cert in certificates])
        for cert in certificates:
            titles = cited.get(cert.id, [])
            yield [
                cert.id,
                cert.certificate_no,
                cert.product_name,
                "; ".join(titles),
                cert.shop.name,
                cert.stars,
                cert.level,
                cert.issued_on.isoformat(),
                cert.expires_on.isoformat(),
                cert.status,
                1 if cert.expired(today) else 0,
                cert.refusal_reason or "",
                cert.decided_by.email if cert.decided_by else "",
                short_datetime(cert.decided_at),
                short_datetime(cert.created_at),
            ]

    return csv_response("chung-nhan-ocop.csv", CSV_COLUMNS, rows)


def _certificate_or_404(certificate_id: int) -> OcopCertificate:
    return db.session.get(OcopCertificate, certificate_id) or abort(404)


@operator_bp.post("/chung-nhan-ocop/<int:certificate_id>/xac-minh")
@operator_required
def check_ocop(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    if not OcopDecisionForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: ocop.check_certificate(cert, actor=current_user),
        _("Đã xác minh chứng nhận OCOP %(no)s.", no=cert.certificate_no),
    )
    return redirect(back_target(url_for("catalog_admin.ocop_register")))


@operator_bp.post("/chung-nhan-ocop/<int:certificate_id>/tu-choi")
@operator_required
def refuse_ocop(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    form = OcopDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: ocop.refuse_certificate(cert, form.reason.data or "", actor=current_user),
        _("Đã từ chối chứng nhận OCOP %(no)s.", no=cert.certificate_no),
    )
    return redirect(back_target(url_for("catalog_admin.ocop_register")))

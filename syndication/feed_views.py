"""The feeds' stable URLs: /feeds/google-merchant.xml, /feeds/listings.csv, /feeds/listings.json.
Public (the platforms fetch them), streamed, with ETag and Last-Modified (a fetcher that sends
If-None-Match or If-Modified-Since gets 304 when nothing changed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Blueprint, Response, request, stream_with_context, url_for
from flask_babel import gettext as _

from marketplace.timeutil import utcnow

from . import feeds

bp = Blueprint("syndication_feeds", __name__, url_prefix="/feeds")


def _templates() -> tuple[str, str]:
    listing = url_for("catalog.show_listing", slug="SLUG0", _external=True).replace("SLUG0", "{slug}")
    media = url_for("shell.media", filename="PATH0", _external=True).replace("PATH0", "{path}")
    return listing, media


def _serve(mimetype: str, render: Callable[[Iterator[feeds.FeedItem]], Iterator[str]]) -> Response:
    etag, modified = feeds.validator()
    not_modified = Response(status=304)
    if request.if_none_match:
        if request.if_none_match.contains(etag):
            not_modified.set_etag(etag)
            not_modified.last_modified = modified
            return not_modified
    elif request.if_modified_since is not None and modified <= request.if_modified_since:
        not_modified.set_etag(etag)
        not_modified.last_modified = modified
        return not_modified
    listing_url, media_url = _templates()
    body = render(feeds.items(listing_url, media_url))
    response = Response(stream_with_context(body), content_type=f"{mimetype}; charset=utf-8")
    response.set_etag(etag)
    response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = 900
    return response


@bp.route("/google-merchant.xml")
def google_merchant():
    def render(items):
        return feeds.google_rss(
            items,
            title=_("Sàn thương mại điện tử Hà Tĩnh"),
            link=url_for("catalog.home", _external=True),
            description=_("Sản phẩm của các nhà sản xuất Hà Tĩnh"),
        )

    return _serve("application/xml", render)


@bp.route("/listings.csv")
def listings_csv():
    response = _serve("text/csv", feeds.csv_rows)
    if response.status_code == 200:
        response.headers["Content-Disposition"] = 'inline; filename="listings.csv"'
    return response


@bp.route("/listings.json")
def listings_json():
    generated = utcnow().replace(microsecond=0).isoformat() + "Z"
    return _serve("application/json", lambda items: feeds.json_chunks(items, generated_at=generated))

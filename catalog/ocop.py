"""The OCOP register: a listing's rating is a claim the operator checks before any badge shows.

A listing's four rating fields (stars, certificate number, level, date) are what the producer
typed; `attach_claim` points the listing at the register row of exactly that claim, found or
created as waiting. The operator checks or refuses a row (`check_certificate`,
`refuse_certificate`); every listing citing it is re-indexed, since search facets and ranking count
only checked, unexpired stars (catalog.models.ocop_rating is the rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.errors import DomainError, Forbidden
from marketplace.extensions import db, rows_matched
from marketplace.models import User
from marketplace.permissions import is_operator
from marketplace.timeutil import local_today, utcnow
from sellers.models import Shop

from .models import Listing, OcopCertificate, OcopCertificateEvent, OcopStatus, ocop_expired_on_or_before

STATUS_LABELS = {
    OcopStatus.WAITING.value: _l("Chờ sàn xác minh"),
    OcopStatus.CHECKED.value: _l("Đã xác minh"),
    OcopStatus.REFUSED.value: _l("Bị từ chối"),
}
LEVEL_LABELS = {"province": _l("Cấp tỉnh"), "national": _l("Cấp trung ương")}
MAX_REASON = 1000


@dataclass(frozen=True)
class ClaimKey:
    """What makes two citations the same claim: one register row each."""

    shop_id: int
    certificate_no: str
    stars: int
    level: str
    issued_on: date


def claim_key(shop_id: int, fields: dict) -> ClaimKey | None:
    """The claim in a listing's (clean) rating fields, or None when it has no complete rating."""
    stars, number, issued = (
        fields.get("ocop_stars"),
        fields.get("ocop_certificate_no"),
        fields.get("ocop_issued_on"),
    )
    if not (stars and number and issued):
        return None
    return ClaimKey(shop_id, number, int(stars), fields.get("ocop_level") or "", issued)


def find_claim(key: ClaimKey) -> OcopCertificate | None:
    return db.session.scalar(
        select(OcopCertificate).where(
            OcopCertificate.shop_id == key.shop_id,
            OcopCertificate.certificate_no == key.certificate_no,
            OcopCertificate.stars == key.stars,
            OcopCertificate.level == key.level,
            OcopCertificate.issued_on == key.issued_on,
        )
    )


def claim_for(key: ClaimKey, product_name: str) -> OcopCertificate:
    """The register row of `key`, created as waiting when the shop never claimed it. A row made
    by a concurrent request at the same moment is found instead (the UNIQUE key decides)."""
    found = find_claim(key)
    if found is not None:
        return found
    row = OcopCertificate(
        shop_id=key.shop_id,
        certificate_no=key.certificate_no,
        stars=key.stars,
        level=key.level,
        issued_on=key.issued_on,
        product_name=product_name[:160],
        status=OcopStatus.WAITING.value,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        found = find_claim(key)
        if found is None:
            raise
        return found
    return row


def attach_claim(listing: Listing) -> None:
    """Point `listing` (flushed, with its rating fields set) at the register row of its claim.
    An edit of a checked rating's stars, number, level or date cites another row, so the listing
    waits again; the row it left keeps its decision on record (a row never decided and cited by
    nobody any more is dropped: there is nothing to audit)."""
    old = listing.ocop_certificate
    key = claim_key(listing.shop_id, _fields(listing))
    new = claim_for(key, listing.title) if key is not None else None
    if new is old:
        return
    listing.ocop_certificate = new
    db.session.flush()
    if old is not None:
        drop_if_unused(old)


def drop_if_unused(certificate: OcopCertificate) -> None:
    if certificate.status != OcopStatus.WAITING.value:
        return
    cited = db.session.scalar(
        select(func.count()).select_from(Listing).where(Listing.ocop_certificate_id == certificate.id)
    )
    if not cited:
        db.session.delete(certificate)
        db.session.flush()


def _fields(listing: Listing) -> dict:
    return {
        "ocop_stars": listing.ocop_stars,
        "ocop_certificate_no": listing.ocop_certificate_no,
        "ocop_level": listing.ocop_level,
        "ocop_issued_on": listing.ocop_issued_on,
    }


# --- the operator's decisions ------------------------------------------------------------------------


def _decide(certificate: OcopCertificate, status: OcopStatus, reason: str | None, actor: User) -> None:
    if not is_operator(actor):
        raise Forbidden(_("Chỉ ban quản lý sàn mới xác minh được chứng nhận OCOP."))
    if certificate.status == status.value:
        raise DomainError(
            _(
                "Chứng nhận %(no)s đã ở trạng thái “%(state)s”.",
                no=certificate.certificate_no,
                state=STATUS_LABELS[status.value],
            )
        )
    # A conditional UPDATE on the state the operator saw: of two operators deciding the same claim
    # at the same moment, one wins and the other is told, rather than both being recorded.
    seen = certificate.status
    now = utcnow()
    changed = rows_matched(
        db.session.execute(
            update(OcopCertificate)
            .where(OcopCertificate.id == certificate.id, OcopCertificate.status == seen)
            .values(status=status.value, refusal_reason=reason, decided_by_id=actor.id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        db.session.refresh(certificate)
        raise DomainError(
            _("Chứng nhận %(no)s vừa được người khác xử lý; hãy xem lại.", no=certificate.certificate_no)
        )
    db.session.add(
        OcopCertificateEvent(
            certificate_id=certificate.id,
            action=status.value,
            reason=reason,
            actor_id=actor.id,
            created_at=now,
        )
    )
    db.session.flush()
    db.session.refresh(certificate)
    # Facets and ranking use the stars: every listing citing the row is indexed again.
    from .services import listing_event

    for listing_id in db.session.scalars(
        select(Listing.id).where(Listing.ocop_certificate_id == certificate.id).order_by(Listing.id)
    ):
        listing_event(listing_id, "ocop_" + status.value)


def check_certificate(certificate: OcopCertificate, *, actor: User) -> OcopCertificate:
    """The operator compared the claim with the certificate: its listings show the badge (until
    it expires). Also withdraws an earlier refusal."""
    _decide(certificate, OcopStatus.CHECKED, None, actor)
    return certificate


def refuse_certificate(certificate: OcopCertificate, reason: str, *, actor: User) -> OcopCertificate:
    """The claim does not match a real certificate: no badge, and the producer sees why. Also
    withdraws an earlier check."""
    reason = " ".join((reason or "").split())
    if not reason:
        message = _("Vui lòng nêu lý do từ chối (người bán sẽ thấy).")
        raise DomainError(message, field_errors={"reason": [message]})
    if len(reason) > MAX_REASON:
        message = _("Lý do tối đa %(n)d ký tự.", n=MAX_REASON)
        raise DomainError(message, field_errors={"reason": [message]})
    _decide(certificate, OcopStatus.REFUSED, reason, actor)
    return certificate


# --- the register's queries ----------------------------------------------------------------------------

FILTER_STATUSES = ("waiting", "checked", "refused", "expired")


@dataclass
class RegisterFilter:
    status: str = ""  # one of FILTER_STATUSES; "checked" means checked and still valid
    shop_id: int | None = None
    stars: int | None = None
    level: str = ""
    q: str = ""  # certificate number or product
    unused: bool = False  # also rows no listing cites any more

    def args(self) -> dict:
        out = {
            "status": self.status,
            "shop": self.shop_id,
            "stars": self.stars,
            "level": self.level,
            "q": self.q,
        }
        if self.unused:
            out["unused"] = "1"
        return {k: v for k, v in out.items() if v}


def register_query(f: RegisterFilter, today: date | None = None) -> Select:
    """The register's rows under the filter: waiting first (oldest first: the queue), then the rest
    newest first."""
    today = today or local_today()
    cutoff = ocop_expired_on_or_before(today)
    query = select(OcopCertificate).join(OcopCertificate.shop)
    if f.status == "waiting":
        query = query.where(OcopCertificate.status == OcopStatus.WAITING.value)
    elif f.status == "checked":
        query = query.where(OcopCertificate.shows_badge(today))
    elif f.status == "refused":
        query = query.where(OcopCertificate.status == OcopStatus.REFUSED.value)
    elif f.status == "expired":
        query = query.where(OcopCertificate.issued_on <= cutoff)
    if f.shop_id:
        query = query.where(OcopCertificate.shop_id == f.shop_id)
    if f.stars:
        query = query.where(OcopCertificate.stars == f.stars)
    if f.level:
        query = query.where(OcopCertificate.level == ("" if f.level == "none" else f.level))
    if f.q:
        like = f"%{f.q}%"
        cited_by_title = exists().where(
            Listing.ocop_certificate_id == OcopCertificate.id, Listing.title.ilike(like)
        )
        query = query.where(
            or_(
                OcopCertificate.certificate_no.ilike(like),
                OcopCertificate.product_name.ilike(like),
                cited_by_title,
            )
        )
    if not f.unused:
        query = query.where(exists().where(Listing.ocop_certificate_id == OcopCertificate.id))
    waiting_first = (OcopCertificate.status != OcopStatus.WAITING.value).label("decided")
    return query.order_by(waiting_first, OcopCertificate.created_at.desc(), OcopCertificate.id.desc())


def waiting_count() -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OcopCertificate)
            .where(
                OcopCertificate.status == OcopStatus.WAITING.value,
                exists().where(Listing.ocop_certificate_id == OcopCertificate.id),
            )
        )
        or 0
    )


def citing_listings(certificate_ids: list[int]) -> dict[int, list[Listing]]:
    out: dict[int, list[Listing]] = {cid: [] for cid in certificate_ids}
    if certificate_ids:
        for listing in db.session.scalars(
            select(Listing).where(Listing.ocop_certificate_id.in_(certificate_ids)).order_by(Listing.id)
        ).unique():
            if listing.ocop_certificate_id is not None:
                out[listing.ocop_certificate_id].append(listing)
    return out


def citing_titles(certificate_ids: list[int]) -> dict[int, list[str]]:
    """The titles of the listings citing each row (for the CSV export: no listing objects)."""
    out: dict[int, list[str]] = {}
    for start in range(0, len(certificate_ids), 500):
        chunk = certificate_ids[start : start + 500]
        for cid, title in db.session.execute(
            select(Listing.ocop_certificate_id, Listing.title)
            .where(Listing.ocop_certificate_id.in_(chunk))
            .order_by(Listing.id)
        ):
            if cid is not None:
                out.setdefault(cid, []).append(title)
    return out


def numbers_claimed_by_several_shops(numbers: list[str]) -> set[str]:
    """Certificate numbers among `numbers` that more than one shop cites: a certificate is issued
    to one producer, so the operator looks twice."""
    if not numbers:
        return set()
    return set(
        db.session.scalars(
            select(OcopCertificate.certificate_no)
            .where(OcopCertificate.certificate_no.in_(set(numbers)))
            .group_by(OcopCertificate.certificate_no)
            .having(func.count(func.distinct(OcopCertificate.shop_id)) > 1)
        )
    )


def shops_in_register() -> list[Shop]:
    return list(
        db.session.scalars(
            select(Shop).where(exists().where(OcopCertificate.shop_id == Shop.id)).order_by(Shop.name)
        )
    )

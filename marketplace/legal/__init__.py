"""What the law asks of the floor: the legal pages the operator publishes as dated versions, the
operator's identity in every footer, consent to the privacy policy (a service any form may use),
and a person's data (export, account erasure). Wired in by init_app()."""

from __future__ import annotations

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .pages import PAGES, PRIVACY

OPERATOR_SETTINGS = (
    "OPERATOR_NAME",
    "OPERATOR_ADDRESS",
    "OPERATOR_PHONE",
    "OPERATOR_EMAIL",
    "OPERATOR_REGISTRATION",
)


def footer() -> dict:
    """What every page's footer shows: the legal pages, and the operator's details as configured
    (unset lines are left out; the Ministry of Industry and Trade notice only when its URL is set)."""
    cfg = current_app.config
    return {
        "pages": [(page.title, url_for("legal.show_page", key=page.key)) for page in PAGES],
        "operator": {name: cfg.get(name) for name in OPERATOR_SETTINGS},
        "moit_url": cfg.get("MOIT_NOTICE_URL"),
        "moit_image": cfg.get("MOIT_NOTICE_IMAGE"),
    }


def missing_operator_settings() -> list[str]:
    return [name for name in OPERATOR_SETTINGS if not current_app.config.get(name)]


def privacy_consent_needed() -> bool:
    """In templates: must the visitor tick the consent box on this form?"""
    from .services import consent_required

    return consent_required(current_user if current_user.is_authenticated else None)


def privacy_policy_link() -> tuple[str, int | None]:
    """The privacy policy's address and the number of the version in force (None: unpublished)."""
    from .services import current_version

    version = current_version(PRIVACY)
    return url_for("legal.show_page", key=PRIVACY), (version.number if version else None)


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401 - the tables belong to the metadata
    from .personal_data import ACCOUNT_SOURCE, register_source
    from .views import bp, operator_bp

    app.register_blueprint(bp)
    app.register_blueprint(operator_bp)
    register_source(app, ACCOUNT_SOURCE)
    app.extensions.setdefault("operator_links", []).append(
        (_l("Quy chế và chính sách của sàn"), "legal_admin.pages")
    )
    app.jinja_env.globals.update(
        legal_footer=footer,
        privacy_consent_needed=privacy_consent_needed,
        privacy_policy_link=privacy_policy_link,
        missing_operator_settings=missing_operator_settings,
    )

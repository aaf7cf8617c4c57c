"""govqa: "Doanh nghiệp hỏi – Cơ quan nhà nước trả lời" — businesses ask the province's state
agencies, the answers are public, on time (working-day deadlines) and findable. Wired in by
init_app(): blueprints, the `flask qa` commands, outbox topics, API paths, personal data."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from . import models  # noqa: F401 - registers the tables with the metadata


def init_app(app: Flask) -> None:
    from marketplace.api import add_openapi
    from marketplace.config import env_int, set_defaults
    from marketplace.outbox import register_handler

    from . import public, services, states
    from .api import OPENAPI_PATHS, OPENAPI_SCHEMAS, api_bp
    from .cli import qa_cli
    from .views import bp, official_bp, operator_bp

    set_defaults(
        app,
        {"QA_ATTACHMENT_MAX_BYTES": env_int("QA_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)},
    )
    app.register_blueprint(bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(official_bp)
    app.register_blueprint(api_bp)
    add_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    register_handler(app, services.CHANGED_TOPIC, public.on_question_changed)
    public.register_search(app)
    register_handler(app, services.REMINDER_TOPIC, services.on_reminder)
    app.cli.add_command(qa_cli)
    app.jinja_env.globals.update(qa_state_label=states.label, qa_topic_label=services.topic_label)
    app.extensions.setdefault("operator_links", []).append(
        (_l("Hỏi đáp doanh nghiệp"), "govqa_operator.queue")
    )
    from marketplace.legal.personal_data import register_source

    from .personal_data import FILES_TOPIC, SOURCE, forget_files

    register_source(app, SOURCE)
    register_handler(app, FILES_TOPIC, forget_files)  # erased attachments' files

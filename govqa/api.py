"""Open data: the public questions and the agencies' figures as JSON, new answers as Atom feeds.
Everything here reads govqa/public.py (public questions, public messages, redacted texts)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.api import id_parameter, problem_response
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.numbers import NumberError, query_int
from marketplace.timeutil import floor_timezone

from . import public, states, stats
from .models import Agency, Message, MessageKind, Question, Visibility
from .redaction import load_redactor
from .services import TOPICS

api_bp = Blueprint("govqa_api", __name__, url_prefix="/api/v1/qa")
PER_PAGE = 20
MAX_PAGE = 10_000
FEED_SIZE = 50


def _page() -> int:
    try:
        value = query_int(request.args, "page", minimum=1, maximum=MAX_PAGE)
    except NumberError as exc:
        raise DomainError(exc.message, field_errors={"page": [exc.message]}) from None
    return value or 1


def question_json(view: public.PublicQuestion) -> dict:
    data = view.as_json()
    data["url"] = url_for("govqa.question", slug=view.slug, _external=True)
    return data


MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """A month (YYYY-MM) where the floor is, as naive UTC [start, end)."""
    year, number = int(month[:4]), int(month[5:])
    following = (year + (number == 12), number % 12 + 1)
    zone = floor_timezone()

    def utc(y: int, m: int) -> datetime:
        return datetime(y, m, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return utc(year, number), utc(*following)


def search_public(
    text: str, agency: str | None, topic: str | None, state: str | None, page: int, month: str | None = None
) -> tuple[list[Question], int]:
    """Public questions matching: through the search collection when there is text, else from
    the database, newest first. `month` (YYYY-MM): asked that month."""
    if text.strip():
        from search.collections import search

        given = {"agency": agency, "topic": topic, "state": state, "month": month}
        filters = {k: v for k, v in given.items() if v}
        found = search(public.COLLECTION, text, filters, page=page, per_page=PER_PAGE)
        rows = {
            q.id: q
            for q in db.session.scalars(
                public.public_questions()
                .where(Question.id.in_(found.ids))
                .options(selectinload(Question.messages))
            )
        }
        return [rows[i] for i in found.ids if i in rows], found.total
    query = public.public_questions()
    if agency:
        query = query.join(Agency, Agency.id == Question.agency_id).where(Agency.slug == agency)
    if topic:
        query = query.where(Question.topic == topic)
    if state:
        query = query.where(Question.state == state)
    if month:
        start, end = month_bounds(month)
        query = query.where(Question.submitted_at >= start, Question.submitted_at < end)
    pagination = db.paginate(
        query.order_by(Question.submitted_at.desc(), Question.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )
    return list(pagination.items), pagination.total or 0


def _filters() -> tuple[str, str | None, str | None, str | None, str | None]:
    text = request.args.get("q") or ""
    if len(text) > 200:
        message = _("Từ khoá tối đa 200 ký tự.")
        raise DomainError(message, field_errors={"q": [message]})
    # An agency slug nobody has simply matches nothing (as a search would).
    agency = (request.args.get("agency") or "")[:80] or None
    topic = request.args.get("topic")
    if topic is not None and topic not in TOPICS:
        message = _("Lĩnh vực không hợp lệ.")
        raise DomainError(message, field_errors={"topic": [message]})
    state = request.args.get("state")
    if state is not None and state not in states.PUBLIC:
        message = _("Trạng thái không hợp lệ.")
        raise DomainError(message, field_errors={"state": [message]})
    month = request.args.get("month")
    if month is not None and not MONTH.fullmatch(month):
        message = _("Tháng không hợp lệ (YYYY-MM).")
        raise DomainError(message, field_errors={"month": [message]})
    return text, agency, topic, state, month


@api_bp.get("/questions")
def list_questions():
    text, agency, topic, state, month = _filters()
    page = _page()
    questions, total = search_public(text, agency, topic, state, page, month)
    redactor = load_redactor()
    items = [question_json(v) for v in (public.public_view(q, redactor) for q in questions) if v is not None]
    return jsonify({"total": total, "page": page, "per_page": PER_PAGE, "items": items})


@api_bp.get("/questions/<int:question_id>")
def get_question(question_id: int):
    question = db.session.get(Question, question_id)
    view = public.public_view(question) if question is not None else None
    if view is None:
        raise NotFound(_("Câu hỏi không tồn tại hoặc chưa được công khai."))
    return jsonify(question_json(view))


def agency_json(agency: Agency, figures: stats.Figures) -> dict:
    return {
        "id": agency.id,
        "slug": agency.slug,
        "name": agency.name,
        "working_days": agency.working_days,
        "url": url_for("govqa.agency", slug=agency.slug, _external=True),
        "figures": figures.as_json(),
    }


@api_bp.get("/agencies")
def list_agencies():
    agencies = public.agencies()
    figures = stats.figures(agencies)
    return jsonify({"items": [agency_json(a, figures[a.id]) for a in agencies]})


# --- Atom ----------------------------------------------------------------------------------------


def _atom_time(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def atom_feed(agency: Agency | None) -> Response:
    """The newest public answers (of one agency, or all), as Atom 1.0."""
    query = (
        select(Message)
        .join(Question, Question.id == Message.question_id)
        .where(
            Message.kind == MessageKind.ANSWER.value,
            Message.visibility == Visibility.PUBLIC.value,
            Question.state.in_(states.PUBLIC),
            Question.hidden.is_(False),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(FEED_SIZE)
    )
    if agency is not None:
        query = query.where(Message.agency_id == agency.id)
    redactor = load_redactor()
    self_url = (
        url_for("govqa_api.agency_feed", slug=agency.slug, _external=True)
        if agency
        else url_for("govqa_api.feed", _external=True)
    )
    title = _("Trả lời mới: %(agency)s", agency=agency.name) if agency else _("Trả lời mới của các cơ quan")
    entries = []
    messages = list(db.session.scalars(query))
    for message in messages:
        view = public.public_view(message.question, redactor)
        if view is None:
            continue
        answer = next((m for m in view.messages if m.id == message.id), None)
        if answer is None:
            continue
        link = url_for("govqa.question", slug=view.slug, _external=True)
        entries.append(
            "<entry>"
            f"<id>{escape(link)}#tra-loi-{answer.id}</id>"
            f"<title>{escape(view.title)}</title>"
            f'<link rel="alternate" href="{escape(link)}"/>'
            f"<updated>{_atom_time(answer.created_at)}</updated>"
            f"<author><name>{escape(answer.agency_name or '')}</name></author>"
            f'<content type="html">{escape(answer.body_html)}</content>'
            "</entry>"
        )
    updated = _atom_time(messages[0].created_at) if messages else "2025-07-01T00:00:00Z"
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(self_url)}</id><title>{escape(title)}</title><updated>{updated}</updated>"
        f'<link rel="self" href="{escape(self_url)}"/>' + "".join(entries) + "</feed>"
    )
    return Response(body, mimetype="application/atom+xml")


@api_bp.get("/answers.atom")
def feed():
    return atom_feed(None)


@api_bp.get("/agencies/<slug>/answers.atom")
def agency_feed(slug: str):
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None:
        raise NotFound(_("Không có cơ quan này."))
    return atom_feed(agency)


# --- OpenAPI -------------------------------------------------------------------------------------

_QUESTION_PROPS = {
    "id": {"type": "integer"},
    "slug": {"type": "string"},
    "title": {"type": "string", "description": "Personal data redacted"},
    "body_html": {"type": "string", "description": "Sanitised HTML, personal data redacted"},
    "topic": {"type": "string", "enum": list(TOPICS)},
    "agency": {"type": "object", "nullable": True},
    "asked_by": {"type": "string", "description": "The business name (and the asker's name if they chose)"},
    "state": {"type": "string", "enum": sorted(states.PUBLIC)},
    "submitted_at": {"type": "string", "format": "date-time"},
    "due_on": {"type": "string", "format": "date", "nullable": True},
    "working_days_allowed": {"type": "integer", "nullable": True},
    "answered_at": {"type": "string", "format": "date-time", "nullable": True},
    "state_reason": {"type": "string", "nullable": True},
    "answers": {"type": "array", "items": {"type": "object"}},
    "url": {"type": "string", "format": "uri"},
}
OPENAPI_SCHEMAS = {
    "QaQuestion": {
        "type": "object",
        "required": ["id", "title", "state", "submitted_at", "due_on", "working_days_allowed", "answered_at"],
        "properties": _QUESTION_PROPS,
    },
    "QaAgency": {
        "type": "object",
        "required": ["id", "slug", "name", "figures"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "working_days": {"type": "integer"},
            "url": {"type": "string", "format": "uri"},
            "figures": {
                "type": "object",
                "properties": {
                    "received": {"type": "integer"},
                    "answered": {"type": "integer"},
                    "answered_on_time": {"type": "integer"},
                    "answered_on_time_percent": {"type": "integer", "nullable": True},
                    "median_working_days_to_answer": {"type": "number", "nullable": True},
                    "overdue_now": {"type": "integer"},
                    "open_now": {"type": "integer"},
                },
            },
        },
    },
}
_ATOM = {
    "200": {"description": "Atom 1.0", "content": {"application/atom+xml": {"schema": {"type": "string"}}}}
}
OPENAPI_PATHS = {
    "/qa/questions": {
        "get": {
            "operationId": "listQaQuestions",
            "summary": "Public questions to the state agencies (search, filter, page)",
            "tags": ["qa"],
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                {"name": "agency", "in": "query", "schema": {"type": "string"}, "description": "Agency slug"},
                {"name": "topic", "in": "query", "schema": {"type": "string", "enum": list(TOPICS)}},
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": sorted(states.PUBLIC)}},
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                },
            ],
            "responses": {
                "200": {
                    "description": "A page of questions",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "total": {"type": "integer"},
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "items": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/QaQuestion"},
                                    },
                                },
                            }
                        }
                    },
                },
                "400": problem_response("A parameter is not valid"),
                "422": problem_response("A parameter is not valid"),
            },
        }
    },
    "/qa/questions/{question_id}": {
        "get": {
            "operationId": "getQaQuestion",
            "summary": "One public question with its public answers",
            "tags": ["qa"],
            "parameters": [id_parameter("question_id")],
            "responses": {
                "200": {
                    "description": "The question",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QaQuestion"}}},
                },
                "404": problem_response("No such public question"),
            },
        }
    },
    "/qa/agencies": {
        "get": {
            "operationId": "listQaAgencies",
            "summary": "The agencies and their figures",
            "tags": ["qa"],
            "responses": {
                "200": {
                    "description": "Agencies",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "items": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/QaAgency"},
                                    }
                                },
                            }
                        }
                    },
                }
            },
        }
    },
    "/qa/answers.atom": {
        "get": {
            "operationId": "qaAnswersFeed",
            "summary": "Atom feed of new answers",
            "tags": ["qa"],
            "responses": _ATOM,
        }
    },
    "/qa/agencies/{slug}/answers.atom": {
        "get": {
            "operationId": "qaAgencyAnswersFeed",
            "summary": "Atom feed of one agency's new answers",
            "tags": ["qa"],
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ATOM, "404": problem_response("No such agency")},
        }
    },
}

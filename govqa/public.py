"""The public face of a question: the ONE place that decides what of a question the public sees —
pages, the open-data API, the Atom feeds and the search documents all read `public_view`.

Only public questions (accepted, not hidden) and public messages (not asker-only, staff or
hidden) are in it, and every text has gone through the redaction rules and the question's manual
redactions (govqa/redaction.py). The asker's name is shown only if they chose so; the business
name always."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.extensions import db
from marketplace.timeutil import local_date

from . import states
from .html import html_to_text
from .models import Agency, MessageKind, Question, Visibility
from .redaction import Redactor, load_redactor

COLLECTION = "qa_questions"


def public_questions():
    """The select of public questions (pages, lists, API, feeds, search)."""
    return select(Question).where(Question.state.in_(states.PUBLIC), Question.hidden.is_(False))


def is_public(question: Question) -> bool:
    return question.state in states.PUBLIC and not question.hidden


@dataclass
class PublicMessage:
    id: int
    kind: str
    agency_name: str | None
    body_html: str
    created_at: datetime


@dataclass
class PublicQuestion:
    id: int
    slug: str
    title: str
    body_html: str
    topic: str
    agency_id: int | None
    agency_slug: str | None
    agency_name: str | None
    asked_by: str
    state: str
    submitted_at: datetime
    due_on: date | None
    working_days_allowed: int | None
    answered_at: datetime | None
    state_reason: str | None
    messages: list[PublicMessage]

    @property
    def answer(self) -> PublicMessage | None:
        answers = [m for m in self.messages if m.kind == MessageKind.ANSWER.value]
        return answers[-1] if answers else None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "body_html": self.body_html,
            "topic": self.topic,
            "agency": (
                {"id": self.agency_id, "slug": self.agency_slug, "name": self.agency_name}
                if self.agency_id is not None
                else None
            ),
            "asked_by": self.asked_by,
            "state": self.state,
            "submitted_at": _iso(self.submitted_at),
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "working_days_allowed": self.working_days_allowed,
            "answered_at": _iso(self.answered_at),
            "state_reason": self.state_reason,
            "answers": [
                {"agency": m.agency_name, "body_html": m.body_html, "created_at": _iso(m.created_at)}
                for m in self.messages
                if m.kind == MessageKind.ANSWER.value
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else None


def asked_by(question: Question) -> str:
    if question.show_asker_name and question.asker_name:
        return f"{question.asker_name} — {question.business_name}"
    return question.business_name


def public_view(question: Question, redactor: Redactor | None = None) -> PublicQuestion | None:
    """None when the question is not public."""
    if not is_public(question):
        return None
    redactor = (redactor or load_redactor()).with_phrases(_phrases(question))
    agency = question.agency
    messages = [
        PublicMessage(
            id=m.id,
            kind=m.kind,
            agency_name=m.agency.name if m.agency else None,
            body_html=redactor.html(m.body_html),
            created_at=m.created_at,
        )
        for m in question.messages
        if m.visibility == Visibility.PUBLIC.value
    ]
    return PublicQuestion(
        id=question.id,
        slug=question.slug,
        title=redactor.text(question.title),
        body_html=redactor.html(question.body),
        topic=question.topic,
        agency_id=agency.id if agency else None,
        agency_slug=agency.slug if agency else None,
        agency_name=agency.name if agency else None,
        asked_by=redactor.text(asked_by(question)),
        state=question.state,
        submitted_at=question.submitted_at,
        due_on=question.due_on,
        working_days_allowed=question.working_days_allowed,
        answered_at=question.answered_at,
        state_reason=redactor.text(question.state_reason) if question.state_reason else None,
        messages=messages,
    )


def _phrases(question: Question) -> list[str]:
    from .models import ManualRedaction

    return list(
        db.session.scalars(select(ManualRedaction.phrase).where(ManualRedaction.question_id == question.id))
    )


# --- search documents ----------------------------------------------------------------------------


def search_document(view: PublicQuestion) -> dict:
    answer = view.answer
    return {
        "id": view.id,
        "slug": view.slug,
        "title": view.title,
        "body": html_to_text(view.body_html),
        "answer": html_to_text(answer.body_html) if answer else "",
        "agency": view.agency_slug,
        "topic": view.topic,
        "state": view.state,
        "agency_name": view.agency_name or "",
        "submitted_at": view.submitted_at.replace(microsecond=0).isoformat(),
        "month": local_date(view.submitted_at).strftime("%Y-%m"),
    }


def load_documents(ids: list[int]) -> tuple[list[dict], list[int]]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return [], []
    redactor = load_redactor()
    questions = db.session.scalars(
        public_questions().where(Question.id.in_(wanted)).options(selectinload(Question.messages))
    ).all()
    docs = []
    for question in questions:
        view = public_view(question, redactor)
        if view is not None:
            docs.append(search_document(view))
    found = {d["id"] for d in docs}
    return docs, [i for i in wanted if i not in found]


def iter_documents(batch: int = 500) -> Iterator[list[dict]]:
    with Session(db.engine) as session:
        ids = list(session.scalars(public_questions().with_only_columns(Question.id).order_by(Question.id)))
    for start in range(0, len(ids), batch):
        docs, _gone = load_documents(ids[start : start + batch])
        yield docs


def ids_of(payload: dict) -> list[int] | None:
    if payload.get("question_id") is not None:
        return [int(payload["question_id"])]
    if payload.get("all"):
        with Session(db.engine) as session:
            return list(session.scalars(select(Question.id)))
    return None


def on_question_changed(payload: dict, event) -> None:
    """The outbox handler: the search collection follows the database."""
    from search.collections import sync

    if payload.get("all"):
        sync(COLLECTION, None)
    else:
        sync(COLLECTION, [int(payload["question_id"])])


def register_search(app) -> None:
    from search.collections import Collection, register_collection

    from .services import CHANGED_TOPIC

    register_collection(
        app,
        Collection(
            name=COLLECTION,
            text_fields={"title": 10.0, "body": 2.0, "answer": 3.0, "agency_name": 1.0},
            filters=("agency", "topic", "state", "month"),
            sort_field="submitted_at",
            load=load_documents,
            load_all=iter_documents,
            topics=(CHANGED_TOPIC,),
            ids_of=ids_of,
        ),
    )


def local_day(moment: datetime | None) -> date | None:
    return local_date(moment) if moment else None


def agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))

"""What govqa holds about a person (marketplace/legal/personal_data.py): the questions they asked
(with their own messages), their business profile, follows and ratings; for an official, which
agency they answer for.

Erasure keeps the questions (a public record of what an agency was asked and answered) but
replaces the asker's name and hides it, so only the business name stays; the originals of their
questions and messages become the redacted text the public reads (phone, ID numbers… gone for
staff too), and the files they attached go (FILES_TOPIC deletes them after the commit, unless
another row shows the same content); the business profile, follows, ratings and the official's
link to an agency go."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from marketplace.extensions import db, rows_matched
from marketplace.legal.personal_data import ANONYMISED, PersonalDataSource, iso
from marketplace.models import User

from .attachments import pdf_path
from .models import Attachment, BusinessProfile, Follow, Official, Question, Rating
from .redaction import load_redactor

FILES_TOPIC = "qa.attachments_erased"


def export(user: User) -> dict[str, Any]:
    questions = db.session.scalars(select(Question).where(Question.asker_id == user.id).order_by(Question.id))
    profile = db.session.scalar(select(BusinessProfile).where(BusinessProfile.user_id == user.id))
    official = db.session.scalar(select(Official).where(Official.user_id == user.id))
    return {
        "qa_questions": [
            {
                "id": q.id,
                "title": q.title,
                "body": q.body,
                "business_name": q.business_name,
                "tax_code": q.tax_code,
                "show_asker_name": q.show_asker_name,
                "state": q.state,
                "submitted_at": iso(q.submitted_at),
                "messages": [
                    {"kind": m.kind, "body": m.body_html, "created_at": iso(m.created_at)}
                    for m in q.messages
                    if m.author_id == user.id
                ],
            }
            for q in questions
        ],
        "qa_business_profile": (
            {"business_name": profile.business_name, "tax_code": profile.tax_code} if profile else None
        ),
        "qa_follows": list(db.session.scalars(select(Follow.question_id).where(Follow.user_id == user.id))),
        "qa_ratings": [
            {"question_id": r.question_id, "useful": r.useful}
            for r in db.session.scalars(select(Rating).where(Rating.user_id == user.id))
        ],
        "qa_official": {"agency": official.agency.name} if official else None,
    }


def _erase_originals(user: User) -> int:
    """The asker's own texts become their redacted form; their attachments go (files after the
    commit). Returns the number of attachments removed."""
    from marketplace import outbox

    files: list[list[str]] = []
    for question in db.session.scalars(select(Question).where(Question.asker_id == user.id)):
        redactor = load_redactor(question.id)
        question.title = redactor.text(question.title)
        question.body = redactor.html(question.body)
        for message in question.messages:
            if message.author_id == user.id:
                message.body_html = redactor.html(message.body_html)
        for attachment in list(question.attachments):
            if attachment.uploaded_by_id == user.id:
                files.append([attachment.kind, attachment.key])
                question.attachments.remove(attachment)
    db.session.flush()
    if files:
        outbox.record(FILES_TOPIC, {"files": files})
    return len(files)


def forget_files(payload: dict[str, Any], event) -> None:
    """The outbox handler of FILES_TOPIC: delete erased attachments' files that nothing shows any
    more (stored once per content: checked again now, in Q&A and in complaints' photos)."""
    from marketplace.images import delete_image

    for kind, key in payload.get("files", []):
        if db.session.scalar(select(Attachment.id).where(Attachment.key == key).limit(1)) is not None:
            continue
        if kind == "pdf":
            pdf_path(str(key)).unlink(missing_ok=True)
            continue
        try:
            from orders.personal_data import photo_in_use
        except ImportError:  # pragma: no cover - orders is always installed with govqa
            continue
        if not photo_in_use(str(key)):
            delete_image(str(key), private=True)


def erase(user: User) -> dict[str, int]:
    attachments = _erase_originals(user)
    questions = rows_matched(
        db.session.execute(
            update(Question)
            .where(Question.asker_id == user.id)
            .values(asker_name=ANONYMISED, show_asker_name=False)
            .execution_options(synchronize_session=False)
        )
    )
    counts = {"qa_questions": questions, "qa_attachments": attachments}
    for name, model in (
        ("qa_business_profiles", BusinessProfile),
        ("qa_follows", Follow),
        ("qa_ratings", Rating),
        ("qa_officials", Official),
    ):
        counts[name] = rows_matched(
            db.session.execute(
                delete(model).where(model.user_id == user.id).execution_options(synchronize_session=False)
            )
        )
    return counts


SOURCE = PersonalDataSource(name="govqa", export=export, erase=erase)

"""Q&A pages: the public archive and agencies' records (/hoi-dap), the asker's pages, the
officials' queue (/co-quan/hoi-dap) and the operator's moderation and tools (/quan-tri/hoi-dap).
Thin: parse, call a service with the actor, commit once (marketplace/actions.py), render."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.actions import run_action, run_form
from marketplace.extensions import db
from marketplace.numbers import page_arg
from marketplace.permissions import operator_required
from marketplace.timeutil import local_today

from . import admin, public, services, states, stats
from .api import MONTH, search_public
from .attachments import attachment_file, safe_filename
from .forms import (
    ActionForm,
    AgencyForm,
    AgencyReasonForm,
    AnswerForm,
    AskForm,
    BusinessForm,
    CalendarForm,
    InviteForm,
    ReasonForm,
    RedactForm,
    RejectForm,
    RouteForm,
    RuleForm,
    TextForm,
    TitleForm,
)
from .models import (
    Agency,
    Attachment,
    CalendarDay,
    ManualRedaction,
    Message,
    Question,
    QuestionEvent,
    QuestionState,
    Rating,
    RedactionRule,
    Visibility,
)
from .redaction import BUILTIN_RULES, load_redactor

bp = Blueprint("govqa", __name__, url_prefix="/hoi-dap")
operator_bp = Blueprint("govqa_operator", __name__, url_prefix="/quan-tri/hoi-dap")
official_bp = Blueprint("govqa_official", __name__, url_prefix="/co-quan/hoi-dap")
S = QuestionState


def _user():
    return current_user if current_user.is_authenticated else None


def _files(field) -> list[tuple[str, bytes]]:
    out = []
    for storage in field.data or []:
        if storage and getattr(storage, "filename", ""):
            # One byte past the limit is enough to refuse a file that is too big.
            out.append(
                (storage.filename, storage.read(int(current_app.config["QA_ATTACHMENT_MAX_BYTES"]) + 1))
            )
    return out


def _agency_choices(blank: str | None = None) -> list[tuple[int, str]]:
    choices = [(a.id, a.name) for a in public.agencies()]
    return ([(0, blank)] if blank else []) + choices


def _topic_choices() -> list[tuple[str, str]]:
    return [(key, services.topic_label(key)) for key in services.TOPICS]


def _question_or_404(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question


# --- the public archive ------------------------------------------------------------------------------


@bp.get("/")
def index():
    text = (request.args.get("q") or "")[:200]
    agency = request.args.get("agency") or None
    topic = request.args.get("topic") or None
    if topic not in services.TOPICS:
        topic = None
    if agency and db.session.scalar(select(Agency.id).where(Agency.slug == agency)) is None:
        agency = None
    month = request.args.get("month") or None
    if month is not None and not MONTH.fullmatch(month):
        month = None
    page = page_arg(request.args)
    questions, total = search_public(text, agency, topic, None, page, month)
    redactor = load_redactor()
    views = [v for v in (public.public_view(q, redactor) for q in questions) if v is not None]
    return render_template(
        "govqa/index.html",
        views=views,
        total=total,
        page=page,
        pages=max(1, -(-total // 20)),
        text=text,
        agency=agency,
        topic=topic,
        month=month,
        months=stats.months_back(local_today(), 12)[::-1],
        agencies=public.agencies(),
        topics=_topic_choices(),
    )


@bp.get("/<slug>")
def question(slug: str):
    question = db.session.scalar(select(Question).where(Question.slug == slug))
    user = _user()
    if question is None or not services.can_view(user, question):
        abort(404)
    original = services.can_see_original(user, question)
    view = public.public_view(question)
    related = _related(question) if view is not None else []
    my_rating = (
        db.session.scalar(
            select(Rating.useful).where(Rating.question_id == question.id, Rating.user_id == user.id)
        )
        if user
        else None
    )
    ratings = db.session.scalars(select(Rating.useful).where(Rating.question_id == question.id)).all()
    return render_template(
        "govqa/question.html",
        question=question,
        view=view,
        original=original,
        messages=services.visible_messages(user, question) if original else [],
        events=question.events if original else [],
        attachments=_visible_attachments(user, question),
        attachment_names=_attachment_names(user, question),
        asker=services.is_asker(user, question),
        following=services.is_following(user, question),
        timeliness=states.timeliness(question),
        related=related,
        my_rating=my_rating,
        useful=sum(1 for r in ratings if r),
        not_useful=sum(1 for r in ratings if not r),
        clarify_form=TextForm(),
        action_form=ActionForm(),
        topic_label=services.topic_label(question.topic),
        duplicate=_public_duplicate(question),
    )


def _public_duplicate(question: Question) -> public.PublicQuestion | None:
    if question.duplicate_of_id is None:
        return None
    earlier = db.session.get(Question, question.duplicate_of_id)
    return public.public_view(earlier) if earlier is not None else None


def _visible_attachments(user, question: Question) -> list[Attachment]:
    return [a for a in question.attachments if _may_see_attachment(user, question, a)]


def _attachment_names(user, question: Question) -> dict[int, str]:
    """The names shown: the file's own for the asker and staff, redacted for everyone else (an
    answer's file named after a person's phone or ID number is as public as the answer)."""
    original = services.can_see_original(user, question)
    redactor = None if original else load_redactor(question.id)
    return {
        a.id: a.filename if redactor is None else safe_filename(redactor.text(a.filename), a.kind)
        for a in question.attachments
    }


def _may_see_attachment(user, question: Question, attachment: Attachment) -> bool:
    """The asker's files (which redaction cannot read) stay with the asker and staff; an answer's
    files are public with the answer."""
    if services.can_see_original(user, question):
        return True
    if attachment.message_id is None or not public.is_public(question):
        return False
    message = db.session.get(Message, attachment.message_id)
    return message is not None and message.visibility == Visibility.PUBLIC.value


def _related(question: Question, limit: int = 5) -> list[public.PublicQuestion]:
    rows = db.session.scalars(
        public.public_questions()
        .where(Question.id != question.id, Question.state == S.ANSWERED.value)
        .where((Question.topic == question.topic) | (Question.agency_id == question.agency_id))
        .order_by(Question.answered_at.desc())
        .limit(limit)
    ).all()
    redactor = load_redactor()
    return [v for v in (public.public_view(q, redactor) for q in rows) if v is not None]


@bp.get("/tep/<int:attachment_id>")
def attachment(attachment_id: int):
    found = db.session.get(Attachment, attachment_id)
    if found is None:
        abort(404)
    question = db.session.get(Question, found.question_id)
    if question is None or not _may_see_attachment(_user(), question, found):
        abort(404)
    path = attachment_file(found)
    if not path.exists():
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf" if found.kind == "pdf" else "image/jpeg",
        as_attachment=True,
        download_name=_attachment_names(_user(), question)[found.id],
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/co-quan")
def agencies():
    items = public.agencies()
    figures = stats.figures(items)
    return render_template("govqa/agencies.html", agencies=items, figures=figures)


@bp.get("/co-quan/<slug>")
def agency(slug: str):
    found = db.session.scalar(select(Agency).where(Agency.slug == slug))
    if found is None:
        abort(404)
    figures = stats.figures_of(found)
    rows = db.session.scalars(
        public.public_questions()
        .where(Question.agency_id == found.id)
        .order_by(Question.submitted_at.desc())
        .limit(30)
    ).all()
    redactor = load_redactor()
    views = [v for v in (public.public_view(q, redactor) for q in rows) if v is not None]
    peak = max([max(m.received, m.answered) for m in figures.months] + [1])
    return render_template("govqa/agency.html", agency=found, figures=figures, views=views, peak=peak)


# --- the asker ------------------------------------------------------------------------------------------


@bp.route("/dat-cau-hoi", methods=["GET", "POST"])
@login_required
def ask():
    identity = services.asker_identity(current_user)
    if identity is None:
        return redirect(url_for("govqa.business", next=url_for("govqa.ask")))
    form = AskForm()
    form.agency_id.choices = _agency_choices(_("Chưa rõ — nhờ ban quản lý chuyển"))
    form.topic.choices = _topic_choices()
    if request.method == "GET" and request.args.get("agency"):
        found = db.session.scalar(select(Agency).where(Agency.slug == request.args["agency"]))
        if found is not None:
            form.agency_id.data = found.id
    done = run_form(
        form,
        lambda: services.submit_question(
            {
                "title": form.title.data,
                "body": form.body.data,
                "topic": form.topic.data,
                "agency_id": form.agency_id.data or None,
                "show_asker_name": form.show_asker_name.data,
            },
            actor=current_user,
            files=_files(form.attachments),
        ),
        _("Đã gửi câu hỏi. Ban quản lý sàn sẽ kiểm duyệt và chuyển tới cơ quan có thẩm quyền."),
    )
    if done:
        return redirect(url_for("govqa.question", slug=done.result.slug))
    return render_template("govqa/ask.html", form=form, business_name=identity[0])


@bp.route("/doanh-nghiep", methods=["GET", "POST"])
@login_required
def business():
    form = BusinessForm()
    done = run_form(
        form,
        lambda: services.register_business(
            current_user, business_name=form.business_name.data, tax_code=form.tax_code.data
        ),
        _("Đã lưu thông tin doanh nghiệp."),
    )
    if done:
        target = request.args.get("next") or ""
        return redirect(target if target.startswith("/hoi-dap/") else url_for("govqa.ask"))
    return render_template("govqa/business.html", form=form)


@bp.get("/cua-toi")
@login_required
def mine():
    questions = db.session.scalars(
        select(Question).where(Question.asker_id == current_user.id).order_by(Question.submitted_at.desc())
    ).all()
    return render_template("govqa/mine.html", questions=questions, state_label=states.label)


def _asker_step(slug: str, step, success: str):
    question = db.session.scalar(select(Question).where(Question.slug == slug))
    if question is None:
        abort(404)
    form = TextForm()
    if form.validate_on_submit():
        run_action(lambda: step(question, form), success)
    return redirect(url_for("govqa.question", slug=question.slug))


@bp.post("/<slug>/bo-sung")
@login_required
def clarify(slug: str):
    return _asker_step(
        slug,
        lambda q, f: services.answer_clarification(q, f.text.data, actor=current_user),
        _("Đã gửi thông tin bổ sung."),
    )


@bp.post("/<slug>/rut-lai")
@login_required
def withdraw(slug: str):
    return _asker_step(slug, lambda q, f: services.withdraw(q, actor=current_user), _("Đã rút lại câu hỏi."))


@bp.post("/<slug>/theo-doi")
@login_required
def follow(slug: str):
    def toggle(question, _form):
        if services.is_following(current_user, question):
            services.unfollow(question, actor=current_user)
        else:
            services.follow(question, actor=current_user)

    return _asker_step(slug, toggle, _("Đã cập nhật theo dõi."))


@bp.post("/<slug>/danh-gia")
@login_required
def rate(slug: str):
    useful = request.form.get("useful") == "1"
    return _asker_step(
        slug, lambda q, f: services.rate(q, useful, actor=current_user), _("Cảm ơn bạn đã đánh giá.")
    )


@bp.route("/loi-moi/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    invitation = admin.invitation_for_token(token)
    form = ActionForm()
    if form.validate_on_submit() and run_action(
        lambda: admin.accept_invitation(invitation, actor=current_user),
        _("Bạn đã là cán bộ trả lời của %(agency)s.", agency=invitation.agency.name),
    ):
        return redirect(url_for("govqa_official.queue"))
    return render_template("govqa/invitation.html", invitation=invitation, form=form)


# --- officials ---------------------------------------------------------------------------------------------


def _official_or_403():
    official = services.official_of(_user())
    if official is None:
        abort(403)
    return official


@official_bp.get("/", endpoint="queue")
@login_required
def official_queue():
    official = _official_or_403()
    waiting = db.session.scalars(
        select(Question)
        .where(Question.agency_id == official.agency_id, Question.state.in_(states.WITH_AGENCY))
        .order_by(Question.due_on, Question.id)
    ).all()
    from .models import Contribution

    asked = db.session.scalars(
        select(Question)
        .join(Contribution, Contribution.question_id == Question.id)
        .where(Contribution.agency_id == official.agency_id, Question.state.in_(states.WITH_AGENCY))
        .order_by(Question.due_on)
    ).all()
    return render_template(
        "govqa/official_queue.html",
        official=official,
        waiting=waiting,
        asked=asked,
        timeliness=states.timeliness,
        state_label=states.label,
    )


@official_bp.get("/<int:question_id>", endpoint="question")
@login_required
def official_question(question_id: int):
    official = _official_or_403()
    found = _question_or_404(question_id)
    if not services.is_staff_for(current_user, found):
        abort(403)
    others = [(a.id, a.name) for a in public.agencies() if a.id != official.agency_id]
    transfer, contribute_request = AgencyReasonForm(prefix="t"), AgencyReasonForm(prefix="c")
    transfer.agency_id.choices = others
    contribute_request.agency_id.choices = others
    return render_template(
        "govqa/official_question.html",
        question=found,
        own=found.agency_id == official.agency_id,
        messages=services.visible_messages(current_user, found),
        attachments=found.attachments,
        answer_form=AnswerForm(),
        transfer_form=transfer,
        contribute_request_form=contribute_request,
        text_form=TextForm(),
        reason_form=ReasonForm(),
        timeliness=states.timeliness(found),
        state_label=states.label,
    )


def _official_step(question_id: int, form, step, success: str):
    _official_or_403()
    found = _question_or_404(question_id)
    if form.validate_on_submit():
        run_action(lambda: step(found), success)
    else:
        flash(_("Vui lòng kiểm tra lại biểu mẫu."), "error")
    return redirect(url_for("govqa_official.question", question_id=found.id))


@official_bp.post("/<int:question_id>/tra-loi")
@login_required
def answer(question_id: int):
    form = AnswerForm()
    return _official_step(
        question_id,
        form,
        lambda q: services.answer_question(
            q, form.body.data, actor=current_user, files=_files(form.attachments)
        ),
        _("Đã gửi câu trả lời."),
    )


def _to_another_agency(question_id: int, prefix: str, service, done: str):
    """Transfer and contribution requests: the same form (another agency, a reason)."""
    form = AgencyReasonForm(prefix=prefix)
    form.agency_id.choices = _agency_choices()

    def step(q):
        target = db.session.get(Agency, form.agency_id.data or 0)
        if target is None:
            abort(400)
        service(q, target, form.reason.data, actor=current_user)

    return _official_step(question_id, form, step, done)


@official_bp.post("/<int:question_id>/chuyen")
@login_required
def transfer(question_id: int):
    return _to_another_agency(question_id, "t", services.transfer_question, _("Đã chuyển câu hỏi."))


@official_bp.post("/<int:question_id>/phoi-hop")
@login_required
def request_contribution(question_id: int):
    return _to_another_agency(
        question_id, "c", services.request_contribution, _("Đã đề nghị cơ quan phối hợp.")
    )


@official_bp.post("/<int:question_id>/gop-y")
@login_required
def contribute(question_id: int):
    form = TextForm()
    return _official_step(
        question_id,
        form,
        lambda q: services.contribute(q, form.text.data, actor=current_user),
        _("Đã gửi góp ý."),
    )


@official_bp.post("/<int:question_id>/khong-thuoc-tham-quyen")
@login_required
def not_our_remit(question_id: int):
    form = ReasonForm()
    return _official_step(
        question_id,
        form,
        lambda q: services.not_our_remit(q, form.reason.data, actor=current_user),
        _("Đã báo không thuộc thẩm quyền."),
    )


@official_bp.post("/<int:question_id>/yeu-cau-bo-sung", endpoint="ask_clarification")
@login_required
def official_ask_clarification(question_id: int):
    form = TextForm()
    return _official_step(
        question_id,
        form,
        lambda q: services.ask_clarification(q, form.text.data, actor=current_user),
        _("Đã đề nghị người hỏi bổ sung."),
    )


# --- the operator --------------------------------------------------------------------------------------------


@operator_bp.get("/", endpoint="queue")
@operator_required
def operator_queue():
    state = request.args.get("state") or "moderation"
    query = select(Question).order_by(Question.submitted_at)
    if state == "moderation":
        query = query.where(Question.state.in_([S.SUBMITTED.value, S.NOT_OUR_REMIT.value]))
    elif state in states.LABELS:
        query = query.where(Question.state == state)
    questions = db.session.scalars(query.limit(200)).all()
    return render_template(
        "govqa/operator_queue.html",
        questions=questions,
        state=state,
        labels=states.LABELS,
        state_label=states.label,
        timeliness=states.timeliness,
    )


@operator_bp.get("/<int:question_id>", endpoint="question")
@operator_required
def operator_question(question_id: int):
    found = _question_or_404(question_id)
    route = RouteForm()
    route.agency_id.choices = _agency_choices()
    if found.agency_id:
        route.agency_id.data = found.agency_id
    title = TitleForm(title=found.title)
    return render_template(
        "govqa/operator_question.html",
        question=found,
        view=public.public_view(found),
        messages=found.messages,
        attachments=found.attachments,
        route_form=route,
        reject_form=RejectForm(),
        text_form=TextForm(),
        redact_form=RedactForm(),
        title_form=title,
        action_form=ActionForm(),
        redactions=db.session.scalars(
            select(ManualRedaction).where(ManualRedaction.question_id == found.id)
        ).all(),
        events=db.session.scalars(
            select(QuestionEvent).where(QuestionEvent.question_id == found.id).order_by(QuestionEvent.id)
        ).all(),
        state_label=states.label,
        visibilities=[v.value for v in Visibility],
    )


def _operator_step(question_id: int, form, step, success: str):
    found = _question_or_404(question_id)
    if form.validate_on_submit():
        run_action(lambda: step(found), success)
    else:
        flash(_("Vui lòng kiểm tra lại biểu mẫu."), "error")
    return redirect(url_for("govqa_operator.question", question_id=found.id))


@operator_bp.post("/<int:question_id>/chuyen")
@operator_required
def route(question_id: int):
    form = RouteForm()
    form.agency_id.choices = _agency_choices()

    def step(q):
        target = db.session.get(Agency, form.agency_id.data or 0)
        if target is None:
            abort(400)
        services.accept_question(q, target, actor=current_user)

    return _operator_step(question_id, form, step, _("Đã tiếp nhận và chuyển câu hỏi."))


@operator_bp.post("/<int:question_id>/yeu-cau-bo-sung", endpoint="ask_clarification")
@operator_required
def operator_ask_clarification(question_id: int):
    form = TextForm()
    return _operator_step(
        question_id,
        form,
        lambda q: services.ask_clarification(q, form.text.data, actor=current_user),
        _("Đã đề nghị người hỏi bổ sung."),
    )


@operator_bp.post("/<int:question_id>/tu-choi")
@operator_required
def reject(question_id: int):
    form = RejectForm()

    def step(q):
        duplicate = db.session.get(Question, form.duplicate_of.data) if form.duplicate_of.data else None
        services.reject_question(
            q, form.kind.data, form.reason.data, actor=current_user, duplicate_of=duplicate
        )

    return _operator_step(question_id, form, step, _("Đã từ chối câu hỏi."))


@operator_bp.post("/<int:question_id>/an-doan")
@operator_required
def redact(question_id: int):
    form = RedactForm()
    return _operator_step(
        question_id,
        form,
        lambda q: admin.redact_manually(q, form.phrase.data, form.reason.data, actor=current_user),
        _("Đã ẩn đoạn văn bản."),
    )


@operator_bp.post("/<int:question_id>/an-hien")
@operator_required
def toggle_hidden(question_id: int):
    form = ActionForm()
    return _operator_step(
        question_id,
        form,
        lambda q: admin.set_hidden(q, not q.hidden, actor=current_user),
        _("Đã cập nhật hiển thị."),
    )


@operator_bp.post("/<int:question_id>/tieu-de")
@operator_required
def edit_title(question_id: int):
    form = TitleForm()
    return _operator_step(
        question_id,
        form,
        lambda q: admin.edit_title(q, form.title.data, actor=current_user),
        _("Đã sửa tiêu đề."),
    )


@operator_bp.post("/tin-nhan/<int:message_id>/hien-thi")
@operator_required
def message_visibility(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        run_action(
            lambda: admin.set_visibility(message, request.form.get("visibility", ""), actor=current_user),
            _("Đã cập nhật hiển thị."),
        )
    return redirect(url_for("govqa_operator.question", question_id=message.question_id))


@operator_bp.route("/quy-tac-an", methods=["GET", "POST"])
@operator_required
def rules():
    form = RuleForm()
    if run_form(
        form,
        lambda: admin.add_rule(
            form.name.data, form.pattern.data, actor=current_user, replacement=form.replacement.data
        ),
        _("Đã thêm quy tắc."),
    ):
        return redirect(url_for("govqa_operator.rules"))
    rows = db.session.scalars(select(RedactionRule).order_by(RedactionRule.id)).all()
    return render_template(
        "govqa/operator_rules.html", form=form, rules=rows, builtin=BUILTIN_RULES, action_form=ActionForm()
    )


@operator_bp.post("/quy-tac-an/<int:rule_id>")
@operator_required
def toggle_rule(rule_id: int):
    rule = db.session.get(RedactionRule, rule_id)
    if rule is None:
        abort(404)
    if ActionForm().validate_on_submit():
        run_action(
            lambda: admin.set_rule_active(rule, not rule.active, actor=current_user), _("Đã cập nhật.")
        )
    return redirect(url_for("govqa_operator.rules"))


@operator_bp.route("/lich", methods=["GET", "POST"])
@operator_required
def calendar():
    form = CalendarForm()
    if run_form(
        form,
        lambda: admin.set_calendar_day(form.day.data, form.kind.data, form.note.data, actor=current_user),
        _("Đã lưu ngày."),
    ):
        return redirect(url_for("govqa_operator.calendar"))
    days = db.session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc())).all()
    return render_template("govqa/operator_calendar.html", form=form, days=days, action_form=ActionForm())


@operator_bp.post("/lich/<day>/xoa")
@operator_required
def remove_day(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if ActionForm().validate_on_submit():
        run_action(lambda: admin.set_calendar_day(parsed, None, "", actor=current_user), _("Đã xoá ngày."))
    return redirect(url_for("govqa_operator.calendar"))


@operator_bp.route("/co-quan", methods=["GET", "POST"], endpoint="agencies")
@operator_required
def operator_agencies():
    form = AgencyForm()
    invite = InviteForm(prefix="i")
    invite.agency_id.choices = _agency_choices()
    if run_form(form, lambda: admin.save_agency(form.data, actor=current_user), _("Đã lưu cơ quan.")):
        return redirect(url_for("govqa_operator.agencies"))
    rows = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    return render_template("govqa/operator_agencies.html", form=form, invite_form=invite, agencies=rows)


@operator_bp.route("/co-quan/<int:agency_id>", methods=["GET", "POST"])
@operator_required
def edit_agency(agency_id: int):
    found = db.session.get(Agency, agency_id)
    if found is None:
        abort(404)
    form = AgencyForm(obj=found)
    if run_form(
        form, lambda: admin.save_agency(form.data, actor=current_user, agency=found), _("Đã lưu cơ quan.")
    ):
        return redirect(url_for("govqa_operator.agencies"))
    return render_template("govqa/operator_agency.html", form=form, agency=found)


@operator_bp.post("/co-quan/moi-can-bo")
@operator_required
def invite_official():
    form = InviteForm(prefix="i")
    form.agency_id.choices = _agency_choices()
    if form.validate_on_submit():
        target = db.session.get(Agency, form.agency_id.data or 0)
        if target is None:
            abort(400)
        run_action(
            lambda: admin.invite_official(target, form.email.data, actor=current_user),
            _("Đã gửi lời mời tới %(email)s.", email=form.email.data),
        )
    return redirect(url_for("govqa_operator.agencies"))

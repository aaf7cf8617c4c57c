"""The demo's Government Q&A: the province's agencies after the 2025 reorganisation, an official
for two of them (agency@demo.vn for Sở Công Thương, thue@demo.vn for Thuế tỉnh), and about thirty
questions from the demo shops in every state over the last months — some whose original text
holds phone and ID numbers that the public pages show redacted.

Through the real services (events, mails and index updates are recorded as in real use); then
each question's times are moved back to its place in the story, its deadline recomputed with the
working-day calendar. Idempotent: agencies by slug, questions by title."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from govqa import admin, services
from govqa.calendar import load_calendar
from govqa.models import Agency, Message, Question, QuestionEvent
from marketplace.accounts.services import get_user_by_email
from marketplace.extensions import db
from marketplace.models import User

# (slug, name, working days, a transfer restarts the clock)
AGENCIES = [
    ("so-cong-thuong", "Sở Công Thương", 20, True),
    ("so-nong-nghiep-va-moi-truong", "Sở Nông nghiệp và Môi trường", 20, True),
    ("so-tai-chinh", "Sở Tài chính", 20, True),
    ("so-khoa-hoc-va-cong-nghe", "Sở Khoa học và Công nghệ", 20, True),
    ("thue-tinh", "Thuế tỉnh", 15, False),
    ("hai-quan", "Hải quan", 20, True),
    ("so-y-te", "Sở Y tế (an toàn thực phẩm)", 20, True),
    ("ubnd-xa-phuong", "UBND xã/phường", 10, True),
]
OFFICIALS = {"agency@demo.vn": "so-cong-thuong", "thue@demo.vn": "thue-tinh"}
ASKERS = [
    "camhuongson@demo.vn",
    "buoiphuctrach@demo.vn",
    "matonghuongson@demo.vn",
    "nhunghuou@demo.vn",
    "nuocmam@demo.vn",
]

ANSWER = (
    "<p>Cảm ơn doanh nghiệp đã gửi câu hỏi. Theo quy định hiện hành:</p>"
    "<ul><li>Hồ sơ nộp trực tuyến trên Cổng dịch vụ công.</li><li>Thời gian giải quyết theo quy định.</li></ul>"
    "<p>Mọi vướng mắc xin liên hệ bộ phận một cửa của cơ quan.</p>"
)

# (title, body, topic, agency slug or None, story, days ago submitted, days to answer)
# story: answered | answered_late | waiting | overdue | long_overdue | submitted | clarification |
#        transferred | not_our_remit | rejected | withdrawn
QUESTIONS = [
    (
        "Thủ tục xin giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm cho HTX cam",
        "HTX chúng tôi sơ chế, đóng gói cam bù. Xin hỏi hồ sơ gồm những gì? Liên hệ anh Thành 0912 345 678.",
        "food_safety",
        "so-y-te",
        "answered",
        150,
        12,
    ),
    (
        "Hoàn thuế GTGT cho hàng nông sản xuất khẩu",
        "Công ty xuất khẩu bưởi sang Trung Quốc, có được hoàn thuế GTGT không? Số CCCD người đại diện 042 199 001 234.",
        "tax",
        "thue-tinh",
        "answered",
        140,
        9,
    ),
    (
        "Kê khai thuế cho hộ kinh doanh bán hàng trên sàn thương mại điện tử",
        "Hộ kinh doanh bán mật ong online thì kê khai thuế theo quý hay theo tháng?",
        "tax",
        "thue-tinh",
        "answered",
        120,
        14,
    ),
    (
        "Điều kiện để sản phẩm được đánh giá OCOP 4 sao",
        "Sản phẩm mật ong đã đạt 3 sao năm 2024, muốn nâng hạng cần những gì?",
        "ocop",
        "so-nong-nghiep-va-moi-truong",
        "answered",
        115,
        18,
    ),
    (
        "Quy định ghi nhãn hàng hóa đối với nước mắm đóng chai",
        "Nhãn nước mắm cần ghi độ đạm như thế nào? Email liên hệ: nuocmam.cuasot@gmail.com",
        "food_safety",
        "so-y-te",
        "answered_late",
        110,
        31,
    ),
    (
        "Đăng ký website thương mại điện tử bán hàng với Bộ Công Thương",
        "Cửa hàng có website riêng để bán hàng thì phải thông báo hay đăng ký?",
        "ecommerce",
        "so-cong-thuong",
        "answered",
        100,
        7,
    ),
    (
        "Thủ tục xuất khẩu nhung hươu sang Hàn Quốc",
        "HTX muốn xuất khẩu nhung hươu sấy khô, cần giấy kiểm dịch gì?",
        "customs",
        "hai-quan",
        "answered",
        95,
        16,
    ),
    (
        "Chuyển mục đích sử dụng đất để xây nhà xưởng chế biến",
        "Đất trồng cây lâu năm ở số 45 đường Hàm Nghi có được chuyển sang đất sản xuất không?",
        "land",
        "so-nong-nghiep-va-moi-truong",
        "answered_late",
        90,
        35,
    ),
    (
        "Hỗ trợ kinh phí tham gia hội chợ xúc tiến thương mại",
        "Tỉnh có chương trình hỗ trợ chi phí gian hàng hội chợ năm nay không?",
        "ecommerce",
        "so-cong-thuong",
        "answered",
        85,
        10,
    ),
    (
        "Đăng ký bảo hộ nhãn hiệu tập thể cho cam bù",
        "HTX muốn đăng ký nhãn hiệu tập thể, nộp hồ sơ ở đâu?",
        "business_registration",
        "so-khoa-hoc-va-cong-nghe",
        "answered",
        80,
        19,
    ),
    (
        "Mức đóng bảo hiểm xã hội cho lao động thời vụ thu hoạch cam",
        "Lao động thời vụ 2 tháng có phải đóng BHXH không? Gọi 0239 3855 123.",
        "labour",
        "so-tai-chinh",
        "answered",
        75,
        20,
    ),
    (
        "Hóa đơn điện tử khi bán hàng qua sàn",
        "Bán lẻ cho người tiêu dùng qua sàn có phải xuất hóa đơn từng đơn không?",
        "tax",
        "thue-tinh",
        "answered",
        60,
        5,
    ),
    (
        "Kiểm nghiệm định kỳ sản phẩm kẹo cu đơ",
        "Bao lâu phải kiểm nghiệm lại sản phẩm một lần?",
        "food_safety",
        "so-y-te",
        "answered",
        55,
        8,
    ),
    (
        "Gia hạn giấy chứng nhận OCOP hết hiệu lực",
        "Giấy chứng nhận OCOP cấp năm 2022 sắp hết hạn 36 tháng, thủ tục đánh giá lại?",
        "ocop",
        "so-nong-nghiep-va-moi-truong",
        "answered",
        45,
        11,
    ),
    (
        "Miễn thuế thu nhập cho hộ có doanh thu dưới 100 triệu",
        "Hộ kinh doanh doanh thu năm dưới 100 triệu đồng có phải nộp thuế không?",
        "tax",
        "thue-tinh",
        "answered",
        30,
        4,
    ),
    (
        "Quy định khuyến mại giảm giá trên sàn thương mại điện tử",
        "Giảm giá 60% có vi phạm quy định khuyến mại không?",
        "ecommerce",
        "so-cong-thuong",
        "waiting",
        12,
        None,
    ),
    (
        "Cấp giấy chứng nhận xuất xứ C/O cho mật ong",
        "Xuất khẩu mật ong sang EU cần C/O mẫu nào?",
        "customs",
        "so-cong-thuong",
        "waiting",
        6,
        None,
    ),
    (
        "Thời hạn nộp tờ khai thuế quý IV",
        "Hạn nộp tờ khai thuế quý IV là ngày nào?",
        "tax",
        "thue-tinh",
        "waiting",
        3,
        None,
    ),
    (
        "Quy định về nhà kho chứa phân bón hữu cơ",
        "Kho chứa phân bón hữu cơ cần đáp ứng điều kiện gì?",
        "land",
        "so-nong-nghiep-va-moi-truong",
        "overdue",
        40,
        None,
    ),
    (
        "Hồ sơ đăng ký mã số vùng trồng bưởi",
        "HTX muốn đăng ký mã số vùng trồng để xuất khẩu. Liên hệ chị Hòa 0987.654.321.",
        "customs",
        "so-cong-thuong",
        "overdue",
        38,
        None,
    ),
    (
        "Hỗ trợ lãi suất vay vốn đầu tư kho lạnh",
        "Doanh nghiệp đầu tư kho lạnh bảo quản nông sản có được hỗ trợ lãi suất?",
        "other",
        "so-tai-chinh",
        "long_overdue",
        75,
        None,
    ),
    (
        "Quy định xả thải của cơ sở chế biến nước mắm",
        "Cơ sở công suất nhỏ có phải lập báo cáo đánh giá tác động môi trường?",
        "land",
        "so-nong-nghiep-va-moi-truong",
        "long_overdue",
        80,
        None,
    ),
    (
        "Cần hỏi về giấy phép kinh doanh rượu thuốc",
        "Xin hỏi thủ tục.",
        "business_registration",
        None,
        "submitted",
        2,
        None,
    ),
    (
        "Đăng ký lại địa chỉ trụ sở sau khi sáp nhập xã",
        "Địa chỉ HTX thay đổi do sáp nhập xã từ 1/7/2025, có phải đăng ký lại không?",
        "business_registration",
        None,
        "submitted",
        1,
        None,
    ),
    ("Xin hỗ trợ về quy trình", "Chúng tôi cần hỗ trợ.", "other", "so-cong-thuong", "clarification", 9, None),
    (
        "Thuế nhà thầu khi mua bao bì từ nước ngoài",
        "Công ty mua bao bì từ Thái Lan qua mạng, có phải nộp thuế nhà thầu?",
        "tax",
        "so-cong-thuong",
        "transferred",
        20,
        None,
    ),
    (
        "Cấp phép quảng cáo sản phẩm thực phẩm bảo vệ sức khỏe",
        "Sản phẩm nhung hươu dạng viên quảng cáo trên mạng cần giấy phép gì?",
        "food_safety",
        "so-cong-thuong",
        "not_our_remit",
        18,
        None,
    ),
    (
        "Tranh chấp đất giữa hai hộ gia đình",
        "Xin hỏi cách giải quyết tranh chấp ranh giới đất với nhà hàng xóm.",
        "land",
        None,
        "rejected",
        50,
        None,
    ),
    (
        "Hoàn thuế GTGT hàng nông sản xuất khẩu (gửi lại)",
        "Hỏi lại câu đã gửi về hoàn thuế.",
        "tax",
        None,
        "duplicate",
        35,
        None,
    ),
    (
        "Thủ tục mở điểm bán hàng OCOP tại chợ",
        "Muốn mở điểm bán sản phẩm OCOP, đã tự tìm được thông tin.",
        "ocop",
        None,
        "withdrawn",
        25,
        None,
    ),
]


def _ensure_agencies(operator: User, counts: Counter) -> dict[str, Agency]:
    agencies = {a.slug: a for a in db.session.scalars(select(Agency))}
    for slug, name, days, restarts in AGENCIES:
        if slug not in agencies:
            agency = admin.save_agency(
                {"name": name, "slug": slug, "working_days": days, "transfer_restarts_clock": restarts},
                actor=operator,
            )
            agency.slug = slug
            agencies[slug] = agency
            counts["qa_agencies"] += 1
    db.session.flush()
    return agencies


def load_govqa(operator: User, today: date, counts: Counter) -> None:
    agencies = _ensure_agencies(operator, counts)
    officials: dict[str, User] = {}
    for email, slug in OFFICIALS.items():
        user = get_user_by_email(email)
        if user is None:
            continue
        if services.official_of(user) is None:
            admin.make_official(user, agencies[slug])
            counts["qa_officials"] += 1
        officials[slug] = user
    askers = [
        u for u in (get_user_by_email(e) for e in ASKERS) if u is not None and services.asker_identity(u)
    ]
    if not askers or len(officials) < 2:
        return
    existing = set(db.session.scalars(select(Question.title)))
    for n, spec in enumerate(QUESTIONS):
        if spec[0] in existing:
            continue
        _story(spec, askers[n % len(askers)], operator, agencies, officials, today)
        counts["qa_questions"] += 1
    db.session.flush()


def _official_for(agency: Agency, officials: dict[str, User]) -> User:
    """The demo official of the agency, else an official made for the demo (never signs in)."""
    if agency.slug in officials:
        return officials[agency.slug]
    from marketplace.accounts.services import create_user

    email = f"canbo-{agency.slug}@demo.vn"
    user = get_user_by_email(email)
    if user is None:
        from .loader import demo_password

        user = create_user(
            email=email, password=demo_password(), full_name=f"Cán bộ {agency.name}", confirmed=True
        )
        admin.make_official(user, agency)
    officials[agency.slug] = user
    return user


def _story(spec, asker: User, operator: User, agencies: dict[str, Agency], officials, today: date) -> None:
    title, body, topic, slug, story, days_ago, answer_after = spec
    agency = agencies[slug] if slug else None
    question = services.submit_question(
        {"title": title, "body": body, "topic": topic, "agency_id": agency.id if agency else None},
        actor=asker,
    )
    if story in ("submitted",):
        return _backdate(question, today, days_ago, None)
    if story == "withdrawn":
        services.withdraw(question, actor=asker)
        return _backdate(question, today, days_ago, None)
    if story in ("rejected", "duplicate"):
        if story == "rejected":
            services.reject_question(
                question,
                "out_of_scope",
                "Tranh chấp đất đai giữa các hộ do tòa án hoặc UBND xã hòa giải.",
                actor=operator,
            )
        else:
            earlier = db.session.scalar(select(Question).where(Question.title == QUESTIONS[1][0]))
            services.reject_question(
                question, "duplicate", "Câu hỏi này đã được trả lời.", actor=operator, duplicate_of=earlier
            )
        return _backdate(question, today, days_ago, None)
    assert agency is not None
    if story == "clarification":
        services.accept_question(question, agency, actor=operator)
        services.ask_clarification(
            question,
            "Đề nghị doanh nghiệp nêu rõ thủ tục cần hỗ trợ.",
            actor=_official_for(agency, officials),
        )
        return _backdate(question, today, days_ago, None)
    services.accept_question(question, agency, actor=operator)
    official = _official_for(agency, officials)
    if story == "transferred":
        services.transfer_question(question, agencies["thue-tinh"], "Thuộc lĩnh vực thuế.", actor=official)
    elif story == "not_our_remit":
        services.not_our_remit(
            question, "Quảng cáo thực phẩm bảo vệ sức khỏe do Sở Y tế cấp phép.", actor=official
        )
    elif story in ("answered", "answered_late"):
        services.answer_question(question, ANSWER, actor=official)
    _backdate(question, today, days_ago, answer_after)


def _backdate(question: Question, today: date, days_ago: int, answer_after: int | None) -> None:
    """Move the question's times back to its place in the story; deadlines from the calendar."""
    calendar = load_calendar()
    submitted_on = today - timedelta(days=days_ago)
    submitted = datetime.combine(submitted_on, time(2, 30))
    changes: dict = {"submitted_at": submitted, "created_at": submitted}
    if question.clock_started_on is not None and question.working_days_allowed:
        start = submitted_on + timedelta(days=1)
        changes["clock_started_on"] = start
        changes["due_on"] = calendar.add_working_days(start, question.working_days_allowed)
        changes["long_due_on"] = calendar.add_working_days(start, 2 * question.working_days_allowed)
        if question.answered_at is not None and answer_after is not None:
            answered = datetime.combine(start + timedelta(days=answer_after), time(3, 0))
            changes["answered_at"] = answered
            changes["closed_at"] = answered
            db.session.execute(
                update(Message)
                .where(Message.question_id == question.id, Message.kind == "answer")
                .values(created_at=answered)
            )
            changes["_answered"] = answered
    if question.closed_at is not None and "closed_at" not in changes:
        changes["closed_at"] = submitted + timedelta(days=1)
    answered_at = changes.pop("_answered", None)
    db.session.execute(update(Question).where(Question.id == question.id).values(**changes))
    db.session.execute(
        update(QuestionEvent)
        .where(QuestionEvent.question_id == question.id)
        .values(created_at=submitted + timedelta(hours=1))
    )
    if answered_at is not None:
        db.session.execute(
            update(QuestionEvent)
            .where(QuestionEvent.question_id == question.id, QuestionEvent.action == "answered")
            .values(created_at=answered_at)
        )
    db.session.expire(question)

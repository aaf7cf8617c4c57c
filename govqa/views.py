from flask import Blueprint

bp = Blueprint("govqa", __name__, url_prefix="/hoi-dap")
operator_bp = Blueprint("govqa_operator", __name__, url_prefix="/quan-tri/hoi-dap")
official_bp = Blueprint("govqa_official", __name__, url_prefix="/co-quan/hoi-dap")


@bp.get("/<slug>")
def question(slug):
    return slug


@bp.get("/loi-moi/<token>")
def accept_invitation(token):
    return token


@operator_bp.get("/")
def queue():
    return ""


@operator_bp.get("/<int:question_id>")
def question(question_id):  # noqa: F811
    return ""


@official_bp.get("/<int:question_id>")
def question(question_id):  # noqa: F811
    return ""

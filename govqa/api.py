from flask import Blueprint

api_bp = Blueprint("govqa_api", __name__, url_prefix="/api/v1/qa")
OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}

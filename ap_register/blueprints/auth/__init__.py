from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str:
    return ""

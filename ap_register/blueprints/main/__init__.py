"""The start page and the pages every public-sector service must have."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

bp = Blueprint("main", __name__)


@bp.route("/")
def home() -> str:
    if not current_user.is_authenticated:
        return render_template("pages/start.html", title="AP register")
    return render_template("pages/home.html", title="Home")


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("pages/accessibility.html", title="Accessibility statement")


@bp.route("/cookies")
def cookies() -> str:
    return render_template("pages/cookies.html", title="Cookies")


@bp.route("/privacy")
def privacy() -> str:
    return render_template("pages/privacy.html", title="Privacy notice")

"""The start page and the pages every public-sector service must have."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ap_register.domain import notifications
from ap_register.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def home() -> str:
    if not current_user.is_authenticated:
        return render_template("pages/start.html", title="AP register")
    return render_template("pages/home.html", title="Home")


@bp.route("/inbox")
@login_required
def inbox() -> str:
    """The signed-in person's notifications; opening the inbox marks them read."""
    user = current_user._get_current_object()
    entries = notifications.inbox(db.session, user)
    unread_ids = {n.id for n in entries if n.read_at is None}
    notifications.mark_read(db.session, user)
    db.session.commit()
    return render_template("pages/inbox.html", title="Inbox", entries=entries, unread_ids=unread_ids)


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("pages/accessibility.html", title="Accessibility statement")


@bp.route("/cookies")
def cookies() -> str:
    return render_template("pages/cookies.html", title="Cookies")


@bp.route("/privacy")
def privacy() -> str:
    return render_template("pages/privacy.html", title="Privacy notice")

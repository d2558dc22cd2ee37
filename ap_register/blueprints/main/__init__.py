"""The start page and the pages every public-sector service must have."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Response, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ap_register.accounts import audit
from ap_register.config import PACKAGE_DIR
from ap_register.domain import notifications
from ap_register.extensions import db, limiter
from ap_register.web import current_actor, render_recorded

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
    # A notification about a child (a decision, a digest) names them: reading it is a view.
    for pupil_id in sorted({n.pupil_id for n in entries if n.pupil_id is not None}):
        audit.record(db.session, current_actor(), "view", "notification", None, pupil_id=pupil_id)
    return render_recorded("pages/inbox.html", title="Inbox", entries=entries, unread_ids=unread_ids)


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("pages/accessibility.html", title="Accessibility statement")


@bp.route("/cookies")
def cookies() -> str:
    return render_template("pages/cookies.html", title="Cookies")


@bp.route("/privacy")
def privacy() -> str:
    return render_template("pages/privacy.html", title="Privacy notice")


@cache
def expected_schema() -> str | None:
    """The newest migration this code ships (read once)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


@bp.route("/health")
@limiter.exempt
def health() -> tuple[Response, int]:
    """For the load balancer and monitoring: 200 when this process can reach the database and the
    database is at this code's migration; 503 otherwise. Says nothing about anyone's data."""
    try:
        schema = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    expected = expected_schema()
    body = {"status": "ok", "database": "ok", "schema": schema, "expected_schema": expected}
    if schema != expected:
        body["status"] = "unavailable"
        return jsonify(body), 503
    return jsonify(body), 200


# Load balancers probe each app server directly over HTTP: the health check is not sent to HTTPS.
health.talisman_view_options = {"force_https": False}  # type: ignore[attr-defined]

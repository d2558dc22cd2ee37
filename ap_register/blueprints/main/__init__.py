"""The start page and the pages every public-sector service must have."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Response, jsonify, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ap_register import clock
from ap_register.accounts import audit
from ap_register.config import PACKAGE_DIR
from ap_register.domain import notifications
from ap_register.extensions import db, limiter
from ap_register.home.work import Card, day_work
from ap_register.web import current_actor, current_la, render_recorded, shows_only

bp = Blueprint("main", __name__)


@bp.route("/")
def home() -> str:
    """The start page, or a signed-in person's day's work (`home.work`)."""
    if not current_user.is_authenticated:
        return render_template("pages/start.html", title="AP register")
    work = day_work(db.session, current_actor(), current_la(), clock.today(), clock.local_now())
    shows_only(work.pupil_ids)
    return render_recorded("pages/home.html", title="Your work today", work=work, href=_href, see_all=_see_all)


def _href(target: tuple[str, int] | None) -> str | None:
    """Where an item of the home page leads."""
    if target is None:
        return None
    kind, record = target
    if kind == "register":
        return url_for(
            "coverage.attendance",
            setting=current_user.setting_id,
            day=clock.today().isoformat(),
            half="AM" if record == 0 else "PM",
        )
    endpoints = {
        "pupil": ("register.pupil", "pupil_id"),
        "placement": ("register.placement", "placement_id"),
        "alert": ("coverage.alert", "alert_id"),
        "referral": ("panels.referral", "referral_id"),
        "user": ("admin.user", "user_id"),
        "provider": ("outcomes.provider", "setting_id"),
        "engagement": ("outreach.engagement", "engagement_id"),
        "agreement": ("commissioning.agreement", "agreement_id"),
    }
    endpoint, name = endpoints[kind]
    return url_for(endpoint, **{name: record})


def _see_all(card: Card) -> tuple[str, str] | None:
    """The page with all of a card's work, and what its link says."""
    query = card.query
    setting = current_user.setting_id
    links: dict[str, tuple[str, str]] = {
        "coverage": (url_for("coverage.coverage", **query), "See the week's coverage"),
        "alerts": (url_for("coverage.alerts"), "See all alerts"),
        "cases": (url_for("casework.my_cases"), "See all your cases"),
        "census": (url_for("returns.index", **query), "Check the AP census"),
        "imports": (url_for("admin.imports"), "Import a file"),
        "users": (url_for("admin.users_list"), "See all users"),
        "budget": (url_for("budgets.plan", plan_id=query["plan"]) if "plan" in query else "", "See the plan"),
        "outcomes": (url_for("outcomes.compare", **query), "Compare providers"),
        "meeting": (url_for("panels.meeting", meeting_id=query.get("meeting", 0)), "See the meeting"),
        "panels": (url_for("panels.panels"), "See the panels"),
        "registers": (url_for("coverage.attendance", setting=setting), "Take a register"),
        "arriving": (url_for("register.placements", setting=setting, status="planned"), "See planned placements"),
        "current": (url_for("register.placements", setting=setting, status="active"), "See active placements"),
        "outreach": (url_for("outreach.engagements"), "See outreach"),
        "reports": (url_for("commissioning.reports"), "See all progress reports"),
        "places": (url_for("budgets.provider", setting_id=setting or 0), "See your places"),
        "in_ap": (url_for("register.placements", status="active"), "See the placements register"),
        "referrals": (url_for("panels.referrals"), "See your referrals"),
        "ending": (url_for("register.placements", route="off_site_direction", status="active"), "See directions"),
    }
    found = links.get(card.key)
    return found if found and found[0] else None


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

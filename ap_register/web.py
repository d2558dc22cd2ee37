"""The web layer's wiring: sign-in, security headers, template helpers, blueprints."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_talisman import Talisman
from govuk_frontend_wtf.main import WTFormsHelpers
from sqlalchemy import Select, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter
from werkzeug.wsgi import host_is_trusted

from ap_register import clock, errors, permissions
from ap_register.accounts import audit, kept_answers
from ap_register.blueprints.forms import error_list
from ap_register.budgets.rules import figure
from ap_register.coverage.rules import FLAG_LABELS
from ap_register.domain import exports, vocab, week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError
from ap_register.domain.pupils import year_group_label
from ap_register.domain.search import Page, page_of, paginate
from ap_register.domain.text import control_character_problem, counted, has_nul
from ap_register.domain.typed import MAX_ID, whole_number
from ap_register.extensions import db, login_manager
from ap_register.models import AuditEvent, LocalAuthority, Pupil, User
from ap_register.years import AcademicYear, FinancialYear

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def current_actor() -> Actor:
    """The person making this request, as the rules see them."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, via="web", ip=request.remote_addr)


class RecordId(IntegerConverter):
    """`<int:...>` in a URL: a record's id, from 1 to the largest the database's INTEGER ids hold.
    A larger number names no record: the URL matches no page (a 404) rather than reaching the
    database, whose driver refuses to ask for it."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's own name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def same_site_path(target: str | None, default: str, under: str = "/") -> str:
    """Where to go back to after a form: `target` when it is a path of this site (under `under`),
    with no scheme, host, backslash or control character (CR/LF would break the redirect's
    header); `default` otherwise."""
    if not target or control_character_problem(target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(under) or target.startswith("//"):
        return default
    return target


def page_address() -> str:
    """This page's path with its query, as a link to it reads (no lone "?")."""
    return request.full_path.removesuffix("?")


def refuse_nul_bytes() -> None:
    """A NUL byte anywhere in the path, the query string or a form: refused before any view
    reads it (PostgreSQL cannot store or even compare text holding one)."""
    places = [("path", request.path), *request.args.items(multi=True)]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        places += request.form.items(multi=True)
        places += [(name, upload.filename or "") for name, upload in request.files.items(multi=True)]
    for name, value in places:
        if has_nul(name) or has_nul(value):
            where = "" if has_nul(name) else name
            raise DomainError(errors.NUL_REFUSED, [FieldError(where, "must not contain a NUL byte")])


def _page_number() -> int:
    """The ?page= of a list (1 when missing or not a number)."""
    number = whole_number(request.args.get("page"))
    return max(1, number) if number is not None else 1


def paged_query(stmt: Select[Any]) -> Page:
    """The ?page= of a query's results, PAGE_SIZE to a page."""
    return paginate(db.session, stmt, _page_number(), current_app.config["PAGE_SIZE"])


def paged_list(items: list[Any]) -> Page:
    """The ?page= of a list worked out in memory, PAGE_SIZE to a page."""
    return page_of(items, _page_number(), current_app.config["PAGE_SIZE"])


def current_la() -> LocalAuthority:
    """The local authority whose area the signed-in person works in (their own, or their setting's)."""
    la = db.session.get(LocalAuthority, current_user.organisation_la_id)
    assert la is not None
    return la


def export_limit() -> str:
    """The rate limit on downloads of personal data (per person's address)."""
    from flask import current_app

    return str(current_app.config["EXPORT_RATE_LIMIT"])


def table_download(fmt: str, columns: list[str], records: Iterable[dict[str, Any]], name: str) -> Response:
    """A table as a file to save: CSV streamed row by row, or an XLSX workbook built on disk."""
    if fmt == "csv":
        body = stream_with_context(exports.csv_chunks(columns, records))
        return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    exports.write_xlsx(columns, records, spool, name.split("-")[0])
    spool.seek(0)
    return send_file(spool, mimetype=exports.MEDIA_TYPES["xlsx"], as_attachment=True, download_name=name)


def format_date(value: date | datetime | str | None, missing: str = "Not recorded") -> str:
    """A date as people read it, "13 October 2026" (an ISO date a record keeps as text too)."""
    if value is None or value == "":
        return missing
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")
    return value.strftime("%-d %B %Y")


# What a page's script asks while the person types (the pupil search's suggestions): many a
# minute, and any of them may be answered after the person has submitted the form.
SCRIPT_READS = frozenset({"register.suggest_pupils"})
# Answers that never carry the session cookie: the script's reads, and a page's own files (its
# style sheet, scripts and icon, which the browser may fetch after the next form was sent).
NO_COOKIE = SCRIPT_READS | {"static"}


class SessionCookies(SecureCookieSessionInterface):
    """The signed session cookie, never sent back with an answer to a script's read or with a
    page's own file. Such an answer carries the session as it was when it was asked for: arriving
    after a form's answer had set a new cookie (its "Offer sent" message, a sign-in, or the
    cookie's removal), it would put the old one back and the message would be lost."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if request and request.endpoint in NO_COOKIE:
            return False
        return super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The id carries the session version: a password change or deactivation ends every session.
        try:
            raw_id, version = user_id.split(":")
            # With their LA or setting, which every page's header names: one query, not two.
            user = db.session.get(User, int(raw_id), options=[joinedload(User.la), joinedload(User.setting)])
        except ValueError:
            return None
        if user is None or not user.is_active or str(user.session_version) != version:
            return None
        return user

    if app.config["TRUSTED_PROXIES"]:
        # Behind a proxy that ends TLS: believe its X-Forwarded-For/-Proto/-Host, this many hops
        # deep (never more: a client could forge them), so HTTPS is recognised and rate limits
        # count the real client, not the proxy.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    @app.before_request
    def only_our_host_names() -> None:
        # Before Talisman's redirect to HTTPS, which would send the person to the host as given.
        allowed = app.config.get("ALLOWED_HOSTS")
        if allowed and request.endpoint != "main.health" and not host_is_trusted(request.host, allowed):
            abort(400, "This address is not one the register answers to.")

    app.extensions["talisman"] = Talisman(
        app,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        referrer_policy="same-origin",
        frame_options="DENY",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    WTFormsHelpers(app)
    errors.init_app(app)
    app.url_map.converters["int"] = RecordId  # before any blueprint adds its rules
    app.before_request(refuse_nul_bytes)

    @app.before_request
    def keep_session_fresh() -> Response | None:
        if request.blueprint == "api" or request.endpoint == "main.health":
            return None  # the API reads a bearer token and the health check nothing: no session cookie
        # A script's read or a page's file leaves the session as it was (its answer sets no
        # cookie: SessionCookies).
        if request.endpoint not in NO_COOKIE:
            session.permanent = True
            if current_user.is_authenticated:
                # When the session was last used (a page about to lapse asks whether another tab
                # kept it alive), and a form's answers kept when it lapsed, put back on its page.
                g.session_last_seen = session.get("seen")
                session["seen"] = clock.now().timestamp()
                if request.method == "GET":
                    g.kept_answers = kept_answers.peek(db.session, current_user, page_address())
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in ("auth.change_password", "auth.sign_out", "static", None)
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def forget_answers_put_back(response: Response) -> Response:
        # Kept answers go once the page that carries them back has been sent whole (not a
        # redirect or an error page, which put nothing back).
        if g.get("kept_answers") is not None and response.status_code == 200:
            kept_answers.forget(db.session, current_user, page_address())
            db.session.commit()
        return response

    @app.after_request
    def audit_every_child_shown(response: Response) -> Response:
        return _audit_children_shown(response)

    @app.after_request
    def no_store(response: Response) -> Response:
        # Pages about children must not be kept by browsers or proxies.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        def unread() -> int:
            if not current_user.is_authenticated:
                return 0
            from ap_register.domain.notifications import unread as count_unread

            return count_unread(db.session, current_user)

        def can(action: str, obj: Any = None) -> bool:
            return current_user.is_authenticated and permissions.can(db.session, current_actor(), action, obj)

        def navigation() -> list[dict[str, Any]]:
            from ap_register.blueprints.navigation import sections

            return sections(current_user) if current_user.is_authenticated else []

        lifetime = int(current_app.permanent_session_lifetime.total_seconds())
        return {
            "can": can,
            "navigation": navigation,
            "session_seconds": lifetime,
            "warn_seconds": min(int(app.config.get("SESSION_WARNING_SECONDS", 120)), lifetime),
            "unread": unread,
            "vocab": vocab,
            "week_pattern": week_pattern,
            "today": clock.today(),
            "year_group_label": year_group_label,
            "service_name": app.config["SERVICE_NAME"],
            "error_list": error_list,
            "vocab_flags": FLAG_LABELS,
        }

    # A global, not a context value: the form macros are imported without the page's context.
    from ap_register.placements.drafts import new_submission_token

    app.jinja_env.globals["submission_token"] = new_submission_token
    from ap_register.outcomes.rules import MIN_N

    app.jinja_env.globals["min_n"] = MIN_N  # figures for fewer pupils are suppressed
    app.add_template_filter(format_date, "govdate")
    app.add_template_filter(counted, "counted")
    app.add_template_filter(figure, "figure")
    # Pounds and pence, as a rate or a sum due is written: £1,234.50.
    app.add_template_filter(lambda value: f"£{value:,.2f}", "pounds")
    # A year kept as the calendar year it starts, as people write it: 2025/26, or 2025-26.
    app.add_template_filter(lambda start: AcademicYear(start).label, "academic_year")
    app.add_template_filter(lambda start: FinancialYear(start).label, "financial_year")
    app.add_template_filter(lambda key, table: table.get(key, key), "extract")

    from ap_register.accounts import web as auth
    from ap_register.blueprints import admin, api, main
    from ap_register.budgets import web as budgets
    from ap_register.budgets.web import outreach
    from ap_register.casework import web as casework
    from ap_register.commissioning import web as commissioning
    from ap_register.coverage import web as coverage
    from ap_register.outcomes import web as outcomes
    from ap_register.panels import web as panels
    from ap_register.placements import web as register
    from ap_register.returns import web as returns

    app.register_blueprint(main.bp)
    app.register_blueprint(outreach.bp)
    app.register_blueprint(budgets.bp)
    app.register_blueprint(outcomes.bp)
    app.register_blueprint(panels.bp)
    app.register_blueprint(coverage.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(returns.bp)
    app.register_blueprint(casework.bp)
    app.register_blueprint(commissioning.bp)


# --- every child a request loads is an audited view ------------------------------------------
#
# A page or an API answer that loads a pupil's record (directly, or through a placement, a
# referral, an alert...) has shown that child to the person asking. Rather than trust each view
# to say so, every Pupil the ORM loads during a request is noted, and once the answer is ready
# a "view" audit event is written for each child the request did not already audit (a change
# of the record audits itself). If that cannot be written, the answer is not sent.


def _note_pupil_loaded(target: Pupil, context: Any) -> None:
    if has_request_context():
        g.setdefault("pupils_shown", set()).add(target.id)


def _note_pupil_audited(target: AuditEvent, args: Any, kwargs: dict[str, Any]) -> None:
    if has_request_context() and kwargs.get("pupil_id") is not None:
        g.setdefault("pupils_audited", set()).add(kwargs["pupil_id"])


def _forget_audited(session: Any, previous_transaction: Any) -> None:
    # Audit events rolled back (a refused file, a refused rule) no longer record anything.
    if has_request_context():
        g.pop("pupils_audited", None)


event.listen(Pupil, "load", _note_pupil_loaded)
event.listen(AuditEvent, "init", _note_pupil_audited)
event.listen(OrmSession, "after_soft_rollback", _forget_audited)

# Answers that show what was asked for, or a refusal that names it (a form's or the API's
# message can name the child); not the errors that show nothing (403, 404, 429, 5xx).
_SHOWN = frozenset({400, 409, 422})


def shows_only(pupil_ids: Iterable[int]) -> None:
    """Say which of the children this request loaded its answer shows (a page of a longer list
    worked out whole): only those are audited as viewed. The walk of every route in
    tests/security/test_view_audit.py fails if a child is shown and not among them."""
    g.pupils_listed = set(pupil_ids)


def _request_actor() -> Actor | None:
    if request.blueprint == "api":
        return g.get("api_actor")
    return current_actor() if current_user.is_authenticated else None


def record_children_shown(status: int = 200) -> bool:
    """Audit as viewed each child this answer loaded (of those it lists, when it says which), in
    the session's transaction; say whether any was. Run by every answer as it is sent, and by an
    answer streamed after its view returned (the import page) once its page is made."""
    shown = g.pop("pupils_shown", set()) - g.pop("pupils_audited", set())
    listed = g.pop("pupils_listed", None)
    if listed is not None:
        shown &= listed
    if not shown or (status >= 400 and status not in _SHOWN):
        return False
    actor = _request_actor()
    if actor is None:
        return False
    # One statement for a list's fifty children (COPY on PostgreSQL), not fifty.
    audit.record_many(
        db.session,
        actor,
        "view",
        "page" if request.blueprint != "api" else "api",
        {pupil_id: {"path": request.path} for pupil_id in sorted(shown)},
        object_ids=dict.fromkeys(shown, request.endpoint),
    )
    return True


def _audit_children_shown(response: Response) -> Response:
    try:
        if record_children_shown(response.status_code):
            db.session.commit()
    except Exception:  # noqa: BLE001 - an answer whose view could not be audited is not sent
        db.session.rollback()
        current_app.logger.exception("The views of this answer could not be audited")
        body, status = errors.error_response(503, "What you asked for could not be shown: try again in a few minutes.")
        return current_app.make_response((body, status))
    return response


def render_recorded(template: str, **context: Any) -> str:
    """Render a page, then commit what viewing it recorded (its audit events). In this order the
    page reads the rows as they were loaded: a commit first expires every one, and the page would
    then load them again one query each (a list of fifty pupils, fifty queries)."""
    page = render_template(template, **context)
    db.session.commit()
    return page

"""Coverage, alerts and attendance registers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectMultipleField

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import (
    Form,
    GovDateField,
    attempt,
    radios,
    setting_choices,
    setting_select,
    submit,
    text_area,
)
from ap_register.blueprints.forms import select as select_field
from ap_register.casework import contacts
from ap_register.coverage import absence, digest
from ap_register.coverage import alerts as alert_rules
from ap_register.coverage import attendance as attendance_rules
from ap_register.coverage.rules import CSV_COLUMNS, FLAG_LABELS, FLAGS, monday_of, table_rows, week_coverage
from ap_register.coverage.term import term_picture
from ap_register.coverage.web import bp
from ap_register.domain import exports
from ap_register.domain.errors import CalendarUnknown, DomainError, Forbidden, NotFound
from ap_register.domain.typed import FIRST_YEAR, LAST_YEAR, iso_day, record_id
from ap_register.domain.vocab import AP_KINDS
from ap_register.extensions import db, limiter
from ap_register.models import Alert
from ap_register.web import (
    current_actor,
    current_la,
    export_limit,
    paged_list,
    render_recorded,
    shows_only,
    table_download,
)


class WeekForm(Form):
    class Meta:
        csrf = False

    week = GovDateField("Week beginning", required=False, description="Any day of the week; it starts on the Monday")
    flag = select_field(
        "Flag", [("", "Any flag"), ("flagged", "Any flag raised")] + [(f, FLAG_LABELS[f]) for f in FLAGS]
    )
    setting = setting_select("Setting")
    submit = submit("Show")


def _week_form() -> tuple[WeekForm, date, str, int | None]:
    form = WeekForm(request.args)
    form.setting.choices = setting_choices(blank="Any setting")
    form.validate()
    day = form.week.data if form.week.data and not form.week.errors else clock.today()
    setting_id = record_id(form.setting.data)
    return form, monday_of(day), form.flag.data or "", setting_id


@bp.route("/coverage/term")
@allowed("coverage.term")
def coverage_term() -> str:
    """The term week by week: pupils below full time as the daily checks counted each week, and
    the coverage alerts raised and met (counts of the area, no child named)."""
    la = current_la()
    term = term_picture(db.session, la, clock.today())
    return render_template("coverage/term.html", title="Coverage over the term", la=la, term=term)


@bp.route("/coverage")
@allowed("coverage.view")
def coverage() -> str:
    actor = current_actor()
    form, week, flag, setting_id = _week_form()
    la = current_la()
    try:
        result = week_coverage(db.session, actor, la, week)
    except CalendarUnknown as error:
        return render_template(
            "coverage/week.html",
            title="Full-time coverage",
            form=form,
            unknown=error.message,
            week=week,
            la=la,
            rows=[],
            result=None,
            counts={},
            query={},
        )
    rows = result.pupils
    if setting_id is not None:
        rows = [
            r
            for r in rows
            if any(p.setting_id == setting_id for p in r.placements)
            or any(c.home_school is not None and c.home_school.id == setting_id for c in r.cells)
        ]
    if flag == "flagged":
        rows = [r for r in rows if r.flags]
    elif flag:
        rows = [r for r in rows if flag in r.flags]
    counts = {f: sum(1 for r in result.pupils if f in r.flags) for f in FLAGS}
    # The most serious first, a page at a time (an LA has hundreds in scope a week).
    results = paged_list(rows)
    # The whole week is worked out; the children on this page are the ones shown.
    shows_only(row.pupil.id for row in results.items)
    audit.record(
        db.session,
        actor,
        "view",
        "coverage",
        la.code,
        detail={"week": week.isoformat(), "pupils": len(rows), "page": results.page, "shown": len(results.items)},
    )
    query = {k: v for k, v in request.args.items(multi=False) if k not in ("week", "submit", "page")}
    return render_recorded(
        "coverage/week.html",
        title="Full-time coverage",
        form=form,
        result=result,
        rows=results.items,
        results=results,
        counts=counts,
        week=week,
        la=la,
        unknown=None,
        query=query,
        previous=week - timedelta(days=7),
        following=week + timedelta(days=7),
    )


@bp.route("/coverage/export.<fmt>")
@login_required
@limiter.limit(export_limit)
def coverage_export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    actor = current_actor()
    permissions.require(db.session, actor, "coverage.view")
    _, week, _, _ = _week_form()
    la = current_la()
    try:
        result = week_coverage(db.session, actor, la, week)
    except CalendarUnknown:
        abort(404)
    rows = table_rows(result)
    exports.record_export(db.session, actor, "coverage", fmt, len(rows), {"week": week.isoformat()})
    db.session.commit()
    return table_download(fmt, CSV_COLUMNS, rows, f"coverage-{la.code}-{week.isoformat()}.{fmt}")


# --- alerts ----------------------------------------------------------------------------------


class AlertFilterForm(Form):
    class Meta:
        csrf = False

    status = select_field(
        "Status",
        [
            ("current", "Open or acknowledged"),
            ("open", "Open"),
            ("acknowledged", "Acknowledged"),
            ("resolved", "Resolved"),
        ],
    )
    kind = select_field("Kind", [("", "Any kind")] + list(alert_rules.KINDS.items()))
    submit = submit("Show")


class AcknowledgeForm(Form):
    note = text_area(
        "What are you doing about it? (optional)",
        max_length=2000,
        description="For example, who you have called. Colleagues read this.",
    )
    submit = submit("Acknowledge")


class OwnerForm(Form):
    owner = select_field("Give it to", [])
    submit = submit("Give the alert")


class BulkAcknowledgeForm(Form):
    alerts = SelectMultipleField("Alerts", choices=[], validate_choice=False, coerce=str)
    note = text_area("What are you doing about them? (optional)", max_length=2000)
    submit = submit("Acknowledge the chosen alerts")


class ResolveForm(Form):
    note = text_area(
        "What was done?",
        required="Say what was done",
        description="For example, the provision arranged and from when. Other officers read this.",
    )
    submit = submit("Resolve the alert")


def alerts_query(status: str, kind: str) -> Any:
    stmt = select(Alert).order_by(Alert.due, Alert.id)
    if status == "current":
        stmt = stmt.where(Alert.status.in_(("open", "acknowledged")))
    elif status:
        stmt = stmt.where(Alert.status == status)
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    return permissions.scope_alerts(current_actor(), stmt)


@bp.route("/alerts", methods=["GET", "POST"])
@allowed("alerts.view")
def alerts() -> str | BaseResponse:
    actor = current_actor()
    form = AlertFilterForm(request.args)
    form.validate()
    status = form.status.data if not form.status.errors and form.status.data else "current"
    kind = form.kind.data if not form.kind.errors and form.kind.data else ""
    bulk = BulkAcknowledgeForm(prefix="bulk")
    # The list's own filters, kept when the chosen alerts are acknowledged (nothing else is echoed).
    query = {name: request.args[name] for name in ("status", "kind") if request.args.get(name)}
    if request.method == "POST":
        permissions.require(db.session, actor, "alerts.act")
        if bulk.validate_on_submit():
            ids = [i for i in (record_id(v) for v in bulk.alerts.data or []) if i is not None]
            chosen = list(
                db.session.scalars(permissions.scope_alerts(actor, select(Alert).where(Alert.id.in_(ids or [0]))))
            )
            done, count = attempt(
                bulk, lambda: alert_rules.acknowledge_many(db.session, actor, chosen, bulk.note.data or "")
            )
            if done:
                flash(f"{count} alert{'s' if count != 1 else ''} acknowledged", "success")
                return redirect(url_for("coverage.alerts", **query))
    found = db.session.scalars(alerts_query(status, kind)).all()
    owners = {u.id: u.name for u in alert_rules.owners(db.session, actor)} if found else {}
    return render_template(
        "coverage/alerts.html",
        title="Alerts",
        form=bulk if bulk.errors else form,
        filter_form=form,
        bulk_form=bulk,
        alerts=found,
        kinds=alert_rules.KINDS,
        today=clock.today(),
        owners=owners,
        query=query,
    )


@bp.route("/alerts/<int:alert_id>", methods=["GET", "POST"])
@login_required
def alert(alert_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = alert_rules.get_alert(db.session, actor, alert_id)
    acknowledge_form, resolve_form = AcknowledgeForm(prefix="ack"), ResolveForm(prefix="resolve")
    owner_form = OwnerForm(prefix="owner")
    people = alert_rules.owners(db.session, actor) if permissions.can(db.session, actor, "alerts.act") else []
    owner_form.owner.choices = [("", "Nobody")] + [(str(u.id), f"{u.name}, {u.organisation_name}") for u in people]
    if request.method == "GET":
        owner_form.owner.data = str(found.assigned_to_id or "")
    if request.method == "POST":
        permissions.require(db.session, actor, "alerts.act")
        if "ack-submit" in request.form and acknowledge_form.validate_on_submit():
            done, _ = attempt(
                acknowledge_form,
                lambda: alert_rules.acknowledge(db.session, actor, found, acknowledge_form.note.data or ""),
            )
            if done:
                flash("Alert acknowledged", "success")
                return redirect(url_for("coverage.alert", alert_id=found.id))
        elif "owner-submit" in request.form and owner_form.validate_on_submit():
            chosen = record_id(owner_form.owner.data)
            owner = next((u for u in people if u.id == chosen), None)
            done, _ = attempt(owner_form, lambda: alert_rules.assign(db.session, actor, found, owner))
            if done:
                flash(f"Alert given to {owner.name}" if owner else "Alert given to nobody", "success")
                return redirect(url_for("coverage.alert", alert_id=found.id))
        elif "resolve-submit" in request.form and resolve_form.validate_on_submit():
            done, _ = attempt(
                resolve_form, lambda: alert_rules.resolve(db.session, actor, found, resolve_form.note.data or "")
            )
            if done:
                flash("Alert resolved", "success")
                return redirect(url_for("coverage.alerts"))
    if found.pupil_id is not None:
        audit.record(db.session, actor, "view", "alert", found.id, pupil_id=found.pupil_id)
        db.session.commit()
    errors_form = resolve_form if resolve_form.errors else owner_form if owner_form.errors else acknowledge_form
    family = found.kind == absence.KIND and absence.may_see_attempts(db.session, actor, found)
    return render_template(
        "coverage/alert.html",
        title=alert_rules.KINDS.get(found.kind, found.kind),
        alert=found,
        acknowledge_form=acknowledge_form,
        resolve_form=resolve_form,
        owner_form=owner_form,
        owner=alert_rules.user_name(db.session, found.assigned_to_id),
        form=errors_form,
        acknowledged_by=alert_rules.user_name(db.session, found.acknowledged_by_id),
        resolved_by=alert_rules.user_name(db.session, found.resolved_by_id),
        absence_kind=absence.KIND,
        people=absence.contacts_for(db.session, actor, found) if found.kind == absence.KIND else [],
        # Who was tried and what was said are the family's: for those who may read the child's contacts.
        attempts=absence.attempts_on(db.session, found) if family else [],
        may_see_attempts=family,
        methods=absence.METHODS,
        outcomes=absence.OUTCOMES,
        contact_by=contacts.CONTACT_BY,
        contact_withheld=contacts.WITHHELD,
    )


# --- same-day absence: reaching the family, a child sent home, the LA's times ------------------


def _who(person: contacts.Person) -> str:
    """A contact as a choice: who they are to the child, their number, and any restriction."""
    text = f"{person.contact.name}, {(person.relationship or person.role).lower()}"
    if person.detail("phone"):
        text += f" ({person.detail('phone')})"
    return text + (": restricted, do not contact" if person.contact.restriction else "")


class AttemptForm(Form):
    contact = radios("Who did you try to reach?", [], "Choose who you tried to reach")
    method = radios("How?", list(absence.METHODS.items()), "Choose how you tried to reach them")
    outcome = radios("What came of it?", list(absence.OUTCOMES.items()), "Choose what came of it")
    note = text_area(
        "What happened (optional)",
        max_length=absence.MAX_NOTE,
        description="For example, where the child is, who they are with, and what was agreed",
    )
    submit = submit("Record the attempt")


@bp.route("/alerts/<int:alert_id>/contact", methods=["GET", "POST"])
@allowed("alerts.act")
def contact_attempt(alert_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = alert_rules.get_alert(db.session, actor, alert_id)
    if found.pupil_id is None or found.kind != absence.KIND:
        abort(404)
    people = absence.contacts_for(db.session, actor, found)
    form = AttemptForm()
    form.contact.choices = [(str(p.contact.id), _who(p)) for p in people]
    if form.validate_on_submit():
        draft = absence.AttemptDraft(
            record_id(form.contact.data), form.method.data or "", form.outcome.data or "", form.note.data or ""
        )
        done, _ = attempt(form, lambda: absence.record_attempt(db.session, actor, found.id, draft))
        if done:
            flash("Attempt recorded", "success")
            return redirect(url_for("coverage.alert", alert_id=found.id))
    return render_recorded(
        "coverage/contact_attempt.html",
        title="Record an attempt to reach the family",
        form=form,
        alert=found,
        has_people=bool(people),
    )


class SentHomeForm(Form):
    setting = select_field("Where from", [], "Choose the provider")
    reason = text_area(
        "Why did they go, and who with?",
        "Say why they went home, and who they went with or who was told",
        max_length=absence.MAX_REASON,
        description="For example, unwell and collected by mum at 11:20; or left without permission",
    )
    submit = submit("Tell the school and the local authority now")


@bp.route("/pupils/<int:pupil_id>/sent-home", methods=["GET", "POST"])
@allowed("absence.sent_home")
def sent_home(pupil_id: int) -> str | BaseResponse:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "absence.sent_home", pupil)
    here = absence.placed_today(db.session, actor, pupil, clock.today())
    form = SentHomeForm()
    form.setting.choices = [(str(p.setting_id), p.setting.name) for p in here]
    if form.validate_on_submit():
        setting_id = record_id(form.setting.data) or 0
        done, raised = attempt(
            form,
            lambda: absence.report_sent_home(
                db.session, actor, pupil.id, setting_id, clock.now(), form.reason.data or ""
            ),
        )
        if done and raised is not None:
            flash("The school, the attendance officer and the caseworker have been told", "success")
            return redirect(url_for("register.pupil", pupil_id=pupil.id))
    return render_recorded(
        "coverage/sent_home.html",
        title="Record a child sent home or leaving early",
        form=form,
        pupil=pupil,
        placed_today=bool(here),
    )


# --- registers -------------------------------------------------------------------------------


class RegisterChoiceForm(Form):
    class Meta:
        csrf = False

    setting = setting_select("Setting")
    day = GovDateField("Date", required=False)
    half = select_field("Session", [("AM", "Morning (AM)"), ("PM", "Afternoon (PM)")])
    submit = submit("Open the register")


@bp.route("/attendance", methods=["GET", "POST"])
@allowed("attendance.record")
def attendance() -> str | BaseResponse:
    """A setting's register for one session: the pupils it expects, and a code for each."""
    actor = current_actor()
    choice = RegisterChoiceForm(request.args)
    if current_user.setting_id is not None:
        asked = request.args.get("setting")
        if asked and asked != str(current_user.setting_id):
            raise Forbidden("You can take the register of your own setting only")
        choice.setting.choices = [(str(current_user.setting_id), current_user.setting.name)]
        choice.setting.data = str(current_user.setting_id)
    else:
        choice.setting.choices = setting_choices()
    choice.validate()
    day = choice.day.data if choice.day.data and not choice.day.errors else clock.today()
    asked_half = (request.args.get("half") or "").strip().upper()
    half = asked_half if asked_half in ("AM", "PM") else ("AM" if clock.local_now().hour < 12 else "PM")
    # The picker shows the session whose register is shown (today's, this half, unless asked).
    if not choice.day.errors:
        choice.day.raw_data, choice.day.data = [str(day.day), str(day.month), str(day.year)], day
    choice.half.data = half
    # A register is saved only for the session it names: never for a default put in place of a
    # date or a session that could not be read.
    unreadable = []
    if choice.day.errors:
        unreadable.append({"text": choice.day.errors[0], "href": "#day"})
    if request.args.get("half") and asked_half not in ("AM", "PM"):
        unreadable += [
            {"text": p.message, "href": "#half"}
            for p in attendance_rules.session_problems(day, asked_half, clock.today())
            if p.field == "session"
        ]
    setting = None
    asked_id = record_id(choice.setting.data)
    if asked_id is not None:
        setting = permissions.get_setting(db.session, actor, asked_id)
        if not attendance_rules.may_take_register(actor, setting):
            raise Forbidden("You can take the register of your own setting only")
    errors: list[dict[str, str]] = []
    if request.method == "POST" and unreadable:
        errors = unreadable
    elif setting is not None and request.method == "POST":
        marks = {
            pupil_id: value.strip()
            for key, value in request.form.items()
            if key.startswith("mark-") and (pupil_id := record_id(key.removeprefix("mark-"))) is not None
        }
        try:
            written = attendance_rules.record_register(
                db.session, actor, setting, day, half, marks, unmarked_present="mark_all" in request.form
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            db.session.rollback()
            errors = [{"text": e.message, "href": f"#{e.field}" if e.field else "#main-content"} for e in error.errors]
        else:
            db.session.commit()
            flash(f"Register saved: {written} mark{'s' if written != 1 else ''} recorded", "success")
            return redirect(url_for("coverage.attendance", setting=setting.id, day=day.isoformat(), half=half))
    # A day with no register (a weekend, a holiday, the future) shows why, not a form to be refused.
    closed = []
    if setting is not None and not unreadable:
        closed = [p.message for p in attendance_rules.register_problems(db.session, setting, day, half, clock.today())]
    rows = []
    if setting is not None and not closed:
        rows = attendance_rules.expected(db.session, actor, setting, day, half)
    return render_template(
        "coverage/attendance.html",
        title="Take a register",
        choice=choice,
        setting=setting,
        day=day,
        half=half,
        rows=rows,
        errors=errors,
        codes=attendance_rules.codes_for(half),
        closed=closed,
        present=attendance_rules.PRESENT.get(half),
    )


class ReceivedForm(Form):
    class Meta:
        csrf = False

    day = GovDateField("Date", required=False)
    provider = setting_select("Provider")
    submit = submit("Show")


@bp.route("/attendance/received")
@allowed("coverage.view")
def attendance_received() -> str:
    """The registers other settings took for the pupils this person works with, on a day: what
    the daily digest points to."""
    actor = current_actor()
    form = ReceivedForm(request.args)
    form.provider.choices = setting_choices(kinds=AP_KINDS, blank="Any provider")
    form.validate()
    day = clock.today()
    if request.args.get("on"):  # the daily digest's links
        asked = iso_day(request.args["on"])
        if asked is None:
            form.day.errors = [f"Date must be a real date in a year from {FIRST_YEAR} to {LAST_YEAR}"]
        day = asked or day
    elif form.day.data and not form.day.errors:
        day = form.day.data
    raw = request.args.get("provider", "")
    provider_id = record_id(raw) if raw in dict(form.provider.choices) else None
    form.provider.data = str(provider_id) if provider_id else ""
    rows = digest.received(db.session, actor, day, provider_id)
    return render_recorded(
        "coverage/received.html",
        title="Registers from providers",
        form=form,
        day=day,
        rows=rows,
        describe=attendance_rules.code_class,
    )

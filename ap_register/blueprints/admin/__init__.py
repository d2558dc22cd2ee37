"""LA administration: users, term dates, local thresholds and imports."""

from __future__ import annotations

import io
import json
from collections.abc import Generator, Iterator

from flask import Blueprint, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovTextInput
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from ap_register import clock, permissions
from ap_register.accounts import api_tokens, audit, two_factor, users
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import (
    Form,
    GovDateField,
    attempt,
    checkboxes,
    radios,
    submit,
    text_area,
    text_field,
)
from ap_register.blueprints.forms import select as select_field
from ap_register.casework import caseloads
from ap_register.coverage import absence
from ap_register.domain import imports as imports_rules
from ap_register.domain import term_dates
from ap_register.domain.errors import NotFound
from ap_register.domain.imports import KINDS as IMPORT_KINDS
from ap_register.domain.imports import ImportRefused, ImportReport, check_file_steps, drain, import_steps
from ap_register.domain.search import settings_query
from ap_register.domain.typed import record_id
from ap_register.domain.vocab import ROLE_LABELS, SETTING_KIND_LABELS, Role
from ap_register.extensions import db, limiter
from ap_register.models import LocalAuthority, Setting, TermDate, User
from ap_register.panels import rules as panel_rules
from ap_register.placements import adoption, transfers
from ap_register.web import current_actor, current_la, record_children_shown, shows_only
from ap_register.years import AcademicYear

bp = Blueprint("admin", __name__, url_prefix="/admin")

IMPORT_DESCRIPTIONS = {
    "settings": "Schools and providers (ref, name, kind, la_code), or a GIAS establishment extract as downloaded",
    "pupils": "Pupils (upn, first_name, last_name, date_of_birth, home_la_code)",
    "placements": "Placements (upn, setting_ref, route, registration, start_date, sessions)",
    "movements": "Admissions, exclusions, suspensions and removals from roll (upn, date, kind, setting_ref)",
    "attendance": "Attendance marks (upn, setting_ref, date, session, code)",
    "term-dates": "Stretches of school days (la_code, start_date, end_date)",
    "outreach": "Outreach sessions (provider_ref, school_ref, kind, date, minutes, staff, and upn or group)",
    "budget-lines": "Lines of a draft budget plan (plan, year, place_type, commissioned, unit_cost, provider_ref)",
    "ks4-results": "Year 11 leavers' English and maths (upn, academic_year, english, maths)",
    "destinations": "Post-16 destinations at the October and March checks (upn, leaving_year, check_point, activity)",
    "contacts": "The people around each child: parents and carers, social workers, virtual school heads, SENCos and "
    "key workers (upn, role, name); a row for a contact the child has, by role and name, changes it",
}


@bp.before_request
@allowed("admin.users")
def only_la_admins() -> None:
    """Every page here is for the LA's administrators."""


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html", title="Administration", la=current_la())


def _organisation_choices(la: LocalAuthority) -> list[tuple[str, str]]:
    settings = db.session.scalars(settings_query(current_actor())).all()
    return [("", "Choose the organisation"), (f"la:{la.id}", f"{la.name} (local authority)")] + [
        (f"setting:{s.id}", f"{s.name} ({SETTING_KIND_LABELS[s.kind]})") for s in settings
    ]


def _organisation(la: LocalAuthority, value: str | None) -> LocalAuthority | Setting:
    kind, _, raw_id = (value or "").partition(":")
    return la if kind == "la" else permissions.get_setting(db.session, current_actor(), int(raw_id))


# --- users -----------------------------------------------------------------------------------


class UserForm(Form):
    email = text_field("Email address", required="Enter an email address", max_length=254)
    name = text_field("Full name", required="Enter the person's name")
    role = select_field(
        "Role",
        [("", "Choose a role")] + [(r.value, label) for r, label in ROLE_LABELS.items()],
        required="Choose a role",
    )
    organisation = select_field(
        "Organisation",
        [],
        required="Choose the organisation",
        description="The local authority, or the setting the person works in",
    )
    submit = submit("Add user")


class ActiveForm(Form):
    submit = submit("Save")


@bp.route("/users")
def users_list() -> str:
    people = select(User).where(User.kind == "person").order_by(User.name)
    found = db.session.scalars(permissions.scope_users(current_actor(), people)).all()
    return render_template("admin/users.html", title="Users", users=found)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> str | Response:
    la = current_la()
    form = UserForm()
    form.organisation.choices = _organisation_choices(la)
    if form.validate_on_submit():
        organisation = _organisation(la, form.organisation.data)
        temporary = users.temporary_password()
        done, user = attempt(
            form,
            lambda: users.create_user(
                db.session,
                current_actor(),
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role(form.role.data),
                organisation=organisation,
                password=temporary,
                must_change_password=True,
            ),
        )
        if done:
            return render_template("admin/user_created.html", title="User added", user=user, temporary=temporary)
    return render_template("admin/user_new.html", title="Add a user", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_user(db.session, actor, user_id)
    form = ActiveForm()
    if form.validate_on_submit() and "reset-two-step" in request.form:
        done, _ = attempt(form, lambda: two_factor.reset(db.session, actor, found))
        if done:
            flash(f"Two-step sign-in is off for {found.name}: they can set it up again", "success")
            return redirect(url_for("admin.user", user_id=found.id))
    elif form.validate_on_submit():
        done, _ = attempt(form, lambda: users.set_active(db.session, actor, found, not found.active))
        if done:
            flash(f"{found.name} can {'now' if found.active else 'no longer'} sign in", "success")
            return redirect(url_for("admin.user", user_id=found.id))
    held = caseloads.held_by(db.session, found)
    return render_template("admin/user.html", title=found.name, user=found, form=form, held=held)


# --- API tokens ------------------------------------------------------------------------------


class TokenForm(Form):
    name = text_field(
        "Name",
        required="Enter a name that says which system uses this token",
        description="For example, the MIS export at Riverbank Academy",
    )
    role = select_field(
        "Role",
        [("", "Choose a role")] + [(r.value, label) for r, label in ROLE_LABELS.items()],
        required="Choose the role the token acts in",
        description="The token sees and does what a person in this role and organisation may",
    )
    organisation = select_field("Organisation", [], required="Choose the organisation the token acts for")
    days = IntegerField(
        "Days until it expires",
        widget=GovTextInput(),
        default=api_tokens.DEFAULT_DAYS,
        validators=[
            InputRequired("Enter how many days the token lasts"),
            NumberRange(1, api_tokens.MAX_DAYS, f"Enter a number of days from 1 to {api_tokens.MAX_DAYS}"),
        ],
    )
    submit = submit("Create token")


@bp.route("/api-tokens")
def api_tokens_list() -> str:
    found = api_tokens.tokens(db.session, current_actor())
    return render_template(
        "admin/api_tokens.html", title="API tokens", tokens=found, status=api_tokens.status, revoke_form=ActiveForm()
    )


@bp.route("/api-tokens/new", methods=["GET", "POST"])
def api_token_new() -> str:
    la = current_la()
    form = TokenForm()
    form.organisation.choices = _organisation_choices(la)
    if form.validate_on_submit():
        done, made = attempt(
            form,
            lambda: api_tokens.create_token(
                db.session,
                current_actor(),
                name=form.name.data or "",
                organisation=_organisation(la, form.organisation.data),
                role=Role(form.role.data),
                days=form.days.data,
            ),
        )
        if done:
            return render_template("admin/api_token_created.html", title="Token created", made=made)
    return render_template("admin/api_token_new.html", title="Create an API token", form=form)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
def api_token_revoke(token_id: int) -> Response:
    token = api_tokens.get_token(db.session, current_actor(), token_id)
    form = ActiveForm()
    if form.validate_on_submit() and token.revoked_at is None:
        api_tokens.revoke(db.session, current_actor(), token)
        db.session.commit()
        flash(f"The token {token.prefix}… for {token.client.name} no longer works", "success")
    return redirect(url_for("admin.api_tokens_list"))


# --- term dates and thresholds ---------------------------------------------------------------


class TermDateForm(Form):
    start_date = GovDateField("First school day")
    end_date = GovDateField("Last school day")
    submit = submit("Add the stretch")


@bp.route("/term-dates", methods=["GET", "POST"])
def term_dates_page() -> str | Response:
    la = current_la()
    form = TermDateForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: term_dates.add_stretch(db.session, current_actor(), la, form.start_date.data, form.end_date.data),
        )
        if done:
            flash("Term dates added", "success")
            return redirect(url_for("admin.term_dates_page"))
    stretches = db.session.scalars(select(TermDate).where(TermDate.la_id == la.id).order_by(TermDate.start_date)).all()
    by_year: dict[str, list[TermDate]] = {}
    for stretch in stretches:
        by_year.setdefault(AcademicYear.containing(stretch.start_date).label, []).append(stretch)
    return render_template(
        "admin/term_dates.html", title="Term dates", form=form, by_year=by_year, la=la, delete_form=ActiveForm()
    )


@bp.route("/term-dates/<int:stretch_id>/delete", methods=["POST"])
def term_date_delete(stretch_id: int) -> Response:
    form = ActiveForm()
    stretch = db.session.scalar(select(TermDate).where(TermDate.id == stretch_id, TermDate.la_id == current_user.la_id))
    if stretch is None:
        return redirect(url_for("admin.term_dates_page"))
    if form.validate_on_submit():
        term_dates.remove_stretch(db.session, current_actor(), stretch)
        db.session.commit()
        flash("Term dates removed", "success")
    return redirect(url_for("admin.term_dates_page"))


class ThresholdsForm(Form):
    """The LA's local thresholds; the limits of each are `term_dates.update_thresholds`'s."""

    review_interval_school_days = IntegerField(
        "Review placements at least every (school days)",
        validators=[InputRequired(message="Enter the review interval")],
        widget=GovTextInput(),
        description="Guidance: at least half-termly. Default 30 school days",
    )
    off_site_max_school_days = IntegerField(
        "Agreed maximum length of an off-site direction (school days)",
        validators=[Optional()],
        widget=GovTextInput(),
        description="Leave blank if your area has not agreed one",
    )
    unregistered_session_cap = IntegerField(
        "Most sessions a week at one unregistered provider",
        validators=[InputRequired(message="Enter the limit")],
        widget=GovTextInput(),
        description=(
            "A local threshold, not a legal limit: the DfE has proposed no more than 2 days or 4 sessions a week "
            "(its August 2025 response on unregistered alternative provision), which needs new law. Default 4"
        ),
    )
    part_time_timetable_max_school_days = IntegerField(
        "Longest a part-time timetable may run before it is raised (school days)",
        validators=[InputRequired(message="Enter the longest a part-time timetable may run")],
        widget=GovTextInput(),
        description="Guidance: time-limited, with a date for full-time return. Default 30 school days (six weeks)",
    )
    submit = submit("Save")


@bp.route("/thresholds", methods=["GET", "POST"])
def thresholds() -> str | Response:
    la = current_la()
    form = ThresholdsForm(obj=la)
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: term_dates.update_thresholds(
                db.session,
                current_actor(),
                la,
                review_interval_school_days=form.review_interval_school_days.data,
                off_site_max_school_days=form.off_site_max_school_days.data,
                unregistered_session_cap=form.unregistered_session_cap.data,
                part_time_timetable_max_school_days=form.part_time_timetable_max_school_days.data,
            ),
        )
        if done:
            flash("Local thresholds saved", "success")
            return redirect(url_for("admin.thresholds"))
    return render_template("admin/thresholds.html", title="Local thresholds", form=form, la=la)


class AbsenceFollowUpForm(Form):
    """The LA's same-day absence times and named officer; the limits are `absence.update_settings`'s."""

    check_at = text_field(
        "By when must a provider's morning register show each child?",
        "Enter the time",
        max_length=5,
        description="For example, 10:00. A child absent without a reason, or not marked, by then is raised",
    )
    check_early_at = text_field(
        "The earlier time for a looked-after child or a child at an unregistered provider",
        "Enter the earlier time",
        max_length=5,
        description="For example, 9:30",
    )
    escalate_at = text_field(
        "When does an absence nobody has reached the family about go to your named officer?",
        "Enter the time",
        max_length=5,
        description="For example, 13:30",
    )
    officer = select_field("Named officer", [], description="Nobody named: your administrators are told")
    submit = submit("Save")


@bp.route("/absence-follow-up", methods=["GET", "POST"])
def absence_follow_up() -> str | Response:
    la = current_la()
    form = AbsenceFollowUpForm()
    form.officer.choices = [("", "Nobody named")] + [
        (str(u.id), f"{u.name}, {ROLE_LABELS[u.role]}") for u in absence.officers(db.session, la)
    ]
    if request.method == "GET":
        form.check_at.data = f"{la.absence_check_at:%H:%M}"
        form.check_early_at.data = f"{la.absence_check_early_at:%H:%M}"
        form.escalate_at.data = f"{la.absence_escalate_at:%H:%M}"
        form.officer.data = str(la.absence_officer_id or "")
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: absence.update_settings(
                db.session,
                current_actor(),
                la,
                check_at=form.check_at.data or "",
                check_early_at=form.check_early_at.data or "",
                escalate_at=form.escalate_at.data or "",
                officer_id=record_id(form.officer.data) if form.officer.data else None,
            ),
        )
        if done:
            flash("Same-day absence follow-up saved", "success")
            return redirect(url_for("admin.absence_follow_up"))
    return render_template("admin/absence_follow_up.html", title="Same-day absence follow-up", form=form, la=la)


class PanelRulesForm(Form):
    rules = checkboxes(
        "Which moves need an approved panel decision before they start?",
        [],
        description="A placement on these routes cannot start without one, from a page, an import or the CLI",
    )
    submit = submit("Save")


@bp.route("/panel-rules", methods=["GET", "POST"])
def panel_rules_page() -> str | Response:
    la = current_la()
    form = PanelRulesForm(data={"rules": la.panel_routes} if request.method == "GET" else None)
    form.rules.choices = list(panel_rules.panel_rule_choices().items())
    if form.validate_on_submit():
        done, _ = attempt(
            form, lambda: panel_rules.set_panel_rules(db.session, current_actor(), la, form.rules.data or [])
        )
        if done:
            flash("Panel rules saved", "success")
            return redirect(url_for("admin.panel_rules_page"))
    return render_template("admin/panel_rules.html", title="Panel rules", form=form, la=la)


class AdoptionForm(Form):
    adopted_on = GovDateField(
        "The day your local authority began to use the register",
        required=False,
        description="For example, 1 9 2026. Leave it blank if every placement is to be checked as new",
    )
    submit = submit("Save")


@bp.route("/adoption", methods=["GET", "POST"])
def adoption_page() -> str | Response:
    la = current_la()
    form = AdoptionForm(data={"adopted_on": la.adopted_on} if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _ = attempt(
            form, lambda: adoption.set_adoption_date(db.session, current_actor(), la, form.adopted_on.data)
        )
        if done:
            flash("Adoption date saved", "success")
            return redirect(url_for("admin.adoption_page"))
    return render_template(
        "admin/adoption.html",
        title="Adoption date",
        form=form,
        la=la,
        gated_checks=adoption.GATED_CHECKS,
        old_records=adoption.old_records(db.session, current_actor(), la),
        adopts=adoption.adopts_at_import(db.session, la),
    )


# --- imports ---------------------------------------------------------------------------------


class ImportForm(Form):
    kind = radios(
        "What does the file hold?",
        [(k, k.replace("-", " ").capitalize()) for k in IMPORT_KINDS],
        required="Choose what the file holds",
    )
    file = FileField(
        "CSV file", widget=GovFileInput(), description="UTF-8 CSV with a header row; a GIAS extract as downloaded"
    )
    check = submit("Check the file only")
    submit = submit("Import")


def import_limit() -> str:
    """Files sent for import, per LA: each may name thousands of UPNs."""
    from flask import current_app

    return str(current_app.config["IMPORT_RATE_LIMIT"])


@bp.route("/imports", methods=["GET", "POST"])
@limiter.limit(import_limit, methods=["POST"], key_func=lambda: f"import:{current_user.la_id}")
def imports() -> str | Response:
    """The import page. A browser that asks for `application/x-ndjson` (the page's script) is
    sent the import's progress as it runs, a JSON object a line, then the result page; any other
    gets the result page when the import is over."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not upload.filename:
            form.file.errors = ["Choose a CSV file"]
        else:
            run = _ImportRun(form.kind.data, upload, bool(form.check.data), current_la().code)
            # The first pass reads the whole file without the database: end this request's
            # transaction first, as on SQLite it holds the write lock from its start.
            db.session.rollback()
            if request.accept_mimetypes.best == "application/x-ndjson":
                return Response(stream_with_context(run.events()), mimetype="application/x-ndjson")
            return drain(run.steps())
    return render_template(
        "admin/imports.html",
        title="Import a file",
        form=form,
        descriptions=IMPORT_DESCRIPTIONS,
        today=clock.today(),
        la=current_la(),
        adopts=adoption.adopts_at_import(db.session, current_la()),
    )


@bp.route("/imports/<kind>-template.csv")
def import_template(kind: str) -> Response:
    """A kind of file to fill in: the header row of every column it may have."""
    if kind not in IMPORT_KINDS:
        raise NotFound("Page not found")
    return Response(
        imports_rules.template(kind),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'},
    )


class _ImportRun:
    """One file sent for import from the page: its two passes as steps, then the result page."""

    def __init__(self, kind: str, upload: FileStorage, dry_run: bool, la_code: str):
        self.kind, self.filename, self.dry_run, self.la_code = kind, upload.filename, dry_run, la_code
        # The run owns the file from here: the request would close it when the view returns,
        # before a streamed run has read it.
        self.stream, upload.stream = upload.stream, io.BytesIO()
        self.stream.seek(0, 2)
        self.size = self.stream.tell()
        self.stream.seek(0)

    def steps(self) -> Generator[tuple[str, int], None, str]:
        """("reading" | "checking", bytes read so far) now and then; returns the result page."""
        try:
            # The first pass holds no transaction: nobody waits for it.
            yield from (("reading", n) for n in check_file_steps(self.kind, self.stream, self.la_code))
            self.join_session()
            la = current_la()
            steps = import_steps(
                db.session, current_actor(), self.kind, self.stream, la=la, checked=True, dry_run=self.dry_run
            )
            while True:
                try:
                    yield ("checking", next(steps))
                except StopIteration as done:
                    report = done.value
                    break
        except ImportRefused as refused:
            # The file's own writes were rolled back inside the import; what is left is the
            # audit of any child of another LA the file named, which is kept.
            title = "The file would not be imported" if self.dry_run else "The file was not imported"
            return self.recorded(title, refused.report, refused=True)
        finally:
            self.stream.close()
        return self.recorded("The file can be imported" if self.dry_run else "File imported", report, refused=False)

    def recorded(self, title: str, report: ImportReport, refused: bool) -> str:
        """The result page, made first; then the views of the children it shows audited, and all
        of it committed at once (so no error can follow the commit)."""
        page = self.page(title, report, refused)
        record_children_shown()
        db.session.commit()
        return page

    @staticmethod
    def join_session() -> None:
        """Streamed, the run goes on after the view has returned and its session was closed:
        the signed-in person joins the session the rest of the request uses."""
        user = current_user._get_current_object()
        if user not in db.session:
            db.session.add(user)

    def page(self, title: str, report: ImportReport, refused: bool) -> str:
        self.join_session()
        return render_template(
            "admin/import_result.html",
            title=title,
            report=report,
            filename=self.filename,
            refused=refused,
            la=current_la(),
            refused_csv=imports_rules.refused_lines(report) if refused else None,
        )

    def events(self) -> Iterator[str]:
        steps = self.steps()
        try:
            while True:
                try:
                    phase, done = next(steps)
                except StopIteration as finished:
                    yield json.dumps({"page": finished.value}) + "\n"
                    return
                yield json.dumps({"phase": phase, "done": done, "size": self.size}) + "\n"
        except Exception:  # the response has begun: say so in it, and write nothing
            db.session.rollback()
            current_app.logger.exception("An import from the page failed")
            yield (
                json.dumps(
                    {
                        "error": "The file could not be imported because of a problem on our side. "
                        "Nothing was changed: try again later."
                    }
                )
                + "\n"
            )


# --- transfers of a child's record between LAs -------------------------------------------------


class TransferRequestForm(Form):
    upn = text_field(
        "UPN", required="Enter the child's UPN", max_length=20, description="The child's 13 characters, as on their CTF"
    )
    date_of_birth = GovDateField("Date of birth", description="The child's, as your records give it")
    reason = text_area(
        "Why should the record come to you?",
        required="Say why the record should come to you",
        max_length=2000,
        description="For example: the family moved to our area on 3 November and the child starts at a school here",
    )
    submit = submit("Ask for the record")


class TransferDecisionForm(Form):
    note = text_area("Note to the other local authority", max_length=2000, description="Needed when you decline")
    release = submit("Release the record")
    decline = submit("Decline")


def transfer_limit() -> str:
    """Requests name children by UPN: throttled, so that they cannot be used to guess."""
    from flask import current_app

    return str(current_app.config["TRANSFER_RATE_LIMIT"])


@bp.route("/transfers", methods=["GET", "POST"])
@limiter.limit(transfer_limit, methods=["POST"], key_func=lambda: f"transfer:{current_user.la_id}")
def transfers_page() -> str | Response:
    la = current_la()
    actor = current_actor()
    form = TransferRequestForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: transfers.request_transfer(
                db.session,
                actor,
                la,
                upn=form.upn.data or "",
                date_of_birth=form.date_of_birth.data,
                reason=form.reason.data or "",
            ),
        )
        if done:
            flash(
                "Your request is recorded. If another local authority using this register holds this child's "
                "record, its administrators are asked to release it; the outcome shows here.",
                "success",
            )
            return redirect(url_for("admin.transfers_page"))
    return render_template(
        "admin/transfers.html",
        title="Transfers of a child's record",
        form=form,
        la=la,
        incoming=transfers.incoming(db.session, actor, la),
        outgoing=transfers.outgoing(db.session, actor, la),
        labels=transfers.STATUS_LABELS,
        holder_labels=transfers.HOLDER_LABELS,
    )


@bp.route("/transfers/<int:transfer_id>", methods=["GET", "POST"])
def transfer_page(transfer_id: int) -> str | Response:
    actor = current_actor()
    la = current_la()
    found = transfers.get_transfer(db.session, actor, transfer_id)
    holding = found.from_la_id == la.id
    # The child is shown to the LA that holds them, while it still does and the request waits.
    child = (
        found.pupil
        if holding and found.status == "requested" and found.pupil is not None and found.pupil.home_la_id == la.id
        else None
    )
    form = TransferDecisionForm()
    withdraw_form = ActiveForm(prefix="withdraw")
    if request.method == "POST":
        if holding and (form.release.data or form.decline.data) and form.validate_on_submit():
            release = bool(form.release.data)
            done, _ = attempt(
                form,
                lambda: (
                    transfers.release(db.session, actor, found, note=form.note.data or "")
                    if release
                    else transfers.decline(db.session, actor, found, note=form.note.data or "")
                ),
            )
            if done:
                flash("The record was released" if release else "The request was declined", "success")
                return redirect(url_for("admin.transfers_page"))
        elif not holding and "withdraw-submit" in request.form and withdraw_form.validate_on_submit():
            done, _ = attempt(withdraw_form, lambda: transfers.withdraw(db.session, actor, found))
            if done:
                flash("The request was withdrawn", "success")
                return redirect(url_for("admin.transfers_page"))
    if child is not None:
        audit.record(db.session, actor, "view", "transfer", found.id, pupil_id=child.id)
        db.session.commit()
    else:
        shows_only(())
    return render_template(
        "admin/transfer.html",
        title="A request for a child's record",
        transfer=found,
        holding=holding,
        child=child,
        form=form,
        withdraw_form=withdraw_form,
        labels=transfers.HOLDER_LABELS if holding else transfers.STATUS_LABELS,
    )

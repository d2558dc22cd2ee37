"""Commissioning pages. Each form runs one rule of `commissioning.frameworks` (which owns its
permission, checks, audit and transaction through `attempt`); these views only read and show."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import attempt, error_list
from ap_register.budgets import rules as budget_rules
from ap_register.casework import letter_files
from ap_register.casework.documents import DOCX
from ap_register.commissioning import agreements, directory, frameworks, payments, progress
from ap_register.commissioning.payments import Claim
from ap_register.commissioning.web import bp
from ap_register.commissioning.web.forms import (
    AcceptForm,
    ApplyForm,
    ApproveForm,
    CallOffForm,
    ChangeForm,
    DecideForm,
    DirectoryForm,
    EvidenceForm,
    FrameworkForm,
    InvoiceForm,
    InvoiceUploadForm,
    LocationForm,
    LotForm,
    MonthForm,
    ReportForm,
)
from ap_register.domain import exports
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound
from ap_register.domain.grid import on_the_grid
from ap_register.domain.typed import iso_day, record_id, whole_number
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import AP_KINDS, HOME_SCHOOL_KINDS, SETTING_KIND_LABELS, TIER_LABELS
from ap_register.extensions import db
from ap_register.models import (
    ComplianceCheck,
    Framework,
    FrameworkLot,
    LocalAuthority,
    LotApproval,
    PlacementAgreement,
    Pupil,
    Setting,
)
from ap_register.outcomes import rules as outcome_rules
from ap_register.placements import settings as setting_rules
from ap_register.web import current_actor, render_recorded, shows_only, table_download


def _providers() -> list[Setting]:
    """The AP providers of the signed-in person's area."""
    actor = current_actor()
    return [
        s
        for s in db.session.scalars(permissions.scope_settings(actor, select(Setting).order_by(Setting.name)))
        if s.kind in AP_KINDS
    ]


def _provider(setting_id: int) -> Setting:
    """A provider whose evidence the signed-in person may read (not found otherwise)."""
    actor = current_actor()
    provider = permissions.get_setting(db.session, actor, setting_id)
    if provider.kind not in AP_KINDS or not permissions.may_see_evidence(actor, provider):
        raise NotFound("Page not found")
    return provider


def _own_la() -> LocalAuthority:
    la = db.session.get(LocalAuthority, current_user.organisation_la_id)
    assert la is not None
    return la


@bp.route("/")
@allowed("framework.view")
def index() -> str:
    actor = current_actor()
    today = clock.today()
    found = db.session.scalars(
        permissions.scope_frameworks(
            actor,
            select(Framework).order_by(Framework.ends_on.desc(), Framework.name).options(selectinload(Framework.lots)),
        )
    ).all()
    providers = []
    if permissions.can(db.session, actor, "framework.manage"):
        grace = min((f.grace_days for f in found if frameworks.in_force(f, today)), default=0)
        evidence = frameworks.evidence_by_provider(db.session, current_user.la_id)
        providers = [(p, frameworks.standing(evidence.get(p.id, []), today, grace)) for p in _providers()]
    own = None
    if current_user.setting is not None and current_user.setting.kind in AP_KINDS:
        own = current_user.setting
    plan = None
    if permissions.can(db.session, actor, "budgets.view"):
        la = db.session.get(LocalAuthority, current_user.la_id)
        plan = budget_rules.plan_for(db.session, la, today) if la is not None else None
    return render_template(
        "commissioning/index.html",
        title="Commissioning",
        plan=plan,
        frameworks=found,
        providers=providers,
        own=own,
        today=today,
        kinds=frameworks.KINDS,
        states=frameworks.STATES,
    )


@bp.route("/frameworks/new", methods=["GET", "POST"])
@allowed("framework.manage")
def framework_new() -> str | Response:
    actor = current_actor()
    form = FrameworkForm(data={"grace_days": "10"} if request.method == "GET" else None)
    if form.validate_on_submit():
        done, created = attempt(
            form,
            lambda: frameworks.create_framework(
                db.session,
                actor,
                _own_la(),
                name=form.name.data or "",
                kind=form.kind.data or "",
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                grace_days=whole_number(form.grace_days.data),
            ),
        )
        if done and created is not None:
            flash("Framework created: add its lots", "success")
            return redirect(url_for("commissioning.framework", framework_id=created.id))
    return render_template("commissioning/framework_new.html", title="Create a framework", form=form)


@bp.route("/frameworks/<int:framework_id>")
@allowed("framework.view")
def framework(framework_id: int) -> str:
    actor = current_actor()
    found = permissions.get_framework(db.session, actor, framework_id)
    today = clock.today()
    approvals = {
        lot.id: db.session.scalars(
            permissions.scope_approvals(
                actor, select(LotApproval).where(LotApproval.lot_id == lot.id).order_by(LotApproval.id)
            )
        ).all()
        for lot in found.lots
    }
    evidence = frameworks.evidence_by_provider(db.session, found.la_id)
    refusals = {
        a.id: frameworks.call_off_refusal(db.session, a, today, evidence)
        for listed in approvals.values()
        for a in listed
        if a.status == "approved"
    }
    return render_template(
        "commissioning/framework.html",
        title=found.name,
        framework=found,
        approvals=approvals,
        refusals=refusals,
        may_apply=frameworks.open_to_applications(found, today),
        today=today,
        kinds=frameworks.KINDS,
        services=frameworks.SERVICES,
        units=frameworks.RATE_UNITS,
    )


@bp.route("/frameworks/<int:framework_id>/lots/new", methods=["GET", "POST"])
@allowed("framework.manage")
def lot_new(framework_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_framework(db.session, actor, framework_id)
    form = LotForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: frameworks.add_lot(
                db.session,
                actor,
                found,
                name=form.name.data or "",
                service=form.service.data or "",
                description=form.description.data,
            ),
        )
        if done:
            flash("Lot added", "success")
            return redirect(url_for("commissioning.framework", framework_id=found.id))
    return render_template("commissioning/lot_new.html", title="Add a lot", form=form, framework=found)


@bp.route("/lots/<int:lot_id>/apply", methods=["GET", "POST"])
@allowed("framework.apply")
def apply(lot_id: int) -> str | Response:
    actor = current_actor()
    lot = permissions.get_lot(db.session, actor, lot_id)
    form = ApplyForm()
    own = current_user.setting if current_user.la_id is None else None
    choices = [own] if own is not None else _providers()
    form.provider.choices = [("", "Choose the provider")] + [
        (str(p.id), f"{p.name} ({SETTING_KIND_LABELS[p.kind]})") for p in choices if p is not None
    ]
    if own is not None and request.method == "GET":
        form.provider.data = str(own.id)
    if form.validate_on_submit():
        provider = permissions.get_setting(db.session, actor, int(form.provider.data))
        done, _ = attempt(
            form,
            lambda: frameworks.apply(
                db.session,
                actor,
                lot,
                provider,
                rate=form.rate.data,
                rate_unit=form.rate_unit.data,
                today=clock.today(),
            ),
        )
        if done:
            flash(f"{provider.name} applied to lot {lot.number}", "success")
            return redirect(url_for("commissioning.framework", framework_id=lot.framework_id))
    return render_template("commissioning/apply.html", title="Apply to a lot", form=form, lot=lot)


@bp.route("/approvals/<int:approval_id>", methods=["GET", "POST"])
@allowed("framework.manage")
def decide(approval_id: int) -> str | Response:
    actor = current_actor()
    approval = permissions.get_approval(db.session, actor, approval_id)
    framework = approval.lot.framework
    today = clock.today()
    form = DecideForm()
    form.outcome.choices = (
        [("approved", "Approve onto the lot"), ("declined", "Decline")]
        if approval.status == "applied"
        else [("removed", "Remove from the lot")]
        if approval.status == "approved"
        else []
    )
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: frameworks.decide(
                db.session,
                actor,
                approval,
                outcome=form.outcome.data or "",
                rate=form.rate.data,
                rate_unit=form.rate_unit.data or None,
                reason=form.reason.data,
                today=today,
            ),
        )
        if done:
            flash(f"{approval.provider.name}: {approval.status} on lot {approval.lot.number}", "success")
            return redirect(url_for("commissioning.framework", framework_id=framework.id))
    standings = frameworks.provider_standing(
        db.session, framework.la_id, approval.provider_id, today, framework.grace_days
    )
    return render_template(
        "commissioning/decide.html",
        title=f"{approval.provider.name} on lot {approval.lot.number}",
        form=form,
        approval=approval,
        standings=standings,
        units=frameworks.RATE_UNITS,
        states=frameworks.STATES,
    )


@bp.route("/providers/<int:setting_id>")
@allowed("evidence.view")
def provider(setting_id: int) -> str:
    actor = current_actor()
    found = _provider(setting_id)
    today = clock.today()
    checks = db.session.scalars(
        permissions.scope_evidence(
            actor,
            select(ComplianceCheck)
            .where(ComplianceCheck.provider_id == found.id)
            .order_by(ComplianceCheck.evidence_date.desc(), ComplianceCheck.id.desc()),
        )
    ).all()
    approvals = db.session.scalars(
        permissions.scope_approvals(
            actor,
            select(LotApproval)
            .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
            .where(LotApproval.provider_id == found.id)
            .order_by(FrameworkLot.framework_id, FrameworkLot.number),
        )
    ).all()
    in_force = [a.lot.framework for a in approvals if frameworks.in_force(a.lot.framework, today)]
    grace = min((f.grace_days for f in in_force), default=0)
    return render_template(
        "commissioning/provider.html",
        title=f"Evidence and frameworks: {found.name}",
        provider=found,
        standings=frameworks.standing(frameworks.as_evidence(checks), today, grace),
        grace=grace,
        checks=checks,
        approvals=approvals,
        labels=frameworks.CHECKS,
        units=frameworks.RATE_UNITS,
        states=frameworks.STATES,
        today=today,
    )


@bp.route("/providers/<int:setting_id>/evidence", methods=["GET", "POST"])
@allowed("framework.manage")
def evidence_new(setting_id: int) -> str | Response:
    actor = current_actor()
    found = _provider(setting_id)
    form = EvidenceForm(data={"kind": request.args.get("kind")} if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: frameworks.record_evidence(
                db.session,
                actor,
                _own_la(),
                found,
                kind=form.kind.data or "",
                evidence_date=form.evidence_date.data,
                expires_on=form.expires_on.data,
                reference=form.reference.data,
                note=form.note.data,
                today=clock.today(),
            ),
        )
        if done:
            flash("Evidence recorded", "success")
            return redirect(url_for("commissioning.provider", setting_id=found.id))
    return render_template("commissioning/evidence_new.html", title="Record evidence", form=form, provider=found)


@bp.route("/directory")
@allowed("directory.view")
def directory_search() -> str:
    """The directory of approved providers (a GET form: searching changes nothing)."""
    actor = current_actor()
    today = clock.today()
    form = DirectoryForm(request.args)
    schools = [s for s in db.session.scalars(permissions.scope_settings(actor, select(Setting).order_by(Setting.name)))]
    form.school.choices = [("", "No school")] + [
        (str(s.id), s.name) for s in schools if s.kind in HOME_SCHOOL_KINDS and s.kind not in AP_KINDS
    ]
    if not request.args and current_user.setting is not None and current_user.setting.kind not in AP_KINDS:
        form.school.data = str(current_user.setting_id)  # a school lead's own school, to begin with
    form.validate()
    school_id = record_id(form.school.data) if not form.school.errors else None
    school = next((s for s in schools if s.id == school_id), None)
    asked = directory.Search(
        service=form.service.data or None if not form.service.errors else None,
        phase=form.phase.data or None if not form.phase.errors else None,
        school=school,
        within_km=whole_number(form.within.data) if not form.within.errors else None,
        with_places="free" in (form.places.data or []) if not form.places.errors else False,
    )
    entries, unmeasured = directory.search(db.session, actor, _own_la(), asked, today)
    return render_template(
        "commissioning/directory.html",
        title="Find a provider",
        form=form,
        entries=entries,
        unmeasured=unmeasured,
        asked=asked,
        school_on_grid=school is not None and on_the_grid(school.easting, school.northing),
        services=frameworks.SERVICES,
        units=frameworks.RATE_UNITS,
        labels=outcome_rules.LABELS,
        outcomes=outcome_rules.OUTCOMES,
        tiers=TIER_LABELS,
    )


@bp.route("/providers/<int:setting_id>/location", methods=["GET", "POST"])
@allowed("setting.edit_oversight")
def location(setting_id: int) -> str | Response:
    """Where a provider, or one of its sites, is on the British National Grid (for distances)."""
    actor = current_actor()
    found = _provider(setting_id)
    form = LocationForm()
    form.site.choices = [
        ("main", f"{found.name}'s own address" + (f", {found.postcode}" if found.postcode else ""))
    ] + [(str(site.id), site.address) for site in found.sites]
    if form.validate_on_submit():
        site_id = None if form.site.data == "main" else record_id(form.site.data)
        done, _ = attempt(
            form,
            lambda: setting_rules.locate(
                db.session,
                actor,
                found,
                site_id=site_id,
                easting=whole_number(form.easting.data),
                northing=whole_number(form.northing.data),
            ),
        )
        if done:
            flash("Where it is was saved", "success")
            return redirect(url_for("commissioning.provider", setting_id=found.id))
    return render_template("commissioning/location.html", title="Where the provider is", form=form, provider=found)


# --- call-offs and individual placement agreements ------------------------------------------------


def _approval_label(approval: LotApproval) -> str:
    lot = approval.lot
    unit = frameworks.RATE_UNITS.get(approval.rate_unit or "", "")
    return f"{lot.framework.name}, lot {lot.number}: {lot.name} (£{approval.rate or 0:,.2f} {unit})"


@bp.route("/placements/<int:placement_id>/call-off", methods=["GET", "POST"])
@allowed("agreement.call_off")
def call_off(placement_id: int) -> str | Response:
    actor = current_actor()
    placement = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "agreement.call_off", placement)
    choices = agreements.approvals_for(db.session, placement)
    form = CallOffForm()
    form.approval.choices = [(str(a.id), _approval_label(a)) for a in choices]
    if request.method == "GET":
        first = choices[0] if choices else None
        form.fill(
            agreements.Terms(
                objectives=[],
                sessions=placement.sessions,
                hours_per_week=None,
                rate=str(first.rate) if first is not None else None,
                rate_unit=first.rate_unit if first is not None else None,
                pays_on="agreed",
                payer=None,
                starts_on=max(placement.start_date, clock.today()),
                review_on=placement.next_review_date,
                safeguarding=None,
                contacts=None,
            )
        )
        if len(choices) == 1:
            form.approval.data = str(choices[0].id)
    if form.validate_on_submit():
        approval = next((a for a in choices if str(a.id) == form.approval.data), None)
        if approval is None:
            raise NotFound("Page not found")
        done, made = attempt(
            form,
            lambda: agreements.call_off(db.session, actor, placement, approval, form.terms(), today=clock.today()),
        )
        if done and made is not None:
            flash("Called off: each party now accepts the agreement", "success")
            return redirect(url_for("commissioning.agreement", agreement_id=made.id))
    return render_template(
        "commissioning/call_off.html", title="Call off under the framework", form=form, placement=placement
    )


def _agreement_page(
    found: PlacementAgreement, accept_form: AcceptForm | None = None, status: int = 200
) -> tuple[str, int]:
    actor = current_actor()
    parties = agreements.parties_for(db.session, actor, found)
    form = accept_form or AcceptForm(data={"signed_on": clock.today()})
    form.party.choices = [(p, agreements.PARTIES[p]) for p in parties]
    form.version.data = str(found.current.number)
    half_terms = progress.shown_periods(db.session, found, clock.today())
    return (
        render_template(
            "commissioning/agreement.html",
            title=f"Individual placement agreement, version {found.current.number}",
            agreement=found,
            placement=found.placement,
            version=found.current,
            content=agreements.content(found, found.current),
            agreed=agreements.agreed(found.current),
            waiting=[agreements.PARTIES[p].lower() for p in agreements.waiting_for(found.current)],
            form=form if parties else None,
            may_change=agreements.may_change(db.session, actor, found)
            and agreements.change_refusal(found, clock.today()) is None,
            parties=agreements.PARTIES,
            how=agreements.HOW,
            half_terms=half_terms,
            no_half_terms="" if half_terms else progress.no_half_terms(db.session, found, clock.today()),
            may_report=progress.may_report(db.session, actor, found),
            report_states=progress.STATES,
            today=clock.today(),
        ),
        status,
    )


@bp.route("/agreements/<int:agreement_id>")
@allowed("agreement.view")
def agreement(agreement_id: int) -> tuple[str, int]:
    found = permissions.get_agreement(db.session, current_actor(), agreement_id)
    return _agreement_page(found)


@bp.route("/agreements/<int:agreement_id>/accept", methods=["POST"])
@allowed("agreement.view")
def accept(agreement_id: int) -> tuple[str, int] | Response:
    actor = current_actor()
    found = permissions.get_agreement(db.session, actor, agreement_id)
    form = AcceptForm()
    form.party.choices = [(p, label) for p, label in agreements.PARTIES.items()]
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: agreements.accept(
                db.session,
                actor,
                found,
                version_number=whole_number(form.version.data),
                party=form.party.data or "",
                name=form.name.data,
                how=form.how.data or "",
                signed_on=form.signed_on.data,
                today=clock.today(),
            ),
        )
        if done:
            flash(f"{agreements.PARTIES[form.party.data or 'school']}'s acceptance recorded", "success")
            return redirect(url_for("commissioning.agreement", agreement_id=found.id))
    return _agreement_page(found, form, 400)


@bp.route("/agreements/<int:agreement_id>/change", methods=["GET", "POST"])
@allowed("agreement.view")
def change(agreement_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_agreement(db.session, actor, agreement_id)
    if not agreements.may_change(db.session, actor, found):
        raise Forbidden("You do not have permission to do this")
    form = ChangeForm()
    if request.method == "GET":
        form.fill(agreements.terms_of(found.current))
        form.version.data = str(found.current.number)
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: agreements.change(
                db.session,
                actor,
                found,
                form.terms(),
                reason=form.reason.data,
                version_number=whole_number(form.version.data),
                today=clock.today(),
            ),
        )
        if done:
            flash(f"Saved as version {found.current.number}: each party accepts it again", "success")
            return redirect(url_for("commissioning.agreement", agreement_id=found.id))
    return render_template(
        "commissioning/change.html", title="Change the agreement", form=form, agreement=found, placement=found.placement
    )


@bp.route("/agreements/<int:agreement_id>/versions/<int:number>.<suffix>")
@allowed("agreement.view")
def agreement_download(agreement_id: int, number: int, suffix: str) -> Response | tuple[str, int]:
    if suffix not in ("pdf", "docx"):
        raise NotFound("Page not found")
    actor = current_actor()
    found = permissions.get_agreement(db.session, actor, agreement_id)
    version = next((v for v in found.versions if v.number == number), None)
    if version is None:
        raise NotFound("Page not found")
    content = agreements.content(found, version)
    try:
        data = (
            letter_files.pdf(content, current_app.config["LETTER_FONT_DIR"])
            if suffix == "pdf"
            else letter_files.docx(content)
        )
    except letter_files.FontMissing as error:
        current_app.logger.error("%s", error)
        db.session.rollback()
        page, _ = _agreement_page(found)
        return page, 422
    audit.record(
        db.session,
        actor,
        "download",
        "placement_agreement",
        found.id,
        pupil_id=found.placement.pupil_id,
        detail={"version": number, "format": suffix},
    )
    db.session.commit()
    mimetype = "application/pdf" if suffix == "pdf" else DOCX
    name = f"placement-agreement-{found.id}-version-{number}.{suffix}"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


# --- half-termly progress reports -----------------------------------------------------------


@bp.route("/agreements/<int:agreement_id>/half-terms/<int:number>/report", methods=["GET", "POST"])
@allowed("progress.report")
def report_new(agreement_id: int, number: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_agreement(db.session, actor, agreement_id)
    if not progress.may_report(db.session, actor, found):
        raise Forbidden("You do not have permission to do this")
    half_term = progress.period(db.session, found, number)
    if half_term.report is not None:
        return redirect(url_for("commissioning.report", report_id=half_term.report.id))
    today = clock.today()
    version = progress.reported_against(found, half_term, today)
    form = ReportForm()
    form.keep_objectives(version.objectives)
    if request.method == "GET":
        form.half_term.data, form.version.data = half_term.start.isoformat(), str(version.number)
    if form.validate_on_submit():
        done, made = attempt(
            form,
            lambda: progress.submit(
                db.session,
                actor,
                found,
                number,
                form.answers(),
                pupil_voice=form.pupil_voice.data,
                next_steps=form.next_steps.data,
                today=today,
                half_term=iso_day(form.half_term.data),
                version_number=whole_number(form.version.data),
            ),
        )
        if done and made is not None:
            flash("Report submitted: the school and the local authority can read it now", "success")
            return redirect(url_for("commissioning.report", report_id=made.id))
    counted_to = min(half_term.last, today)
    return render_template(
        "commissioning/report_new.html",
        title="Write the progress report",
        form=form,
        agreement=found,
        placement=found.placement,
        half_term=half_term,
        is_open=half_term.writable(today),
        counted_to=counted_to,
        attendance=progress.attendance(db.session, found, half_term.first, counted_to)
        if counted_to >= half_term.first
        else None,
        objectives=version.objectives,
        evidence_max=progress.EVIDENCE_MAX,
        text_max=progress.TEXT_MAX,
        opens_days=progress.OPENS_DAYS,
    )


@bp.route("/reports/<int:report_id>")
@allowed("progress.view")
def report(report_id: int) -> str:
    actor = current_actor()
    found = progress.get_report(db.session, actor, report_id)
    placement = found.agreement.placement
    audit.record(db.session, actor, "view", "progress_report", found.id, pupil_id=placement.pupil_id)
    return render_recorded(
        "commissioning/report.html",
        title=f"Progress report, {found.period_start:%-d %B %Y} to {found.period_end:%-d %B %Y}",
        report=found,
        placement=placement,
        attendance=progress.kept_attendance(found),
        counted_from=progress.counted_from(found),
        rated=progress.rated(found),
    )


@bp.route("/reports")
@allowed("agreement.view")
def reports() -> str:
    actor = current_actor()
    today = clock.today()
    waiting = progress.to_write(db.session, actor, today)
    shows_only(w.agreement.placement.pupil_id for w in waiting)
    return render_template(
        "commissioning/reports.html",
        title="Progress reports",
        waiting=waiting,
        today=today,
        states=progress.STATES,
        writes=permissions.role_allows(current_user, "progress.report"),
        due_school_days=progress.DUE_SCHOOL_DAYS,
    )


# --- paying for what was delivered --------------------------------------------------------------


def _month(text: str) -> date:
    month = payments.parse_month(text)
    if month is None:
        raise NotFound("Page not found")
    return month


def _statement_page(
    provider: Setting,
    month: date,
    *,
    approve_form: ApproveForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor = current_actor()
    today = clock.today()
    found = payments.statement(db.session, provider, month, today)
    ids = {r.pupil_id for r in found.rows if r.pupil_id is not None}
    pupils = {
        p.id: p for p in db.session.scalars(permissions.scope_pupils(actor, select(Pupil).where(Pupil.id.in_(ids))))
    }
    if approve_form is None:
        approve_form = ApproveForm()
    if found.invoice is not None:
        approve_form.invoice.data = str(found.invoice.id)
        approve_form.total.data = str(found.approved_total)
    return (
        render_template(
            "commissioning/statement.html",
            title=f"Statement for {found.label}: {provider.name}",
            statement=found,
            pupils=pupils,
            provider=provider,
            month_key=payments.month_key(month),
            states=payments.STATES,
            payers=agreements.PAYERS,
            la_payers=payments.LA_PAYERS,
            may_record=payments.may_record_invoice(actor, provider) and found.approved is None,
            may_approve=payments.may_approve(actor, provider) and found.state == "to_approve" and not found.gap,
            form=approve_form,
            pay_within=payments.PAY_WITHIN_DAYS,
        ),
        status,
    )


@bp.route("/payments")
@allowed("payments.view")
def payment_months() -> str:
    actor = current_actor()
    today = clock.today()
    months = payments.recent_months(today, 13)
    form = MonthForm(request.args)
    form.month.choices = [(payments.month_key(m), f"{m:%B %Y}") for m in months]
    month = payments.parse_month(form.month.data) or payments.last_month(today)
    if month not in months:
        month = payments.last_month(today)
    form.month.data = payments.month_key(month)
    summaries = payments.month_summaries(db.session, actor, month, today)
    shows_only([])  # the totals are worked out from each child's sessions; no child is shown
    return render_template(
        "commissioning/payments.html",
        title="Paying for what was delivered",
        form=form,
        month=month,
        summaries=summaries,
        states=payments.STATES,
        month_key=payments.month_key(month),
        pay_within=payments.PAY_WITHIN_DAYS,
    )


@bp.route("/payments/<int:provider_id>/<month>")
@allowed("payments.view")
def statement(provider_id: int, month: str) -> tuple[str, int]:
    provider = payments.get_provider(db.session, current_actor(), provider_id)
    return _statement_page(provider, _month(month))


def _invoice_page(
    provider: Setting, month: date, form: Any, upload: InvoiceUploadForm, status: int = 200
) -> tuple[str, int]:
    found = payments.statement(db.session, provider, month, clock.today())
    return (
        render_template(
            "commissioning/invoice.html",
            title="Record the invoice",
            form=form,
            upload=upload,
            provider=provider,
            statement=found,
            month_key=payments.month_key(month),
            columns=payments.INVOICE_COLUMNS,
            max_kb=payments.INVOICE_MAX_BYTES // 1024,
            example_upn=make_upn("855202600001"),
            rows=whole_number(form.rows.data) or 0,
            errors=error_list(upload) if upload.errors else [],
        ),
        status,
    )


def _invoice_target(provider_id: int, month: str) -> tuple[Actor, Setting, date]:
    """The signed-in person, the provider and the month of an invoice they may record."""
    actor = current_actor()
    provider = payments.get_provider(db.session, actor, provider_id)
    first = _month(month)
    if not payments.may_record_invoice(actor, provider):
        raise Forbidden("You do not have permission to do this")
    return actor, provider, first


def _record_invoice(
    form: InvoiceForm | InvoiceUploadForm,
    actor: Actor,
    provider: Setting,
    month: str,
    claims: Callable[[], list[Claim]],
    how: str,
) -> Response | None:
    """Record the invoice a form sent (its lines from `claims`); where to go next, or None to show
    the form again with its problems."""
    done, _ = attempt(
        form,
        lambda: payments.record_invoice(
            db.session,
            actor,
            provider,
            _month(month),
            reference=form.reference.data,
            received_on=form.received_on.data,
            claims=claims(),
            how=how,
            today=clock.today(),
        ),
    )
    if not done:
        return None
    flash("Invoice recorded: check each difference, then approve the statement", "success")
    return redirect(url_for("commissioning.statement", provider_id=provider.id, month=month))


@bp.route("/payments/<int:provider_id>/<month>/invoice", methods=["GET", "POST"])
@allowed("payments.invoice")
def invoice_new(provider_id: int, month: str) -> tuple[str, int] | Response:
    actor, provider, first = _invoice_target(provider_id, month)
    form = InvoiceForm()
    if request.method == "POST":
        form.keep_rows(whole_number(request.form.get("rows")))
    else:
        found = payments.statement(db.session, provider, first, clock.today())
        form.keep_rows(len(found.rows) + 3)
        form.received_on.data = clock.today()
        for n, row in enumerate((r for r in found.rows if r.pupil_id is not None), start=1):
            getattr(form, f"upn_{n}").data = row.upn
    if form.validate_on_submit():
        done = _record_invoice(form, actor, provider, month, form.claims, "entered")
        if done is not None:
            return done
    return _invoice_page(provider, first, form, InvoiceUploadForm(formdata=None, prefix="upload"))


@bp.route("/payments/<int:provider_id>/<month>/invoice/upload", methods=["POST"])
@allowed("payments.invoice")
def invoice_upload(provider_id: int, month: str) -> tuple[str, int] | Response:
    actor, provider, first = _invoice_target(provider_id, month)
    upload = InvoiceUploadForm(prefix="upload")

    def claims() -> list[Claim]:
        if not upload.file.data:
            raise DomainError("The invoice was not recorded", [FieldError("file", "Choose the invoice's CSV file")])
        return payments.read_invoice_file(upload.file.data.stream)

    if upload.validate_on_submit():
        done = _record_invoice(upload, actor, provider, month, claims, "imported")
        if done is not None:
            return done
    typed = InvoiceForm(formdata=None)
    typed.keep_rows(1)
    return _invoice_page(provider, first, typed, upload)


@bp.route("/payments/<int:provider_id>/<month>/approve", methods=["POST"])
@allowed("payments.approve")
def statement_approve(provider_id: int, month: str) -> tuple[str, int] | Response:
    actor = current_actor()
    provider = payments.get_provider(db.session, actor, provider_id)
    first = _month(month)
    form = ApproveForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: payments.approve(
                db.session,
                actor,
                provider,
                first,
                invoice_id=record_id(form.invoice.data),
                shown_total=payments.amount_shown(form.total.data),
                today=clock.today(),
            ),
        )
        if done:
            flash(f"Statement approved: the budget counts it as spent in {first:%B %Y}", "success")
            return redirect(url_for("commissioning.statement", provider_id=provider.id, month=month))
    return _statement_page(provider, first, approve_form=form)


@bp.route("/payments/<int:provider_id>/<month>/statement.<fmt>")
@allowed("payments.view")
def statement_download(provider_id: int, month: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound("Page not found")
    actor = current_actor()
    provider = payments.get_provider(db.session, actor, provider_id)
    found = payments.statement(db.session, provider, _month(month), clock.today())
    if found.approved is None:
        raise NotFound("Page not found")
    rows = payments.finance_rows(found)
    exports.record_export(db.session, actor, "payment_statement", fmt, len(rows), {"statement_id": found.approved.id})
    db.session.commit()
    return table_download(fmt, payments.FINANCE_COLUMNS, rows, f"statement-{provider.ref}-{month}.{fmt}")

"""Referrals, panels, meetings and decisions."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import attempt, setting_choices
from ap_register.budgets import outreach as outreach_rules
from ap_register.casework import documents
from ap_register.commissioning import progress
from ap_register.domain import week_pattern
from ap_register.domain.errors import Forbidden, NotFound
from ap_register.domain.typed import record_id
from ap_register.domain.vocab import Registration, Route
from ap_register.extensions import db
from ap_register.models import Decision, Meeting, OutreachEngagement, Panel, PanelMember, Referral
from ap_register.panels import rules as panel_rules
from ap_register.panels.web import bp
from ap_register.panels.web.forms import (
    SUPPORT_ROWS,
    AgendaForm,
    ConflictForm,
    DecisionForm,
    FairAccessAgreementForm,
    ManagedMoveOutcomeForm,
    MeetingForm,
    MemberForm,
    PanelForm,
    ReferralForm,
    WithdrawForm,
)
from ap_register.placements.rules import may_end_in_a_managed_move, only_registration
from ap_register.web import current_actor, current_la, render_recorded, table_download
from ap_register.years import AcademicYear


def _referral(referral_id: int) -> Referral:
    found = db.session.scalar(
        permissions.scope_referrals(current_actor(), select(Referral).where(Referral.id == referral_id))
    )
    if found is None:
        raise NotFound("Page not found")
    return found


def _may_see_panel(panel_id: int) -> None:
    """LA officers see their LA's panels; a setting's user sees a panel they sit on."""
    if permissions.can(db.session, current_actor(), "panels.view"):
        return
    if permissions.panel_membership(db.session, current_user, panel_id) is None:
        raise Forbidden("You can see the panels you sit on")


def _panel(panel_id: int) -> Panel:
    found = db.session.scalar(select(Panel).where(Panel.id == panel_id, Panel.la_id == current_user.organisation_la_id))
    if found is None:
        raise NotFound("Page not found")
    _may_see_panel(found.id)
    return found


def _meeting(meeting_id: int) -> Meeting:
    found = db.session.scalar(
        select(Meeting).join(Panel).where(Meeting.id == meeting_id, Panel.la_id == current_user.organisation_la_id)
    )
    if found is None:
        raise NotFound("Page not found")
    _may_see_panel(found.panel_id)
    return found


# --- referrals -------------------------------------------------------------------------------


@bp.route("/pupils/<int:pupil_id>/referrals/new", methods=["GET", "POST"])
@login_required
def referral_new(pupil_id: int) -> str | BaseResponse:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "referral.submit", pupil)
    form = ReferralForm()
    form.proposed_setting.choices = setting_choices(blank="Not yet known")
    engagements = db.session.scalars(
        permissions.scope_outreach(
            actor,
            select(OutreachEngagement)
            .where(OutreachEngagement.pupil_id == pupil.id)
            .order_by(OutreachEngagement.started_on.desc()),
        )
    ).all()
    form.outreach.choices = [(str(e.id), outreach_rules.describe(e)) for e in engagements]
    if form.validate_on_submit():
        support = []
        for n in range(1, SUPPORT_ROWS + 1):
            description = getattr(form, f"support_{n}").data or ""
            if description.strip():
                support.append(
                    panel_rules.SupportItem(
                        description,
                        getattr(form, f"support_{n}_started").data,
                        getattr(form, f"support_{n}_ended").data,
                    )
                )
        proposed_id = record_id(form.proposed_setting.data)
        proposed = permissions.get_setting(db.session, actor, proposed_id) if proposed_id is not None else None
        done, referral = attempt(
            form,
            lambda: panel_rules.submit_referral(
                db.session,
                actor,
                pupil,
                move=form.move.data,
                route=Route(form.route.data),
                proposed_setting=proposed,
                reason_codes=form.reason_codes.data or [],
                reasons=form.reasons.data or "",
                support=support,
                missing_support_reason=form.missing_support_reason.data,
                parent_views=form.parent_views.data,
                pupil_views=form.pupil_views.data,
                missing_views_reason=form.missing_views_reason.data,
                best_interest=form.best_interest.data or "",
                outreach=[e for e in engagements if str(e.id) in (form.outreach.data or [])],
                fair_access_category=form.fair_access_category.data or None,
            ),
            {"support": "support_1", "views": "parent_views"},
        )
        if done and referral is not None:
            flash("Referral submitted: it goes on the agenda of the panel's next meeting", "success")
            return redirect(url_for("panels.referral", referral_id=referral.id))
    return render_template("panels/referral_new.html", title="Refer to the panel", form=form, pupil=pupil)


@bp.route("/referrals")
@login_required
def referrals() -> str:
    status = request.args.get("status", "submitted")
    # Each referral's child and proposed setting with the list, not a query for each row.
    stmt = (
        select(Referral)
        .options(selectinload(Referral.pupil), selectinload(Referral.proposed_setting))
        .order_by(Referral.submitted_at.desc())
    )
    if status in ("submitted", "approved", "declined", "withdrawn"):
        stmt = stmt.where(Referral.status == status)
    found = db.session.scalars(permissions.scope_referrals(current_actor(), stmt)).all()
    return render_template(
        "panels/referrals.html", title="Referrals", referrals=found, status=status, moves=panel_rules.MOVES
    )


@bp.route("/referrals/<int:referral_id>", methods=["GET", "POST"])
@login_required
def referral(referral_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = _referral(referral_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        done, _ = attempt(form, lambda: panel_rules.withdraw_referral(db.session, actor, found, form.reason.data or ""))
        if done:
            flash("Referral withdrawn", "success")
            return redirect(url_for("panels.referral", referral_id=found.id))
    audit.record(db.session, actor, "view", "referral", found.id, pupil_id=found.pupil_id)
    return render_recorded(
        "panels/referral.html",
        form=form,
        progress_reports=progress.of_pupil(db.session, actor, found.pupil),
        report_summary=progress.summary,
        may_withdraw=found.status == "submitted" and panel_rules.may_withdraw(actor, found),
        title="Referral to the panel",
        referral=found,
        moves=panel_rules.MOVES,
        reasons=panel_rules.REASONS,
        outcomes=panel_rules.OUTCOMES,
        names=_member_names(found.decisions),
        fair_access=panel_rules.fair_access_clock(db.session, found),
        fair_access_days=panel_rules.FAIR_ACCESS_SCHOOL_DAYS,
        may_agree=found.move == "fair_access"
        and found.fair_access_agreed_on is None
        and found.status == "submitted"
        and permissions.can(db.session, actor, "referral.agree_fair_access", found.pupil),
        evidence=documents.attached(db.session, actor, "referral_id", [found.id]).get(found.id, []),
        may_upload=permissions.can(db.session, actor, "document.upload", found.pupil),
    )


@bp.route("/referrals/<int:referral_id>/fair-access-agreement", methods=["GET", "POST"])
@login_required
def fair_access_agreement(referral_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = _referral(referral_id)
    permissions.require(db.session, actor, "referral.agree_fair_access", found.pupil)
    form = FairAccessAgreementForm()
    if form.validate_on_submit():
        done, _ = attempt(form, lambda: panel_rules.agree_fair_access(db.session, actor, found, form.agreed_on.data))
        if done:
            flash("The local authority's agreement is recorded: the 20 school days count from it", "success")
            return redirect(url_for("panels.referral", referral_id=found.id))
    return render_template(
        "panels/fair_access_agreement.html",
        title="Record the agreement to consider the child under the fair access protocol",
        form=form,
        referral=found,
        fair_access_days=panel_rules.FAIR_ACCESS_SCHOOL_DAYS,
    )


def _member_names(decisions: list[Decision]) -> dict[str, str]:
    ids = {int(m) for d in decisions for m in d.votes}
    if not ids:
        return {}
    return {str(m.id): m.user.name for m in db.session.scalars(select(PanelMember).where(PanelMember.id.in_(ids)))}


# --- panels and meetings ---------------------------------------------------------------------


@bp.route("/panels", methods=["GET", "POST"])
@allowed("panels.view")
def panels() -> str | BaseResponse:
    actor = current_actor()
    la = current_la()
    form = PanelForm(data={"quorum": 3} if request.method == "GET" else None)
    if form.validate_on_submit():
        permissions.require(db.session, actor, "panels.manage")
        done, panel = attempt(
            form, lambda: panel_rules.create_panel(db.session, actor, la, form.name.data or "", form.quorum.data or 0)
        )
        if done and panel is not None:
            return redirect(url_for("panels.panel", panel_id=panel.id))
    found = db.session.scalars(select(Panel).where(Panel.la_id == la.id).order_by(Panel.name)).all()
    return render_template(
        "panels/panels.html", title="Panels", panels=found, form=form, waiting=panel_rules.count_waiting(db.session, la)
    )


@bp.route("/panels/<int:panel_id>", methods=["GET", "POST"])
@login_required
def panel(panel_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = _panel(panel_id)
    member_form, meeting_form = MemberForm(prefix="member"), MeetingForm(prefix="meeting")
    member_form.user.choices = [("", "Choose the person")] + [
        (str(u.id), f"{u.name}, {u.organisation_name}") for u in panel_rules.member_candidates(db.session, actor, found)
    ]
    if request.method == "POST":
        permissions.require(db.session, actor, "panels.manage")
        if "member-submit" in request.form and member_form.validate_on_submit():
            user = permissions.get_user(db.session, actor, int(member_form.user.data))
            done, _ = attempt(
                member_form,
                lambda: panel_rules.add_member(db.session, actor, found, user, bool(member_form.chair.data)),
            )
            if done:
                flash(f"{user.name} added to the panel", "success")
                return redirect(url_for("panels.panel", panel_id=found.id))
        elif "meeting-submit" in request.form and meeting_form.validate_on_submit():
            done, meeting = attempt(
                meeting_form,
                lambda: panel_rules.schedule_meeting(
                    db.session, actor, found, meeting_form.held_on.data, meeting_form.location.data
                ),
            )
            if done and meeting is not None:
                return redirect(url_for("panels.meeting", meeting_id=meeting.id))
    form = member_form if member_form.errors else meeting_form
    return render_template(
        "panels/panel.html",
        title=found.name,
        panel=found,
        member_form=member_form,
        meeting_form=meeting_form,
        form=form,
    )


@bp.route("/meetings/<int:meeting_id>", methods=["GET", "POST"])
@login_required
def meeting(meeting_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = _meeting(meeting_id)
    form = AgendaForm()
    if form.validate_on_submit():
        permissions.require(db.session, actor, "panels.manage")
        done, added = attempt(form, lambda: panel_rules.build_agenda(db.session, actor, found))
        if done:
            flash(f"{added} referral{'s' if added != 1 else ''} added to the agenda", "success")
            return redirect(url_for("panels.meeting", meeting_id=found.id))
    cases = panel_rules.visible_cases(db.session, actor, found)
    return render_template(
        "panels/meeting.html",
        title=f"Meeting of {found.held_on:%-d %B %Y}",
        meeting=found,
        cases=cases,
        form=form,
        moves=panel_rules.MOVES,
        outcomes=panel_rules.OUTCOMES,
        latest={item.referral_id: panel_rules.latest_decision(db.session, item.referral) for item in cases},
    )


@bp.route("/meetings/<int:meeting_id>/papers")
@login_required
def papers(meeting_id: int) -> str:
    found = _meeting(meeting_id)
    cases = panel_rules.visible_cases(db.session, current_actor(), found)
    for item in cases:
        audit.record(db.session, current_actor(), "view", "referral", item.referral_id, pupil_id=item.referral.pupil_id)
    return render_recorded(
        "panels/papers.html",
        title=f"Papers for the meeting of {found.held_on:%-d %B %Y}",
        meeting=found,
        cases=cases,
        moves=panel_rules.MOVES,
        reasons=panel_rules.REASONS,
        conflicts={item.referral_id: panel_rules.conflicts(db.session, found, item.referral) for item in cases},
    )


@bp.route("/meetings/<int:meeting_id>/export.<fmt>")
@login_required
def meeting_export(meeting_id: int, fmt: str) -> Response:
    found = _meeting(meeting_id)
    if fmt not in ("csv", "xlsx"):
        raise NotFound("Page not found")
    columns = [
        "position",
        "upn",
        "first_name",
        "last_name",
        "move",
        "proposed_setting",
        "submitted_on",
        "decision",
        "reasons",
    ]
    rows: list[dict[str, Any]] = []
    for item in panel_rules.visible_cases(db.session, current_actor(), found):
        r = item.referral
        latest = panel_rules.latest_decision(db.session, r)
        rows.append(
            {
                "position": item.position,
                "upn": r.pupil.upn,
                "first_name": r.pupil.first_name,
                "last_name": r.pupil.last_name,
                # The meeting's papers are read by people: the move and the decision in words.
                "move": panel_rules.MOVES.get(r.move, r.move),
                "proposed_setting": r.proposed_setting.name if r.proposed_setting else None,
                "submitted_on": r.submitted_on.isoformat(),
                "decision": (
                    panel_rules.OUTCOMES[latest.outcome] if latest and latest.meeting_id == found.id else None
                ),
                "reasons": latest.reasons if latest and latest.meeting_id == found.id else None,
            }
        )
    from ap_register.domain import exports

    exports.record_export(db.session, current_actor(), "meeting", fmt, len(rows), {"meeting_id": found.id})
    db.session.commit()
    return table_download(fmt, columns, rows, f"meeting-{found.held_on.isoformat()}.{fmt}")


@bp.route("/meetings/<int:meeting_id>/cases/<int:referral_id>", methods=["GET", "POST"])
@login_required
def case(meeting_id: int, referral_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = _meeting(meeting_id)
    referral = _referral(referral_id)
    if not any(item.referral_id == referral.id for item in found.cases):
        raise NotFound("Page not found")
    latest = panel_rules.latest_decision(db.session, referral)
    form, conflict_form = DecisionForm(prefix="decision"), ConflictForm(prefix="conflict")
    conflict_form.member.choices = [("", "Choose the member")] + [(str(m.id), m.user.name) for m in found.panel.members]
    barred = panel_rules.conflicts(db.session, found, referral)
    # The votes as cast, so that a refused decision shows them again.
    cast = {m.id: request.form.get(f"vote-{m.id}", "absent") for m in found.panel.members}
    if request.method == "GET":
        form.after_decision.data = str(latest.id) if latest else ""
        only = only_registration(referral.route)
        if only is not None:
            form.registration.data = only.value
    if request.method == "POST":
        if "conflict-submit" in request.form and conflict_form.validate_on_submit():
            member = next(m for m in found.panel.members if str(m.id) == conflict_form.member.data)
            done, _ = attempt(
                conflict_form,
                lambda: panel_rules.declare_conflict(
                    db.session, actor, found, referral, member, conflict_form.reason.data or ""
                ),
            )
            if done:
                flash("Conflict recorded: that member does not vote on this case", "success")
                return redirect(url_for("panels.case", meeting_id=found.id, referral_id=referral.id))
        elif (
            "decision-submit" in request.form
            and form.validate_on_submit()
            and not (form.outcome.data == "approve" and form.spot_problem())
        ):
            votes = {m: v for m, v in cast.items() if v in panel_rules.VOTES}
            terms = None
            if form.outcome.data == "approve" and form.start_date.data:
                terms = panel_rules.PlacementTerms(
                    form.start_date.data,
                    week_pattern.from_labels(form.sessions.data or []),
                    Registration(form.registration.data or "dual"),
                    form.planned_end_date.data,
                    reintegration_plan=form.reintegration_plan.data,
                    notice_date=form.notice_date.data,
                    spot_purchase=bool(form.spot_purchase.data),
                    agreed_cost=form.agreed_cost.data if form.spot_purchase.data else None,
                    spot_reason=form.spot_reason.data if form.spot_purchase.data else None,
                )
            after = record_id(form.after_decision.data)
            done, decision = attempt(
                form,
                lambda: panel_rules.decide(
                    db.session,
                    actor,
                    found,
                    referral,
                    outcome=form.outcome.data,
                    reasons=form.reasons.data or "",
                    votes=votes,
                    terms=terms,
                    after_decision_id=after,
                ),
                {"votes": "outcome"},
            )
            if done and decision is not None:
                flash(f"Decision recorded: {panel_rules.OUTCOMES[decision.outcome].lower()}", "success")
                return redirect(url_for("panels.meeting", meeting_id=found.id))
    share = None
    if referral.move == "fair_access":
        from ap_register.domain.pupils import year_group

        year = year_group(referral.pupil.date_of_birth, found.held_on)
        share = {"year": year, "rows": panel_rules.whose_turn(db.session, actor, current_la(), found.held_on, year)}
    audit.record(db.session, actor, "view", "referral", referral.id, pupil_id=referral.pupil_id)
    db.session.commit()
    shown = conflict_form if conflict_form.errors else form
    return render_template(
        "panels/case.html",
        title=f"Case: {referral.pupil.full_name}",
        progress_reports=progress.of_pupil(db.session, actor, referral.pupil),
        report_summary=progress.summary,
        meeting=found,
        referral=referral,
        form=shown,
        decision_form=form,
        conflict_form=conflict_form,
        barred=barred,
        latest=latest,
        moves=panel_rules.MOVES,
        reasons=panel_rules.REASONS,
        outcomes=panel_rules.OUTCOMES,
        chair=any(m.user_id == current_user.id and m.chair for m in found.panel.members),
        today=clock.today(),
        not_yet_met=panel_rules.not_yet_met(found, clock.today()),
        cast=cast,
        share=share,
    )


# --- managed moves and the fair-share ledger --------------------------------------------------


@bp.route("/placements/<int:placement_id>/managed-move", methods=["GET", "POST"])
@login_required
def managed_move_outcome(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    placement = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.end", placement)
    if not may_end_in_a_managed_move(placement):
        raise NotFound("Page not found")
    form = ManagedMoveOutcomeForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: panel_rules.conclude_managed_move(
                db.session, actor, placement, form.outcome.data, form.on.data, form.note.data or ""
            ),
        )
        if done:
            flash("Outcome of the off-site direction recorded", "success")
            return redirect(url_for("register.placement", placement_id=placement.id))
    return render_template(
        "panels/managed_move.html", title="Outcome of the off-site direction", form=form, placement=placement
    )


@bp.route("/panels/fair-share")
@allowed("panels.view")
def fair_share() -> str:
    year = AcademicYear.parse(request.args.get("year", "")) or AcademicYear.containing(clock.today())
    rows = panel_rules.fair_share(db.session, current_actor(), current_la(), year)
    years = sorted({y for _, by_year in rows for y in by_year} | set(range(7, 12)))
    return render_template(
        "panels/fair_share.html", title="Fair access allocations", rows=rows, years=years, year=year.start
    )

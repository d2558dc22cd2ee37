"""Pupils, placements and movements."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.blueprints.forms import attempt, setting_choices
from ap_register.casework import caseloads, contacts, documents, letters
from ap_register.casework import notes as case_notes
from ap_register.commissioning import agreements, progress
from ap_register.coverage.alerts import KINDS as alert_kinds
from ap_register.coverage.attendance import attendance_by_week
from ap_register.domain import exports, week_pattern
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.search import PlacementFilters, placements_query, pupils_query
from ap_register.domain.text import control_character_problem
from ap_register.domain.typed import record_id
from ap_register.domain.vocab import (
    AP_KINDS,
    HOME_SCHOOL_KINDS,
    SCHOOL_ROUTES,
    Destination,
    MovementKind,
    Registration,
    Route,
    SettingKind,
    Tier,
)
from ap_register.extensions import db, limiter, reports_session
from ap_register.models import Alert, Setting
from ap_register.placements import drafts
from ap_register.placements import notice as notice_rules
from ap_register.placements import rules as register
from ap_register.placements import use_cases as placement_cases
from ap_register.placements.notice import NoticeContents
from ap_register.placements.roll import exclusion_stories, roll_ahead
from ap_register.placements.rules import PlacementDraft
from ap_register.placements.web import bp
from ap_register.placements.web.forms import (
    ROUTE_HINTS,
    ConfirmForm,
    ConvertForm,
    EndForm,
    FindPupilForm,
    MovementForm,
    NoticeForm,
    PlacementDetailsForm,
    PlacementRouteForm,
    PlacementsFilterForm,
    ReviewForm,
    ReviewRequestForm,
)
from ap_register.returns.rules import CENSUS_REASONS, REASON_BY_ROUTE
from ap_register.web import current_actor, export_limit, paged_query, render_recorded, table_download

PLACEMENT_DRAFT = "placement"


# --- finding a pupil ------------------------------------------------------------------------


@bp.route("/pupils")
@login_required
def find_pupil() -> str:
    form = FindPupilForm(request.args)
    form.setting.choices = setting_choices(blank="Any setting")
    results = None
    if request.args:
        form.validate()
        setting_id = record_id(form.setting.data)
        stmt = pupils_query(current_actor(), form.q.data or "", setting_id)
        results = paged_query(stmt)
        audit.record(
            db.session,
            current_actor(),
            "search",
            "pupil",
            detail={"query": form.q.data or "", "setting_id": setting_id, "results": results.total},
        )
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_recorded("register/find.html", title="Find a pupil", form=form, results=results, query=query)


SUGGESTIONS = 10  # as many as a person reads at a glance; more words narrow them


@bp.route("/pupils/suggest")
@login_required
@limiter.limit(
    lambda: str(current_app.config["SUGGEST_RATE_LIMIT"]), key_func=lambda: f"suggest:{current_user.get_id()}"
)
def suggest_pupils() -> tuple[Response, int] | Response:
    """The pupil search's suggestions as a person types a name or UPN (the accessible autocomplete
    asks): the first few pupils this person may see, in JSON. Each search is audited, and each
    child named is audited as viewed, as on the "Find a pupil" page."""
    text = request.args.get("q", "")
    problem = control_character_problem(text)
    if problem is None and len(text) > 100:
        problem = "must be 100 characters or fewer"
    if problem is not None:
        return jsonify(error=f"The search {problem}"), 400
    if len(text.strip()) < 2:
        return jsonify(pupils=[])
    actor = current_actor()
    found = list(db.session.scalars(pupils_query(actor, text).limit(SUGGESTIONS)).unique())
    audit.record(db.session, actor, "search", "pupil", detail={"query": text, "suggested": len(found)})
    db.session.commit()  # a search that found nothing is kept too (a guess at a child out of scope)
    return jsonify(
        pupils=[
            {
                "upn": p.upn,
                "name": f"{p.first_name} {p.last_name}",
                "school": p.home_school.name if p.home_school else "No school",
            }
            for p in found
        ]
    )


@bp.route("/pupils/<int:pupil_id>")
@login_required
def pupil(pupil_id: int) -> str:
    actor = current_actor()
    found = permissions.get_pupil(db.session, actor, pupil_id)
    today = clock.today()
    current = register.arrangements_on(db.session, found, today)
    all_placements = register.placements_of(db.session, found)
    movements = register.movements_of(db.session, found)
    open_alerts = db.session.scalars(
        permissions.scope_alerts(
            actor,
            select(Alert)
            .where(Alert.pupil_id == found.id, Alert.status.in_(("open", "acknowledged")))
            .order_by(Alert.due),
        )
    ).all()
    audit.record(db.session, actor, "view", "pupil", found.id, pupil_id=found.id)
    attended = attendance_by_week(db.session, found.id, today)
    notes_shown = case_notes.visible_notes(db.session, actor, found)
    people = contacts.people_around(db.session, actor, found)
    shown_documents = documents.visible(db.session, actor, found)
    return render_recorded(
        "register/pupil.html",
        title=found.full_name,
        pupil=found,
        current=current,
        week=register.week_rows(current, found.home_school),
        placements=all_placements,
        movements=movements,
        setting_names=register.setting_names(db.session, movements),
        alerts=open_alerts,
        caseworker=caseloads.caseworker_of(db.session, found),
        notes=notes_shown,
        corrections=case_notes.corrections_of(notes_shown),
        note_categories=case_notes.CATEGORIES,
        may_read_people=contacts.may_read(db.session, actor, found),
        documents=shown_documents,
        document_categories=documents.LABELS,
        document_for=documents.descriptions(db.session, shown_documents),
        note_documents=documents.attached(db.session, actor, "note_id", [n.id for n in notes_shown]),
        letters=letters.visible(db.session, actor, found),
        progress_reports=progress.of_pupil(db.session, actor, found),
        report_summary=progress.summary,
        letter_kinds=letters.KINDS,
        letter_sent_how=letters.SENT_HOW,
        people=people,
        contact_by=contacts.CONTACT_BY,
        contact_withheld=contacts.WITHHELD,
        spells=register.tier_history(db.session, found, today),
        alert_kinds=alert_kinds,
        exclusions=exclusion_stories(db.session, found, today),
        roll_ahead=roll_ahead(db.session, found, today),
        attendance=attended,
        attendance_settings=dict(
            db.session.execute(
                select(Setting.id, Setting.name).where(Setting.id.in_({w.setting_id for w in attended} or {0}))
            ).all()
        ),
    )


# --- recording a placement: route, details, check, confirmation -----------------------------


def _routes_for_actor(pupil_has_home: bool) -> list[tuple[str, str]]:
    from ap_register.domain.vocab import ROUTE_LABELS

    user = current_user
    allowed = [r for r in Route]
    if user.role.value == "school_lead":
        allowed = [r for r in Route if r in SCHOOL_ROUTES]
    if not pupil_has_home:
        allowed = [r for r in allowed if r not in SCHOOL_ROUTES]
    return [(r.value, ROUTE_LABELS[r]) for r in allowed]


@bp.route("/pupils/<int:pupil_id>/placements/new", methods=["GET", "POST"])
@login_required
def placement_new(pupil_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_pupil(db.session, actor, pupil_id)
    return _route_step(found, None)


@bp.route("/placements/new/<token>/route", methods=["GET", "POST"])
@login_required
def placement_new_route(token: str) -> str | BaseResponse:
    """The first step again, from "Change" on the check page: the answers given are kept."""
    draft, done = _open_draft(token)
    if done is not None:
        return done
    found, _, _ = _draft_context(draft)
    return _route_step(found, draft)


def _route_step(found: Any, draft: Any) -> str | BaseResponse:
    """How the placement is arranged (route and setting): a new draft, or the draft being changed."""
    actor = current_actor()
    permissions.require(db.session, actor, "placement.record", found)
    form = PlacementRouteForm()
    form.route.choices = _routes_for_actor(found.home_school_id is not None)
    form.setting.choices = setting_choices()
    if draft is not None and request.method == "GET":
        form.route.data, form.setting.data = draft.data["route"], str(draft.data["setting_id"])
    if form.validate_on_submit():
        setting = permissions.get_setting(db.session, actor, int(form.setting.data))
        refusal = permissions.placement_refusal(actor, found, Route(form.route.data), setting)
        if refusal:
            form.setting.errors = [refusal]
        else:
            chosen = {"pupil_id": found.id, "route": form.route.data, "setting_id": setting.id}
            if draft is None:
                draft = drafts.start(db.session, current_user, PLACEMENT_DRAFT, chosen)
            else:
                drafts.update(draft, **chosen)
            db.session.commit()
            # The details follow from the route and setting: they are checked again, as given.
            return redirect(url_for("register.placement_new_details", token=draft.token))
    return render_template(
        "register/placement_route.html",
        title="How is this placement arranged?",
        form=form,
        pupil=found,
        route_hints=ROUTE_HINTS,
        action=(
            url_for("register.placement_new_route", token=draft.token)
            if draft is not None
            else url_for("register.placement_new", pupil_id=found.id)
        ),
        back=(
            url_for("register.placement_new_check", token=draft.token)
            if draft is not None and "sessions" in draft.data
            else url_for("register.pupil", pupil_id=found.id)
        ),
    )


def _draft_context(draft: Any) -> tuple[Any, Setting, Route]:
    actor = current_actor()
    found = permissions.get_pupil(db.session, actor, int(draft.data["pupil_id"]))
    setting = permissions.get_setting(db.session, actor, int(draft.data["setting_id"]))
    return found, setting, Route(draft.data["route"])


def _open_draft(token: str) -> tuple[Any, BaseResponse | None]:
    """This person's placement draft; with, when it was confirmed already, the answer to give."""
    draft = drafts.get(db.session, current_user, PLACEMENT_DRAFT, token)
    return draft, (_already_recorded(draft.made_id) if draft.made_id is not None else None)


def _already_recorded(placement_id: int) -> BaseResponse:
    """A draft confirmed already (a double click, the back button): show what it made."""
    flash("You confirmed this placement already: it is recorded once, here", "info")
    return redirect(url_for("register.placement_confirmation", placement_id=placement_id))


def _placement_draft(data: dict[str, Any]) -> PlacementDraft:
    def day(name: str) -> date | None:
        value = data.get(name)
        return date.fromisoformat(value) if value else None

    route = Route(data["route"])
    return PlacementDraft(
        setting_id=int(data["setting_id"]),
        route=route,
        registration=Registration(data["registration"]),
        tier=Tier(data["tier"]) if data.get("tier") else None,
        sessions=data["sessions"],
        start_date=day("start_date") or clock.today(),
        planned_end_date=day("planned_end_date"),
        notice_date=day("notice_date"),
        reason=data.get("reason"),
        unregistered_override_reason=data.get("unregistered_override_reason"),
        reintegration_plan=data.get("reintegration_plan"),
        destination_plan=data.get("destination_plan"),
        destination_setting_id=data.get("destination_setting_id"),
        commissioner_la_id=data.get("commissioner_la_id"),
        commissioner_setting_id=data.get("commissioner_setting_id"),
        spot_purchase=bool(data.get("spot_purchase")),
        agreed_cost=Decimal(data["agreed_cost"]) if data.get("agreed_cost") else None,
        spot_reason=data.get("spot_reason"),
        parent_agreed_on=day("parent_agreed_on"),
        part_time_purpose=data.get("part_time_purpose"),
        notice_address=data.get("notice_address"),
        notice_report_to=data.get("notice_report_to"),
        notice_session_times=data.get("notice_session_times"),
        notice_reasons=data.get("notice_reasons"),
        la_notice_date=day("la_notice_date"),
    )


@bp.route("/placements/new/<token>/details", methods=["GET", "POST"])
@login_required
def placement_new_details(token: str) -> str | BaseResponse:
    draft, done = _open_draft(token)
    if done is not None:
        return done
    found, setting, route = _draft_context(draft)
    form = PlacementDetailsForm(data=_details_form_data(draft.data) if request.method == "GET" else None)
    only = register.only_registration(route)
    if request.method == "GET" and only is not None and not draft.data.get("registration"):
        form.registration.data = only.value
    shows_tier = register.in_tiers(setting.kind, route)
    if not shows_tier:
        del form.tier
    notice_fields = ("notice_address", "notice_report_to", "notice_session_times", "notice_reasons")
    if route != Route.OFF_SITE_DIRECTION:
        del form.notice_date
        for name in (*notice_fields, "la_notice_date"):
            delattr(form, name)
    if setting.kind != SettingKind.UNREGISTERED_AP:
        del form.unregistered_override_reason
    part_time = route == Route.PART_TIME_TIMETABLE
    if not part_time:
        del form.parent_agreed_on
        del form.part_time_purpose
    # Paid outside the budget plan: only a placement the LA commissions, at an AP setting.
    costs = setting.kind in AP_KINDS and register.la_pays_for(found, route)
    if not costs:
        del form.spot_purchase
        del form.agreed_cost
        del form.spot_reason
    if not shows_tier:
        del form.reintegration_plan
        del form.destination_plan
        del form.destination_setting
    else:
        form.destination_setting.choices = setting_choices(frozenset(HOME_SCHOOL_KINDS), blank="Not yet known")
    if form.validate_on_submit():
        directed = route == Route.OFF_SITE_DIRECTION
        answers = {
            "registration": form.registration.data,
            "tier": form.tier.data if shows_tier else "",
            "start_date": form.start_date.data.isoformat(),
            "planned_end_date": form.planned_end_date.data.isoformat() if form.planned_end_date.data else None,
            "notice_date": (
                form.notice_date.data.isoformat()
                if route == Route.OFF_SITE_DIRECTION and form.notice_date.data
                else None
            ),
            "sessions": week_pattern.from_labels(form.sessions.data),
            "reason": form.reason.data,
            "unregistered_override_reason": (
                form.unregistered_override_reason.data if setting.kind == SettingKind.UNREGISTERED_AP else None
            ),
            "reintegration_plan": form.reintegration_plan.data if shows_tier else None,
            "destination_plan": form.destination_plan.data if shows_tier else None,
            "destination_setting_id": record_id(form.destination_setting.data) if shows_tier else None,
            "spot_purchase": bool(costs and form.spot_purchase.data),
            "agreed_cost": (
                str(form.agreed_cost.data)
                if costs and form.spot_purchase.data and form.agreed_cost.data is not None
                else None
            ),
            "spot_reason": form.spot_reason.data if costs and form.spot_purchase.data else None,
            "parent_agreed_on": (
                form.parent_agreed_on.data.isoformat() if part_time and form.parent_agreed_on.data else None
            ),
            "part_time_purpose": form.part_time_purpose.data if part_time else None,
            **{name: getattr(form, name).data if directed else None for name in notice_fields},
            "la_notice_date": (form.la_notice_date.data.isoformat() if directed and form.la_notice_date.data else None),
        }
        # Every refusal the register would give on confirming, shown now on this step.
        candidate = _placement_draft({**draft.data, **answers})
        assessment = register.check_placement(db.session, current_actor(), found, candidate)
        if assessment.errors:
            form.apply(DomainError("", assessment.errors), {"route": "", "setting": "", "commissioner": ""})
        else:
            drafts.update(draft, **answers)
            db.session.commit()
            return redirect(url_for("register.placement_new_check", token=token))
    return render_template(
        "register/placement_details.html",
        title="Placement details",
        form=form,
        pupil=found,
        setting=setting,
        route=route,
        token=token,
        cap=found.home_la.unregistered_session_cap,
    )


def _details_form_data(data: dict[str, Any]) -> dict[str, Any]:
    if "sessions" not in data:
        return {"sessions": list(week_pattern.LABELS)}
    values = dict(data)
    values["sessions"] = week_pattern.labels(data["sessions"])
    for name in ("start_date", "planned_end_date", "notice_date", "parent_agreed_on", "la_notice_date"):
        values[name] = date.fromisoformat(data[name]) if data.get(name) else None
    values["agreed_cost"] = Decimal(data["agreed_cost"]) if data.get("agreed_cost") else None
    return values


@bp.route("/placements/new/<token>/check", methods=["GET", "POST"])
@login_required
def placement_new_check(token: str) -> str | BaseResponse:
    draft, done = _open_draft(token)
    if done is not None:
        return done
    found, setting, route = _draft_context(draft)
    if "sessions" not in draft.data:
        return redirect(url_for("register.placement_new_details", token=token))
    form = ConfirmForm()
    errors: list[dict[str, str]] = []
    if form.validate_on_submit():
        # The draft is confirmed once: a second confirmation at the same moment waits for the
        # first here, then finds the placement it made.
        drafts.hold(db.session, draft)
        if draft.made_id is not None:
            db.session.rollback()
            return _already_recorded(draft.made_id)
        candidate = _placement_draft(draft.data)
        try:
            placement = placement_cases.record_placement(
                db.session, current_actor(), placement_cases.RecordPlacement(found.id, candidate)
            ).placement
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            db.session.rollback()
            errors = [
                {"text": e.message, "href": url_for("register.placement_new_details", token=token)}
                for e in error.errors
            ]
        else:
            drafts.finish(draft, placement.id)
            db.session.commit()
            return redirect(url_for("register.placement_confirmation", placement_id=placement.id))
        if draft.made_id is not None:  # refused, and meanwhile another click confirmed it
            return _already_recorded(draft.made_id)
    candidate = _placement_draft(draft.data)
    assessment = register.assess_for(db.session, current_actor(), found, candidate)
    return render_template(
        "register/placement_check.html",
        title="Check the placement before recording it",
        form=form,
        errors=errors,
        pupil=found,
        setting=setting,
        route=route,
        draft=candidate,
        assessment=assessment,
        commissioner=register.commissioner_of(db.session, found, candidate),
        destination=(
            permissions.get_setting(db.session, current_actor(), candidate.destination_setting_id).name
            if candidate.destination_setting_id
            else None
        ),
        token=token,
    )


@bp.route("/placements/<int:placement_id>/confirmation")
@login_required
def placement_confirmation(placement_id: int) -> str:
    placement = permissions.get_placement(db.session, current_actor(), placement_id)
    return render_template("register/placement_confirmation.html", title="Placement recorded", placement=placement)


# --- a placement ----------------------------------------------------------------------------


@bp.route("/placements/<int:placement_id>")
@login_required
def placement(placement_id: int) -> str:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    movements = register.placement_movements(db.session, found)
    agreement, may_call_off = agreements.on_placement(db.session, actor, found)
    audit.record(db.session, actor, "view", "placement", found.id, pupil_id=found.pupil_id)
    return render_recorded(
        "register/placement.html",
        title=f"Placement at {found.setting.name}",
        placement=found,
        movements=movements,
        week=register.week_rows([found], None),
        census_reasons=CENSUS_REASONS,
        census_by_route=REASON_BY_ROUTE,
        may_end_in_a_managed_move=register.may_end_in_a_managed_move(found),
        requested_by=register.REQUESTED_BY,
        review_window_weeks=register.REVIEW_REQUEST_WEEKS,
        review_documents=documents.attached(db.session, actor, "review_id", [r.id for r in found.reviews]),
        may_upload=permissions.can(db.session, actor, "document.upload", found.pupil),
        agreement=agreement,
        may_call_off=may_call_off,
    )


@bp.route("/placements/<int:placement_id>/review", methods=["GET", "POST"])
@login_required
def placement_review(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.review", found)
    form = ReviewForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: placement_cases.review(
                db.session,
                actor,
                placement_cases.ReviewPlacement(
                    found.id,
                    review_date=form.review_date.data,
                    notes=form.notes.data or "",
                    next_review_date=form.next_review_date.data,
                    planned_end_date=form.planned_end_date.data,
                    pupil_took_part="pupil" in (form.took_part.data or []),
                    parents_took_part="parents" in (form.took_part.data or []),
                ),
            ),
            {"parents_took_part": "took_part"},
        )
        if done:
            flash("Review recorded", "success")
            return redirect(url_for("register.placement", placement_id=found.id))
    return render_template(
        "register/review.html",
        title="Record a review",
        form=form,
        placement=found,
        progress_reports=progress.of_placement(db.session, actor, found),
        report_summary=progress.summary,
    )


@bp.route("/placements/<int:placement_id>/review-request", methods=["GET", "POST"])
@login_required
def placement_review_request(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.review", found)
    form = ReviewRequestForm()
    if form.validate_on_submit():
        done, made = attempt(
            form,
            lambda: placement_cases.ask_for_review(
                db.session,
                actor,
                placement_cases.RequestReview(found.id, form.requested_on.data, form.requested_by.data),
            ),
        )
        if done and made is not None:
            flash(
                "Request recorded: a review meeting is due as soon as reasonably practicable"
                if made.required
                else f"Request recorded: a review meeting was held in the {register.REVIEW_REQUEST_WEEKS} "
                "weeks before it, so none is required",
                "success",
            )
            return redirect(url_for("register.placement", placement_id=found.id))
    return render_template(
        "register/review_request.html",
        title="Record a request for a review meeting",
        form=form,
        placement=found,
        review_window_weeks=register.REVIEW_REQUEST_WEEKS,
    )


@bp.route("/placements/<int:placement_id>/notice", methods=["GET", "POST"])
@login_required
def placement_notice(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.notice", found)
    if found.route != Route.OFF_SITE_DIRECTION:
        abort(404)
    form = NoticeForm(
        data={
            "notice_address": found.notice_address or register.site_address(found.setting),
            "notice_report_to": found.notice_report_to,
            "notice_session_times": found.notice_session_times,
            "notice_reasons": found.notice_reasons,
            "la_notice_date": found.la_notice_date,
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        contents = NoticeContents(
            address=form.notice_address.data,
            report_to=form.notice_report_to.data,
            session_times=form.notice_session_times.data,
            reasons=form.notice_reasons.data,
            la_notice_date=form.la_notice_date.data,
        )
        done, _ = attempt(
            form,
            lambda: placement_cases.record_notice(db.session, actor, placement_cases.RecordNotice(found.id, contents)),
        )
        if done:
            flash(
                "Notice saved: the letter is ready"
                if not found.notice_missing
                else "Notice saved: it is not complete yet",
                "success",
            )
            return redirect(url_for("register.placement", placement_id=found.id))
    return render_template(
        "register/notice.html", title="The written notice", form=form, placement=found, source=notice_rules.SOURCE
    )


@bp.route("/placements/<int:placement_id>/notice-letter")
@login_required
def placement_notice_letter(placement_id: int) -> str:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.review", found)
    if found.route != Route.OFF_SITE_DIRECTION:
        abort(404)
    complete = not found.notice_missing
    return render_template(
        "register/notice_letter.html",
        title="Notice of an off-site direction" if complete else "The letter cannot be made yet",
        placement=found,
        letter=register.notice_letter(db.session, found) if complete else None,
        source=notice_rules.SOURCE,
    )


@bp.route("/placements/<int:placement_id>/convert", methods=["GET", "POST"])
@login_required
def placement_convert(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.end", found)
    form = ConvertForm()
    form.destination_setting.choices = setting_choices(frozenset(HOME_SCHOOL_KINDS), blank="Not yet known")
    if form.validate_on_submit():
        destination = record_id(form.destination_setting.data)
        done, converted = attempt(
            form,
            lambda: register.convert_to_transitional(
                db.session,
                actor,
                found,
                on=form.on.data,
                reason=form.reason.data or "",
                destination_plan=form.destination_plan.data,
                destination_setting_id=destination,
            ),
            {"route": "reason"},
        )
        if done and converted is not None:
            flash("Converted to a transitional placement", "success")
            return redirect(url_for("register.placement", placement_id=converted.id))
    return render_template(
        "register/convert.html", title="Convert to a transitional placement", form=form, placement=found
    )


@bp.route("/placements/<int:placement_id>/end", methods=["GET", "POST"])
@login_required
def placement_end(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.end", found)
    form = EndForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: placement_cases.end(
                db.session,
                actor,
                placement_cases.EndPlacement(
                    found.id, form.end_date.data, Destination(form.destination.data), form.reason.data
                ),
            ),
        )
        if done:
            flash("Placement ended", "success")
            return redirect(url_for("register.placement", placement_id=found.id))
    return render_template("register/end.html", title="End the placement", form=form, placement=found)


# --- a movement on the roll -----------------------------------------------------------------


@bp.route("/pupils/<int:pupil_id>/movements/new", methods=["GET", "POST"])
@login_required
def movement_new(pupil_id: int) -> str | BaseResponse:
    actor = current_actor()
    found = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "movement.record", found)
    form = MovementForm()
    choices = setting_choices(frozenset(HOME_SCHOOL_KINDS), blank="Choose the school")
    if current_user.setting_id is not None:
        choices = [c for c in choices if c[0] == str(current_user.setting_id)]
    form.setting.choices = choices
    if request.method == "GET" and found.home_school_id is not None:
        form.setting.data = str(found.home_school_id)
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: placement_cases.record_movement(
                db.session,
                actor,
                placement_cases.RecordMovement(
                    found.id,
                    MovementKind(form.kind.data),
                    form.date.data,
                    int(form.setting.data),
                    days=form.days.data,
                    reason=form.reason.data,
                ),
            ),
        )
        if done:
            flash("Movement recorded", "success")
            return redirect(url_for("register.pupil", pupil_id=found.id))
    return render_template("register/movement.html", title="Record a change to the roll", form=form, pupil=found)


# --- the placements register ----------------------------------------------------------------


def _placement_filters() -> tuple[PlacementsFilterForm, PlacementFilters]:
    form = PlacementsFilterForm(request.args)
    form.setting.choices = setting_choices(blank="Any setting")
    form.validate()
    filters = PlacementFilters(
        route=Route(form.route.data) if form.route.data and not form.route.errors else None,
        tier=Tier(form.tier.data) if form.tier.data and not form.tier.errors else None,
        setting_id=record_id(form.setting.data),
        status=form.status.data or None,
        active_from=form.active_from.data if not form.active_from.errors else None,
        active_to=form.active_to.data if not form.active_to.errors else None,
    )
    return form, filters


@bp.route("/placements")
@login_required
def placements() -> str:
    form, filters = _placement_filters()
    results = paged_query(placements_query(current_actor(), filters))
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "register/placements.html", title="Placements register", form=form, results=results, query=query
    )


@bp.route("/placements/export.<fmt>")
@login_required
@limiter.limit(export_limit)
def placements_export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    actor = current_actor()
    permissions.require(db.session, actor, "register.export")
    _, filters = _placement_filters()
    # Read where reports read (a read replica, when there is one): the count and the rows from one
    # snapshot, their query and scope fixed now; the rows are read as the download is sent, and
    # that session is closed when the response is (sent whole, or the client gone). The audit is
    # the primary's.
    opened = ExitStack()
    try:
        reading = opened.enter_context(reports_session())
        total = exports.count(reading, actor, "placements", filters=filters)
        records = exports.rows(reading, actor, "placements", filters=filters)
        exports.record_export(db.session, actor, "placements", fmt, total, {"filters": request.args.to_dict()})
        db.session.commit()
        name = f"placements-{clock.today().isoformat()}.{fmt}"
        response = table_download(fmt, exports.COLUMNS["placements"], records, name)
    except BaseException:
        opened.close()
        raise
    response.call_on_close(opened.close)
    return response

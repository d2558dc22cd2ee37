"""Tier 1 outreach pages: quick to use on a phone in a school corridor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import (
    Form,
    GovDateField,
    attempt,
    pupil_search,
    radios,
    setting_choices,
    setting_select,
    submit,
    text_area,
    text_field,
)
from ap_register.blueprints.forms import select as select_field
from ap_register.budgets import outreach as rules
from ap_register.domain.errors import Forbidden, NotFound
from ap_register.domain.upn import normalise
from ap_register.domain.vocab import AP_KINDS
from ap_register.extensions import db, limiter
from ap_register.models import OutreachEngagement, OutreachProposal, Pupil, Referral
from ap_register.web import current_actor

bp = Blueprint("outreach", __name__, url_prefix="/outreach")


class EngagementForm(Form):
    provider = setting_select("Provider")
    school = setting_select("School", required="Choose the school")
    kind = radios("Kind of outreach", list(rules.KINDS.items()), required="Choose the kind of outreach")
    upn = pupil_search("Pupil's UPN", description="For work with one pupil: type their name or UPN")
    group_name = text_field("Or the group", max_length=200, description="For example, Year 8 self-regulation group")
    started_on = GovDateField("Start date")
    submit = submit("Start the engagement")


class SessionForm(Form):
    held_on = GovDateField("Date")
    minutes = text_field(
        "How long was it?",
        required="Enter how long the session was",
        max_length=30,
        description="In minutes, or hours and minutes: for example, 45 or 1 hour 30",
    )  # how long may it be: `rules.log_session`
    staff = text_field("Staff", required="Enter who delivered it", max_length=200)
    submit = submit("Log the session")


class CloseForm(Form):
    outcome = radios("Outcome", list(rules.OUTCOMES.items()), required="Choose the outcome")
    closed_on = GovDateField("Date closed")
    referral = select_field("The referral it led to", [])
    note = text_area("Notes")
    submit = submit("Close the engagement")


def _engagement(engagement_id: int) -> OutreachEngagement:
    found = db.session.scalar(
        permissions.scope_outreach(
            current_actor(), select(OutreachEngagement).where(OutreachEngagement.id == engagement_id)
        )
    )
    if found is None:
        raise NotFound("Page not found")
    return found


@bp.route("/")
@allowed("outreach.view")
def engagements() -> str:
    status = request.args.get("status", "open")
    stmt = select(OutreachEngagement).order_by(OutreachEngagement.started_on.desc(), OutreachEngagement.id.desc())
    stmt = stmt.where(
        OutreachEngagement.closed_on.is_(None) if status == "open" else OutreachEngagement.closed_on.is_not(None)
    )
    found = db.session.scalars(permissions.scope_outreach(current_actor(), stmt).limit(200)).all()
    return render_template(
        "outreach/engagements.html",
        title="Outreach",
        engagements=found,
        offers=rules.proposals(db.session, current_actor()),
        status=status,
        kinds=rules.KINDS,
        outcomes=rules.OUTCOMES,
        may_start=_may_start(),
    )


def _may_start() -> bool:
    actor = current_actor()
    return permissions.can(db.session, actor, "outreach.record") or permissions.can(db.session, actor, "outreach.agree")


def proposal_limit() -> str:
    """Outreach offered for a named pupil is throttled, so that UPNs cannot be tried in bulk."""
    from flask import current_app

    return str(current_app.config["PROPOSAL_RATE_LIMIT"])


@bp.route("/new", methods=["GET", "POST"])
@login_required
@limiter.limit(
    proposal_limit,
    methods=["POST"],
    key_func=lambda: f"outreach:{current_user.setting_id or 0}:{current_user.la_id or 0}",
)
def engagement_new() -> str | Response:
    if not _may_start():
        raise Forbidden("You do not have permission to do this")
    form = EngagementForm(data={"started_on": clock.today()} if request.method == "GET" else None)
    own = current_user.setting
    if own is not None and own.kind in AP_KINDS:
        form.provider.choices = [(str(own.id), own.name)]
        form.provider.data = str(own.id)
    else:
        form.provider.choices = setting_choices(frozenset(AP_KINDS), blank="Choose the provider")
    if own is not None and own.kind in rules.SCHOOL_KINDS:
        form.school.choices = [(str(own.id), own.name)]
        form.school.data = str(own.id)
    else:
        form.school.choices = setting_choices(frozenset(rules.SCHOOL_KINDS), blank="Choose the school")
    if form.validate_on_submit():
        started = _start(form)
        if isinstance(started, OutreachProposal):
            flash(
                f"Offer sent to {started.school.name}. Once the school agrees, the pupil and the engagement show here",
                "success",
            )
            return redirect(url_for("outreach.proposal", proposal_id=started.id))
        if started is not None:
            flash("Engagement started: log its sessions here", "success")
            return redirect(url_for("outreach.engagement", engagement_id=started.id))
    return render_template("outreach/engagement_new.html", title="Start an outreach engagement", form=form)


def _start(form: EngagementForm) -> OutreachEngagement | OutreachProposal | None:
    """Start the engagement the form describes (or, from a provider for a named pupil, offer it
    to the school), or put the problems on the form."""
    actor = current_actor()
    if not (form.provider.data or "").isdigit():
        form.provider.errors = ["Choose the provider"]
        return None
    provider = permissions.get_setting(db.session, actor, int(form.provider.data))
    school = permissions.get_setting(db.session, actor, int(form.school.data))
    pupil = None
    upn = normalise(form.upn.data or "")
    if upn and not rules.may_agree_for(actor, school):
        # A provider offers the work; nothing about the UPN is looked up or revealed.
        _, proposal = attempt(
            form,
            lambda: rules.propose(
                db.session,
                actor,
                provider=provider,
                school=school,
                kind=form.kind.data,
                started_on=form.started_on.data,
                upn=upn,
            ),
            {"started_on": "started_on"},
        )
        return proposal
    if upn:
        # Those who speak for the school find the pupil among the children they may see.
        pupil = db.session.scalar(
            permissions.scope_pupils(actor, select(Pupil).where(Pupil.upn == upn, Pupil.home_school_id == school.id))
        )
        if pupil is None:
            form.upn.errors = [f"No pupil with UPN {upn} is on {school.name}'s roll"]
            return None
    _, engagement = attempt(
        form,
        lambda: rules.start_engagement(
            db.session,
            actor,
            provider=provider,
            school=school,
            kind=form.kind.data,
            started_on=form.started_on.data,
            pupil=pupil,
            group_name=form.group_name.data,
        ),
    )
    return engagement


@bp.route("/<int:engagement_id>", methods=["GET", "POST"])
@login_required
def engagement(engagement_id: int) -> str | Response:
    actor = current_actor()
    found = _engagement(engagement_id)
    session_form = SessionForm(prefix="session", data={"held_on": clock.today()} if request.method == "GET" else None)
    close_form = CloseForm(prefix="close", data={"closed_on": clock.today()} if request.method == "GET" else None)
    referrals = []
    if found.pupil_id is not None:
        referrals = db.session.scalars(
            permissions.scope_referrals(actor, select(Referral).where(Referral.pupil_id == found.pupil_id))
        ).all()
    close_form.referral.choices = [("", "None")] + [
        (str(r.id), f"Referral of {r.submitted_on:%-d %B %Y}") for r in referrals
    ]
    if request.method == "POST":
        if not rules.may_work_for(actor, found.provider):
            raise Forbidden("You can log outreach for your own provider only")
        if "session-submit" in request.form and session_form.validate_on_submit():
            minutes = rules.duration_minutes(session_form.minutes.data or "")
            if minutes is None:
                minutes = -1  # unreadable: the rule's own message says what it takes
            done, _ = attempt(
                session_form,
                lambda: rules.log_session(
                    db.session,
                    actor,
                    found,
                    held_on=session_form.held_on.data,
                    minutes=minutes,
                    staff=session_form.staff.data or "",
                ),
            )
            if done:
                flash("Session logged", "success")
                return redirect(url_for("outreach.engagement", engagement_id=found.id))
        elif "close-submit" in request.form and close_form.validate_on_submit():
            chosen = next((r for r in referrals if str(r.id) == close_form.referral.data), None)
            done, _ = attempt(
                close_form,
                lambda: rules.close_engagement(
                    db.session,
                    actor,
                    found,
                    closed_on=close_form.closed_on.data,
                    outcome=close_form.outcome.data,
                    note=close_form.note.data or "",
                    referral=chosen,
                ),
            )
            if done:
                flash("Engagement closed", "success")
                return redirect(url_for("outreach.engagement", engagement_id=found.id))
    if found.pupil_id is not None:
        audit.record(db.session, actor, "view", "outreach", found.id, pupil_id=found.pupil_id)
        db.session.commit()
    form = close_form if close_form.errors else session_form
    return render_template(
        "outreach/engagement.html",
        title="Outreach engagement",
        engagement=found,
        form=form,
        session_form=session_form,
        close_form=close_form,
        kinds=rules.KINDS,
        outcomes=rules.OUTCOMES,
        may_log=rules.may_work_for(actor, found.provider),
    )


# --- a provider's offer for a named pupil ------------------------------------------------------


class ProposalAnswerForm(Form):
    agree = submit("Agree: start the engagement")
    decline = submit("Decline")
    withdraw = submit("Withdraw the offer")


@bp.route("/proposals/<int:proposal_id>", methods=["GET", "POST"])
@login_required
def proposal(proposal_id: int) -> str | Response:
    actor = current_actor()
    found = rules.get_proposal(db.session, actor, proposal_id)
    form = ProposalAnswerForm()
    if request.method == "POST" and form.validate_on_submit():
        if form.agree.data:
            done, engagement = attempt(form, lambda: rules.agree(db.session, actor, found))
            if done and engagement is not None:
                flash("Agreed: the engagement has started", "success")
                return redirect(url_for("outreach.engagement", engagement_id=engagement.id))
        elif form.decline.data:
            done, _ = attempt(form, lambda: rules.decline_proposal(db.session, actor, found))
            if done:
                flash("Offer declined", "success")
                return redirect(url_for("outreach.engagements"))
        elif form.withdraw.data:
            done, _ = attempt(form, lambda: rules.withdraw_proposal(db.session, actor, found))
            if done:
                flash("Offer withdrawn", "success")
                return redirect(url_for("outreach.engagements"))
    pupil = rules.proposed_pupil(db.session, actor, found) if found.status == "waiting" else None
    if pupil is not None:
        audit.record(db.session, actor, "view", "outreach_proposal", found.id, pupil_id=pupil.id)
        db.session.commit()
    return render_template(
        "outreach/proposal.html",
        title="An offer of outreach",
        proposal=found,
        pupil=pupil,
        form=form,
        answers=rules.may_agree_for(actor, found.school),
        offers=rules.may_work_for(actor, found.provider),
        kinds=rules.KINDS,
        statuses=rules.PROPOSAL_STATUSES,
    )

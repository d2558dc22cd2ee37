"""Forms of the panel pages."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextInput
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import InputRequired

from ap_register.blueprints.forms import (
    Form,
    GovDateField,
    SpotPurchaseFields,
    checkboxes,
    radios,
    select,
    setting_select,
    submit,
    text_area,
    text_field,
)
from ap_register.domain import week_pattern
from ap_register.domain.vocab import REGISTRATION_LABELS, ROUTE_LABELS
from ap_register.panels.rules import FAIR_ACCESS_CATEGORIES, MOVES, OUTCOMES, REASONS

SUPPORT_ROWS = 3


class ReferralForm(Form):
    move = radios(
        "What move is asked for?",
        list(MOVES.items()),
        required="Choose the move asked for",
        description="A referral asks the panel to decide; nothing changes until it does",
    )
    route = select(
        "Under which route would the placement be made?",
        [(r.value, label) for r, label in ROUTE_LABELS.items()],
        required="Choose the route",
    )
    proposed_setting = setting_select(
        "Which setting is proposed?", description="Leave as 'Not yet known' if the panel is to find one"
    )
    fair_access_category = select(
        "For a fair access allocation: which category is the child in?",
        [("", "Not a fair access allocation")] + [(k, f"({k}) {v}") for k, v in FAIR_ACCESS_CATEGORIES.items()],
        description="The School Admissions Code 2021 (para 3.17) lists the children a fair access protocol may place. "
        "A child with an EHC plan is admitted to the school the plan names instead",
    )
    reason_codes = checkboxes(
        "Why is the move asked for?", list(REASONS.items()), description="Tick every reason that applies"
    )
    reasons = text_area("Explain the reasons", required="Explain the reasons for the referral")
    support_1 = text_field("Support tried (1)", max_length=500)
    support_1_started = GovDateField("When support 1 started", required=False)
    support_1_ended = GovDateField("When support 1 ended", required=False, description="Leave blank if it continues")
    support_2 = text_field("Support tried (2)", max_length=500)
    support_2_started = GovDateField("When support 2 started", required=False)
    support_2_ended = GovDateField("When support 2 ended", required=False)
    support_3 = text_field("Support tried (3)", max_length=500)
    support_3_started = GovDateField("When support 3 started", required=False)
    support_3_ended = GovDateField("When support 3 ended", required=False)
    outreach = checkboxes(
        "Outreach the pupil has had", [], description="Tick the outreach engagements that count as support tried"
    )
    missing_support_reason = text_area("If no support was tried, why not?")
    parent_views = text_area("The parent's or carer's views")
    pupil_views = text_area("The pupil's own views", description="In their own words where you can")
    missing_views_reason = text_area("If either view is missing, why?")
    best_interest = text_area(
        "Why is this move in the pupil's best interest?",
        required="Say why this move is in the pupil's best interest",
        description="Including how it aims to return them to mainstream school as soon as appropriate",
    )
    submit = submit("Submit the referral")


class PanelForm(Form):
    name = text_field("Name of the panel", required="Enter the panel's name")
    quorum = IntegerField(
        "Quorum (members who must vote)",
        validators=[InputRequired(message="Enter the quorum")],  # its limits: `panels.rules.create_panel`
        widget=GovTextInput(),
    )
    submit = submit("Create the panel")


class MemberForm(Form):
    user = select("Person", [], required="Choose the person")
    chair = BooleanField("Chair of the panel (records its decisions)", widget=GovCheckboxInput())
    submit = submit("Add to the panel")


class MeetingForm(Form):
    held_on = GovDateField("Date of the meeting")
    location = text_field("Where", max_length=200)
    submit = submit("Schedule the meeting")


class AgendaForm(Form):
    submit = submit("Add waiting referrals to the agenda")


class ConflictForm(Form):
    member = select("Member", [], required="Choose the member")
    reason = text_field("The conflict", required="Say what the conflict is", max_length=500)
    submit = submit("Record the conflict")


class DecisionForm(SpotPurchaseFields, Form):
    outcome = radios("Decision", list(OUTCOMES.items()), required="Choose the decision")
    reasons = text_area("Reasons for the decision", required="Give the reasons for the decision")
    start_date = GovDateField("Start date of the placement", required=False, description="For an approval")
    planned_end_date = GovDateField("Planned end date", required=False)
    reintegration_plan = text_area(
        "Reintegration plan",
        max_length=2000,
        description="For a time-limited placement: how and when the pupil returns to the home school",
    )
    notice_date = GovDateField(
        "Date written notice was given to the parents",
        required=False,
        description="For an off-site direction: at least 2 school days before the start",
    )
    registration = radios(
        "Registration at the receiving setting",
        list((r.value, label) for r, label in REGISTRATION_LABELS.items()),
        required="Choose the registration",
        default="dual",
    )
    sessions = checkboxes(
        "Sessions agreed", [(label, label) for label in week_pattern.LABELS], default=list(week_pattern.LABELS)
    )
    after_decision = HiddenField()
    submit = submit("Record the decision")


class ManagedMoveOutcomeForm(Form):
    outcome = radios(
        "Outcome of the managed move",
        [("confirmed", "Confirmed onto the new school's roll"), ("returned", "Returned to the home school")],
        required="Choose the outcome of the managed move",
    )
    on = GovDateField("Date")
    note = text_area("What was agreed", required="Say what was agreed")
    submit = submit("Record the outcome")


class FairAccessAgreementForm(Form):
    agreed_on = GovDateField(
        "When did the local authority agree to consider the child under the fair access protocol?",
        required="Enter the date of the agreement",
        description="A school place is due within 20 school days of it (School Admissions Code 2021 para 3.21)",
    )
    submit = submit("Record the agreement")


class WithdrawForm(Form):
    reason = text_area("Why is the referral withdrawn?", required="Say why the referral is withdrawn")
    submit = submit("Withdraw the referral")

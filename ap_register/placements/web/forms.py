"""Forms of the register's pages."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextInput
from wtforms import BooleanField, IntegerField
from wtforms.validators import Optional

from ap_register.blueprints.forms import (
    Form,
    GovDateField,
    SpotPurchaseFields,
    checkboxes,
    pupil_search,
    radios,
    select,
    setting_select,
    submit,
    text_area,
    text_field,
)
from ap_register.domain import week_pattern
from ap_register.domain.vocab import (
    DESTINATION_LABELS,
    MOVEMENT_KIND_LABELS,
    PART_TIME_PURPOSES,
    REGISTRATION_LABELS,
    ROLL_MOVEMENT_KINDS,
    ROUTE_LABELS,
    SETTING_KIND_LABELS,
    TIER_LABELS,
)

ROUTE_HINTS = {
    "home_school": "What the school of main registration still delivers while other arrangements run",
    "part_time_timetable": (
        "A reduced timetable at the home school: time-limited, agreed with parents, reviewed (code C2)"
    ),
    "off_site_direction": (
        "The school directs the pupil to attend another school or AP setting to improve their behaviour, dual "
        "registered there; notice at least 2 school days before. It may end in a managed move"
    ),
    "school_arranged": "Other alternative provision the school commissions",
    "suspension_provision": "Provision from the sixth day of a suspension",
    "managed_move": (
        "A permanent move to another school agreed by the family and both schools: no trial (for a period there "
        "first, use an off-site direction)"
    ),
    "la_exclusion": "The local authority's duty from the sixth school day of a permanent exclusion",
    "la_health": "For a pupil who cannot attend school because of their health",
    "la_other": (
        "Other education the local authority arranges because the pupil would not otherwise receive suitable education"
    ),
    "ehcp_named": "A school or provider named in the pupil's education, health and care plan",
    "fair_access": "A school place allocated under the fair access protocol",
}


class FindPupilForm(Form):
    class Meta:
        csrf = False  # a search: a GET that changes nothing

    q = pupil_search("UPN or name")
    setting = setting_select("Setting", coerce=str)
    submit = submit("Search")


class PlacementRouteForm(Form):
    route = radios(
        "How is this placement arranged?",
        [(r.value, label) for r, label in ROUTE_LABELS.items()],
        required="Choose how the placement is arranged",
    )
    setting = setting_select(
        "Where will the pupil be educated?",
        required="Choose the setting",
        description="The school, provider or college",
    )
    submit = submit("Continue")


class NoticeFields:
    """What an off-site direction's written notice says (SI 2010/1156 reg 3(4)), beyond its date:
    mixed into the placement's details and the notice page."""

    notice_address = text_area(
        "Where is the pupil to attend?",
        max_length=400,
        description="The address of the place, as the notice gives it",
    )
    notice_report_to = text_field(
        "Who does the pupil report to on the first day?",
        max_length=400,
        description="Their name and role, for example Ms A Khan, head of centre",
    )
    notice_session_times = text_field(
        "What are the times of the sessions?",
        max_length=400,
        description="For example, 9am to 12pm and 12:45pm to 3pm",
    )
    notice_reasons = text_area(
        "Why is the pupil directed off site, and what is it meant to achieve?",
        max_length=4000,
        description="The reasons for the direction and its objectives, as the notice gives them",
    )
    la_notice_date = GovDateField(
        "When was written notice given to the local authority?",
        required=False,
        description="Only where the pupil has an EHC plan: the authority that maintains it is told too",
    )


class PlacementDetailsForm(SpotPurchaseFields, NoticeFields, Form):
    registration = radios(
        "Is the pupil registered there?",
        [(r.value, label) for r, label in REGISTRATION_LABELS.items()],
        required="Choose whether the pupil is registered at the setting",
        description="Dual registration is possible only at a registered school",
    )
    tier = radios(
        "Which tier is this placement in?",
        [(t.value, label) for t, label in TIER_LABELS.items()] + [("", "Not in the three tiers")],
        required="Choose the tier",
        description="Only alternative provision placements have a tier",
    )
    start_date = GovDateField("Start date", description="For example, 3 11 2025")
    planned_end_date = GovDateField(
        "Planned end date", required=False, description="Required for a part-time timetable; leave blank if open-ended"
    )
    sessions = checkboxes(
        "Which sessions will the pupil attend?",
        [(label, label) for label in week_pattern.LABELS],
        description="Tick every morning (AM) and afternoon (PM) session of a usual week",
    )
    notice_date = GovDateField(
        "Date written notice was given to the parents",
        required=False,
        description="At least 2 school days before the start",
    )
    parent_agreed_on = GovDateField(
        "When did the parent agree to the part-time timetable?",
        required=False,
        description="A part-time timetable is agreed with the parents before it starts",
    )
    part_time_purpose = radios(
        "What is the part-time timetable for?",
        list(PART_TIME_PURPOSES.items()),
        required="Choose what the part-time timetable is for",
        description="Only in very exceptional circumstances, in the pupil's best interests, and never to manage "
        "behaviour (Working together to improve school attendance, 2024, paras 65 and 66)",
    )
    reason = text_area(
        "Why is the pupil being placed here?",
        required="Say why the pupil is being placed here",
        description="Include the support already tried, and how this placement meets the pupil's needs",
    )
    reintegration_plan = text_area(
        "Reintegration plan", description="For a time-limited placement: how and when the pupil returns to school"
    )
    destination_plan = text_area(
        "Destination plan", description="For a transitional placement: the school or post-16 route it leads to"
    )
    destination_setting = setting_select("Destination school, if known")
    unregistered_override_reason = text_area(
        "Why does the pupil need more than the unregistered provider limit?",
        description="Only if the pupil will attend an unregistered provider for more than the limit",
    )
    submit = submit("Continue")


class ConvertForm(Form):
    on = GovDateField("First day of the transitional placement")
    reason = text_area(
        "Why will the pupil not return to the home school?",
        required="Record why the pupil will not return to the home school",
    )
    destination_plan = text_area("Destination plan", description="The school or post-16 route it leads to")
    destination_setting = setting_select("Destination school, if known")
    submit = submit("Convert to a transitional placement")


class ConfirmForm(Form):
    submit = submit("Record the placement")


class ReviewForm(Form):
    review_date = GovDateField("Date of the review")
    notes = text_area(
        "What did the review find and agree?",
        required="Enter what the review found and agreed",
        description="Progress against the personalised plan, attendance, and the plan for return",
    )
    next_review_date = GovDateField(
        "Next review date",
        required=False,
        description="Leave blank to set it from the local authority's review interval",
    )
    planned_end_date = GovDateField(
        "New planned end date", required=False, description="Only if the review changed it: an extension"
    )
    took_part = checkboxes(
        "Who took part in the review?",
        [("pupil", "The pupil"), ("parents", "The parents or carers")],
        description="A part-time timetable is reviewed with the pupil and their parents",
    )
    submit = submit("Record the review")


class ReviewRequestForm(Form):
    requested_by = radios(
        "Who asked for a review meeting?",
        [
            ("parent", "The parent (or the pupil, if 18 or over)"),
            ("la", "The local authority that maintains the pupil's EHC plan"),
        ],
        required="Choose who asked for the review meeting",
    )
    requested_on = GovDateField("When was the request made in writing?")
    submit = submit("Record the request")


class NoticeForm(NoticeFields, Form):
    """What an off-site direction's written notice said (SI 2010/1156 reg 3(4))."""

    submit = submit("Save the notice")


class EndForm(Form):
    end_date = GovDateField("Last day of the placement")
    destination = radios(
        "Where did the pupil go?",
        [(d.value, label) for d, label in DESTINATION_LABELS.items()],
        required="Choose where the pupil went",
    )
    reason = text_area("Notes", description="Why the placement ended, and anything the next setting should know")
    submit = submit("End the placement")


class MovementForm(Form):
    kind = radios(
        "What happened?",
        [(k.value, MOVEMENT_KIND_LABELS[k]) for k in ROLL_MOVEMENT_KINDS],
        required="Choose what happened",
        description=(
            "Changes to the pupil's school roll. A permanently excluded pupil stays on the roll until the exclusion "
            "is over: record each step and the register works out the day the name comes off."
        ),
    )
    date = GovDateField(
        "Date",
        description=(
            "For an exclusion or suspension, its first day. For the board's decision not to reinstate, the day "
            "the parents were told. For a review, the day it was asked for or ended."
        ),
    )
    setting = setting_select("School", required="Choose the school")
    days = IntegerField(
        "Length of a suspension, in school days",
        validators=[Optional()],  # how long a suspension may be: `placements.rules.record_roll_movement`
        widget=GovTextInput(),
    )
    reason = text_area("Reason", description="Required for an exclusion or removal from roll")
    submit = submit("Record")


class PlacementsFilterForm(Form):
    class Meta:
        csrf = False

    route = select("Route", [("", "Any route")] + [(r.value, label) for r, label in ROUTE_LABELS.items()])
    tier = select("Tier", [("", "Any tier")] + [(t.value, label) for t, label in TIER_LABELS.items()])
    setting = setting_select("Setting")
    status = select(
        "Status", [("", "Any status"), ("active", "Active today"), ("planned", "Planned"), ("ended", "Ended")]
    )
    active_from = GovDateField("Active on or after", required=False)
    active_to = GovDateField("Active on or before", required=False)
    submit = submit("Apply filters")


class SettingsFilterForm(Form):
    class Meta:
        csrf = False

    q = text_field("Name, URN or reference", max_length=100)
    kind = select("Kind", [("", "Any kind")] + [(k.value, label) for k, label in SETTING_KIND_LABELS.items()])
    submit = submit("Search")


class OversightForm(Form):
    contact_name = text_field("Named contact", required="Enter the named contact")
    contact_phone = text_field("Contact telephone", max_length=40)
    contact_email = text_field("Contact email", max_length=254)
    safeguarding_checks_confirmed = BooleanField(
        "We hold written confirmation that the provider has carried out the staff safeguarding checks",
        widget=GovCheckboxInput(),
    )
    safeguarding_checks_date = GovDateField("Date of the written confirmation", required=False)
    last_qa_visit_date = GovDateField("Date of the last quality-assurance visit", required=False)
    risk_assessment_date = GovDateField("Date of the current risk assessment", required=False)
    risk_assessment_notes = text_area("Risk assessment summary")
    sites = text_area("Site addresses", description="Every address where pupils are taught, one per line")
    submit = submit("Save the oversight record")


class SettingKindForm(Form):
    kind = radios(
        "What kind of setting is this?",
        [(k.value, label) for k, label in SETTING_KIND_LABELS.items()],
        required="Choose the kind of setting",
        description="For example, an independent school that provides alternative provision",
    )
    submit = submit("Save")

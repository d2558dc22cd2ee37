"""Forms of the commissioning pages. What each answer may be is `commissioning.frameworks`'s."""

from __future__ import annotations

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovRadioInput, GovTextInput
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ap_register.blueprints.forms import (
    Form,
    GovDateField,
    checkboxes,
    radios,
    select,
    setting_select,
    submit,
    text_area,
    text_field,
)
from ap_register.commissioning.agreements import HOW, MAX_OBJECTIVES, PAYERS, PAYS_ON, Terms
from ap_register.commissioning.directory import DISTANCES_KM
from ap_register.commissioning.frameworks import CHECKS, KINDS, RATE_UNITS, SERVICES
from ap_register.commissioning.payments import REFERENCE_MAX, Claim
from ap_register.commissioning.progress import EVIDENCE_MAX, RATINGS, TEXT_MAX, Answer
from ap_register.domain import week_pattern
from ap_register.domain.typed import whole_number


class FrameworkForm(Form):
    name = text_field("Name", required="Enter the framework's name", max_length=200)
    kind = radios("Is it a framework or a dynamic market?", list(KINDS.items()), required="Choose what it is")
    starts_on = GovDateField("Start date", description="For example, 5 1 2026")
    ends_on = GovDateField(
        "End date", description="A framework runs for at most 4 years (Procurement Act 2023, section 47)"
    )
    grace_days = text_field(
        "Grace period, in days",
        required="Enter the grace period, in days",
        max_length=20,
        description=(
            "How long after a provider's evidence expires placements may still be called off from it. From 0 to 90 days"
        ),
    )
    submit = submit("Create the framework")


class LotForm(Form):
    name = text_field("Name of the lot", required="Enter the lot's name", max_length=200)
    service = radios("What does the lot buy?", list(SERVICES.items()), required="Choose what the lot buys")
    description = text_area("Description (optional)", max_length=2000)
    submit = submit("Add the lot")


def rate_field() -> StringField:
    """Pounds and pence, kept as typed: whether it is a rate is the rules' to say."""
    return StringField(
        "Rate, in pounds",
        validators=[Optional(), Length(max=20, message="Enter the rate in pounds, like 55.00")],
        widget=GovTextInput(),
    )


class ApplyForm(Form):
    provider = setting_select("Provider", required="Choose the provider")
    rate = rate_field()
    rate_unit = radios("The rate is", list(RATE_UNITS.items()), required="Choose what the rate is for")
    submit = submit("Apply to the lot")


class DecideForm(Form):
    outcome = radios("Decision", [], required="Choose a decision")
    rate = rate_field()
    rate_unit = select("The rate is", [("", "As applied for")] + list(RATE_UNITS.items()))
    reason = text_area("Reason", max_length=2000, description="Needed to decline an application or remove a provider")
    submit = submit("Save the decision")


class EvidenceForm(Form):
    kind = radios("What is the evidence of?", list(CHECKS.items()), required="Choose what the evidence is of")
    evidence_date = GovDateField("Date of the evidence", description="The date on the certificate, policy or report")
    expires_on = GovDateField("Expiry date", description="The last day it is good for")
    reference = text_field("Reference (optional)", max_length=200, description="A policy or certificate number")
    note = text_area("Note (optional)", max_length=2000)
    submit = submit("Record the evidence")


PHASES = {"primary": "Primary", "secondary": "Secondary", "sixteen_plus": "16 plus"}


class DirectoryForm(Form):
    """The directory's filters: it reads, never writes."""

    class Meta:
        csrf = False

    service = select("Lot", [("", "Any lot")] + list(SERVICES.items()))
    phase = select("Phase", [("", "Any phase")] + list(PHASES.items()))
    school = setting_select("Distance from", description="A school, to list the nearest providers first")
    within = select("Within", [("", "Any distance")] + [(str(km), f"{km} km") for km in DISTANCES_KM])
    places = checkboxes("Places", [("free", "Only providers with a commissioned place free today")])
    submit = submit("Search")


class LocationForm(Form):
    site = radios("Which address?", [], required="Choose the provider's address or one of its sites")
    easting = text_field("Easting, in metres", required="Enter the easting", max_length=20)
    northing = text_field("Northing, in metres", required="Enter the northing", max_length=20)
    submit = submit("Save where it is")


class AgreementFields(Form):
    """An individual placement agreement's terms (what each may be is `commissioning.agreements`')."""

    objective_1 = text_area("Objective 1", max_length=500, description="What the placement is to achieve, measurably")
    measure_1 = text_area("How objective 1 is measured and reviewed", max_length=500)
    objective_2 = text_area("Objective 2 (optional)", max_length=500)
    measure_2 = text_area("How objective 2 is measured and reviewed", max_length=500)
    objective_3 = text_area("Objective 3 (optional)", max_length=500)
    measure_3 = text_area("How objective 3 is measured and reviewed", max_length=500)
    objective_4 = text_area("Objective 4 (optional)", max_length=500)
    measure_4 = text_area("How objective 4 is measured and reviewed", max_length=500)
    sessions = checkboxes(
        "Sessions agreed each week",
        [(label, label) for label in week_pattern.LABELS],
        description="Tick every morning (AM) and afternoon (PM) session agreed",
    )
    hours_per_week = text_field("Hours each week", max_length=20)
    rate = rate_field()
    rate_unit = radios("The rate is", list(RATE_UNITS.items()), required="Choose what the rate is for")
    pays_on = radios("What is paid?", list(PAYS_ON.items()), required="Choose what is paid")
    payer = radios("Who pays?", list(PAYERS.items()), required="Choose who pays")
    starts_on = GovDateField("Start date")
    review_on = GovDateField("Review date", description="When the objectives are next reviewed")
    safeguarding = text_area(
        "Safeguarding",
        max_length=3000,
        description=(
            "The designated safeguarding lead at each setting, and what the provider needs to know to keep the "
            "pupil safe"
        ),
    )
    contacts = text_area(
        "Who to call", max_length=2000, description="At the school and at the provider, with their numbers"
    )

    def terms(self) -> Terms:
        return Terms(
            objectives=[
                (getattr(self, f"objective_{n}").data or "", getattr(self, f"measure_{n}").data or "")
                for n in range(1, MAX_OBJECTIVES + 1)
            ],
            sessions=week_pattern.from_labels(self.sessions.data or []),
            hours_per_week=self.hours_per_week.data,
            rate=self.rate.data,
            rate_unit=self.rate_unit.data,
            pays_on=self.pays_on.data,
            payer=self.payer.data,
            starts_on=self.starts_on.data,
            review_on=self.review_on.data,
            safeguarding=self.safeguarding.data,
            contacts=self.contacts.data,
        )

    def fill(self, terms: Terms) -> None:
        """Begin from these terms (a change begins from the current version)."""
        for n, (objective, measure) in enumerate(terms.objectives, start=1):
            getattr(self, f"objective_{n}").data, getattr(self, f"measure_{n}").data = objective, measure
        self.sessions.data = week_pattern.labels(terms.sessions)
        self.hours_per_week.data, self.rate.data = terms.hours_per_week, terms.rate
        self.rate_unit.data, self.pays_on.data, self.payer.data = terms.rate_unit, terms.pays_on, terms.payer
        self.starts_on.data, self.review_on.data = terms.starts_on, terms.review_on
        self.safeguarding.data, self.contacts.data = terms.safeguarding, terms.contacts


class CallOffForm(AgreementFields):
    approval = radios("Which lot is it called off under?", [], required="Choose the lot")
    submit = submit("Call off the placement")


class ChangeForm(AgreementFields):
    version = HiddenField()  # the version the change was begun from
    reason = text_area("Why does the agreement change?", max_length=2000)
    submit = submit("Save as a new version")


class AcceptForm(Form):
    version = HiddenField()
    party = radios("Who is accepting the agreement?", [], required="Choose who is accepting the agreement")
    how = radios("How did they accept it?", list(HOW.items()), required="Choose how it was accepted")
    name = text_field(
        "Name of the person who accepted it",
        max_length=200,
        description="Not needed when you accept it in the register yourself",
    )
    signed_on = GovDateField("Date it was accepted")
    submit = submit("Record the acceptance")


def _rating(n: int) -> RadioField:
    """Which rating it is, and whether one was chosen, is the rule's to say (with every other
    problem of the report at once)."""
    return RadioField(
        f"Objective {n}", choices=list(RATINGS.items()), validators=[Optional()], widget=GovRadioInput(),
        validate_choice=False,
    )  # fmt: skip


def _evidence(n: int) -> TextAreaField:
    return text_area(
        f"Evidence of progress towards objective {n}",
        max_length=EVIDENCE_MAX,
        counted=True,
        description="What the pupil did, and how you know: work, assessments, the register, what staff saw",
    )


class ReportForm(Form):
    """A half term's progress report. The view keeps the objectives' fields for as many as the
    agreement has, each labelled with its objective."""

    half_term = HiddenField()  # the first day of the half term the form showed
    version = HiddenField()  # the version whose objectives it showed
    rating_1, evidence_1 = _rating(1), _evidence(1)
    rating_2, evidence_2 = _rating(2), _evidence(2)
    rating_3, evidence_3 = _rating(3), _evidence(3)
    rating_4, evidence_4 = _rating(4), _evidence(4)
    pupil_voice = text_area(
        "The pupil's voice",
        max_length=TEXT_MAX,
        counted=True,
        description="What the pupil says about their progress and the placement, in their own words",
    )
    next_steps = text_area("Next steps", max_length=TEXT_MAX, counted=True)
    submit = submit("Submit the report")

    def keep_objectives(self, objectives: list[dict[str, str]]) -> None:
        for n in range(1, MAX_OBJECTIVES + 1):
            if n > len(objectives):
                delattr(self, f"rating_{n}")
                delattr(self, f"evidence_{n}")
            else:
                getattr(self, f"rating_{n}").label.text = f"Objective {n}: {objectives[n - 1]['objective']}"

    def answers(self) -> list[Answer]:
        return [
            Answer(getattr(self, f"rating_{n}").data, getattr(self, f"evidence_{n}").data)
            for n in range(1, MAX_OBJECTIVES + 1)
            if getattr(self, f"rating_{n}", None) is not None  # kept for the agreement's objectives
        ]


# --- paying for what was delivered --------------------------------------------------------------


class InvoiceFields(Form):
    reference = text_field(
        "Invoice reference",
        max_length=REFERENCE_MAX,  # and required: `payments.record_invoice` says so with every other problem
        description="As the provider wrote it on the invoice",
    )
    received_on = GovDateField("Day the invoice was received", description="The 30 days to pay it run from this day")


class InvoiceUploadForm(InvoiceFields):
    file = FileField(
        "The invoice's lines, as a CSV file",
        widget=GovFileInput(),
        description="A first row naming the columns upn, sessions and amount; then a row per pupil",
    )
    submit = submit("Upload the invoice")


INVOICE_FORM_ROWS = 40  # rows typed in on the page; a longer invoice is uploaded


def _claim_fields(n: int) -> dict[str, StringField]:
    return {
        f"upn_{n}": StringField("UPN", validators=[Optional(), Length(max=20)], widget=GovTextInput()),
        f"sessions_{n}": StringField("Sessions", validators=[Optional(), Length(max=20)], widget=GovTextInput()),
        f"amount_{n}": StringField("Amount", validators=[Optional(), Length(max=30)], widget=GovTextInput()),
    }


class InvoiceForm(InvoiceFields):
    """The invoice typed in: a row (UPN, sessions, amount) per pupil. `keep_rows` keeps as many
    as the page shows (one for each pupil of the statement, and spare ones), at most
    `INVOICE_FORM_ROWS`."""

    rows = HiddenField()
    for _n in range(1, INVOICE_FORM_ROWS + 1):
        locals().update(_claim_fields(_n))
    del _n
    submit = submit("Record the invoice")

    def keep_rows(self, count: int | None) -> int:
        count = max(1, min(count or 1, INVOICE_FORM_ROWS))
        for n in range(count + 1, INVOICE_FORM_ROWS + 1):
            for name in (f"upn_{n}", f"sessions_{n}", f"amount_{n}"):
                delattr(self, name)
        self.rows.data = str(count)
        return count

    def claims(self) -> list[Claim]:
        count = whole_number(self.rows.data) or 0
        return [
            Claim(
                f"Row {n}",
                getattr(self, f"upn_{n}").data,
                getattr(self, f"sessions_{n}").data,
                getattr(self, f"amount_{n}").data,
                field=f"upn_{n}",
            )
            for n in range(1, count + 1)
        ]


class ApproveForm(Form):
    invoice = HiddenField()  # the invoice the statement was shown with
    total = HiddenField()  # and the total to pay it showed
    submit = submit("Approve the statement for payment")


class MonthForm(Form):
    """Which month's statements to list: it reads, never writes."""

    class Meta:
        csrf = False

    month = select("Month", [])
    submit = submit("Show")

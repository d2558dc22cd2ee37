"""Forms of the commissioning pages. What each answer may be is `commissioning.frameworks`'s."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
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
from ap_register.commissioning.directory import DISTANCES_KM
from ap_register.commissioning.frameworks import CHECKS, KINDS, RATE_UNITS, SERVICES


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

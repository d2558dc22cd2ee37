"""Forms of the budget pages."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from ap_register.blueprints.forms import Form, radios, select, setting_select, submit, text_area, text_field
from ap_register.budgets import sufficiency
from ap_register.budgets.rules import PLACE_TYPES


def amount(label: str, missing: str | None, description: str) -> DecimalField:
    """A number of pounds, places or hours; how many a line may hold is `rules.set_line`'s."""
    return DecimalField(
        label,
        places=2,
        validators=[InputRequired(message=missing) if missing else Optional()],
        widget=GovTextInput(),
        description=description,
    )


class PlanForm(Form):
    name = text_field("Name of the plan", required="Enter the plan's name", max_length=200)
    first_year = select("First financial year", [], required="Choose the first financial year")
    years = IntegerField(
        "How many financial years does it cover?",
        validators=[
            InputRequired(message="Enter how many financial years the plan covers"),
            NumberRange(min=1, max=10, message="Enter a number of years from 1 to 10"),
        ],
        widget=GovTextInput(),
        description="At least 3: a multi-year budget agreed by the local partnership",
    )
    demand_policy = text_area(
        "How will changes in demand be managed?",
        required="Say how changes in demand will be managed",
        description="For example, growth beyond the plan is met from the reserve, then reviewed each term",
    )
    submit = submit("Create the plan")


class LineForm(Form):
    year = select("Financial year", [], required="Choose the financial year")
    place_type = radios("Place type", list(PLACE_TYPES.items()), required="Choose the place type")
    provider = setting_select("Provider", description="Leave as it is for the reserve")
    commissioned = amount(
        "Places, hours or amount",
        "Enter the places, hours or amount",
        "Places for time-limited or transitional, hours for outreach, pounds for the reserve",
    )
    unit_cost = amount(
        "Unit cost (tariff), in pounds",
        None,
        "A place for a year, or an hour of outreach. Not used for the reserve",
    )
    submit = submit("Save the line")


class VariationForm(Form):
    change = DecimalField(
        "Change in places or hours",
        places=2,
        validators=[
            InputRequired(message="Enter the change in places or hours"),
            NumberRange(min=-100000, max=100000, message="Enter a change from -100,000 to 100,000"),
        ],
        widget=GovTextInput(),
        description="For example, 1 for one more place, -0.5 for half a place fewer",
    )
    reason = text_area(
        "Reason",
        required="A variation needs its reason: how demand changed, and why this line",
        description="How demand changed, and why this line",
    )
    submit = submit("Record the variation")


class AgreeForm(Form):
    submit = submit("Agree the plan")


class SufficiencyForm(Form):
    """The sufficiency page's filters: it reads, never writes. The choices are the LA's own
    districts and lots, set by the view."""

    class Meta:
        csrf = False

    phase = select("Phase", [("", "Every phase")] + list(sufficiency.PHASES.items()))
    district = select("District", [], description="Where the pupils' schools are, and the providers")
    lot = select("Lot", [], description="Placements called off under the lot, and its providers' places")
    tier = select("Place type", [("", "Both place types")] + [(t.value, n) for t, n in sufficiency.TIERS.items()])
    submit = submit("Show")

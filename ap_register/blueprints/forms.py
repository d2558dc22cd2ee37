"""Form building blocks shared by the blueprints: GOV.UK widgets with GOV.UK error messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.text import control_character_problem
from ap_register.domain.typed import FIRST_YEAR, LAST_YEAR, whole_number, year_in_range
from ap_register.extensions import db

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class GovDateField(DateField):
    """Day, month and year boxes, with the GOV.UK messages for a missing or impossible date."""

    widget = GovDateInput()

    def __init__(self, label: str, required: bool = True, **kwargs: Any):
        self.required = required
        kwargs.setdefault("format", "%d %m %Y")
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            self.raw_data = None  # the widget then shows empty boxes
            return
        parts = [value.strip() for value in valuelist]
        if len(parts) == 1 and ISO_DAY.fullmatch(parts[0]):
            self._from_link(parts[0])
            return
        # The widget shows exactly three boxes, whatever was sent.
        self.raw_data = (parts + ["", "", ""])[:3]
        if not any(parts):
            self.data = None
            return
        name = self.label.text
        if len(parts) != 3 or not all(parts):
            self.data = None
            raise ValueError(f"{name} must include a day, month and year")
        day, month, year = (whole_number(part) for part in parts)
        try:
            if day is None or month is None or year is None:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{name} must be a real date") from None
        if not year_in_range(year):
            self.data = None
            raise ValueError(f"{name} must be in a year from {FIRST_YEAR} to {LAST_YEAR}")

    def _from_link(self, value: str) -> None:
        """A date as the service's own links carry it (YYYY-MM-DD, such as "Next week"), shown
        in the three boxes as a person would have typed it."""
        self.data = None
        try:
            found = date.fromisoformat(value)
        except ValueError:
            self.raw_data = [value, "", ""]
            raise ValueError(f"{self.label.text} must be a real date") from None
        self.raw_data = [str(found.day), str(found.month), str(found.year)]
        if not year_in_range(found.year):
            raise ValueError(f"{self.label.text} must be in a year from {FIRST_YEAR} to {LAST_YEAR}")
        self.data = found

    def pre_validate(self, form: Any) -> None:
        if self.required and self.data is None and not self.errors:
            raise ValidationError(f"Enter the {self.label.text[0].lower()}{self.label.text[1:]}")


def text_field(label: str, required: str | None = None, max_length: int = 200, **kwargs: Any) -> StringField:
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    validators.append(Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"))
    return StringField(label, validators=validators, widget=GovTextInput(), **kwargs)


def text_area(
    label: str, required: str | None = None, max_length: int = 5000, counted: bool = False, **kwargs: Any
) -> TextAreaField:
    """A text area; `counted`, with the GOV.UK character count (the template gives its maxlength)."""
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    validators.append(Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"))
    widget = GovCharacterCount() if counted else GovTextArea()
    return TextAreaField(label, validators=validators, widget=widget, **kwargs)


def choice_problem(field: Any) -> str:
    """What a person is told when what was sent is not one of a field's choices (a link from
    before the list changed, a choice withdrawn while the page was open, a hand-made request):
    the field's own words for choosing nothing, where it has them; otherwise its label and what
    is wrong, in the register's words, not WTForms' ("Not a valid choice.")."""
    for validator in field.validators:
        if isinstance(validator, InputRequired) and validator.message:
            return str(validator.message)
    return f"Choose one of the options for “{field.label.text}”"


class _Choices:
    """A list of choices whose refusal of a value not among them is `choice_problem`'s."""

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)  # type: ignore[misc]
        except ValidationError:
            raise ValidationError(choice_problem(self)) from None


class Radios(_Choices, RadioField):
    pass


class Select(_Choices, SelectField):
    pass


class Checkboxes(_Choices, SelectMultipleField):
    pass


def radios(label: str, choices: list[tuple[str, str]], required: str, **kwargs: Any) -> RadioField:
    return Radios(
        label,
        choices=choices,
        validators=[InputRequired(message=required)],
        widget=GovRadioInput(),
        validate_choice=True,
        **kwargs,
    )


def select(label: str, choices: list[tuple[str, str]], required: str | None = None, **kwargs: Any) -> SelectField:
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    return Select(label, choices=choices, validators=validators, widget=GovSelect(), **kwargs)


class SettingAutocomplete(GovSelect):
    """A select of settings that the script turns into an accessible autocomplete: type a few
    letters of a name and choose. Without the script it stays the select, and works the same."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        params["attributes"]["data-module"] = "app-autocomplete"
        return params


class PupilSearchInput(GovTextInput):
    """A text box for a UPN that the script turns into a pupil search: type a name or part of a
    UPN and choose; the box then holds the chosen pupil's UPN. Without the script, type the UPN."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        from flask import url_for

        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        params["attributes"].update(
            {"data-module": "app-pupil-search", "data-source": url_for("register.suggest_pupils")}
        )
        return params


def setting_select(label: str, required: str | None = None, **kwargs: Any) -> SelectField:
    """A setting chosen by name (its choices are set per request, from `setting_choices`)."""
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    return Select(label, choices=[], validators=validators, widget=SettingAutocomplete(), **kwargs)


def pupil_search(label: str, required: str | None = None, **kwargs: Any) -> StringField:
    """A box that takes a UPN, with the pupil search to find it by name."""
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    validators.append(Length(max=100, message=f"{label} must be 100 characters or fewer"))
    return StringField(label, validators=validators, widget=PupilSearchInput(), **kwargs)


def checkboxes(label: str, choices: list[tuple[str, str]], **kwargs: Any) -> SelectMultipleField:
    return Checkboxes(label, choices=choices, widget=GovCheckboxesInput(), **kwargs)


def submit(label: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput())


class Form(FlaskForm):
    """A form that can also show the register's own refusals against its fields.

    Every box of text on every form is checked for control characters here, once: one line
    (a text input) holds none, a text area holds line breaks and tabs only. A NUL byte or a
    line break in a name would otherwise reach the database or an email's headers."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if not isinstance(field.data, str) or field.type in ("PasswordField", "CSRFTokenField"):
                continue
            multiline = field.type == "TextAreaField"
            if not multiline:
                # Space around one line (a tab pasted after an address) is not part of it.
                field.data = field.data.strip()
            problem = control_character_problem(field.data, multiline=multiline)
            if problem:
                if not isinstance(field.errors, list):
                    field.errors = list(field.errors)
                field.errors.append(f"{field.label.text} {problem}")
                valid = False
        return valid

    def apply(self, error: DomainError, field_names: dict[str, str] | None = None) -> None:
        """Attach a refusal's problems to the fields they name (or to the form as a whole)."""
        mapping = field_names or {}
        for problem in error.errors:
            name = mapping.get(problem.field, problem.field)
            field = getattr(self, name, None) if name else None
            if field is not None and hasattr(field, "errors"):
                if not isinstance(field.errors, list):
                    field.errors = list(field.errors)
                field.errors.append(problem.message)
            else:
                self.form_errors.append(problem.message)


class SpotPurchaseFields:
    """A booking paid outside the budget plan: when the provider has no free commissioned place
    of its type, or for an unregistered package. Mixed into the forms that start a placement."""

    spot_purchase = BooleanField(
        "Paid outside the budget plan: a spot purchase, or an unregistered package",
        widget=GovCheckboxInput(),
        description="When the provider has no free commissioned place of this type. Its cost comes from the reserve",
    )
    agreed_cost = DecimalField(
        "Agreed cost, in pounds",
        places=2,
        validators=[Optional()],  # how much: `placements.rules.spot_purchase_problems`
        widget=GovTextInput(),
    )
    spot_reason = TextAreaField("Why outside the plan?", validators=[Optional()], widget=GovTextArea())

    def spot_problem(self) -> bool:
        """Puts a missing cost or reason on its field (the register's rule,
        `placements.rules.spot_purchase_problems`); says whether there was one."""
        from ap_register.placements.rules import spot_purchase_problems

        problems = spot_purchase_problems(
            bool(self.spot_purchase.data),  # type: ignore[attr-defined]
            self.agreed_cost.data,  # type: ignore[attr-defined]
            self.spot_reason.data,  # type: ignore[attr-defined]
        )
        if problems:
            self.apply(DomainError("", problems))  # type: ignore[attr-defined]
        return bool(problems)


T = TypeVar("T")


ALREADY_SENT = "You sent this form already: what it asked for was done once. Check the page before sending it again"


def attempt(form: Form, rule: Callable[[], T], fields: dict[str, str] | None = None) -> tuple[bool, T | None]:
    """Run one of the register's rules as this request's unit of work: commit when it succeeds;
    when it refuses, roll back and show each problem against its field. NotFound and Forbidden
    are not the form's business: they become the 404 and 403 pages.

    A page form is done once: the single-use token its page carries (`submission`) is taken in
    the same transaction, so a second sending of the same page (a double click) changes nothing
    and is told so."""
    from flask import request
    from flask_login import current_user

    from ap_register.placements import drafts

    token = request.form.get("submission", "")
    if token:
        user = current_user._get_current_object() if current_user.is_authenticated else None
        if not drafts.claim_submission(db.session, user, token):
            db.session.rollback()
            form.form_errors.append(ALREADY_SENT)
            return False, None
    try:
        result = rule()
    except (NotFound, Forbidden):
        raise
    except DomainError as error:
        db.session.rollback()
        form.apply(error, fields)
        return False, None
    db.session.commit()
    return True, result


def setting_choices(kinds: frozenset[Any] | None = None, blank: str = "Choose a setting") -> list[tuple[str, str]]:
    """The settings of the signed-in user's area, as choices for a select."""
    from ap_register.domain.search import settings_query
    from ap_register.domain.vocab import SETTING_KIND_LABELS
    from ap_register.web import current_actor

    choices = [("", blank)]
    for setting in db.session.scalars(settings_query(current_actor())):
        if kinds is None or setting.kind in kinds:
            choices.append((str(setting.id), f"{setting.name} ({SETTING_KIND_LABELS[setting.kind]})"))
    return choices


def error_list(form: FlaskForm) -> list[dict[str, str]]:
    """The error summary's entries, each linking to the first box of its field."""
    entries = []
    for message in form.form_errors:
        entries.append({"text": message, "href": "#main-content"})
    for field in form:
        if field.errors:
            target = f"{field.id}-day" if isinstance(field, GovDateField) else field.id
            if isinstance(field.widget, (GovRadioInput, GovCheckboxesInput)):
                target = field.id
            # A file's problems are row by row: each is listed; another field's first is enough.
            for message in field.errors if field.type == "FileField" else field.errors[:1]:
                entries.append({"text": message, "href": f"#{target}"})
    return entries

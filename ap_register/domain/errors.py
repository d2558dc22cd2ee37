"""Errors the rules raise. Callers (views, CLI, API, jobs) turn them into messages; none is a 500."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    """A problem with one piece of input: `field` names the form field or file column."""

    field: str
    message: str


class DomainError(Exception):
    """A rule refused an action. `errors` lists every problem found, each tied to a field."""

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or [FieldError("", message)]


class NotFound(DomainError):
    """The record does not exist, or the actor may not know that it does."""


class Forbidden(DomainError):
    """The actor may see the record but not do this to it."""


class CalendarUnknown(DomainError):
    """No term dates are recorded for the days a rule needs to count."""


@dataclass
class Refusal:
    """Collects problems while checking input, so that every problem is reported at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))

    def raise_if_any(self, message: str = "There is a problem") -> None:
        if self.errors:
            raise DomainError(message, self.errors)


class NotPlain(Exception):
    """An import file holds what only the row-by-row reading reads exactly: a quote (a quoted
    cell may hold a line break, and then a line is not a row), a NUL byte, a row wider than the
    header and its spare columns, a cell past the csv module's size limit, a header naming a
    column twice, or bytes that do not decode. The import then reads it a row at a time
    (`domain.columns`)."""

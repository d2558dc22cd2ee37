"""Permissions declared on the route, where the check needs no record.

    @bp.route("/budgets")
    @allowed("budgets.manage")
    def budgets() -> str: ...

`allowed` signs the person in first (as `login_required` does), then asks `permissions.require`
for the action: a role without it gets the same refusal the rule would give. Checks about one
record (this placement, this pupil) stay in the view or the use case, which have the record.
The action is kept on the view (`view.required_permission`) so the route walk can read it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask_login import login_required

from ap_register import permissions
from ap_register.extensions import db
from ap_register.web import current_actor

View = TypeVar("View", bound=Callable[..., Any])


def allowed(action: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            permissions.require(db.session, current_actor(), action)
            return view(*args, **kwargs)

        checked.required_permission = action  # type: ignore[attr-defined]
        return cast(View, login_required(checked))

    return decorate

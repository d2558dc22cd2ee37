"""The multi-year AP budget: the commissioner's plan against actual use, and a provider's own
commissioned places."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("budgets", __name__, url_prefix="/budgets")

from ap_register.budgets.web import routes  # noqa: E402,F401  (registers the views)

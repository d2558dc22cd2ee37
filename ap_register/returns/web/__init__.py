"""Statutory returns (the AP census, the school census's AP placements) with their validation
reports, and the register of children not in school."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("returns", __name__, url_prefix="/returns")

from ap_register.returns.web import routes  # noqa: E402,F401  (registers the views)

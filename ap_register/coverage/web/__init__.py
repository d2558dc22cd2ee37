"""The attendance officer's pages: weekly full-time coverage, the alert inbox, and registers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coverage", __name__)

from ap_register.coverage.web import routes  # noqa: E402,F401  (registers the views)

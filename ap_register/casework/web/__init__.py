"""Casework pages: a child's caseworker, "My cases", and handing over someone's cases."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("casework", __name__)

from ap_register.casework.web import routes  # noqa: E402,F401  (registers the views)

"""Commissioning pages: the LA's frameworks and lots, providers' applications and approval onto
lots, the evidence each provider gives the LA, and the directory of approved providers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("commissioning", __name__, url_prefix="/commissioning")

from ap_register.commissioning.web import routes  # noqa: E402,F401  (registers the views)

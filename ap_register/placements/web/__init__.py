"""The register's pages: pupils, their placements and movements, the placements register, settings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("register", __name__)

from ap_register.placements.web import routes, settings_routes  # noqa: E402,F401  (registers the views)

"""Fair-access and placement panels: referrals, panels, meetings and decisions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("panels", __name__)

from ap_register.panels.web import routes  # noqa: E402,F401  (registers the views)

"""The five-outcome framework's pages: providers compared, one provider's scores and the pupils
behind a figure, the methodology, and schools' movement profiles."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")

from ap_register.outcomes.web import routes  # noqa: E402,F401  (registers the views)

"""Domain errors and HTTP errors turned into answers, in one place: a GOV.UK error page, or JSON
for clients that ask for it. Never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound
from ap_register.extensions import db

TITLES = {
    400: "Sorry, there is a problem with your request",
    401: "Sign in or send a valid token",
    403: "You do not have permission to do this",
    404: "Page not found",
    405: "Page not found",
    413: "The file is too large",
    422: "There is a problem with what was sent",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}

NUL_REFUSED = "What was sent holds a NUL byte, which is not text. Nothing was saved: retype it and try again."


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(
    status: int, message: str | None = None, problems: list[FieldError] | None = None
) -> tuple[Response | str, int]:
    title = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    if wants_json():
        errors = [{"field": p.field, "message": p.message} for p in problems or [] if p.field]
        return jsonify(
            {"error": {"status": status, "title": title, "message": message or title, "errors": errors}}
        ), status
    return render_template("errors/error.html", title=title, message=message, status=status), status


def said(error: HTTPException) -> str | None:
    """What the page says beyond its title: the service's own words for the error, never the
    framework's default sentence, nor the rate limiter's own text ("10 per 1 minute")."""
    if (error.code or 500) >= 500:
        return None
    limit = getattr(error, "limit", None)
    if limit is not None:  # the rate limiter's refusal: its message when the service set one
        return error.description if getattr(limit, "error_message", None) else None
    if error.description == type(error).description:
        return None
    return error.description


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(404)

    @app.errorhandler(Forbidden)
    def forbidden(error: Forbidden) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(403, error.message)

    @app.errorhandler(DomainError)
    def refused(error: DomainError) -> tuple[Response | str, int]:
        # Views catch the refusals they expect and show them on the form; this is the backstop.
        db.session.rollback()
        return error_response(400, error.message, error.errors)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        return error_response(
            400, "The form had expired or came from elsewhere. Go back, refresh the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        return error_response(error.code or 500, said(error))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception) -> tuple[Response | str, int]:
        # The connection broke mid-request: the transaction is gone with it, so nothing was saved.
        app.logger.error("Database unavailable: %s", error)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone altogether
            db.session.invalidate()
        return error_response(
            503, "The database could not be reached. Nothing you sent was saved: try again in a few minutes."
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("Unhandled error")
        db.session.rollback()
        return error_response(500)

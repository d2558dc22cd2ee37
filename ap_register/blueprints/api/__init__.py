"""The JSON API under /api/v1: token authentication, one way of reading input and writing output
and errors, and an OpenAPI 3.1 document generated from the same declarations the views use.

Every operation is declared with `operation(...)`: its query, body and response models (pydantic)
parse the request and write the answer, and the document at /api/v1/openapi.json is built from
them. A view receives the actor and the parsed input, calls domain/ and returns a model; the
wrapper commits, or rolls back and answers with the error shape on any refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from ap_register.accounts import api_tokens
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound
from ap_register.domain.text import has_nul
from ap_register.errors import NUL_REFUSED, TITLES
from ap_register.extensions import csrf, db, limiter

from .schemas import ErrorBody, ErrorDetail, FieldProblem

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens, never cookies: a page's session cannot be used to call the API (so no CSRF).
csrf.exempt(bp)

ERROR_STATUSES = {
    400: "The request could not be read: a NUL byte anywhere in it, or a body that is not JSON",
    401: "No token, or a token that is unknown, expired or revoked",
    403: "The token's role may not do this",
    404: "Not found, or not visible to this token's organisation",
    422: "The input was read but refused: every problem is listed in `errors`",
    429: "Too many requests: slow down and try again",
}


@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    response: type[BaseModel] | None
    status: int
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    public: bool = False
    path_params: list[str] = field(default_factory=list)

    @property
    def openapi_path(self) -> str:
        return "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[FieldProblem] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []


def error_response(status: int, message: str, errors: list[FieldProblem] | None = None) -> Response:
    body = ErrorBody(
        error=ErrorDetail(status=status, title=TITLES.get(status, TITLES[400]), message=message, errors=errors or [])
    )
    response = Response(body.model_dump_json(), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ap_register"'
    return response


def _problems(error: ValidationError, prefix: str = "") -> list[FieldProblem]:
    return [
        FieldProblem(field=".".join(str(part) for part in (prefix, *item["loc"]) if part != ""), message=item["msg"])
        for item in error.errors(include_url=False)
    ]


def _domain_problems(errors: list[FieldError]) -> list[FieldProblem]:
    return [FieldProblem(field=e.field, message=e.message) for e in errors]


def api_actor() -> Actor:
    return g.api_actor  # type: ignore[no-any-return]


def _read_token() -> Actor | ApiError:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return ApiError(401, "Send a token: Authorization: Bearer <token>")
    client = api_tokens.authenticate(db.session, secret.strip())
    if client is None:
        return ApiError(401, "The token is unknown, expired or revoked")
    return Actor(user=client, via="api", ip=request.remote_addr, label=client.name)


def _authenticate() -> Actor:
    # Read once a request: the rate limit's key reads it first, then the view.
    if "api_auth" not in g:
        g.api_auth = _read_token()
    if isinstance(g.api_auth, ApiError):
        raise g.api_auth
    return g.api_auth  # type: ignore[no-any-return]


def _address_key() -> str:
    return "address:" + (request.remote_addr or "unknown")


def _client_key() -> str:
    """The client the token authenticates as, so every spelling of the header that gives the same
    token shares one count; a request without a valid token counts against its address."""
    try:
        actor = _authenticate()
    except ApiError:
        return _address_key()
    assert actor.user is not None
    return f"client:{actor.user.id}"


def _rate_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT", "1200 per minute"))


def _parse_query(model: type[BaseModel]) -> BaseModel:
    values = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ApiError(422, "A query parameter was refused", _problems(error)) from None


def _payload() -> Any:
    """The body, read as JSON."""
    if not request.is_json:
        raise ApiError(400, "Send the body as JSON (Content-Type: application/json)")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not JSON this API reads
        payload = None
    if payload is None:
        raise ApiError(400, "The body is not valid JSON")
    return payload


def _nul_at(payload: Any) -> str | None:
    """Where in a JSON body a NUL byte is (a key or a text), as a body path; None if nowhere."""
    todo: list[tuple[str, Any]] = [("", payload)]
    while todo:
        path, value = todo.pop()
        if isinstance(value, str) and has_nul(value):
            return path
        if isinstance(value, dict):
            for key, inner in value.items():
                if has_nul(key):
                    return path
                todo.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(value, list):
            todo.extend((f"{path}.{i}" if path else str(i), inner) for i, inner in enumerate(value))
    return None


@bp.before_request
def _refuse_nul_in_body() -> Response | None:
    """A NUL byte anywhere in a JSON body is refused whole, as the pages refuse one in a form
    (the query string and the path are checked for every request, in web.py)."""
    if not request.is_json:
        return None
    try:
        path = _nul_at(_payload())
    except ApiError:
        return None  # not JSON: the operation says so, after authentication
    if path is None:
        return None
    return error_response(400, NUL_REFUSED, [FieldProblem(field=path, message="must not contain a NUL byte")])


def _parse_body(model: type[BaseModel]) -> BaseModel:
    payload = _payload()
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ApiError(422, "The body was refused", _problems(error)) from None


def operation(
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    response: type[BaseModel] | None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    public: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API operation: registers the URL rule and its OpenAPI description at once."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            method=method,
            rule=rule,
            endpoint=view.__name__,
            summary=summary,
            description=(view.__doc__ or summary).strip(),
            tag=tag,
            response=response,
            status=status,
            query=query,
            body=body,
            public=public,
            path_params=re.findall(r"<(?:\w+:)?(\w+)>", rule),
        )
        OPERATIONS.append(op)

        @wraps(view)
        def wrapper(**path: Any) -> Response:
            try:
                if not public:
                    g.api_actor = _authenticate()
                kwargs: dict[str, Any] = dict(path)
                if query is not None:
                    kwargs["query"] = _parse_query(query)
                if body is not None:
                    kwargs["body"] = _parse_body(body)
                result = view(**kwargs)
                db.session.commit()
            except ApiError as error:
                db.session.rollback()
                return error_response(error.status, error.message, error.errors)
            except NotFound:
                db.session.rollback()
                return error_response(404, "Not found")
            except Forbidden as error:
                db.session.rollback()
                return error_response(403, error.message)
            except DomainError as error:
                db.session.rollback()
                return error_response(422, error.message, _domain_problems(error.errors))
            if isinstance(result, Response):
                return result
            assert isinstance(result, BaseModel)
            return Response(result.model_dump_json(), status=status, mimetype="application/json")

        limited = limiter.limit(_rate_limit, key_func=_address_key if public else _client_key)(wrapper)
        bp.add_url_rule(rule, view.__name__, limited, methods=[method])
        return wrapper

    return decorator


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return error_response(status, error.description or TITLES.get(status, TITLES[400]))


from . import routes  # noqa: E402,F401  (registers the operations)

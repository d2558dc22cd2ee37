"""The OpenAPI 3.1 document, built from the operations as they are declared: paths from their URL
rules, parameters from their query models, bodies and answers from their pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ap_register.domain.typed import MAX_ID

from . import ERROR_STATUSES, OPERATIONS, Operation
from .schemas import ErrorBody

REF = "#/components/schemas/{model}"
DESCRIPTION = """The JSON API of ap_register: the register of children's moves into, through and out of
alternative provision.

Authenticate with a token an LA administrator creates (Admin > API tokens):
`Authorization: Bearer <token>`. A token acts for one organisation in one role, and sees and
does exactly what a person of that organisation and role may on the pages. A record the token
may not see answers 404, as if it did not exist. Lists are paginated (`page`, `per_page` up to
200). Every error has the same shape: `{"error": {"status", "title", "message", "errors":
[{"field", "message"}]}}`."""


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: it is never JSON null."""
    options = schema.get("anyOf")
    if not options:
        return schema
    rest = [option for option in options if option.get("type") != "null"]
    kept = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(rest) == 1:
        kept.update(rest[0])
    else:
        kept["anyOf"] = rest
    if kept.get("default", 0) is None:
        kept.pop("default")
    return kept


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in op.path_params
    ]
    if op.query is None:
        return parameters
    schema = op.query.model_json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(dict(prop))
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def document() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = [(ErrorBody, "serialization")]
    for op in OPERATIONS:
        if op.response is not None:
            models.append((op.response, "serialization"))
        if op.body is not None:
            models.append((op.body, "validation"))
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    components: dict[str, Any] = dict(defs.get("$defs", {}))
    error_ref = refs[(ErrorBody, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        answer: dict[str, Any] = {"description": op.summary}
        if op.response is not None:
            answer["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
        else:
            answer["content"] = {"application/json": {"schema": {"type": "object"}}}
        responses: dict[str, Any] = {str(op.status): answer}
        # A NUL byte is refused (400) wherever it is: in the path, the query or the body.
        errors = {s: ERROR_STATUSES[s] for s in (400, 429)} if op.public else ERROR_STATUSES
        for status, text in errors.items():
            responses[str(status)] = {"description": text, "content": {"application/json": {"schema": error_ref}}}
        entry: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "description": op.description,
            "tags": [op.tag],
            "parameters": _parameters(op, components),
            "responses": responses,
        }
        if op.public:
            entry["security"] = []
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "ap_register API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token created by an LA administrator",
                }
            },
        },
    }

"""The OpenAPI document matches the code: every API route is described and nothing else, it is
valid OpenAPI 3.1, and schemathesis, generating requests from it against the running app, finds
no server error and no answer that breaks the document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ap_register.domain.vocab import Role

# Generated requests per operation and mode: 16 operations x 2 modes x 2 databases.
EXAMPLES = 40


def test_the_document_describes_every_api_route_and_nothing_else(app: Flask, client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    described = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", f"{{{name}}}")
            served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served
    assert document["openapi"] == "3.1.0"
    # Every write names its body; every answer and error is a schema in the document.
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "post":
                assert operation["requestBody"]["required"] is True, path
            for status, answer in operation["responses"].items():
                assert "schema" in answer["content"]["application/json"], (path, status)


def test_the_document_is_valid_openapi_3_1(app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.validate()  # against the OpenAPI 3.1 meta-schema: raises on any fault


def _cases() -> list[Any]:
    """Each operation with valid input, and with invalid input where it takes any."""
    from ap_register.blueprints.api.openapi import document

    cases = []
    for path, item in document()["paths"].items():
        if path == "/api/v1/openapi.json":
            continue  # schemathesis leaves out the document's own operation; the first test covers it
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            cases.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{label} valid"))
            if operation["parameters"] or "requestBody" in operation:
                cases.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{label} invalid"))
    return cases


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_generated_requests_find_no_server_error_and_no_schema_mismatch(
    app: Flask, world: dict[str, Any], label: str, mode: GenerationMode
) -> None:
    """Requests generated from the document (valid ones, and ones that break it) against the app
    with the area of the route walk: every answer is documented, none is a 5xx, invalid input is
    refused. An LA administrator's token: the role that may reach every operation."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = next(result.ok() for result in schema.get_all_operations() if result.ok().label == label)
    headers = {"Authorization": f"Bearer {world['home']['tokens'][Role.LA_ADMIN].secret}"}

    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def exercise(case: Any) -> None:
        # Every check but one: a request the schema allows may still break one of the register's
        # rules (a review dated before its placement, a week that does not start on a Monday) and
        # is refused with 422 and the rule's message. That is behaviour, not a mismatch.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    exercise()

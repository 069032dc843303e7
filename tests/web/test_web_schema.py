"""Property-based tests of the JSON API from its own OpenAPI schema (schemathesis): whatever
schema-shaped input it generates, the API never answers with a server error."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from arshif.web.app import create_app

EXAMPLES = 40  # per operation: bounded, so the suite stays quick


def test_api_never_answers_5xx(web_home: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(web_home))
    paths = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        paths.add(operation.path)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def never_5xx(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        never_5xx()
    assert {"/api/search", "/api/facets", "/api/export", "/api/article/{article_id}"} <= paths

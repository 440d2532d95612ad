"""The machinery of the API fuzz tests: schemathesis over the app's own OpenAPI schema,
asserting that no request gets a server error. Run them with the `in_test_transaction` fixture
(tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error


def operations(path_regex: str) -> dict[str, Any]:
    """The API operations whose path matches, by label (for pytest.mark.parametrize)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler()).include(
        path_regex=path_regex
    )
    return {result.ok().label: result.ok() for result in schema.get_all_operations()}


def never_a_server_error(operation: Any, token: str, *, examples: int = 25) -> None:
    """Valid and invalid requests alike (wrong types, unknown fields, odd strings, huge numbers)
    get a 2xx or a 4xx, never a 5xx."""
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=strategy)
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    call()

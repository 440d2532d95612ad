"""Fuzz the freshness endpoints from the OpenAPI schema: whatever is sent, never a server error
(the same machinery as tests/api/test_schemathesis.py, over /api/v1/quality)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from cible.core.services import api_token_create
from tests.api.test_schemathesis import in_test_transaction  # noqa: F401 (a fixture)
from tests.quality.freshness.conftest import Base

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler()).include(
    path_regex=r"^/api/v1/quality/"
)
OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


@pytest.fixture
def token(cast: Any, base: Base, in_test_transaction: None) -> str:  # noqa: F811
    _token, key = api_token_create(user=cast.manager, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_quality_api_never_answers_a_server_error(label: str, token: str) -> None:
    operation = OPERATIONS[label]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=strategy)
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    call()

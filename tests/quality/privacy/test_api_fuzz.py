"""Fuzz the privacy API from its OpenAPI schema: whatever is sent, never a server error."""

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
from cible.quality.privacy.services import retention_rule_save
from tests import factories
from tests.api.test_schemathesis import in_test_transaction  # noqa: F401 - fixture

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler()).include(
    path_regex=r"^/api/v1/privacy/"
)
OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:  # noqa: F811
    """An administrator's token, and records for the detail paths to find."""
    for name in ("Dupont", "Durand", "Martin"):
        factories.contact(cast.ae, last_name=name, email=f"{name.lower()}@acme.fr")
    retention_rule_save(
        actor=cast.admin, channel="ui", data={"name": "36 mois", "inactive_months": 36}
    )
    _token, key = api_token_create(user=cast.admin, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_privacy_api_never_answers_a_server_error(label: str, token: str) -> None:
    operation = OPERATIONS[label]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=strategy)
    @settings(
        max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    call()

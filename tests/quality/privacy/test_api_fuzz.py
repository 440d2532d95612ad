"""Fuzz the privacy API from its OpenAPI schema: whatever is sent, never a server error."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.quality.privacy.services import retention_rule_save
from tests import factories
from tests.api.fuzzing import never_a_server_error, operations

OPERATIONS = operations(r"^/api/v1/privacy/")


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
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
    never_a_server_error(OPERATIONS[label], token, examples=15)

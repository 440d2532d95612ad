"""Fuzz the interaction endpoints from the OpenAPI schema: whatever is sent, never a 5xx.

(The same regular expression can join tests/api/test_schemathesis.py's list.)
"""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from tests import factories
from tests.api.fuzzing import never_a_server_error, operations

OPERATIONS = operations(r"^/api/v1/(interactions|events)$")


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
    organisation = factories.organisation(cast.ae, legal_name="Acme")
    factories.contact(
        cast.ae, last_name="Dupont", email="d@acme.example", organisation=organisation.pk
    )
    _token, key = api_token_create(user=cast.ae, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_interaction_endpoints_never_answer_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token, examples=60)

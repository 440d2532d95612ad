"""Fuzz the service-level endpoints from the OpenAPI schema: never a server error."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from tests.api.fuzzing import never_a_server_error, operations

OPERATIONS = operations(r"^/api/v1/sla/")


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
    """An administrator's: every endpoint, writes and the sweep included, is reachable."""
    _token, key = api_token_create(user=cast.admin, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_sla_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token, examples=10)

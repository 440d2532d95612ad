"""Fuzz the freshness endpoints from the OpenAPI schema: whatever is sent, never a server error
(the same machinery as tests/api/test_schemathesis.py, over /api/v1/quality)."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from tests.api.fuzzing import never_a_server_error, operations
from tests.quality.freshness.conftest import Base

OPERATIONS = operations(r"^/api/v1/quality/")


@pytest.fixture
def token(cast: Any, base: Base, in_test_transaction: None) -> str:
    _token, key = api_token_create(user=cast.manager, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_quality_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token)

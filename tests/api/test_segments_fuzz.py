"""Fuzz the segmentation endpoints (axes, segments, targets, profiles, fit) from the OpenAPI
schema: whatever is sent, never a server error (the machinery of tests/api/fuzzing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.segments.targets.services import target_create
from tests.api.fuzzing import never_a_server_error, operations
from tests.segments.targets.world import make_base, seed_002_definition

OPERATIONS = operations(
    r"^/api/v1/(axes|segments|targets|profiles|rules)(/|$)|^/api/v1/organisations/\{pk\}/fit$"
)


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
    """A marketer (who may change segmentation) with records and a target to find."""
    make_base(cast)
    target_create(
        actor=cast.marketer,
        channel="ui",
        data={"name": "Seed 002", "definition": seed_002_definition(), "shared": True},
    )
    _token, key = api_token_create(user=cast.marketer, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_segmentation_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token)

"""Fuzz the campaign endpoints from the OpenAPI schema: whatever is sent, never a server error
(the machinery of tests/api/fuzzing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.engagement.campaigns import services
from tests.api.fuzzing import never_a_server_error, operations
from tests.engagement.campaigns.world import campaign, make_world

OPERATIONS = operations(r"^/api/v1/campaigns(/|$)")


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
    """A marketer with a campaign (id 1, most likely) that has members, and targets to use."""
    world = make_world(cast)
    created = campaign(cast.marketer, type="email")
    services.add_members_from_target(campaign=created, target=world.lille, actor=cast.marketer)
    _token, key = api_token_create(user=cast.marketer, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_campaign_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token)

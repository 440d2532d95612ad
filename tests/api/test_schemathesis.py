"""Fuzz the API from its own OpenAPI schema: whatever is sent, never a server error.

Bounded so the suite stays fast: the record endpoints only, 25 examples per operation.
"""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.people.services import contact_create, organisation_create
from cible.pipeline.services import opportunity_create
from tests.api.fuzzing import never_a_server_error, operations

OPERATIONS = operations(r"^/api/v1/(organisations|contacts|opportunities)(/bulk|/\{pk\})?$")


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
    """A token of an AE who owns a few records, so that detail and update paths find some."""
    organisation = organisation_create(
        actor=cast.ae, channel="ui", data={"legal_name": "Acme", "siren": "732829320"}
    )
    contact_create(
        actor=cast.ae, channel="ui", data={"last_name": "Dupont", "organisation": organisation.pk}
    )
    opportunity_create(
        actor=cast.ae, channel="ui", data={"name": "Deal", "organisation": organisation.pk}
    )
    _token, key = api_token_create(user=cast.ae, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_never_answers_a_server_error(label: str, token: str) -> None:
    """Valid and invalid requests alike (wrong types, unknown fields, odd strings, huge numbers)
    get a 2xx or a 4xx in the error shape, never a 5xx."""
    never_a_server_error(OPERATIONS[label], token)

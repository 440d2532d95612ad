"""Fuzz the API from its own OpenAPI schema: whatever is sent, never a server error.

Bounded so the suite stays fast: the record endpoints only, 25 examples per operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from cible.core.services import api_token_create
from cible.people.services import contact_create, organisation_create
from cible.pipeline.services import opportunity_create

# Serving the schema needs no database, so it is loaded once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler()).include(
    path_regex=r"^/api/v1/(organisations|contacts|opportunities)(/bulk|/\{pk\})?$",
)


@pytest.fixture
def in_test_transaction(db: Any) -> Iterator[None]:
    """Like Django's test client, keep the connection open between requests: the whole fuzzing
    run happens inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


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


OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_never_answers_a_server_error(label: str, token: str) -> None:
    """Valid and invalid requests alike (wrong types, unknown fields, odd strings, huge numbers)
    get a 2xx or a 4xx in the error shape, never a 5xx."""
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

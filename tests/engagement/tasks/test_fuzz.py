"""Fuzz the task and notification endpoints from the OpenAPI schema: never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.engagement.tasks import notifications, services
from tests.api.fuzzing import never_a_server_error, operations

OPERATIONS = operations(r"^/api/v1/(tasks|notifications)")


@pytest.fixture
def token(cast: Any, in_test_transaction: None) -> str:
    """Alice's token; she has a task (id 1 or near) and a notification for the paths to find."""
    services.create_task(assignee=cast.ae, title="Call back", actor=None, channel="job")
    notifications.notify(users=[cast.ae], title="Hello", url="/tasks/")
    _token, key = api_token_create(user=cast.ae, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_task_endpoints_never_answer_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token)
